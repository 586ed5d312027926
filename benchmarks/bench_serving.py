"""Serving overhead: a job over HTTP (submit -> the SSE event that says it ended) against the same
request run through ``GenerationWorker`` directly, on a local Ray with tiny models.

    .venv/bin/python benchmarks/bench_serving.py [--jobs 20] [--family wan] [--long-target-s 5]
                                                 [--out benchmarks/results/cpu --label after]

It starts its own local Ray (``address="local"``, its own temp dir; it never attaches to
another cluster and never runs ``ray stop``) and the app from ``build_app`` with one
family on its tiny model (CPU, ``num_gpus=0``), unless ``--url`` names an app already
served. Then, alternating so drift hits both alike:

- short jobs (tiny request): per job the direct call's time and the HTTP end-to-end time,
  the worker's own stage sum (the job's ``stages``), and the **fixed cost** =
  end-to-end - stage sum, split by the job's timestamps into where it goes: the POST,
  submit -> queued write, queued -> claimed (dispatch hop), claimed -> first stage,
  last stage -> final write, final write -> the client has the terminal SSE event;
- a "5 s job": a request whose step count is calibrated so the direct call takes about
  ``--long-target-s``; the ratio end-to-end / direct.

Both sides run torch with the same thread count (``--threads``; the served worker gets
``OMP_NUM_THREADS``). Targets are printed, never asserted (speed figures live in
benchmarks, not tests). Results: a table on stdout, ``serving-<label>.json`` and
``serving-<label>.md`` under ``--out``.
"""

from __future__ import annotations

from videogen.rocm_env import apply_rocm_env

apply_rocm_env()

import argparse
import json
import math
import os
import platform
import shutil
import socket
import statistics
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

TERMINAL = ("succeeded", "failed", "cancelled")
TARGET_FIXED_COST_MS = 30.0
TARGET_LONG_RATIO = 1.01
# Where the fixed cost goes, in the order a job passes through it (names of ``breakdown`` keys).
MAX_STEPS = 200  # VideoRequest.num_inference_steps' upper bound
# Together with ``stages_span_s`` (first stage start -> last stage end) they add up to the
# end-to-end time, read from the job's own timestamps (one machine, one clock).
PHASES = ("to_created_s", "dispatch_s", "to_first_stage_s", "between_stages_s", "after_stages_s", "to_client_s")


# -- the app -------------------------------------------------------------------------------------
def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def app_args(family: str, state_dir: str, threads: int | None) -> dict[str, Any]:
    env = {"OMP_NUM_THREADS": str(threads)} if threads else {}
    return {
        "families": {family: {"model": "tiny", "warm": ["text-to-video"]}},
        "state_dir": state_dir,
        "num_gpus": 0,
        "env_vars": env,
        "worker_defaults": {
            "ray_actor_options": {"num_cpus": 0.1},
            "autoscaling_config": {"min_replicas": 1, "max_replicas": 1},
        },
    }


@contextmanager
def serve_locally(args: dict[str, Any], worker_niceness: int = 0, direct_ingress: bool = False) -> Iterator[str]:
    """A local Ray of our own (``address="local"``, its own temp dir) serving the app built from ``args``;
    yields the base URL.

    ``direct_ingress``: Ray Serve's direct ingress (``RAY_SERVE_ENABLE_DIRECT_INGRESS=1``, in the environment the
    local Ray inherits): the ingress replica serves HTTP itself on a port Serve allocates
    (``RAY_SERVE_DIRECT_INGRESS_MIN_HTTP_PORT``..), with no proxy in between; the URL is that port's.

    Ray starts its workers (the Serve replicas) at nice 15 unless told otherwise;
    on a busy machine that alone makes a served job slower than the same job in
    this nice-0 process, so by default they run at this process's priority.
    """
    import ray
    from ray import serve

    from videogen.serve.builder import build_app

    os.environ.pop("RAY_ADDRESS", None)  # a stale address makes ray.init hang
    if direct_ingress:
        os.environ["RAY_SERVE_ENABLE_DIRECT_INGRESS"] = "1"
    ray_dir = tempfile.mkdtemp(prefix="vgbench-ray-")
    started = time.monotonic()
    ray.init(
        address="local",
        num_cpus=8,
        include_dashboard=False,
        _temp_dir=ray_dir,
        log_to_driver=False,
        _system_config={"worker_niceness": worker_niceness},
    )
    try:
        port = _free_port()
        serve.start(http_options={"host": "127.0.0.1", "port": port})
        serve.run(build_app(args), name="videogen", route_prefix="/")
        if direct_ingress:
            port = _direct_ingress_port()
        print(f"[bench] local Ray + app ready in {time.monotonic() - started:.1f}s (port {port})", flush=True)
        yield f"http://127.0.0.1:{port}"
    finally:
        try:
            serve.shutdown()
        finally:
            ray.shutdown()
            shutil.rmtree(ray_dir, ignore_errors=True)
            if direct_ingress:
                os.environ.pop("RAY_SERVE_ENABLE_DIRECT_INGRESS", None)


