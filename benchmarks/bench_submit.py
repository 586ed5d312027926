"""Submission and event-stream load on the served app, per job store backend, side by side.

    .venv/bin/python benchmarks/bench_submit.py [--backends sqlite,postgres] [--clients 32] [--jobs 200]
                                                [--streams 500] [--out benchmarks/results/cpu --label latest]

For each backend it starts its own local Ray (``address="local"``, its own temp dir; never attaches to
another cluster, never ``ray stop``) with the app of ``deploy/cpu-tiny.yaml`` (the seven families on their
tiny models), on SQLite in a temp state dir or on PostgreSQL (``--database-url``, else a throwaway server
started from the machine's packages the way the test suite does: ``tests/pg_server.py``). ``--url`` measures
an app already served instead. Then, after one warm-up job per family:

- **submit**: ``--clients`` concurrent clients POST ``--jobs`` jobs over the families while the workers run
  them, each client sending its next job as soon as its last was answered (a closed loop: the most the service
  takes): each POST's latency (p50/p95/p99) and submissions/s over the burst; then every job is waited for;
- **paced**: the same ``--rounds`` of ``--jobs`` jobs from ``--clients`` clients, offered at ``--rate`` a second
  (default: the target's 200; an open loop, ``submit_paced``): each POST's latency from when it was due, at that
  load. The issue's "submit p95 ≤ 100 ms and ≥ 200 submissions/s with 32 clients" is read as this p95 and the
  closed loop's rate: a closed loop's latency is clients / throughput (Little's law), set by the clients' number;
- **fixed cost**: ``--fixed-jobs`` jobs one at a time, each POST -> its terminal SSE event, less the
  worker's own stage time (``bench_serving.HttpRunner``: the same definition as the serving benchmark);
- **streams**: ``--streams`` SSE streams on ``--streams // 10`` jobs, all held open before those jobs run (long
  jobs keep each worker busy until every stream has its first event, then they are cancelled); per event,
  the time from its write (the record's ``updated_at``, the database's clock: on this one machine the
  client's clock too) to the client reading it (p50/p95/p99); each stream's first event (a snapshot) is not
  counted.

``--worker-cpu-niceness N|idle`` (a local app only; default: ``deploy/cpu-tiny.yaml``'s ``worker_cpu_niceness``) is
the app setting that lowers the generation workers' CPU priority: what the serving path gets when generation yields the
CPU to it (on a CPU-only machine the workers' torch threads otherwise take the cores the ingress and Serve's proxy
need; ``videogen.serve.cpu_priority``).

Targets are printed, never asserted. Results: ``submit-<label>.json`` and ``submit-<label>.md`` under ``--out``.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import shutil
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
import bench_serving  # noqa: E402 - its app, statistics and HTTP runner
import submit_paced  # noqa: E402

from videogen.serve.cpu_priority import IDLE  # noqa: E402
from videogen.video.families import FAMILY_IDS  # noqa: E402

ROOT = HERE.parent
TARGETS = {"submit_p95_ms": 100.0, "submissions_per_s": 200.0, "fixed_cost_ms": 20.0, "event_p99_ms": 250.0}
# The measurement: 200 jobs over the seven families it was filed with (each a text-to-video job). The
# later families include ones without text-to-video (Lucy Edit, SVD): ask for any subset with --families.
FAMILIES = ("text-to-video-sd", "wan", "cogvideox", "ltx-video", "hunyuan-video", "sana-video", "animatediff")
assert set(FAMILIES) <= set(FAMILY_IDS)
JOBS_PATH = "/api/video/jobs"
# A job that keeps a worker busy while the streams open (cancelled once they are all held).
BLOCKER = {"num_frames": 25, "height": 64, "width": 64, "num_inference_steps": 200}
BLOCKERS_PER_WORKER = 3  # one after another: long enough for 500 streams to open on a loaded machine


# -- the app ------------------------------------------------------------------------------------------------
def app_args(state_dir: str, database_url: str | None, families: list[str], streams: int) -> dict[str, Any]:
    """``deploy/cpu-tiny.yaml``'s args, with the per-key limits and stream bounds opened for the load."""
    import yaml

    args = yaml.safe_load((ROOT / "deploy" / "cpu-tiny.yaml").read_text())["applications"][0]["args"]
    args["families"] = {f: args["families"][f] for f in families}
    args.update(
        state_dir=state_dir,
        database_url=database_url,
        key_submissions_per_minute=1_000_000,  # one client submits everything: its per-key limits would answer 429
        key_max_queued_jobs=1_000_000,
        max_sse_streams=streams + 64,
        max_sse_streams_per_key=streams + 64,
        ingress={"max_ongoing_requests": streams + 256},  # every open stream holds a request
    )
    return args


