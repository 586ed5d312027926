"""Speed of one family/model on whatever device is here: raw diffusers, VideoGen, and each speed lever.

    .venv/bin/python benchmarks/bench_speed.py --family wan --model tiny --out DIR \\
        [--task text-to-video] [--frames N] [--height H] [--width W] [--steps S] [--runs 3] \\
        [--levers attention_backend step_cache compile vae_tiling vae_slicing] [--threshold T] [--threads N]

Rows (each the fastest of ``--runs`` timed jobs after one untimed warm-up job; configs that share a pipeline take
turns run by run, and a config on its own pipeline takes turns with a rerun of the VideoGen baseline, so a change
in the machine's load hits both alike; ``speedup`` is the median, over turns, of the baseline's time over the
config's):
- ``raw diffusers``: the pipeline VideoGen loaded, called directly with the same kwargs; no VideoGen code in
  the loop.
- ``videogen``: the same request through ``GenerationWorker.generate`` (the baseline every lever is held to).
- one row per lever alone (a step cache per kind the family takes; the attention backend ``auto`` picked vs
  native; regional compile; each VAE setting flipped), then the best combination.

For each: seconds per denoising step; text-encode / denoise / decode / MP4-encode seconds; achieved TFLOP/s of
the denoising loop (the uncached model's FLOPs over the time taken: for a step cache, the effective rate) and its
ratio to the device's FLOP limit; peak memory; the denoisers' projection calls against the baseline's (the work
a lever saves; not counted through compiled blocks, whose hooks do not fire); and PSNR of the decoded frames
against the baseline's (same seed).
FLOPs per step come from the cost model (``videogen.video.cost``) for an ``arch:`` model, else from
``FlopCounterMode`` over one step of this pipeline. The FLOP limit is the cost model's device table on a GPU; on a
CPU it is measured here (an fp32 matmul). Peak memory is ``torch.cuda.max_memory_allocated`` on a GPU; on a CPU it
is the process's RSS high-water mark, which only grows (later rows include earlier ones).
Writes DIR/bench_speed.json and DIR/bench_speed.md; committed results live in benchmarks/results/<device>/.
"""

from __future__ import annotations

from videogen.rocm_env import apply_rocm_env

apply_rocm_env()

import argparse
import gc
import json
import math
import resource
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import torch

from videogen.video import speed, speed_measure
from videogen.video.families import get_adapter, get_spec
from videogen.video.model_source import ModelSource
from videogen.video.policy_overrides import STEP_CACHE_KINDS
from videogen.video.request import VideoRequest, grey_png_b64
from videogen.video.speed import StepCacheSetting
from videogen.video.worker import GenerationWorker, runtime_snapshot

LEVERS = ("attention_backend", "step_cache", "compile", "vae_tiling", "vae_slicing")
# A lever joins the best combination only if it is this much faster than its paired baseline (less is noise)
# and, for a load lever, keeps the frames this close (VAE tiling blends tile seams; compile and attention
# backends differ by rounding). A step cache must keep within its own bound (speed.STEP_CACHE_MIN_PSNR_DB).
MIN_SPEEDUP = 1.02
LOAD_LEVER_MIN_PSNR_DB = 30.0


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--family", required=True)
    parser.add_argument("--model", default="tiny", help="tiny, arch:<preset>, a model directory or a Hub id")
    parser.add_argument("--task", default="text-to-video")
    parser.add_argument("--frames", type=int)
    parser.add_argument("--height", type=int)
    parser.add_argument("--width", type=int)
    parser.add_argument("--steps", type=int)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument(
        "--levers",
        nargs="*",
        choices=LEVERS,
        help="default: all of them, but compile only on a GPU (inductor's C++ build is slow on a CPU)",
    )
    parser.add_argument("--threshold", type=float, help="First-Block Cache / SeaCache threshold (default: theirs)")
    parser.add_argument("--compile-backend", default="inductor", help="torch.compile backend for the compile lever")
    parser.add_argument("--threads", type=int, help="torch CPU threads (default: torch's); 1 steadies a shared CPU")
    parser.add_argument("--out", required=True, type=Path)
    return parser.parse_args(argv)