def _direct_ingress_port(timeout_s: float = 60.0) -> int:
    """The port the ingress replica listens on under direct ingress: the one socket listening in Serve's
    direct-ingress HTTP range (this benchmark's own local Ray is the only one allocating there)."""
    import psutil
    from ray.serve._private.constants import (
        RAY_SERVE_DIRECT_INGRESS_MAX_HTTP_PORT,
        RAY_SERVE_DIRECT_INGRESS_MIN_HTTP_PORT,
    )

    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        ports = sorted(
            c.laddr.port
            for c in psutil.net_connections(kind="tcp")
            if c.status == psutil.CONN_LISTEN
            and RAY_SERVE_DIRECT_INGRESS_MIN_HTTP_PORT <= c.laddr.port < RAY_SERVE_DIRECT_INGRESS_MAX_HTTP_PORT
        )
        if ports:
            return ports[0]
        time.sleep(0.5)
    raise RuntimeError("no ingress replica listens in Serve's direct-ingress port range")


@contextmanager
def local_app(family: str, threads: int | None, worker_niceness: int = 0) -> Iterator[str]:
    """``serve_locally`` with one family's tiny model in a temp state dir."""
    state_dir = tempfile.mkdtemp(prefix="vgbench-state-")
    try:
        with serve_locally(app_args(family, state_dir, threads), worker_niceness) as url:
            yield url
    finally:
        shutil.rmtree(state_dir, ignore_errors=True)


# -- the two ways of running a request -------------------------------------------------------------
def _stage_sum(stages: list[dict[str, Any]]) -> float:
    return sum(s.get("seconds") or 0.0 for s in stages)


class DirectRunner:
    """The same request through a warm ``GenerationWorker`` in this process."""

    def __init__(self, family: str):
        from videogen.video.worker import GenerationWorker

        self.worker = GenerationWorker(models={family: "tiny"})
        self.worker.warm(family, "text-to-video")
        self.out = Path(tempfile.mkdtemp(prefix="vgbench-direct-"))

    def run(self, request: dict[str, Any]) -> dict[str, Any]:
        from videogen.video.request import VideoRequest

        req = VideoRequest.model_validate(request)
        started = time.perf_counter()
        result = self.worker.generate(req, self.out / "direct.mp4")
        wall = time.perf_counter() - started
        stages = [s.model_dump() for s in result.stages]
        return {"wall_s": wall, "stage_sum_s": _stage_sum(stages), "stages": {s["name"]: s["seconds"] for s in stages}}

    def close(self) -> None:
        shutil.rmtree(self.out, ignore_errors=True)