@contextmanager
def postgres(url: str | None) -> Iterator[str]:
    """``url``, or a throwaway PostgreSQL of the test suite's kind (``tests/pg_server.py``) for this run."""
    if url:
        yield url
        return
    sys.path.insert(0, str(ROOT / "tests"))
    from pg_server import PostgresServer

    server = PostgresServer()
    try:
        yield server.create_database("vgbench")
    finally:
        server.stop()


# -- the load -------------------------------------------------------------------------------------------------
def job_request(family: str, seed: int, steps: int = 2) -> dict[str, Any]:
    return {"family": family, "prompt": "a boat on the sea", "seed": seed, "num_inference_steps": steps}


def ms(values: list[float]) -> dict[str, float]:
    """p50/p95/p99/max of seconds, in ms."""
    out = {f"p{q}": round(bench_serving.percentile([v * 1000 for v in values], q), 2) for q in (50, 95, 99)}
    out["max"] = round(max(values) * 1000, 2) if values else float("nan")
    return out


async def _wait_ended(session, job_ids: list[str], timeout_s: float) -> dict[str, int]:
    """Poll until every job has ended; how many ended in each status."""
    deadline, pending, ended = time.monotonic() + timeout_s, set(job_ids), {}
    while pending and time.monotonic() < deadline:
        for job_id in list(pending):
            async with session.get(f"{JOBS_PATH}/{job_id}") as r:
                status = (await r.json())["status"]
            if status in bench_serving.TERMINAL:
                pending.discard(job_id)
                ended[status] = ended.get(status, 0) + 1
        if pending:
            await asyncio.sleep(0.5)
    if pending:
        ended["not_ended"] = len(pending)
    return ended


class _Answers:
    """What POSTs of jobs got back: how many answers of each status code, and the accepted jobs' ids."""

    def __init__(self) -> None:
        self.codes: Counter[str] = Counter()
        self.accepted: list[str] = []

    async def post(self, session, request: dict[str, Any]) -> None:
        """One POST of ``request``, its answer read whole and counted."""
        async with session.post(JOBS_PATH, json=request) as answer:
            body = await answer.json()
        self.codes[str(answer.status)] += 1
        if answer.status == 202:
            self.accepted.append(body["id"])


async def _post_all(session, families: list[str], clients: int, jobs: int, answers: _Answers) -> tuple[list, float]:
    """``jobs`` POSTs from ``clients`` concurrent clients, counted in ``answers``: (latencies, wall)."""
    todo = iter(range(jobs))
    latencies: list[float] = []

    async def client() -> None:
        for i in todo:  # the clients share one iterator: each job is sent once
            started = time.perf_counter()
            await answers.post(session, job_request(families[i % len(families)], i))
            latencies.append(time.perf_counter() - started)

    started = time.perf_counter()
    await asyncio.gather(*(client() for _ in range(clients)))
    return latencies, time.perf_counter() - started


async def _submit_burst(session, families: list[str], clients: int, jobs: int, rounds: int = 1) -> dict[str, Any]:
    """``rounds`` bursts of ``jobs`` jobs, each waited for before the next starts; the figures pool every round's
    POSTs (a 200-job burst lasts about a second on this box: one alone is at the mercy of whatever else ran then)."""
    latencies: list[float] = []
    codes: Counter[str] = Counter()
    ended: Counter[str] = Counter()
    walls: list[float] = []
    for _ in range(rounds):
        answers = _Answers()
        got, wall = await _post_all(session, families, clients, jobs, answers)
        latencies += got
        walls.append(wall)
        codes += answers.codes
        ended.update(await _wait_ended(session, answers.accepted, timeout_s=600))
    return {
        "clients": clients,
        "jobs": jobs * rounds,
        "rounds": rounds,
        "wall_s": round(sum(walls), 3),
        "submissions_per_s": round(jobs * rounds / sum(walls), 1),
        "submissions_per_s_by_round": [round(jobs / w, 1) for w in walls],
        "latency_ms": ms(latencies),
        "status_codes": dict(codes),
        "ended": dict(ended),
    }


