"""How fast a replica runs a model, and how a job's FLOPs become seconds.

A job's pipeline call takes

    seconds = steps x fixed_s_per_step + (FLOPs before the decode) / flops_per_s + (VAE decode FLOPs) / decode_flops_per_s

The fixed cost per step is what a step costs whatever its size (kernel launches, the scheduler, Python, one call
per CFG pass): small jobs are bound by it, so a throughput taken as FLOPs / seconds of a small job prices a large
one far too high (the tiny CPU Wan's 32x32 warm-up priced a 720x1280 request at ~10,600 s; it ran in 102 s).
The VAE decode has its own rate: on a CPU the tiny Wan's decode ran ~40x fewer FLOP/s than its denoiser.

- Before a replica has measured itself: the device table's datasheet peak at ``DATASHEET_EFFICIENCY``, derived
  from published end-to-end runs (``cost/published_runs.py``), no fixed cost (``device_default``).
- After: ``fit`` on the replica's recent pipeline calls. With points of different sizes (FLOPs per step apart by
  ``SHAPE_SPREAD``), least squares in relative error for the fixed cost and the FLOP/s (fixed >= 0; FLOP/s at most
  the device's peak). With points of one size the two cannot be told apart: the device's default FLOP/s (the
  table's, else this device's own measured matmul rate, at the same efficiency) explains the compute, the rest is
  fixed cost per step; a job faster than that default is all compute. The decode rate is decode FLOPs over decode
  seconds, summed over the points (larger jobs weigh more).
"""

from __future__ import annotations

import functools
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
from pydantic import BaseModel, Field

from videogen.video.cost.published_runs import DATASHEET_EFFICIENCY
from videogen.video.hardware import VideoHardwareProfile

# FLOPs per step of the measured points must differ by this factor before the fit separates the fixed cost per
# step from the FLOP/s; closer points leave the split to noise.
SHAPE_SPREAD = 1.5


class Throughput(BaseModel):
    """Seconds a replica takes for a job's FLOPs: a fixed cost per step plus FLOPs at its rates (module docstring)."""

    flops_per_s: float = Field(gt=0, description="FLOP/s of the call up to the decode: encoders, every step")
    fixed_s_per_step: float = Field(0.0, ge=0, description="seconds each denoising step costs whatever its size")
    decode_flops_per_s: float | None = Field(None, gt=0, description="FLOP/s of the VAE decode; None: flops_per_s")
    source: str = Field(description="measured (warm-up / finished jobs) or device_peak")
    samples: int = 0
    method: str = Field("", description="how the figures were found from the samples")

    def step_seconds(self, flops_per_step: float) -> float:
        return self.fixed_s_per_step + flops_per_step / self.flops_per_s

    def seconds(self, flops: Mapping[str, float]) -> float:
        """A job's pipeline seconds from its FLOPs per stage (``JobEstimate.flops``)."""
        decode = flops.get("vae_decode", 0.0)
        return (
            denoiser_steps(flops) * self.fixed_s_per_step
            + (flops["total"] - decode) / self.flops_per_s
            + decode / (self.decode_flops_per_s or self.flops_per_s)
        )


def denoiser_steps(flops: Mapping[str, float]) -> int:
    """Denoiser steps as the cost model counts them (video-to-video's run steps, FramePack's every section's)."""
    per_step = flops.get("per_step", 0.0)
    return round(flops["denoise_total"] / per_step) if per_step > 0 else 0


def device_default(profile: VideoHardwareProfile) -> Throughput | None:
    """The device's datasheet peak at ``DATASHEET_EFFICIENCY``; None for a CPU or an unlisted device."""
    from videogen.video.cost.device_peaks import device_peak

    peak = device_peak(profile.device_name) if profile.is_gpu else None
    if peak is None:
        return None
    return Throughput(
        flops_per_s=peak.datasheet_tflops * 1e12 * DATASHEET_EFFICIENCY,
        source="device_peak",
        method=f"datasheet {peak.datasheet_tflops:g} TFLOP/s x {DATASHEET_EFFICIENCY} (from published runs)",
    )


def rate_bounds(profile: VideoHardwareProfile, dtype: str) -> tuple[float, float]:
    """(default FLOP/s, ceiling FLOP/s) of this device: its datasheet peak at ``DATASHEET_EFFICIENCY`` and the
    peak itself; a device the table does not list (a CPU) measures its own matmul rate in ``dtype`` instead."""
    from videogen.video.cost.device_peaks import device_peak

    entry = device_peak(profile.device_name) if profile.is_gpu else None
    if entry is not None:
        peak = entry.datasheet_tflops * 1e12
    else:
        device = "cuda" if profile.backend in ("cuda", "rocm") else profile.backend
        peak = _measured_peak(device, dtype) * 1e12
    return peak * DATASHEET_EFFICIENCY, peak


