"""The submission path without HTTP or Ray: what VideoGen's own code costs, per store backend.

    .venv/bin/python benchmarks/bench_submit_service.py [--backends sqlite,postgres] [--jobs 300] [--clients 32]
                                                        [--streams 500] [--out benchmarks/results/cpu --label latest]

One ``VideoGenService`` in this process (a real store: SQLite in a temp dir, or a throwaway PostgreSQL started
the way the test suite starts it), the seven families' replica reports written as their workers write them
(``GenerationWorker`` on the tiny models), and worker handles that never answer (nothing runs). Then:

- ``JobService.submit`` one at a time (the fixed cost of a submission) and from ``--clients`` concurrent callers
  (p50/p95, submissions/s);
- ``--streams`` SSE streams (``JobService.sse_stream``) on ``--streams // 10`` jobs while another store (a
  worker's, its own connection) claims each job, writes 20 progress events and ends it: per event, write ->
  the stream yields it.

``bench_submit.py`` measures the same through Serve's proxy with the workers running; the difference is what Ray
Serve and the CPU the workers take add. Results: ``submit-service-<label>.json`` and ``.md``.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import shutil
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
import bench_serving  # noqa: E402
import bench_submit  # noqa: E402

RESULT = {"frames": 9, "width": 32, "height": 32, "fps": 8, "bytes": 3}


class _Waiting:
    """A worker handle whose calls never end: jobs stay queued, nothing else writes."""

    def __init__(self):
        self.run_job = self

    def remote(self, job_id: str):
        return asyncio.get_running_loop().create_future()


def _report_replicas(store, families: list[str]) -> None:
    """Each family's replica report, as ``worker_deployment`` writes it (hardware, policy, support, model meta)."""
    from videogen.serve.store.replicas import ModelsReport, ReplicaState
    from videogen.video.hardware import VideoHardwareProfile
    from videogen.video.registry import get_spec
    from videogen.video.support import describe_model
    from videogen.video.worker import GenerationWorker

    for i, family in enumerate(families):
        worker = GenerationWorker(models={family: "tiny"})
        diagnostics = worker.diagnostics(family)
        profile = VideoHardwareProfile(**diagnostics["hardware_profile"])
        spec = get_spec(family)
        models = ModelsReport(
            describe=describe_model(spec, profile, worker.source(family)),
            model_meta={t: worker.model_meta(family, t).model_dump(mode="json") for t in spec.tasks},
        )
        store.replicas.report(
            {"replica_id": f"r{i}"}, family=family, state=ReplicaState.IDLE, diagnostics=diagnostics, models=models
        )


