"""What one job will cost on the model and hardware that would run it.

``preset_for_source`` finds the architecture of whatever a family is set to use
(an ``arch:`` preset, a published checkpoint's preset, or the configs saved in a
tiny/local/cached model directory); ``estimate_job`` prices one request on it with
the cost model and turns FLOPs into seconds with the best throughput known:
fitted to the replica's own pipeline calls (warm-up, then its finished jobs: a fixed
cost per step plus FLOPs at its rates, ``throughput``), else the device's datasheet peak
at the efficiency published runs give (``cost/published_runs``). Used by ``videogen
estimate``, the worker (placement rung, ETA before step one) and the ingress (admission).
"""

from __future__ import annotations

import functools
from typing import Any

from pydantic import BaseModel, Field

from videogen.video.cost.parallel_cost import ParallelConfig, ParallelCost, on_hardware
from videogen.video.hardware import VideoHardwareProfile
from videogen.video.model_source import ModelSource
from videogen.video.throughput import Throughput, device_default


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


def _model_dir(source: ModelSource, task: str):
    """The source's model directory (what it holds beside its pipeline); None for an ``arch:`` preset or a
    published checkpoint priced without its files."""
    from videogen.errors import ModelUnavailableError

    if source.is_arch:
        return None
    try:
        return source.local_dir(task)
    except ModelUnavailableError:
        return None


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
    weights: str = Field("bf16", description="the denoisers' weights mode (videogen.video.weights)")
    parameters: dict[str, int] = Field(description="parameters per component")
    flops_per_step: float
    flops: dict[str, float] = Field(
        description="FLOPs per stage (text_encode, per_step, denoise_total, vae_decode, total); one rank's when the "
        "job is split across ranks (parallel)"
    )
    latent: dict[str, int]
    video_tokens: int
    memory_gb: dict[str, float] = Field(
        description="required device memory per placement rung, e.g. 'gpu+tiling' (per rank when parallel)"
    )
    seconds_at_device_peak: float | None = Field(
        description="a lower bound: the whole request at the device's dense FLOP peak (measured where known), plus "
        "a parallel job's communication at the link's nominal rate"
    )
    expected_seconds: float | None = Field(
        description="at this replica's fixed cost per step and FLOP/s (see throughput), else the device's default; "
        "plus a parallel job's communication"
    )
    throughput: Throughput | None = None
    parallel: ParallelCost | None = Field(
        None, description="the job split across a replica's ranks: world size, weights per rank, bytes each sends"
    )
    notes: list[str] = Field(default_factory=list)

    @property
    def total_flops(self) -> float:
        return self.flops["total"]

    @property
    def communication_seconds(self) -> float:
        """Seconds a parallel job's ranks spend exchanging (0: one rank, or a link not known)."""
        return (self.parallel.communication_seconds or 0.0) if self.parallel else 0.0

    def step_seconds(self) -> float | None:
        """One denoising step at the throughput: its fixed cost, its FLOPs and its share of the communication."""
        if self.throughput is None:
            return None
        steps = self.parallel.steps if self.parallel and self.parallel.steps else 1
        return self.throughput.step_seconds(self.flops_per_step) + self.communication_seconds / steps


def estimate_job(
    source: ModelSource,
    task: str,
    params: dict[str, Any],
    dtype: str,
    profile: VideoHardwareProfile | None = None,
    throughput: Throughput | None = None,
    weights: str = "bf16",
    gguf_file: str | None = None,
    rung_weights: tuple[str, ...] = (),
    parallel: ParallelConfig | None = None,
):
    """(JobEstimate, CostEstimate) for settled ``params``; None when the model's architecture is unknown.
    ``weights``/``gguf_file``: the denoisers' weights mode; ``rung_weights``: admission's quantized rungs' modes;
    ``parallel``: the replica's split across ranks, which makes every figure one rank's and adds the time its
    exchanges take on the profile's link (``admission.estimate_weights`` gives all of these for a policy)."""
    from videogen.video.cost.conditioning import PARAMS_KEY, Conditioning
    from videogen.video.cost.estimate import estimate_cost
    from videogen.video.families import get_cost_facts
    from videogen.video.placement import PLACEMENT_LADDER

    preset = preset_for_source(source, task)
    if preset is None:
        return None
    device_name = profile.device_name if profile is not None and profile.is_gpu else None
    # video-to-video runs only int(steps x strength) of its steps (``denoising_steps``, settled with the clip;
    # FramePack's ``denoising_steps`` counts every section's, which the cost model multiplies out itself)
    steps = int(params["denoising_steps"] if params.get("strength") is not None else params["num_inference_steps"])
    # the same model, dtype, hardware, weights and split at any size: (num_frames, height, width, steps, guidance)
    estimate = functools.partial(
        estimate_cost,
        preset,
        task,
        dtype=dtype,
        device_name=device_name,
        weights=weights,
        gguf_file=gguf_file,
        rung_weights=rung_weights,
        conditioning=Conditioning.from_params(params),  # reference images, keyframes: recorded by task_media
        parallel=parallel,
    )
    cost = estimate(
        int(params["num_frames"]),
        int(params["height"]),
        int(params["width"]),
        # a two-pass job (LTX-Video's latent upscale) runs its refining steps at the output size, its own before them,
        # at its own guidance where the refinement has one (LTX-2's stage 2: none)
        int(params.get("refine_steps") or steps),
        float(params.get("refine_guidance_scale") or params["guidance_scale"]),
    )
    if params.get("refine_steps"):
        from videogen.video.cost.two_pass import with_first_pass

        cost = with_first_pass(cost, preset, task, params, steps, _model_dir(source, task))
    price_job = get_cost_facts(preset.family).price_job  # a family whose job is not steps x the whole clip
    if price_job is not None:
        cost = price_job(cost, estimate, params)
    if cost.parallel is not None and profile is not None:
        cost = cost.model_copy(update={"parallel": on_hardware(cost.parallel, profile.device_name, profile.is_gpu)})
    exchanging = (cost.parallel.communication_seconds or 0.0) if cost.parallel else 0.0
    if throughput is None and profile is not None:
        throughput = device_default(profile)
    flops = cost.flops.model_dump()
    job = JobEstimate(
        family=source.family,
        task=task,
        model=source.value,
        preset=preset.id if not preset.id.startswith(f"{source.family}:") else "(model directory)",
        params={
            k: params[k]
            for k in (
                "num_frames",
                "height",
                "width",
                "num_inference_steps",
                "denoising_steps",
                "guidance_scale",
                "first_pass_height",
                "first_pass_width",
                "refine_steps",
                PARAMS_KEY,
            )
            if k in params
        },
        dtype=dtype,
        weights=weights,
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
                "latent_upsample",
                "audio_decode",
                "total",
            )
        },
        latent=cost.latent.model_dump(),
        video_tokens=cost.video_tokens,
        memory_gb={
            rung.name: cost.memory_for(*rung).required_gb
            for rung in (r._replace(weights=w) for w in (weights, *rung_weights) for r in PLACEMENT_LADDER)
        },
        seconds_at_device_peak=cost.seconds.total + exchanging if cost.seconds is not None else None,
        expected_seconds=throughput.seconds(flops) + exchanging if throughput is not None else None,
        throughput=throughput,
        parallel=cost.parallel,
        notes=[*cost.notes, *(cost.parallel.notes if cost.parallel else [])],
    )
    return job, cost
