"""Admission before OOM: which placement rung a request needs, and refusing what cannot fit.

The rungs, cheapest first (``placement.PLACEMENT_LADDER``): everything on the GPU →
+ VAE tiling → + VAE slicing → model CPU offload → group offload → sequential offload.
The operator's policy bounds the ladder: the policy's own placement is the cheapest rung
allowed, a placement or VAE setting the operator pinned is kept, and a CPU replica only
toggles the VAE settings. Every rung holds the denoisers in the policy's weights mode; when
the operator allows it (``quantized_rungs``, off by default: it trades quality for memory) and
the policy's mode is bf16, each placement's last rung comes again with the denoisers converted
to that 8-bit mode, right after it. A request is admitted when some allowed rung fits the
device's memory and its expected time fits ``job_timeout_s``; otherwise it is refused with a
``CapacityError`` naming the fields and what would fit.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from pydantic import BaseModel

from videogen.errors import CapacityError
from videogen.video.hardware import VideoHardwareProfile
from videogen.video.job_cost import JobEstimate
from videogen.video.parallel.validate import check_tokens_split
from videogen.video.placement import PLACEMENT_LADDER, Rung
from videogen.video.policy import VideoLoadPolicy
from videogen.video.policy_overrides import Placement
from videogen.video.spec import FrameRule, VideoModelSpec

_GIB = float(1 << 30)
# A CPU replica may fill this share of system RAM (the OS, Ray and the store need the rest).
CPU_RAM_SHARE = 0.8


def allowed_rungs(policy: VideoLoadPolicy) -> list[Rung]:
    """The ladder as far as the operator's policy allows, cheapest first."""
    if policy.device == "cpu":
        rungs = [Rung("cpu", tiling, slicing) for tiling, slicing in ((False, False), (True, False), (True, True))]
    else:
        order = [r.placement for r in PLACEMENT_LADDER]
        start = order.index(policy.placement) if policy.placement in order else 0
        pinned = "placement" in policy.overrides
        rungs = [
            r
            for r in PLACEMENT_LADDER
            if (r.placement == policy.placement if pinned else order.index(r.placement) >= start)
        ]
    for name in ("vae_tiling", "vae_slicing"):
        if name in policy.overrides:
            rungs = [r for r in rungs if getattr(r, name) == getattr(policy, name)]
    return _with_weights([r._replace(weights=policy.weights) for r in rungs], policy)


def _with_weights(rungs: list[Rung], policy: VideoLoadPolicy) -> list[Rung]:
    """The quantized rungs the operator allows: each placement's last rung again in 8 bits, after it (quality is
    traded only when no rung of that placement fits at the policy's weights)."""
    mode = policy.quantized_rungs
    if mode == "off" or policy.weights != "bf16":
        return rungs
    out: list[Rung] = []
    for i, rung in enumerate(rungs):
        out.append(rung)
        if i + 1 == len(rungs) or rungs[i + 1].placement != rung.placement:
            out.append(rung._replace(weights=mode))
    return out


def estimate_weights(policy: VideoLoadPolicy) -> dict[str, Any]:
    """``estimate_job``'s arguments that ``policy`` decides: its weights mode (and GGUF file) and its quantized rungs'
    mode, so the estimate prices every rung ``allowed_rungs`` may pick, and the replica's split across ranks
    (``policy.parallel``), so every figure is one rank's."""
    others = tuple(dict.fromkeys(r.weights for r in allowed_rungs(policy) if r.weights != policy.weights))
    return {
        "weights": policy.weights,
        "gguf_file": policy.gguf_file,
        "rung_weights": others,
        "parallel": policy.parallel,
    }


def _tokens_split(job: JobEstimate) -> bool:
    """Whether every denoising pass's tokens split evenly across the job's sequence-parallel ranks."""
    if job.parallel is None:
        return True
    return all(tokens % job.parallel.config.sequence_degree == 0 for tokens in job.parallel.video_tokens)