class StageProbe:
    """Forward hooks timing the text encoders and the denoising loop (first denoiser call to the end of the last):
    the same hooks on the raw and the VideoGen runs, no wrapper around the pipeline."""

    def __init__(self, pipe: Any):
        self.handles = []
        for name in ("text_encoder", "text_encoder_2", "text_encoder_3"):
            module = getattr(pipe, name, None)
            if isinstance(module, torch.nn.Module):
                self.handles += [
                    module.register_forward_pre_hook(self._text_start),
                    module.register_forward_hook(self._text_end),
                ]
        for model in speed.denoisers(pipe):
            self.handles += [
                model.register_forward_pre_hook(self._denoise_start),
                model.register_forward_hook(self._denoise_end),
            ]
        self.reset()

    def reset(self) -> None:
        self.text_s, self._text_started, self.first_call, self.last_call_end = 0.0, None, None, None

    def _text_start(self, *_: Any) -> None:
        self._text_started = time.perf_counter()

    def _text_end(self, *_: Any) -> None:
        self.text_s += time.perf_counter() - self._text_started

    def _denoise_start(self, *_: Any) -> None:
        if self.first_call is None:
            self.first_call = time.perf_counter()

    def _denoise_end(self, *_: Any) -> None:
        self.last_call_end = time.perf_counter()

    @property
    def denoise_s(self) -> float:
        return self.last_call_end - self.first_call

    def remove(self) -> None:
        for handle in self.handles:
            handle.remove()


def device_facts(worker: GenerationWorker) -> dict[str, Any]:
    from videogen.video.cost.device_peaks import device_peak, measure_matmul_tflops

    profile = worker.profile
    facts = {"backend": profile.backend, "name": profile.device_name}
    peak = device_peak(profile.device_name) if profile.is_gpu else None
    if peak is not None:
        return facts | {
            "peak_tflops": peak.tflops,
            "peak_source": f"cost model device table ({peak.source})",
            "memory": "torch.cuda.max_memory_allocated",
        }
    size = 1024  # an fp32 matmul on the device itself: what its dense math reaches
    tflops = measure_matmul_tflops("cuda" if profile.backend in ("cuda", "rocm") else profile.backend, size=size)
    where = "CPU" if not profile.is_gpu else "this GPU (not in the cost model's table)"
    return facts | {
        "peak_tflops": round(tflops, 4),
        "peak_source": f"measured on {where}: fp32 matmul {size}^3",
        "memory": "RSS high-water mark (CPU; grows monotonically)"
        if not profile.is_gpu
        else "torch.cuda.max_memory_allocated",
    }


def count_flops(pipe: Any, kwargs: dict[str, Any]) -> dict[str, Any]:
    """FLOPs of one denoising step (every CFG pass) and of the text encoders, by ``FlopCounterMode`` over a
    1-step call (counted per top-level module class)."""
    from torch.utils.flop_counter import FlopCounterMode

    denoisers = {type(m).__name__ for m in speed.denoisers(pipe)}
    texts = {type(getattr(pipe, n)).__name__ for n in ("text_encoder", "text_encoder_2") if getattr(pipe, n, None)}
    with FlopCounterMode(display=False) as counter:
        pipe(**kwargs | {"num_inference_steps": 1, "output_type": "latent"})
    counts = {name: sum(ops.values()) for name, ops in counter.get_flop_counts().items() if "." not in name}
    return {
        "per_step": float(sum(v for k, v in counts.items() if k in denoisers)),
        "text_encode": float(sum(v for k, v in counts.items() if k in texts)),
        "source": "FlopCounterMode over one step of this pipeline",
    }


def model_flops(source: ModelSource, task: str, loaded: Any, kwargs: dict[str, Any]) -> dict[str, Any]:
    if source.is_arch:
        from videogen.video.cost.estimate import estimate_cost

        preset = source.arch_preset()
        cost = estimate_cost(
            preset,
            task,
            kwargs["num_frames"],
            kwargs["height"],
            kwargs["width"],
            kwargs["num_inference_steps"],
            kwargs.get("guidance_scale", 1.0),
        )
        return {
            "per_step": cost.flops.per_step,
            "text_encode": cost.flops.text_encode,
            "source": f"cost model, preset {preset.id}",
        }
    return count_flops(loaded.pipe, kwargs)


def peak_memory_reset() -> None:
    gc.collect()
    if torch.cuda.is_available():
        torch.cuda.synchronize()
        torch.cuda.empty_cache()
        torch.cuda.reset_peak_memory_stats()


def peak_memory_mb() -> float:
    if torch.cuda.is_available():
        return round(torch.cuda.max_memory_allocated() / 2**20, 1)
    return round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)  # Linux: KiB


def _sync() -> None:
    if torch.cuda.is_available():
        torch.cuda.synchronize()