async def _paced_rounds(session, families: list[str], clients: int, jobs: int, rounds: int, rate: float) -> dict:
    """``rounds`` of ``jobs`` jobs offered at ``rate`` a second (``submit_paced``), each round's jobs waited for
    before the next; figures pooled."""
    latencies: list[float] = []
    late: list[float] = []
    codes: Counter[str] = Counter()
    ended: Counter[str] = Counter()
    achieved: list[float] = []
    for r in range(rounds):
        answers = _Answers()

        async def post(i: int, seed: int = 50_000 + r * jobs, answers: _Answers = answers) -> None:
            await answers.post(session, job_request(families[i % len(families)], seed + i))

        got = await submit_paced.offer(post, jobs=jobs, clients=clients, rate=rate)
        latencies += got["latencies"]
        late += got["late"]
        achieved.append(round(got["achieved_per_s"], 1))
        codes += answers.codes
        ended.update(await _wait_ended(session, answers.accepted, timeout_s=600))
    return {
        "rate": rate,
        "clients": clients,
        "jobs": jobs * rounds,
        "achieved_per_s_by_round": achieved,
        "latency_ms": ms(latencies),
        "sent_late_ms": ms(late),
        "status_codes": dict(codes),
        "ended": dict(ended),
    }


async def _post_job(session, request: dict[str, Any]) -> str:
    async with session.post(JOBS_PATH, json=request) as r:
        if r.status != 202:
            raise RuntimeError(f"a job was refused: {r.status} {await r.text()}")
        return (await r.json())["id"]


async def _until(session, job_ids: list[str], statuses: tuple[str, ...], timeout_s: float = 300) -> None:
    deadline = time.monotonic() + timeout_s
    for job_id in job_ids:
        while True:
            async with session.get(f"{JOBS_PATH}/{job_id}") as r:
                status = (await r.json())["status"]
            if status in statuses:
                break
            if time.monotonic() > deadline:
                raise RuntimeError(f"job {job_id} is still {status} after {timeout_s:.0f}s")
            await asyncio.sleep(0.2)