def check_split(job: JobEstimate) -> None:
    """Refuse a job whose tokens do not split across the ranks (``InvalidRequestError`` naming ``num_frames``): diffusers
    would assert inside the call."""
    if job.parallel is not None:
        for tokens in job.parallel.video_tokens:
            check_tokens_split(job.parallel.config, tokens)


def capacity_bytes(profile: VideoHardwareProfile) -> int | None:
    """Memory a request may use: the GPU's, or a share of RAM on a CPU replica; None when unknown."""
    if profile.is_gpu:
        return None if profile.total_vram_gb is None else int(profile.total_vram_gb * _GIB)
    return int(profile.system_ram_gb * CPU_RAM_SHARE * _GIB) if profile.system_ram_gb else None


def required_bytes(cost, rung: Rung) -> int:
    # On a CPU replica "the device" is RAM and everything is resident: the all-on-GPU figure.
    placement = "gpu" if rung.placement == "cpu" else rung.placement
    return cost.memory_for(placement, rung.vae_tiling, rung.vae_slicing, rung.weights).required_bytes


def choose_rung(cost, profile: VideoHardwareProfile, policy: VideoLoadPolicy) -> Rung | None:
    """The cheapest allowed rung whose memory fits; the policy's own rung when capacity is unknown."""
    rungs = allowed_rungs(policy)
    capacity = capacity_bytes(profile)
    if capacity is None:
        return rungs[0] if rungs else None
    return next((r for r in rungs if required_bytes(cost, r) <= capacity), None)


class Admission(BaseModel):
    """What the worker would do with a request, as the estimate shows it."""

    rung: str | None
    placement: Placement | None
    vae_tiling: bool | None
    vae_slicing: bool | None
    weights: str | None = None  # the denoisers' weights mode at this rung
    required_gb: float | None
    capacity_gb: float | None
    expected_seconds: float | None
    job_timeout_s: float | None


EstimateFn = Callable[[dict[str, Any]], "tuple[JobEstimate, Any] | None"]


def admit(
    estimate: EstimateFn,
    params: dict[str, Any],
    spec: VideoModelSpec,
    profile: VideoHardwareProfile,
    policy: VideoLoadPolicy,
    job_timeout_s: float | None = None,
    frame_rule: FrameRule | None = None,
) -> tuple[JobEstimate, Admission] | None:
    """The estimate and the rung for ``params``, or a ``CapacityError`` naming what would fit.

    ``estimate(params)`` prices a request (``job_cost.estimate_job`` bound to a model and
    hardware). None when the model's cost cannot be estimated (nothing to refuse on).
    ``frame_rule``: the frames the model takes for the task (``model_limits.frame_rule``; None: the family's), of
    which a refusal names the most that would fit.
    """
    rule = frame_rule or spec.frame_rule
    priced = estimate(params)
    if priced is None:
        return None
    job, cost = priced
    check_split(job)
    rung = choose_rung(cost, profile, policy)
    capacity = capacity_bytes(profile)
    if rung is None:
        raise _too_big(estimate, params, rule, profile, policy, job, cost, capacity)
    if job_timeout_s is not None and job.expected_seconds is not None and job.expected_seconds > job_timeout_s:
        raise _too_slow(estimate, params, rule, job, job_timeout_s)
    return job, Admission(
        rung=rung.name,
        placement=rung.placement,
        vae_tiling=rung.vae_tiling,
        vae_slicing=rung.vae_slicing,
        weights=rung.weights,
        required_gb=round(required_bytes(cost, rung) / _GIB, 2),
        capacity_gb=None if capacity is None else round(capacity / _GIB, 2),
        expected_seconds=job.expected_seconds,
        job_timeout_s=job_timeout_s,
    )


def _frame_counts_below(rule: FrameRule, frames: int) -> list[int]:
    """Valid frame counts under ``frames``, largest first."""
    values = {rule.nearest(f) for f in range(rule.min_frames, frames)}
    return sorted((v for v in values if v < frames), reverse=True)