class Bench:
    def __init__(self, args: argparse.Namespace):
        self.args = args
        self.family, self.task = args.family, args.task
        get_spec(self.family).check_task(self.task)
        self.out = Path(tempfile.mkdtemp(prefix="bench-speed-"))
        self.rows: list[dict[str, Any]] = []
        self.skipped: list[dict[str, str]] = []
        self.reference = None

    def request(self, step_cache: StepCacheSetting | None = None) -> VideoRequest:
        a = self.args
        return VideoRequest(
            family=self.family,
            task=self.task,
            prompt="a red boat sailing on a calm sea at sunset",
            seed=a.seed,
            num_frames=a.frames,
            height=a.height,
            width=a.width,
            num_inference_steps=a.steps,
            step_cache=step_cache,
            image=grey_png_b64() if self.task == "image-to-video" else None,
        )

    def worker(self, **overrides: Any) -> GenerationWorker:
        return GenerationWorker(models={self.family: self.args.model}, policy_overrides=overrides)

    def paired(
        self,
        name: str,
        worker: GenerationWorker,
        step_cache: StepCacheSetting | None = None,
        levers: dict[str, Any] | None = None,
    ) -> dict[str, Any]:
        """A config on its own pipeline, taking turns with the VideoGen baseline (whose rerun is not a row)."""
        row, baseline = self.measure_together(
            [(name, worker, step_cache, levers, False), ("videogen (paired)", self.base, None, None, False)]
        )
        self.rows.remove(baseline)
        _against(row, baseline)
        del worker
        peak_memory_reset()
        return row

    def measure_together(self, configs: list[tuple]) -> list[dict[str, Any]]:
        """Per config a warm-up job (untimed; it counts the work done), then the timed runs, the configs taking
        turns run by run so a change in the machine's load hits them alike; each row is its fastest run."""
        jobs = [self._job(*config) for config in configs]
        for job in jobs:
            with speed_measure.projection_calls(job.loaded.pipe) as calls:
                job()  # warm-up: allocator, lazy inits; not timed
            job.calls = calls[0]
        peak_memory_reset()
        for _ in range(self.args.runs):
            for job in jobs:
                job.runs.append(job())
        rows = []
        for job in jobs:
            job.probe.remove()
            rows.append(self._row(job))
        return rows

    def _job(
        self,
        name: str,
        worker: GenerationWorker,
        step_cache: StepCacheSetting | None,
        levers: dict[str, Any] | None,
        raw: bool,
    ):
        loaded = worker.warm(self.family, self.task)
        probe = StageProbe(loaded.pipe)
        adapter = get_adapter(self.family)
        kwargs = adapter.prepare_inputs(self.request(), loaded.pipe, loaded.meta).kwargs
        seed = kwargs["generator"].initial_seed()

        def job() -> tuple[float, dict[str, float], Any, list[str]]:
            probe.reset()
            _sync()
            started = time.perf_counter()
            if raw:  # only diffusers in the loop: the kwargs were built above, a fresh generator per call
                output = loaded.pipe(**kwargs | {"generator": torch.Generator("cpu").manual_seed(seed)})
                _sync()
                ended = time.perf_counter()
                stages = {"decode_s": ended - probe.last_call_end, "encode_s": 0.0}
                frames, notes = adapter.extract_frames(output), []
            else:
                result = worker.generate(self.request(step_cache), self.out / f"{len(self.rows)}.mp4")
                _sync()
                ended = time.perf_counter()
                seconds = {s.name: s.seconds for s in result.stages}
                stages = {"decode_s": seconds["decoding"], "encode_s": seconds["encoding"]}
                frames, notes = result.frames, [f"{a.field}: {a.reason}" for a in result.adjustments]
            stages |= {"text_encode_s": probe.text_s, "denoise_s": probe.denoise_s}
            return ended - started, stages, frames, notes

        job.name, job.levers, job.loaded, job.probe, job.runs = name, levers or {}, loaded, probe, []
        job.steps = kwargs["num_inference_steps"]
        return job

    def _row(self, job) -> dict[str, Any]:
        # The fastest run: the machine's other load only ever adds time, and the configs took turns run by run.
        seconds, stages, frames, notes = min(job.runs, key=lambda r: r[0])
        per_step = stages["denoise_s"] / job.steps
        row = {
            "name": job.name,
            "levers": job.levers,
            "job_s": seconds,
            "job_s_median": statistics.median(r[0] for r in job.runs),
            "job_s_runs": [r[0] for r in job.runs],
            "encode_s_runs": [r[1]["encode_s"] for r in job.runs],
            "per_step_s": per_step,
            **stages,
            "other_s": seconds - sum(stages.values()),
            "tflops_per_s": self.flops["per_step"] / per_step / 1e12 if per_step > 0 else None,
            "peak_memory_mb": peak_memory_mb(),
            "projection_calls": job.calls,
            "notes": notes,
            "lever_report": {
                k: job.loaded.provenance.get("levers", {}).get(k) for k in ("attention_backend", "compile")
            },
        }
        row["peak_ratio"] = row["tflops_per_s"] / self.device["peak_tflops"] if row["tflops_per_s"] else None
        if self.reference is None:
            self.reference = (frames, job.calls)
        row["psnr_db"] = speed_measure.psnr_db(frames, self.reference[0])
        if speed.compiled_modules(job.loaded.pipe):  # hooks inside a compiled block do not fire: no count
            row["projection_calls"] = None
        row["work_fraction"] = row["projection_calls"] / self.reference[1] if row["projection_calls"] else None
        self.rows.append(row)
        print(
            f"{job.name:32} job {seconds:8.4f}s  step {per_step:8.5f}s  PSNR {row['psnr_db']:6.1f}  "
            f"work {_fraction(row['work_fraction'])}",
            flush=True,
        )
        return row

    def run(self) -> dict[str, Any]:
        a = self.args
        base = self.base = self.worker()
        self.device = device_facts(base)
        source = base.source(self.family)
        loaded = base.warm(self.family, self.task)
        kwargs = get_adapter(self.family).prepare_inputs(self.request(), loaded.pipe, loaded.meta).kwargs
        self.flops = model_flops(source, self.task, loaded, kwargs)
        policy = base.policy(self.family)
        levers = (
            a.levers
            if a.levers is not None
            else [lever for lever in LEVERS if lever != "compile" or base.profile.is_gpu]
        )
        if "compile" not in levers:
            self.skipped.append(
                {
                    "lever": "compile",
                    "reason": "not asked for (--levers compile); by default only "
                    "on a GPU, as inductor's C++ build takes minutes on a small CPU",
                }
            )

        caches: list[StepCacheSetting] = []
        for kind in STEP_CACHE_KINDS[1:] if "step_cache" in levers else ():
            why_not = get_spec(self.family).step_caches.unsupported_reason(kind, self.task)
            if why_not:
                self.skipped.append({"lever": f"step_cache={kind}", "reason": why_not})
            else:
                threshold = a.threshold if kind in speed.DEFAULT_THRESHOLDS else None
                caches.append(StepCacheSetting(kind=kind, threshold=threshold))
        # The same loaded pipeline: VideoGen (the reference every lever is held to, so measured first), raw
        # diffusers and each step cache, taking turns run by run.
        videogen, raw, *cached = self.measure_together(
            [
                ("videogen", base, None, None, False),
                ("raw diffusers", base, None, None, True),
                *[(f"step_cache={c.kind}", base, c, {"step_cache": c.model_dump()}, False) for c in caches],
            ]
        )
        for row in (videogen, raw, *cached):
            _against(row, videogen)
        bound = speed.STEP_CACHE_MIN_PSNR_DB
        within = [(row, c) for row, c in zip(cached, caches, strict=True) if row["psnr_db"] >= bound[c.kind]]
        within = [(row, c) for row, c in within if row["speedup"] >= MIN_SPEEDUP]
        cache = max(within, key=lambda rc: rc[0]["speedup"])[1] if within else None  # the fastest within its bound
        best: dict[str, Any] = {}
        if "attention_backend" in levers:
            picked = loaded.provenance["levers"]["attention_backend"].get("applied")
            if picked in (None, "native"):
                self.skipped.append(
                    {"lever": "attention_backend", "reason": f"auto picked {picked} here: no faster backend to compare"}
                )
            else:
                slow = self.paired(
                    "attention_backend=native",
                    self.worker(attention_backend="native"),
                    levers={"attention_backend": "native"},
                )
                if 1.0 / slow["speedup"] >= MIN_SPEEDUP:
                    best["attention_backend"] = picked
        for lever, value in (
            ("compile", "regional"),
            ("vae_tiling", not policy.vae_tiling),
            ("vae_slicing", not policy.vae_slicing),
        ):
            if lever not in levers:
                continue
            row = self.paired(f"{lever}={value}", self.worker(**{lever: value}), levers={lever: value})
            if lever == "compile":  # compiled (with --compile-backend) by the worker's warm-up call
                row["compile_s"] = (row["lever_report"]["compile"] or {}).get("seconds")
            if row["speedup"] >= MIN_SPEEDUP and row["psnr_db"] >= LOAD_LEVER_MIN_PSNR_DB:
                best[lever] = value
        if best or cache:
            self.paired(
                "best combination",
                self.worker(**best) if best else base,
                cache,
                levers=best | ({"step_cache": cache.model_dump()} if cache else {}),
            )
        return {
            "device": self.device,
            "versions": runtime_snapshot()["packages"],
            "request": {
                "family": self.family,
                "task": self.task,
                "model": a.model,
                "runs": a.runs,
                "torch_threads": torch.get_num_threads(),
                **{
                    k: kwargs.get(k) for k in ("num_frames", "height", "width", "num_inference_steps", "guidance_scale")
                },
            },
            "policy": policy.model_dump(
                include={
                    "device",
                    "dtype",
                    "placement",
                    "vae_tiling",
                    "vae_slicing",
                    "attention_backend",
                    "step_cache",
                    "compile",
                }
            ),
            "flops": self.flops,
            # Per job, without the MP4 encode (raw diffusers writes no video): what VideoGen's own code adds;
            # the median over runs of each VideoGen run against the raw run right after it.
            "videogen_vs_raw_pct": 100.0
            * (
                statistics.median(
                    (v - e) / r
                    for v, e, r in zip(
                        videogen["job_s_runs"], videogen["encode_s_runs"], raw["job_s_runs"], strict=True
                    )
                )
                - 1.0
            ),
            "rows": self.rows,
            "skipped": self.skipped,
        }