@functools.lru_cache(maxsize=8)
def _measured_peak(device: str, dtype: str) -> float:
    from videogen.video.cost.device_peaks import measure_matmul_tflops

    return measure_matmul_tflops(device, dtype, size=1024 if device == "cpu" else 4096)


@dataclass(frozen=True)
class TimePoint:
    """One finished pipeline call: its denoising stage (encoders and every step) and its VAE decode."""

    steps: int
    flops_per_step: float  # the job's size: what tells points apart (the rest of ``flops`` is the encoders')
    flops: float
    seconds: float
    decode_flops: float = 0.0
    decode_seconds: float = 0.0

    @classmethod
    def of(cls, flops: Mapping[str, float], denoise_seconds: float, decode_seconds: float) -> TimePoint:
        """A point from a job's FLOPs per stage (``JobEstimate.flops``) and its two stages' seconds."""
        decode = flops.get("vae_decode", 0.0)
        steps = denoiser_steps(flops)
        return cls(steps, flops["per_step"], flops["total"] - decode, denoise_seconds, decode, decode_seconds)


def fit(points: Sequence[TimePoint], default_flops_per_s: float | None, ceiling_flops_per_s: float | None):
    """The ``Throughput`` the points measured (module docstring); None without a usable point."""
    pts = [p for p in points if p.seconds > 0 and p.flops > 0]
    if not pts:
        return None
    fixed, rate, method = _fit_denoise(pts, default_flops_per_s, ceiling_flops_per_s)
    decoded = [p for p in points if p.decode_seconds > 0 and p.decode_flops > 0]
    decode_rate = sum(p.decode_flops for p in decoded) / sum(p.decode_seconds for p in decoded) if decoded else None
    if decode_rate is not None and ceiling_flops_per_s:
        decode_rate = min(decode_rate, ceiling_flops_per_s)  # a decode timed at ~0 s is not faster than the device
    return Throughput(
        flops_per_s=rate,
        fixed_s_per_step=fixed,
        decode_flops_per_s=decode_rate,
        source="measured",
        samples=len(points),
        method=method,
    )


def _fit_denoise(pts: list[TimePoint], default: float | None, ceiling: float | None) -> tuple[float, float, str]:
    steps = np.array([p.steps for p in pts], dtype=np.float64)
    flops = np.array([p.flops for p in pts], dtype=np.float64)
    seconds = np.array([p.seconds for p in pts], dtype=np.float64)
    # Points of one size (steps apart) meet only through the encoders' FLOPs, which cannot tell a per-job cost
    # from compute: only points whose steps differ in FLOPs separate the fixed cost from the throughput.
    per_step = np.array([p.flops_per_step for p in pts], dtype=np.float64)
    why = f"one size ({len(pts)} points)"
    if len(pts) >= 2 and per_step.min() > 0 and per_step.max() >= SHAPE_SPREAD * per_step.min():
        # Relative error: each row divided by its seconds, so a 1 s job weighs as much as a 100 s one.
        a = np.stack([steps / seconds, flops / seconds], axis=1)
        scale = a.max(axis=0)
        (fixed, inverse), *_ = np.linalg.lstsq(a / scale, np.ones(len(pts)), rcond=None)
        fixed, inverse = fixed / scale[0], inverse / scale[1]
        floor = 1.0 / ceiling if ceiling else 0.0
        if fixed >= 0 and inverse > floor:
            return float(fixed), float(1.0 / inverse), f"fitted on {len(pts)} points"
        if fixed < 0:
            inverse = _flops_only(flops, seconds)
            if inverse > floor:
                return 0.0, float(1.0 / inverse), f"fitted on {len(pts)} points (no fixed cost seen)"
        if inverse > 0 and ceiling:  # faster than the device's peak: noise; the peak bounds it
            fixed = _fixed_given(steps, flops, seconds, floor)
            return fixed, float(ceiling), f"fitted on {len(pts)} points, at the device's peak FLOP/s"
        why = f"{len(pts)} points whose time did not grow with their FLOPs"  # all fixed cost: as if of one size
    inverse = _flops_only(flops, seconds)
    if default and 1.0 / default < inverse:
        fixed = _fixed_given(steps, flops, seconds, 1.0 / default)
        if fixed > 0:
            return fixed, float(default), f"{why}: the device default FLOP/s, the rest fixed"
    return 0.0, float(1.0 / inverse), f"{why}: FLOPs / seconds only"


def _flops_only(flops: np.ndarray, seconds: np.ndarray) -> float:
    """Seconds per FLOP minimising the relative error of seconds = FLOPs x it."""
    x = flops / seconds
    return float(x.sum() / (x * x).sum())


def _fixed_given(steps: np.ndarray, flops: np.ndarray, seconds: np.ndarray, inverse: float) -> float:
    """Fixed seconds per step minimising the relative error, given seconds per FLOP; at least 0."""
    y, rest = steps / seconds, 1.0 - inverse * flops / seconds
    denominator = float((y * y).sum())
    return max(0.0, float((y * rest).sum()) / denominator) if denominator > 0 else 0.0
