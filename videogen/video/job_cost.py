"""What one job will cost on the model and hardware that would run it.

``preset_for_source`` finds the architecture of whatever a family is set to use
(an ``arch:`` preset, a published checkpoint's preset, or the configs saved in a
tiny/local/cached model directory); ``estimate_job`` prices one request on it with
the cost model and turns FLOPs into seconds with the best throughput known:
measured by the replica (warm-up, then its finished jobs), else the device's FLOP
peak at a stated efficiency. Used by ``videogen estimate``, the worker (placement
rung, ETA before step one) and the ingress (admission).
"""

from __future__ import annotations

import functools
from typing import Any

from pydantic import BaseModel, Field

from videogen.video.hardware import VideoHardwareProfile
from videogen.video.model_source import ModelSource

# A real run reaches roughly this share of the dense matmul peak end to end (attention, norms and
# elementwise work, launch gaps); used only until the replica has measured its own throughput.
PEAK_EFFICIENCY = 0.5


class Throughput(BaseModel):
    """FLOP/s a replica achieves on a model (the pipeline call: text encode, denoise, decode)."""

    flops_per_s: float = Field(gt=0)
    source: str = Field(description="measured (warm-up / finished jobs) or device_peak")
    samples: int = 0

    def updated(self, flops: float, seconds: float, weight: float = 0.3) -> Throughput:
        """This throughput refined by one finished run (an exponential average once measured)."""
        observed = flops / max(seconds, 1e-6)
        if self.source != "measured" or self.samples == 0:
            return Throughput(flops_per_s=observed, source="measured", samples=1)
        blended = (1 - weight) * self.flops_per_s + weight * observed
        return Throughput(flops_per_s=blended, source="measured", samples=self.samples + 1)


def peak_throughput(profile: VideoHardwareProfile) -> Throughput | None:
    """The device's FLOP peak at ``PEAK_EFFICIENCY``; None for a CPU or an unlisted device."""
    from videogen.video.cost.device_peaks import device_peak

    peak = device_peak(profile.device_name) if profile.is_gpu else None
    if peak is None:
        return None
    return Throughput(flops_per_s=peak.tflops * 1e12 * PEAK_EFFICIENCY, source=f"device_peak ({peak.source})")


def preset_for_source(source: ModelSource, task: str):
    """The ``ArchPreset`` the source's model has (None when its architecture cannot be read here)."""
    if source.is_arch:
        return source.arch_preset()
    from videogen.video.arch.catalog import PRESETS

    model_id = source.model_id_for(task)
    for preset in PRESETS.values():  # a published checkpoint: its preset, no directory needed
        if preset.family == source.family and preset.checkpoint == model_id and task in preset.tasks:
            return preset
    from videogen.errors import ModelUnavailableError

    try:
        model_dir = source.local_dir(task)
    except ModelUnavailableError:
        return None
    return _preset_from_dir(str(model_dir), source.family, task)


@functools.lru_cache(maxsize=64)
def _preset_from_dir(model_dir: str, family: str, task: str):
    from videogen.video.arch.from_dir import preset_from_model_dir

    return preset_from_model_dir(model_dir, family, task, preset_id=f"{family}:{task}@{model_dir}")


class JobEstimate(BaseModel):
    """A request's cost on the model that would run it, and how long it would take here."""

    family: str
    task: str
    model: str | None
    preset: str
    params: dict[str, Any] = Field(description="the request's settled values (frames, size, steps, guidance)")
    dtype: str
    parameters: dict[str, int] = Field(description="parameters per component")
    flops_per_step: float
    flops: dict[str, float] = Field(
        description="FLOPs per stage (text_encode, per_step, denoise_total, vae_decode, total)"
    )
    latent: dict[str, int]
    video_tokens: int
    memory_gb: dict[str, float] = Field(description="required device memory per placement rung, e.g. 'gpu+tiling'")
    seconds_at_device_peak: float | None = Field(description="the whole request at the device's dense FLOP peak")
    expected_seconds: float | None = Field(description="at the throughput this replica achieves (see throughput)")
    throughput: Throughput | None = None
    notes: list[str] = Field(default_factory=list)

    @property
    def total_flops(self) -> float:
        return self.flops["total"]


def estimate_job(
    source: ModelSource,
    task: str,
    params: dict[str, Any],
    dtype: str,
    profile: VideoHardwareProfile | None = None,
    throughput: Throughput | None = None,
):
    """(JobEstimate, CostEstimate) for settled ``params``; None when the model's architecture is unknown."""
    from videogen.video.cost.estimate import estimate_cost
    from videogen.video.placement import PLACEMENT_LADDER

    preset = preset_for_source(source, task)
    if preset is None:
        return None
    device_name = profile.device_name if profile is not None and profile.is_gpu else None
    cost = estimate_cost(
        preset,
        task,
        int(params["num_frames"]),
        int(params["height"]),
        int(params["width"]),
        # video-to-video runs only int(steps x strength) of its steps (``denoising_steps``, settled with the clip;
        # FramePack's ``denoising_steps`` counts every section's, which the cost model multiplies out itself)
        int(params["denoising_steps"] if params.get("strength") is not None else params["num_inference_steps"]),
        float(params["guidance_scale"]),
        dtype=dtype,
        device_name=device_name,
    )
    if throughput is None and profile is not None:
        throughput = peak_throughput(profile)
    flops = cost.flops.model_dump()
    job = JobEstimate(
        family=source.family,
        task=task,
        model=source.value,
        preset=preset.id if not preset.id.startswith(f"{source.family}:") else "(model directory)",
        params={
            k: params[k]
            for k in ("num_frames", "height", "width", "num_inference_steps", "denoising_steps", "guidance_scale")
            if k in params
        },
        dtype=dtype,
        parameters={c.name: c.params for c in cost.components},
        flops_per_step=cost.flops.per_step,
        flops={
            k: flops[k]
            for k in (
                "text_encode",
                "image_encode",
                "vae_encode",
                "per_step",
                "denoise_total",
                "vae_decode",
                "vae_decode_tiled",
                "total",
            )
        },
        latent=cost.latent.model_dump(),
        video_tokens=cost.video_tokens,
        memory_gb={rung.name: cost.memory_for(*rung).required_gb for rung in PLACEMENT_LADDER},
        seconds_at_device_peak=cost.seconds.total if cost.seconds is not None else None,
        expected_seconds=cost.flops.total / throughput.flops_per_s if throughput is not None else None,
        throughput=throughput,
        notes=list(cost.notes),
    )
    return job, cost