def _against(row: dict[str, Any], baseline: dict[str, Any]) -> None:
    """``speedup``: the median over runs of the baseline's run against this config's run of the same turn (the
    two ran back to back, under the same load), which a busy machine moves far less than a ratio of minima."""
    row["baseline_job_s"] = baseline["job_s"]
    row["speedup"] = statistics.median(b / r for b, r in zip(baseline["job_s_runs"], row["job_s_runs"], strict=True))


def _json_safe(value: Any) -> Any:
    """JSON has no infinity: an identical output's PSNR is written as the string "inf"."""
    if isinstance(value, float) and math.isinf(value):
        return "inf"
    if isinstance(value, dict):
        return {k: _json_safe(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_json_safe(v) for v in value]
    return value


def _fraction(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.2f}"


def markdown(report: dict[str, Any]) -> str:
    r, d = report["request"], report["device"]
    lines = [
        f"# bench_speed: {r['family']} {r['task']} ({r['model']}) on {d['name']} ({d['backend']})",
        "",
        f"{r['num_frames']} frames, {r['height']}x{r['width']}, {r['num_inference_steps']} steps, "
        f"guidance {r['guidance_scale']}; fastest of {r['runs']} interleaved runs, {r['torch_threads']} torch "
        "thread(s). "
        f"FLOPs/step {report['flops']['per_step']:.4g} ({report['flops']['source']}); "
        f"device limit {d['peak_tflops']:.4g} TFLOP/s ({d['peak_source']}); "
        f"memory: {d['memory']}.",
        "",
        f"VideoGen vs raw diffusers (job without MP4 encode): {report['videogen_vs_raw_pct']:+.1f}%",
        "",
        "| run | job s | speedup | s/step | text enc s | denoise s | decode s | MP4 s | TFLOP/s | of limit | peak MB "
        "| work | PSNR dB |",
        "|---|---|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for row in report["rows"]:
        psnr = row["psnr_db"]
        lines.append(
            f"| {row['name']} | {row['job_s']:.4f} | {row['speedup']:.2f}x | {row['per_step_s']:.5f} | "
            f"{row['text_encode_s']:.4f} | {row['denoise_s']:.4f} | {row['decode_s']:.4f} | {row['encode_s']:.4f} | "
            f"{row['tflops_per_s']:.4g} | "
            f"{row['peak_ratio']:.2%} | {row['peak_memory_mb']:.0f} | {_fraction(row['work_fraction'])} | "
            f"{'inf' if psnr == 'inf' or psnr == math.inf else f'{psnr:.1f}'} |"
        )
    if report["skipped"]:
        lines += ["", "Not run:", ""] + [f"- {s['lever']}: {s['reason']}" for s in report["skipped"]]
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> dict[str, Any]:
    args = parse_args(argv)
    if args.threads:
        torch.set_num_threads(args.threads)
    compile_kwargs = speed.COMPILE_KWARGS
    speed.COMPILE_KWARGS = compile_kwargs | {"backend": args.compile_backend}
    try:
        report = _json_safe(Bench(args).run())
    finally:
        speed.COMPILE_KWARGS = compile_kwargs
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "bench_speed.json").write_text(json.dumps(report, indent=2) + "\n")
    (args.out / "bench_speed.md").write_text(markdown(report))
    print(f"wrote {args.out / 'bench_speed.json'} and bench_speed.md", file=sys.stderr)
    return report


if __name__ == "__main__":
    main()