async def _streams(session, families: list[str], streams: int, steps: int) -> dict[str, Any]:
    """``streams`` SSE streams on ``streams // 10`` jobs, all held open before any of those jobs runs: each worker
    is kept busy by long jobs (``BLOCKER``) until every stream has its first event, then they are cancelled and
    the streamed jobs run. Each event's latency, from its write to the client reading it."""
    blockers = [
        await _post_job(session, {**job_request(f, 20_000 + 10 * i + k), **BLOCKER})
        for k in range(BLOCKERS_PER_WORKER)
        for i, f in enumerate(families)
    ]
    await _until(session, blockers[: len(families)], ("running",))
    job_ids = [
        await _post_job(session, job_request(families[i % len(families)], 10_000 + i, steps))
        for i in range(max(1, streams // 10))
    ]
    latencies: list[float] = []
    state = {"open": 0, "held_max": 0, "refused": 0, "events": 0, "settled": 0}
    all_open = asyncio.Event()

    def settled() -> None:  # a stream has its first event, or was refused
        state["settled"] += 1
        if state["settled"] == streams:
            all_open.set()

    async def stream(job_id: str) -> None:
        async with session.get(f"{JOBS_PATH}/{job_id}/events") as r:
            if r.status != 200:
                state["refused"] += 1
                settled()
                return
            state["open"] += 1
            state["held_max"] = max(state["held_max"], state["open"])
            first = True
            try:
                async for raw in r.content:
                    line = raw.decode().rstrip("\n")
                    if not line.startswith("data: "):
                        continue
                    job = json.loads(line[6:])
                    if first:  # the snapshot every stream starts with: not an event it waited for
                        settled()
                    elif job.get("updated_at"):
                        latencies.append(time.time() - job["updated_at"])
                    first = False
                    state["events"] += 1
                    if job["status"] in bench_serving.TERMINAL:
                        break
            finally:
                state["open"] -= 1

    started = time.perf_counter()
    tasks = [asyncio.ensure_future(stream(job_ids[i % len(job_ids)])) for i in range(streams)]
    await asyncio.wait_for(all_open.wait(), timeout=600)
    opened_s = time.perf_counter() - started
    for job_id in blockers:  # the workers move on to the streamed jobs
        async with session.delete(f"{JOBS_PATH}/{job_id}") as r:
            await r.read()
    await asyncio.gather(*tasks)
    return {
        "streams": streams,
        "jobs": len(job_ids),
        "steps": steps,
        "opened_s": round(opened_s, 3),
        "held_at_once": state["held_max"],
        "refused": state["refused"],
        "events_timed": len(latencies),
        "events": state["events"],
        "wall_s": round(time.perf_counter() - started, 3),
        "event_latency_ms": ms(latencies),
    }


async def _load(
    base_url: str,
    families: list[str],
    clients: int,
    jobs: int,
    streams: int,
    stream_steps: int,
    rounds: int = 1,
    rate: float = 0,
):
    import aiohttp

    connector = aiohttp.TCPConnector(limit=0)  # as many connections as clients and streams ask for
    timeout = aiohttp.ClientTimeout(total=900)
    async with aiohttp.ClientSession(base_url, connector=connector, timeout=timeout) as session:
        warm = []
        for i, family in enumerate(families):  # every worker has run a job before the clock starts
            async with session.post(JOBS_PATH, json=job_request(family, 90_000 + i)) as r:
                warm.append((await r.json())["id"])
        warmed = await _wait_ended(session, warm, timeout_s=600)
        submit = await _submit_burst(session, families, clients, jobs, rounds)
        paced = await _paced_rounds(session, families, clients, jobs, rounds, rate) if rate else None
        held = await _streams(session, families, streams, stream_steps) if streams else None
    return warmed, submit, paced, held


def fixed_cost(base_url: str, family: str, jobs: int) -> dict[str, Any]:
    """Jobs one at a time on an idle app: POST -> terminal SSE event, less the worker's stages."""
    http = bench_serving.HttpRunner(base_url)
    try:
        http.run(bench_serving.short_request(family, 70_000, 9, 32, 2))  # warm the path
        rows = [http.run(bench_serving.short_request(family, 70_001 + i, 9, 32, 2)) for i in range(jobs)]
    finally:
        http.close()
    return {
        "family": family,
        "jobs": jobs,
        "fixed_cost_ms": ms([r["fixed_cost_s"] for r in rows]),
        "post_ms": ms([r["post_s"] for r in rows]),
        "with_adjustments": sum(1 for r in rows if r["adjustments"]),  # their end also reads the stored ones
        "breakdown_p50_ms": {
            k: round(bench_serving.percentile([r["breakdown"][k] * 1000 for r in rows], 50), 2)
            for k in bench_serving.PHASES
        },
    }


def measure(
    base_url: str,
    *,
    fixed_jobs: int,
    worker_cpu_niceness: int | None = None,  # the app's (recorded in the result; set where the app is built)
    direct_ingress: bool = False,  # recorded likewise
    **shape: Any,  # the load: _load's arguments
) -> dict[str, Any]:
    warmed, submit, paced, held = asyncio.run(_load(base_url, **shape))
    fixed = fixed_cost(base_url, shape["families"][0], fixed_jobs) if fixed_jobs else None
    return {
        "warm_up": warmed,
        "submit": submit,
        "paced": paced,
        "fixed": fixed,
        "streams": held,
        "targets": targets(submit, paced, fixed, held),
    }


def targets(submit: dict, paced: dict | None, fixed: dict | None, held: dict | None) -> dict[str, Any]:
    """Each target's figure: the submit p95 is the paced run's (at the target rate) when there was one."""
    values = {
        "submit_p95_ms": (paced or submit)["latency_ms"]["p95"],
        "submissions_per_s": submit["submissions_per_s"],
        "fixed_cost_ms": fixed["fixed_cost_ms"]["p50"] if fixed else None,
        "event_p99_ms": held["event_latency_ms"]["p99"] if held else None,
    }
    out = {}
    for name, value in values.items():
        goal = TARGETS[name]
        met = None if value is None else (value >= goal if name == "submissions_per_s" else value <= goal)
        out[name] = {"target": goal, "value": value, "met": met}
    return out


# -- output -----------------------------------------------------------------------------------------------------
def markdown(result: dict[str, Any], label: str) -> str:
    runs, cfg = result["runs"], result["config"]
    names = list(runs)
    row = lambda title, get: f"| {title} | " + " | ".join(str(get(runs[n])) for n in names) + " |"  # noqa: E731
    opt = lambda d, *keys: "-" if d is None else _dig(d, keys)  # noqa: E731
    lines = [
        f"# Submission benchmark ({label})",
        "",
        f"{result['created']} · {result['machine']['platform']} · {result['machine']['cpu_count']} CPUs · "
        f"families {', '.join(cfg['families'])} (tiny) · {cfg['clients']} clients, {cfg.get('rounds', 1)} × {cfg['jobs']} jobs · "
        f"{cfg['streams']} streams · generation workers "
        + _priority(cfg.get("worker_cpu_niceness"))
        + (" · Serve's direct ingress (no proxy)" if cfg.get("direct_ingress") else ""),
        "",
        *([f"Code: {result['code']}", ""] if result.get("code") else []),
        "| measure | " + " | ".join(names) + " |",
        "|---|" + "---:|" * len(names),
        row("submit p50 ms", lambda r: r["submit"]["latency_ms"]["p50"]),
        row("submit p95 ms", lambda r: r["submit"]["latency_ms"]["p95"]),
        row("submit p99 ms", lambda r: r["submit"]["latency_ms"]["p99"]),
        row("submissions/s", lambda r: r["submit"]["submissions_per_s"]),
        row("submissions/s by round", lambda r: r["submit"].get("submissions_per_s_by_round", "-")),
        row("answers", lambda r: r["submit"]["status_codes"]),
        row("jobs ended", lambda r: r["submit"]["ended"]),
        row("paced: offered / achieved per s by round", lambda r: _paced_rate(r.get("paced"))),
        row("paced: submit p50 ms", lambda r: opt(r.get("paced"), "latency_ms", "p50")),
        row("paced: submit p95 ms", lambda r: opt(r.get("paced"), "latency_ms", "p95")),
        row("paced: submit p99 ms", lambda r: opt(r.get("paced"), "latency_ms", "p99")),
        row("paced: sent late p95 ms", lambda r: opt(r.get("paced"), "sent_late_ms", "p95")),
        row("paced: answers", lambda r: opt(r.get("paced"), "status_codes")),
        row("fixed cost p50 ms", lambda r: opt(r["fixed"], "fixed_cost_ms", "p50")),
        row("fixed cost p95 ms", lambda r: opt(r["fixed"], "fixed_cost_ms", "p95")),
        row("streams held at once", lambda r: opt(r["streams"], "held_at_once")),
        row("streams opened in s", lambda r: opt(r["streams"], "opened_s")),
        row("streams refused", lambda r: opt(r["streams"], "refused")),
        row("events timed", lambda r: opt(r["streams"], "events_timed")),
        row("event latency p50 ms", lambda r: opt(r["streams"], "event_latency_ms", "p50")),
        row("event latency p99 ms", lambda r: opt(r["streams"], "event_latency_ms", "p99")),
        "",
        "submit: one POST /api/video/jobs, sent -> 202 read, while the workers run the jobs already queued; "
        "each client sends its next as soon as it has the answer (a closed loop). paced: the same POSTs offered at "
        "a fixed rate, each timed from when it was due (a late send counts its wait). "
        "fixed cost: a job alone, POST sent -> terminal SSE event read, less the worker's stage sum. "
        "event latency: an event's write (its updated_at) -> a held stream's client reads it.",
        "",
        "Fixed cost p50 by phase (ms): "
        + "; ".join(
            f"{n}: " + ", ".join(f"{k} {v}" for k, v in runs[n]["fixed"]["breakdown_p50_ms"].items())
            for n in names
            if runs[n]["fixed"]
        ),
        "",
        "Targets (issue 18; submit p95: the paced rounds', at the target rate): "
        + "; ".join(
            f"{name} {'≥' if name == 'submissions_per_s' else '≤'} {TARGETS[name]:g}: "
            + ", ".join(f"{n} {_verdict(runs[n]['targets'][name])}" for n in names)
            for name in TARGETS
        ),
        "",
    ]
    return "\n".join(lines)


def _paced_rate(paced: dict | None) -> str:
    return "-" if paced is None else f"{paced['rate']:g} / {paced['achieved_per_s_by_round']}"


def _priority(niceness: int | str | None) -> str:
    if niceness == IDLE:
        return "in Linux's SCHED_IDLE class (worker_cpu_niceness: idle)"
    return f"at nice +{niceness} (worker_cpu_niceness)" if niceness else "at the serving path's CPU priority"


def _dig(d: dict, keys: tuple) -> Any:
    for k in keys:
        d = d[k]
    return d


def _verdict(t: dict[str, Any]) -> str:
    return "-" if t["met"] is None else f"**{t['value']}** ({'met' if t['met'] else 'not met'})"


def write_outputs(result: dict[str, Any], out_dir: str | os.PathLike, label: str) -> tuple[Path, Path]:
    return bench_serving.write_report(result, out_dir, f"submit-{label}", markdown(result, label))


def main(argv: list[str] | None = None) -> dict[str, Any]:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--url", help="an app already served (default: start one per backend)")
    parser.add_argument("--backends", default="sqlite,postgres", help="comma-separated: sqlite, postgres")
    parser.add_argument("--database-url", default=None, help="PostgreSQL for the postgres run (default: a temp one)")
    parser.add_argument("--families", default=",".join(FAMILIES))
    parser.add_argument("--clients", type=int, default=32)
    parser.add_argument("--jobs", type=int, default=200, help="jobs per burst")
    parser.add_argument("--rounds", type=int, default=3, help="bursts of --jobs, each waited for; figures pooled")
    parser.add_argument(
        "--rate",
        type=float,
        default=TARGETS["submissions_per_s"],
        help="submissions a second offered in the paced rounds (0: no paced rounds)",
    )
    parser.add_argument("--streams", type=int, default=500)
    parser.add_argument("--stream-steps", type=int, default=20, help="steps of the streamed jobs (they run longer)")
    parser.add_argument("--fixed-jobs", type=int, default=10)
    parser.add_argument(
        "--worker-cpu-niceness",
        type=lambda v: v if v == IDLE else int(v),
        default=None,
        help="the app's worker_cpu_niceness, 0-19 or idle (default: cpu-tiny.yaml's)",
    )
    parser.add_argument(
        "--direct-ingress",
        action="store_true",
        help="Ray Serve's direct ingress: the ingress replica serves HTTP itself, no proxy (a local app only)",
    )
    parser.add_argument("--out", default=None, help="directory for submit-<label>.json and .md")
    parser.add_argument("--label", default="latest")
    parser.add_argument("--code", default=None, help="what code was measured (a commit, 'before the fix')")
    args = parser.parse_args(argv)
    families = args.families.split(",")
    load = dict(
        families=families,
        clients=args.clients,
        jobs=args.jobs,
        streams=args.streams,
        stream_steps=args.stream_steps,
        fixed_jobs=args.fixed_jobs,
        rounds=args.rounds,
        rate=args.rate,
    )
    if not args.url:
        niceness = app_args("", None, families, args.streams).get("worker_cpu_niceness", 0)
        load["worker_cpu_niceness"] = niceness if args.worker_cpu_niceness is None else args.worker_cpu_niceness
        load["direct_ingress"] = args.direct_ingress
    runs: dict[str, Any] = {}
    if args.url:
        runs["url"] = measure(args.url, **load)
    else:
        from videogen.video.tiny.cache import ensure_tiny_model

        for family in families:  # built here once, so replicas find them on disk
            ensure_tiny_model(family, "text-to-video")
        for backend in args.backends.split(","):
            state_dir = tempfile.mkdtemp(prefix="vgbench-state-")
            try:
                with postgres(args.database_url) if backend == "postgres" else _none() as url:
                    served = app_args(state_dir, url, families, args.streams)
                    served["worker_cpu_niceness"] = load["worker_cpu_niceness"]
                    with bench_serving.serve_locally(served, direct_ingress=args.direct_ingress) as base:
                        runs[backend] = measure(base, **load)
            finally:
                shutil.rmtree(state_dir, ignore_errors=True)
    result = {
        "benchmark": "submit",
        "created": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
        "machine": bench_serving.machine_facts(None),
        "config": {k: v for k, v in load.items()},
        "code": args.code,
        "runs": runs,
    }
    print()
    print(markdown(result, args.label))
    if args.out:
        for path in write_outputs(result, args.out, args.label):
            print(f"[bench] wrote {path}")
    return result


@contextmanager
def _none() -> Iterator[None]:
    yield None


if __name__ == "__main__":
    main()
