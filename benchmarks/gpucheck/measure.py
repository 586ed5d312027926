"""Measuring one loaded model: step times the device agrees with, peak memory, and the cost model's figures.

Times: ``StepClock`` is ``bench_speed.StageProbe`` (forward hooks on the text encoders and the denoisers, no wrapper
around the pipeline) with the device synchronised at every hook, so a time is when the GPU finished, not when the
CPU queued the work, and with every denoiser call's start kept, so each step's seconds are known. A job's first
step carries the first-call costs (kernel selection, allocator growth); the steady seconds per step are the median
of the others. Memory: ``torch.cuda.max_memory_allocated`` from a reset just before the call (live tensors: what the
cost model's ``peak_bytes`` estimates); on a CPU the process's RSS high-water mark, which is not comparable.
"""

from __future__ import annotations

import gc
import statistics
import time
from collections.abc import Callable
from typing import Any

import torch
from bench_speed import StageProbe, _sync, peak_memory_mb, peak_memory_reset

from gpucheck.settings import Target
from videogen.video.cost.estimate import CostEstimate, estimate_cost
from videogen.video.families import get_adapter
from videogen.video.job_cost import preset_for_source
from videogen.video.placement import Rung
from videogen.video.request import VideoRequest
from videogen.video.worker import GenerationWorker

PROMPT = "a red boat sailing on a calm sea at sunset"
MB = 2**20


class StepClock(StageProbe):
    """``StageProbe`` synchronised at each hook, keeping the start of every denoiser call."""

    def __init__(self, pipe: Any):
        self.calls: list[float] = []
        super().__init__(pipe)

    def reset(self) -> None:
        super().reset()
        self.calls = []

    def _text_start(self, *args: Any) -> None:
        _sync()
        super()._text_start(*args)

    def _text_end(self, *args: Any) -> None:
        _sync()
        super()._text_end(*args)

    def _denoise_start(self, *args: Any) -> None:
        _sync()
        self.calls.append(time.perf_counter())
        super()._denoise_start(*args)

    def _denoise_end(self, *args: Any) -> None:
        _sync()
        super()._denoise_end(*args)

    def step_seconds(self, steps: int) -> list[float]:
        """Seconds of each step: from one step's first denoiser call to the next one's (CFG passes that run as
        calls of their own count as one step); the last step ends when its last call returns."""
        if not self.calls or steps < 1 or len(self.calls) % steps:
            return [self.denoise_s / max(steps, 1)] * max(steps, 1) if self.calls else []
        per_step = len(self.calls) // steps
        starts = self.calls[::per_step] + [self.last_call_end]
        return [b - a for a, b in zip(starts, starts[1:], strict=False)]


def steady(step_s: list[float]) -> float:
    """Seconds per step without the first (warm-up) step, when there are others."""
    return statistics.median(step_s[1:]) if len(step_s) > 1 else step_s[0]


def memory_mb() -> dict[str, float]:
    """Peak since the last reset: on a GPU the allocator's live-tensor peak (and what it reserved); on a CPU RSS."""
    if torch.cuda.is_available():
        return {"peak_mb": peak_memory_mb(), "reserved_peak_mb": round(torch.cuda.max_memory_reserved() / MB, 1)}
    return {"peak_mb": peak_memory_mb()}


def resident_mb() -> float | None:
    return round(torch.cuda.memory_allocated() / MB, 1) if torch.cuda.is_available() else None


def free_memory() -> None:
    gc.collect()
    if torch.cuda.is_available():
        torch.cuda.empty_cache()


class Rig:
    """One loaded model: its worker (the pipeline VideoGen loaded, through the worker's own loader) and what a job
    of the target's shape sends that pipeline."""

    def __init__(self, target: Target, weights: str, worker: GenerationWorker):
        self.target, self.weights, self.worker = target, weights, worker
        started = time.perf_counter()
        self.loaded = worker.warm(target.family, target.task)
        self.build_s = round(time.perf_counter() - started, 2)
        self.dirty = False  # set when a section leaves the pipeline somewhere a job would not find it

    @property
    def pipe(self) -> Any:
        return self.loaded.pipe

    @property
    def policy(self):
        return self.worker.policy(self.target.family)

    def request(self, steps: int | None = None, recipe: str | None = None) -> VideoRequest:
        """A job of the target's shape; with a ``recipe``, its steps and guidance are the recipe's."""
        t = self.target
        return VideoRequest(
            family=t.family,
            task=t.task,
            prompt=PROMPT,
            seed=0,
            num_frames=t.num_frames,
            height=t.height,
            width=t.width,
            num_inference_steps=None if recipe else steps or t.steps,
            recipe=recipe,
        )

    def estimate_rung(self) -> Rung:
        """The rung the cost model prices this pipeline at: its own; on a CPU (placement ``cpu``: nothing on a
        device) the all-resident ``gpu`` rung, as everything sits in the one memory."""
        rung = self.loaded.rung
        return rung._replace(placement="gpu") if rung.placement == "cpu" else rung

    def kwargs(self, steps: int | None = None) -> dict[str, Any]:
        """The pipeline kwargs VideoGen builds for a job of this shape (as ``bench_speed`` calls raw diffusers)."""
        adapter = get_adapter(self.target.family)
        return adapter.prepare_inputs(self.request(steps), self.pipe, self.loaded.meta).kwargs

    def cost(self, kwargs: dict[str, Any], weights: str | None = None) -> CostEstimate:
        """The cost model's estimate of a call with ``kwargs``, on this model's architecture, at the policy dtype."""
        profile = self.worker.profile
        return estimate_cost(
            preset_for_source(self.worker.source(self.target.family), self.target.task),
            self.target.task,
            kwargs["num_frames"],
            kwargs["height"],
            kwargs["width"],
            kwargs["num_inference_steps"],
            kwargs.get("guidance_scale", 1.0),
            dtype=self.policy.dtype,
            device_name=profile.device_name if profile.is_gpu else None,
            weights=weights or self.loaded.rung.weights,
        )