async def _measure(url: str | None, families: list[str], jobs: int, clients: int, streams: int) -> dict[str, Any]:
    from videogen.serve.config import VideoGenAppConfig
    from videogen.serve.service.videogen_service import VideoGenService
    from videogen.serve.store.job_store import JobStore
    from videogen.serve.store.records import JobStatus
    from videogen.video.progress import Progress

    state_dir = tempfile.mkdtemp(prefix="vgbench-service-")
    limits = dict(key_submissions_per_minute=10**6, key_max_queued_jobs=10**6, max_queued_jobs=10**6)
    sse = dict(max_sse_streams=streams + 1, max_sse_streams_per_key=streams + 1)
    cfg = VideoGenAppConfig(families={f: {"model": "tiny"} for f in families}, state_dir=state_dir, num_gpus=0,
                            database_url=url, **limits, **sse)  # fmt: skip
    svc = VideoGenService(cfg, workers={f: _Waiting() for f in families})
    worker_store = JobStore(state_dir if url is None else tempfile.mkdtemp(), database_url=url)
    try:
        _report_replicas(svc.store, families)
        request = lambda i: {"family": families[i % len(families)], "prompt": "a boat", "seed": i}  # noqa: E731
        for i in range(2 * len(families)):  # every family's reports read and its shape priced once
            await svc.jobs.submit(request(i))
        serial = []
        for i in range(jobs):
            started = time.perf_counter()
            await svc.jobs.submit(request(i))
            serial.append(time.perf_counter() - started)
        gate, concurrent = asyncio.Semaphore(clients), []

        async def one(i: int) -> None:
            async with gate:
                started = time.perf_counter()
                await svc.jobs.submit(request(i))
                concurrent.append(time.perf_counter() - started)

        started = time.perf_counter()
        await asyncio.gather(*(one(i) for i in range(jobs)))
        wall = time.perf_counter() - started

        streamed = [(await svc.jobs.submit(request(i))).id for i in range(max(1, streams // 10))]
        latencies: list[float] = []

        async def follow(job_id: str) -> None:
            first = True
            async for chunk in await svc.jobs.sse_stream(job_id):
                if not chunk.startswith("id:"):
                    continue
                job = json.loads(chunk.split("data: ", 1)[1])
                if not first:
                    latencies.append(time.time() - job["updated_at"])
                first = False
                if job["status"] in bench_serving.TERMINAL:
                    return

        followers = [asyncio.ensure_future(follow(streamed[i % len(streamed)])) for i in range(streams)]
        await asyncio.sleep(2.0)  # every stream has read its snapshot and waits

        def work() -> None:  # what a worker writes, through its own store
            for job_id in streamed:
                claim = worker_store.jobs.claim(job_id, {"replica_id": "bench"})
                for step in range(20):
                    progress = Progress(stage="denoising", step=step, total_steps=20)
                    worker_store.jobs.update_progress(job_id, claim.claim_token, progress)
                    time.sleep(0.004)
                worker_store.jobs.finish(job_id, claim.claim_token, JobStatus.SUCCEEDED, result=RESULT)

        writer = threading.Thread(target=work)
        writer.start()
        await asyncio.gather(*followers)
        writer.join()
        for task in list(svc.dispatcher._tasks.values()):
            task.cancel()
        return {
            "submit_serial_ms": bench_submit.ms(serial),
            "submit_concurrent": {
                "clients": clients,
                "jobs": jobs,
                "latency_ms": bench_submit.ms(concurrent),
                "submissions_per_s": round(jobs / wall, 1),
            },
            "streams": {"streams": streams, "jobs": len(streamed), "events": len(latencies)},
            "event_latency_ms": bench_submit.ms(latencies),
        }
    finally:
        worker_store.close()
        svc.store.close()
        shutil.rmtree(state_dir, ignore_errors=True)


def markdown(result: dict[str, Any], label: str) -> str:
    runs = result["runs"]
    names = list(runs)
    row = lambda title, get: f"| {title} | " + " | ".join(str(get(runs[n])) for n in names) + " |"  # noqa: E731
    return "\n".join(
        [
            f"# Submission path without HTTP or Ray ({label})",
            "",
            f"{result['created']} · {result['machine']['platform']} · {result['machine']['cpu_count']} CPUs · "
            f"families {', '.join(result['config']['families'])} (tiny reports) · nothing runs",
            "",
            *([f"Code: {result['code']}", ""] if result.get("code") else []),
            "| measure | " + " | ".join(names) + " |",
            "|---|" + "---:|" * len(names),
            row("submit alone p50 ms", lambda r: r["submit_serial_ms"]["p50"]),
            row("submit alone p95 ms", lambda r: r["submit_serial_ms"]["p95"]),
            row("concurrent submit p50 ms", lambda r: r["submit_concurrent"]["latency_ms"]["p50"]),
            row("concurrent submit p95 ms", lambda r: r["submit_concurrent"]["latency_ms"]["p95"]),
            row("submissions/s", lambda r: r["submit_concurrent"]["submissions_per_s"]),
            row("streams held", lambda r: r["streams"]["streams"]),
            row("events read", lambda r: r["streams"]["events"]),
            row("event latency p50 ms", lambda r: r["event_latency_ms"]["p50"]),
            row("event latency p99 ms", lambda r: r["event_latency_ms"]["p99"]),
            "",
            "submit: `JobService.submit` awaited in this process (validation, pricing, the disk check, the insert "
            "with its queue bounds, the dispatch task started); concurrent: that many callers at once. Event "
            "latency: a worker-side write -> a held stream yields it.",
            "",
        ]
    )


def main(argv: list[str] | None = None) -> dict[str, Any]:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--backends", default="sqlite,postgres")
    parser.add_argument("--database-url", default=None, help="PostgreSQL for the postgres run (default: a temp one)")
    parser.add_argument("--families", default=",".join(bench_submit.FAMILIES))
    parser.add_argument("--jobs", type=int, default=300)
    parser.add_argument("--clients", type=int, default=32)
    parser.add_argument("--streams", type=int, default=500)
    parser.add_argument("--out", default=None)
    parser.add_argument("--label", default="latest")
    parser.add_argument("--code", default=None)
    args = parser.parse_args(argv)
    families = args.families.split(",")
    runs = {}
    for backend in args.backends.split(","):
        with bench_submit.postgres(args.database_url) if backend == "postgres" else bench_submit._none() as url:
            runs[backend] = asyncio.run(_measure(url, families, args.jobs, args.clients, args.streams))
    result = {
        "benchmark": "submit-service",
        "created": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
        "machine": bench_serving.machine_facts(None),
        "config": {"families": families, "jobs": args.jobs, "clients": args.clients, "streams": args.streams},
        "code": args.code,
        "runs": runs,
    }
    print(markdown(result, args.label))
    if args.out:
        out = Path(args.out)
        out.mkdir(parents=True, exist_ok=True)
        (out / f"submit-service-{args.label}.json").write_text(json.dumps(result, indent=2) + "\n")
        (out / f"submit-service-{args.label}.md").write_text(markdown(result, args.label))
    return result


if __name__ == "__main__":
    main()