def _largest(candidates: list[int], fits: Callable[[int], bool]) -> int | None:
    """The largest candidate (sorted descending) that fits; binary search (cost is monotone in size)."""
    lo, hi, best = 0, len(candidates) - 1, None
    while lo <= hi:
        mid = (lo + hi) // 2
        if fits(candidates[mid]):
            best, hi = candidates[mid], mid - 1
        else:
            lo = mid + 1
    return best


def _too_big(estimate, params, rule, profile, policy, job: JobEstimate, cost, capacity) -> CapacityError:
    def fits(frames: int) -> bool:
        priced = estimate({**params, "num_frames": frames})
        return priced is not None and _tokens_split(priced[0]) and choose_rung(priced[1], profile, policy) is not None

    frames = params["num_frames"]
    best = _largest(_frame_counts_below(rule, frames), fits)
    cheapest = round(min(required_bytes(cost, r) for r in allowed_rungs(policy)) / _GIB, 2)
    where = f"{profile.device_name} ({capacity / _GIB:.1f} GB usable)" if capacity else profile.device_name
    allowed: dict[str, Any] = {
        "max_num_frames_at_this_size": best,
        "capacity_gb": round(capacity / _GIB, 2),
        "required_gb_at_cheapest_rung": cheapest,
        "rungs_allowed": [r.name for r in allowed_rungs(policy)],
    }
    weights_gb = cost.total_weight_bytes / _GIB
    if best:
        hint = f"at {params['height']}x{params['width']} at most {best} frames fit"
    elif capacity and cost.total_weight_bytes > capacity and not profile.is_gpu:
        hint = f"the model's weights alone are {weights_gb:.1f} GB at {cost.dtype}: it needs a GPU"
    else:
        hint = "even the fewest frames do not fit at this size; lower height and width"
    return CapacityError(
        "num_frames",
        f"{frames} frames at {params['height']}x{params['width']} need about {cheapest:.1f} GB even at the most "
        f"memory-saving placement allowed, more than {where} has; {hint}",
        allowed=allowed,
        fields=["num_frames", "height", "width"],
    )


def _too_slow(estimate, params, rule, job: JobEstimate, job_timeout_s: float) -> CapacityError:
    def in_time(frames: int) -> bool:
        priced = estimate({**params, "num_frames": frames})
        return priced is not None and _tokens_split(priced[0]) and (priced[0].expected_seconds or 0) <= job_timeout_s

    frames = params["num_frames"]
    best = _largest(_frame_counts_below(rule, frames), in_time)
    # a step's seconds: its fixed cost plus its FLOPs at the replica's rate (``throughput.Throughput``) and, split
    # across ranks, its exchanges
    per_step = job.step_seconds()
    fixed = (job.expected_seconds or 0) - (per_step or 0) * params["num_inference_steps"]
    max_steps = int((job_timeout_s - fixed) / per_step) if per_step and job_timeout_s > fixed else 0
    return CapacityError(
        "num_frames",
        f"this request would take about {job.expected_seconds:.0f} s here ({job.total_flops:.3g} FLOPs at "
        f"{job.throughput.flops_per_s:.3g} FLOP/s + {job.throughput.fixed_s_per_step:.3g} s per step, "
        + (f"+ {job.communication_seconds:.3g} s exchanging between ranks, " if job.communication_seconds else "")
        + f"{job.throughput.source}), over job_timeout_s={job_timeout_s:g}; "
        + (f"at most {best} frames at this size and these steps fit" if best else "lower the size or the steps"),
        allowed={
            "max_num_frames_at_this_size": best,
            "max_num_inference_steps": max_steps or None,
            "job_timeout_s": job_timeout_s,
            "expected_seconds": round(job.expected_seconds, 1),
        },
        fields=["num_frames", "num_inference_steps", "height", "width"],
    )