def _clocked(pipe, run: Callable[[], Any]) -> tuple[Any, StepClock, float, float, float]:
    """``run()`` between two device syncs with the pipeline's step clock on and the peak-memory counter reset:
    (its result, the clock, start and end times, resident MB before)."""
    clock = StepClock(pipe)
    peak_memory_reset()
    before = resident_mb()
    try:
        _sync()
        started = time.perf_counter()
        value = run()
        _sync()
        ended = time.perf_counter()
    finally:
        clock.remove()
    return value, clock, started, ended, before


def raw_call(rig: Rig, kwargs: dict[str, Any], *, decode: bool = True) -> tuple[dict[str, Any], Any]:
    """The loaded pipeline called directly with ``kwargs`` (a fresh generator of the same seed): no VideoGen code
    in the loop. ``decode`` False stops at the latents."""
    steps = kwargs["num_inference_steps"]
    seed = kwargs["generator"].initial_seed()
    call = kwargs | {"generator": torch.Generator("cpu").manual_seed(seed)}
    if not decode:
        call["output_type"] = "latent"
    output, clock, started, ended, before = _clocked(rig.pipe, lambda: rig.pipe(**call))
    step_s = clock.step_seconds(steps)
    row = {
        "steps": steps,
        "job_s": ended - started,
        "text_encode_s": clock.text_s,
        "denoise_s": clock.denoise_s,
        "first_step_s": step_s[0],
        "s_per_step": steady(step_s),
        "resident_before_mb": before,
        **memory_mb(),
    }
    if decode:
        row["decode_s"] = ended - clock.last_call_end
    return row, output


def worker_job(rig: Rig, request: VideoRequest, out_path) -> tuple[dict[str, Any], Any]:
    """One job through ``GenerationWorker.generate``: what a replica runs (plan, placement, callbacks, MP4)."""
    result, clock, started, ended, before = _clocked(rig.pipe, lambda: rig.worker.generate(request, out_path))
    steps = result.params.get("num_inference_steps")
    step_s = clock.step_seconds(steps)
    stages = {s.name: s.seconds for s in result.stages}
    plan = result.estimate or {}
    row = {
        "steps": steps,
        "guidance_scale": result.params.get("guidance_scale"),
        "job_s": ended - started,
        "text_encode_s": clock.text_s,
        "denoise_s": clock.denoise_s,
        "decode_s": stages.get("decoding"),
        "mp4_s": stages.get("encoding"),
        "first_step_s": step_s[0],
        "s_per_step": steady(step_s),
        "pipeline_s": result.measured.get("pipeline_seconds"),
        "expected_s": (plan.get("estimate") or {}).get("expected_seconds"),
        "rung": (plan.get("admission") or {}).get("rung"),
        "resident_before_mb": before,
        **memory_mb(),
    }
    return row, result


def against_estimate(measured_mb: float, estimate_bytes: int, is_gpu: bool) -> dict[str, Any]:
    """A measured peak beside the cost model's, and their ratio where the two measure the same thing."""
    return {
        "measured_peak_mb": measured_mb,
        "estimated_peak_mb": round(estimate_bytes / MB, 1),
        "measured_over_estimate": round(measured_mb * MB / estimate_bytes, 3) if is_gpu and estimate_bytes else None,
    }


def flop_share(flops: float, seconds: float, peak_tflops: float) -> dict[str, float]:
    achieved = flops / seconds / 1e12
    return {"tflops_per_s": achieved, "share_of_peak": achieved / peak_tflops}


def rel_error(a: torch.Tensor, b: torch.Tensor) -> float:
    """Relative L2 distance of two latents (a cache's drift, before any decode)."""
    a, b = a.float(), b.float()
    return float((a - b).norm() / b.norm().clamp_min(1e-12))


def latents(output: Any) -> torch.Tensor:
    """The latents of an ``output_type="latent"`` call (diffusers returns them as ``frames``)."""
    return output.frames if hasattr(output, "frames") else output[0]