class HttpRunner:
    """POST the job, follow its SSE stream from the first event until the terminal one."""

    def __init__(self, base_url: str, api_key: str | None = None):
        import httpx

        headers = {"Authorization": f"Bearer {api_key}"} if api_key else {}
        self.client = httpx.Client(base_url=base_url, timeout=600.0, headers=headers)

    def run(self, request: dict[str, Any]) -> dict[str, Any]:
        t0_wall, t0 = time.time(), time.perf_counter()
        r = self.client.post("/api/video/jobs", json=request)
        post_s = time.perf_counter() - t0
        if r.status_code != 202:
            raise RuntimeError(f"submit answered {r.status_code}: {r.text}")
        job_id = r.json()["id"]
        events: list[dict[str, Any]] = []
        end_wall = end = None
        with self.client.stream("GET", f"/api/video/jobs/{job_id}/events", params={"since": 0}) as stream:
            for line in stream.iter_lines():
                if not line.startswith("data: "):
                    continue
                job = json.loads(line[6:])
                events.append(job)
                if job["status"] in TERMINAL:
                    end_wall, end = time.time(), time.perf_counter()
                    break
        if end is None:
            raise RuntimeError(f"the SSE stream of {job_id} ended without a terminal event")
        job = events[-1]
        if job["status"] != "succeeded":
            raise RuntimeError(f"job {job_id} {job['status']}: {job.get('error')}")
        e2e = end - t0
        stage_sum = _stage_sum(job["stages"])
        first_stage = min(s["started_at"] for s in job["stages"])
        last_stage_end = max(s["finished_at"] for s in job["stages"])
        breakdown = {
            "to_created_s": job["created_at"] - t0_wall,
            "dispatch_s": job["started_at"] - job["created_at"],
            "to_first_stage_s": first_stage - job["started_at"],
            "stages_span_s": last_stage_end - first_stage,
            # The gaps between the stages (the worker's own time outside them), counted in the fixed cost.
            "between_stages_s": last_stage_end - first_stage - stage_sum,
            "after_stages_s": job["finished_at"] - last_stage_end,
            "to_client_s": end_wall - job["finished_at"],
        }
        return {
            "job_id": job_id,
            "e2e_s": e2e,
            "stage_sum_s": stage_sum,
            "fixed_cost_s": e2e - stage_sum,
            "post_s": post_s,
            "breakdown": breakdown,
            "events": len(events),
            "adjustments": len(job.get("adjustments") or []),
            "event_stages": [e["progress"]["stage"] for e in events if e.get("progress")],
            "stages": {s["name"]: s["seconds"] for s in job["stages"]},
        }

    def close(self) -> None:
        self.client.close()


# -- statistics -----------------------------------------------------------------------------------
def percentile(values: list[float], q: float) -> float:
    """Linear-interpolated percentile (q in 0..100)."""
    ordered = sorted(values)
    if not ordered:
        return math.nan
    pos = (len(ordered) - 1) * q / 100.0
    lo, hi = math.floor(pos), math.ceil(pos)
    return ordered[lo] + (ordered[hi] - ordered[lo]) * (pos - lo)


def spread_ms(values: list[float]) -> dict[str, float]:
    ms = [v * 1000.0 for v in values]
    return {
        "p50": round(percentile(ms, 50), 2),
        "p90": round(percentile(ms, 90), 2),
        "mean": round(statistics.fmean(ms), 2),
        "min": round(min(ms), 2),
        "max": round(max(ms), 2),
    }


# -- the measurement --------------------------------------------------------------------------------
def short_request(family: str, seed: int, frames: int, size: int, steps: int) -> dict[str, Any]:
    return {
        "family": family,
        "task": "text-to-video",
        "prompt": "a boat on the sea",
        "seed": seed,
        "num_frames": frames,
        "height": size,
        "width": size,
        "num_inference_steps": steps,
    }


def calibrate_steps(direct: DirectRunner, base: dict[str, Any], target_s: float, probe_steps: int) -> dict[str, Any]:
    """Steps that make ``base`` take about ``target_s`` directly: denoising scales with steps, the rest does not."""
    probe = direct.run({**base, "num_inference_steps": probe_steps})
    per_step = probe["stages"]["denoising"] / probe_steps
    rest = probe["wall_s"] - probe["stages"]["denoising"]
    steps = max(probe_steps, round((target_s - rest) / per_step)) if per_step > 0 else probe_steps
    steps = min(steps, MAX_STEPS)  # the request's own limit: beyond it, ask for more frames or pixels
    return {
        "probe_steps": probe_steps,
        "probe_wall_s": round(probe["wall_s"], 4),
        "per_step_s": round(per_step, 5),
        "rest_s": round(rest, 4),
        "steps": steps,
    }


def _pair(direct: DirectRunner, http: HttpRunner, request: dict[str, Any], served_first: bool) -> tuple[dict, dict]:
    """The request both ways; which goes first alternates, so neither always runs on a warmer machine."""
    if served_first:
        h = http.run(request)
        return direct.run(request), h
    d = direct.run(request)
    return d, http.run(request)


def measure(
    base_url: str,
    *,
    family: str = "wan",
    jobs: int = 20,
    warmup: int = 2,
    frames: int = 9,
    size: int = 32,
    steps: int = 2,
    long_target_s: float = 5.0,
    long_runs: int = 3,
    long_frames: int = 65,
    long_size: int = 128,
    long_steps: int | None = None,
    threads: int | None = 1,
    api_key: str | None = None,
    log: Callable[[str], None] = print,
) -> dict[str, Any]:
    """Run the benchmark against the app at ``base_url``; returns the JSON-ready result."""
    if threads:
        import torch

        torch.set_num_threads(threads)
    direct = DirectRunner(family)
    http = HttpRunner(base_url, api_key)
    try:
        for i in range(warmup):
            direct.run(short_request(family, 1000 + i, frames, size, steps))
            http.run(short_request(family, 1000 + i, frames, size, steps))
        rows = []
        for i in range(jobs):
            request = short_request(family, i, frames, size, steps)
            d, h = _pair(direct, http, request, served_first=bool(i % 2))
            rows.append(
                {
                    "job": i,
                    "direct_s": d["wall_s"],
                    "direct_stage_sum_s": d["stage_sum_s"],
                    "direct_overhead_s": d["wall_s"] - d["stage_sum_s"],
                    **h,
                }
            )
            log(
                f"  short {i:3d}: direct {d['wall_s'] * 1000:7.1f} ms  e2e {h['e2e_s'] * 1000:7.1f} ms  "
                f"stages {h['stage_sum_s'] * 1000:7.1f} ms  fixed {h['fixed_cost_s'] * 1000:6.1f} ms"
            )
        short = {
            "request": short_request(family, 0, frames, size, steps),
            "jobs": rows,
            "summary": {
                "fixed_cost_ms": spread_ms([r["fixed_cost_s"] for r in rows]),
                "e2e_ms": spread_ms([r["e2e_s"] for r in rows]),
                "stage_sum_ms": spread_ms([r["stage_sum_s"] for r in rows]),
                "direct_ms": spread_ms([r["direct_s"] for r in rows]),
                "direct_overhead_ms": spread_ms([r["direct_overhead_s"] for r in rows]),
                "post_ms": spread_ms([r["post_s"] for r in rows]),
                "breakdown_p50_ms": {
                    k: round(percentile([r["breakdown"][k] * 1000 for r in rows], 50), 2) for k in PHASES
                },
            },
        }

        long_base = short_request(family, 0, long_frames, long_size, 2)
        calibration = None
        if long_steps is None:
            calibration = calibrate_steps(direct, long_base, long_target_s, probe_steps=10)
            long_steps = calibration["steps"]
        long_request = {**long_base, "num_inference_steps": long_steps}
        runs = []
        for i in range(long_runs):
            request = {**long_request, "seed": i}
            d, h = _pair(direct, http, request, served_first=bool(i % 2))
            runs.append(
                {
                    "run": i,
                    "direct_s": d["wall_s"],
                    "direct_stage_sum_s": d["stage_sum_s"],
                    "e2e_s": h["e2e_s"],
                    "stage_sum_s": h["stage_sum_s"],
                    "fixed_cost_s": h["fixed_cost_s"],
                    "ratio": h["e2e_s"] / d["wall_s"],
                    "events": h["events"],
                    "breakdown": h["breakdown"],
                    "direct_stages": d["stages"],
                    "stages": h["stages"],
                }
            )
            log(
                f"  long  {i:3d}: direct {d['wall_s']:6.3f} s  e2e {h['e2e_s']:6.3f} s  ratio {h['e2e_s'] / d['wall_s']:.4f}  "
                f"stages direct/served: "
                + ", ".join(f"{k} {d['stages'][k]:.3f}/{h['stages'][k]:.3f}" for k in d["stages"])
            )
        direct_p50 = percentile([r["direct_s"] for r in runs], 50)
        e2e_p50 = percentile([r["e2e_s"] for r in runs], 50)
        long = {
            "request": long_request,
            "calibration": calibration,
            "runs": runs,
            "summary": {
                "direct_s_p50": round(direct_p50, 4),
                "e2e_s_p50": round(e2e_p50, 4),
                "ratio": round(e2e_p50 / direct_p50, 4),
                "ratio_per_run_p50": round(percentile([r["ratio"] for r in runs], 50), 4),
                "fixed_cost_ms_p50": round(percentile([r["fixed_cost_s"] * 1000 for r in runs], 50), 2),
                # What serving adds on its own, apart from how fast the stages ran in each process
                # (on a shared machine the stages' own spread is often wider than the target).
                "ratio_from_fixed_cost": round(
                    1 + percentile([r["fixed_cost_s"] / r["direct_s"] for r in runs], 50), 4
                ),
                "stage_sum_s_p50": round(percentile([r["stage_sum_s"] for r in runs], 50), 4),
                "direct_stage_sum_s_p50": round(percentile([r["direct_stage_sum_s"] for r in runs], 50), 4),
            },
        }
    finally:
        direct.close()
        http.close()
    fixed_p50 = short["summary"]["fixed_cost_ms"]["p50"]
    return {
        "benchmark": "serving",
        "created": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
        "machine": machine_facts(threads),
        "config": {
            "family": family,
            "jobs": jobs,
            "warmup": warmup,
            "long_runs": long_runs,
            "long_target_s": long_target_s,
            "threads": threads,
        },
        "short": short,
        "long": long,
        "targets": {
            "fixed_cost_ms_p50": {
                "target": TARGET_FIXED_COST_MS,
                "value": fixed_p50,
                "met": fixed_p50 <= TARGET_FIXED_COST_MS,
            },
            "long_ratio": {
                "target": TARGET_LONG_RATIO,
                "value": long["summary"]["ratio"],
                "met": long["summary"]["ratio"] <= TARGET_LONG_RATIO,
            },
        },
    }


def machine_facts(threads: int | None) -> dict[str, Any]:
    import importlib.metadata as md

    def version(name: str) -> str | None:
        try:
            return md.version(name)
        except md.PackageNotFoundError:
            return None

    return {
        "platform": platform.platform(),
        "python": platform.python_version(),
        "cpu_count": os.cpu_count(),
        "torch_threads": threads,
        "packages": {n: version(n) for n in ("torch", "diffusers", "ray", "fastapi")},
    }


# -- output -----------------------------------------------------------------------------------------
def markdown(result: dict[str, Any], label: str) -> str:
    s, lg, t = result["short"]["summary"], result["long"], result["targets"]
    fc = s["fixed_cost_ms"]
    lines = [
        f"# Serving benchmark ({label})",
        "",
        f"{result['created']} · {result['machine']['platform']} · {result['machine']['cpu_count']} CPUs · "
        f"torch threads {result['config']['threads']} · family {result['config']['family']} (tiny) · "
        f"Ray worker nice {result['config'].get('worker_niceness', 'as Ray sets it')}",
        "",
        *([f"Code: {result['code']}", ""] if result.get("code") else []),
        f"Short job {json.dumps({k: v for k, v in result['short']['request'].items() if k not in ('prompt', 'seed')})}, "
        f"{result['config']['jobs']} jobs:",
        "",
        "| measure | p50 ms | p90 ms | mean ms | min ms | max ms |",
        "|---|---:|---:|---:|---:|---:|",
    ]
    for name in ("fixed_cost_ms", "e2e_ms", "stage_sum_ms", "direct_ms", "direct_overhead_ms", "post_ms"):
        v = s[name]
        lines.append(
            f"| {name.removesuffix('_ms')} | {v['p50']} | {v['p90']} | {v['mean']} | {v['min']} | {v['max']} |"
        )
    lines += [
        "",
        "fixed_cost = e2e (POST sent -> terminal SSE event read) - stage_sum (the worker's stages); "
        "direct_overhead = direct call - its stage sum; post = the POST's round trip.",
        "",
        "Where the fixed cost goes (p50 ms per phase, from the job's timestamps):",
        "",
        "| " + " | ".join(p.removesuffix("_s") for p in PHASES) + " |",
        "|" + "---:|" * len(PHASES),
        "| " + " | ".join(str(s["breakdown_p50_ms"][p]) for p in PHASES) + " |",
        "",
    ]
    ls = lg["summary"]
    lines += [
        f"Long job ({lg['request']['num_frames']}×{lg['request']['height']}×{lg['request']['width']}, "
        f"{lg['request']['num_inference_steps']} steps), {len(lg['runs'])} runs:",
        "",
        "| direct s p50 | e2e s p50 | ratio | ratio per run p50 | fixed cost ms p50 | 1 + fixed cost / direct |",
        "|---:|---:|---:|---:|---:|---:|",
        f"| {ls['direct_s_p50']} | {ls['e2e_s_p50']} | {ls['ratio']} | {ls['ratio_per_run_p50']} | {ls['fixed_cost_ms_p50']} "
        f"| {ls['ratio_from_fixed_cost']} |",
        "",
        "ratio = e2e p50 / direct p50. The served and the direct stage times are measured in different "
        "processes, so on a busy machine their spread shows in the ratio; the last column is the share "
        "serving itself adds.",
        "",
        f"Targets: fixed cost p50 ≤ {t['fixed_cost_ms_p50']['target']} ms: **{fc['p50']} ms** "
        f"({'met' if t['fixed_cost_ms_p50']['met'] else 'not met'}); "
        f"long job ≤ {t['long_ratio']['target']}× direct: **{t['long_ratio']['value']}×** "
        f"({'met' if t['long_ratio']['met'] else 'not met'}).",
        "",
    ]
    return "\n".join(lines)


def write_report(result: dict[str, Any], out_dir: str | os.PathLike, stem: str, text: str) -> tuple[Path, Path]:
    """``<stem>.json`` (the result) and ``<stem>.md`` (``text``) under ``out_dir``."""
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    json_path, md_path = out / f"{stem}.json", out / f"{stem}.md"
    json_path.write_text(json.dumps(result, indent=2) + "\n")
    md_path.write_text(text)
    return json_path, md_path


def write_outputs(result: dict[str, Any], out_dir: str | os.PathLike, label: str) -> tuple[Path, Path]:
    return write_report(result, out_dir, f"serving-{label}", markdown(result, label))


def main(argv: list[str] | None = None) -> dict[str, Any]:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--url", help="an app already served (default: start a local Ray + app of our own)")
    parser.add_argument("--api-key", default=os.environ.get("VIDEOGEN_API_KEY"))
    parser.add_argument("--family", default="wan")
    parser.add_argument("--jobs", type=int, default=20)
    parser.add_argument("--warmup", type=int, default=2)
    parser.add_argument("--frames", type=int, default=9)
    parser.add_argument("--size", type=int, default=32)
    parser.add_argument("--steps", type=int, default=2)
    parser.add_argument("--long-target-s", type=float, default=5.0)
    parser.add_argument("--long-runs", type=int, default=3)
    parser.add_argument("--long-frames", type=int, default=65)
    parser.add_argument("--long-size", type=int, default=128)
    parser.add_argument(
        "--long-steps", type=int, default=None, help="fixed steps instead of calibrating to --long-target-s"
    )
    parser.add_argument("--threads", type=int, default=1, help="torch threads on both sides (0 = leave as is)")
    parser.add_argument(
        "--worker-niceness",
        type=int,
        default=0,
        help="nice value of the Ray workers (Ray's own default: 15); the direct call runs at 0",
    )
    parser.add_argument("--out", default=None, help="directory for serving-<label>.json and .md")
    parser.add_argument("--label", default="latest")
    args = parser.parse_args(argv)

    kwargs = dict(
        family=args.family,
        jobs=args.jobs,
        warmup=args.warmup,
        frames=args.frames,
        size=args.size,
        steps=args.steps,
        long_target_s=args.long_target_s,
        long_runs=args.long_runs,
        long_frames=args.long_frames,
        long_size=args.long_size,
        long_steps=args.long_steps,
        threads=args.threads or None,
        api_key=args.api_key,
    )
    if args.url:
        result = measure(args.url, **kwargs)
    else:
        # The direct worker builds the tiny model first, so the replica finds it on disk.
        from videogen.video.tiny.cache import ensure_tiny_model

        ensure_tiny_model(args.family, "text-to-video")
        with local_app(args.family, args.threads or None, args.worker_niceness) as url:
            result = measure(url, **kwargs)
        result["config"]["worker_niceness"] = args.worker_niceness
    print()
    print(markdown(result, args.label))
    if args.out:
        for path in write_outputs(result, args.out, args.label):
            print(f"[bench] wrote {path}")
    return result


if __name__ == "__main__":
    main()
