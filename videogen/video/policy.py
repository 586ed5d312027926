"""The load policy: where a video pipeline's weights live, in which dtype, with which VAE memory savers.

``VideoLoadPolicy.derive()`` turns a ``VideoHardwareProfile`` (and optionally a
family's ``VideoModelSpec``) into a policy in named steps:

1. no GPU: float32 on the CPU (``_cpu_draft``);
2. otherwise the VRAM tier's row of ``TIER_TABLE`` (``_tier_draft``), then either
   3. shared memory (APUs, Apple silicon): keep weights in the one pool (``_keep_in_shared_memory``), or
   4. the model's size against the card (``_fit_model_size``);
5. the CPU-memory cap from the tier and the placement (``_cpu_memory_cap``);
6. the dtype: the model's recommendation unless the GPU lacks bf16 (``_choose_dtype``);
7. operator overrides on top (``_apply_overrides``; parsing lives in ``policy_overrides``);
8. the denoiser's weights: the mode asked for, or what it falls back to here (``videogen.video.weights``).

``reasons`` records a short note per decision, in that order.
Nothing here imports torch at module import time (see ``videogen.video.hardware``).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from pydantic import BaseModel

from videogen.video.hardware import TIER_SLACK, VideoHardwareProfile
from videogen.video.parallel.config import ParallelConfig
from videogen.video.policy_overrides import (
    GPU_PLACEMENTS,
    STEP_CACHE_KINDS,
    CollectedOverrides,
    CompileMode,
    DType,
    Placement,
    QuantizedRungs,
    StepCacheKind,
    WeightsMode,
    collect_overrides,
)
from videogen.video.weights import settle_quantized_rungs, settle_weights

if TYPE_CHECKING:  # pragma: no cover
    from videogen.video.spec import VideoModelSpec

# tier: (placement, vae_tiling, vae_slicing)
TIER_TABLE: dict[str, tuple[Placement, bool, bool]] = {
    "lt12": ("sequential_offload", True, True),
    "12-24": ("model_cpu_offload", True, True),  # group_offload when the model is tight for the card
    "24-48": ("model_cpu_offload", True, False),
    "48-80": ("gpu", True, False),
    "80-96": ("gpu", False, False),
    "ge96": ("gpu", False, False),
}

# CPU-memory cap: the share of system RAM the process may fill with CPU-resident
# weights (offloaded modules, pinned staging buffers), by VRAM tier. Small cards
# keep most weights in RAM, so they get the biggest share; on large cards the
# weights live on the GPU and RAM is only a loading stage, so the cap is small.
# The cap never falls below the share the chosen placement needs (a model that
# is too big for its tier and gets offloaded anyway gets the offload share).
_TIER_CPU_SHARE = {"lt12": 0.75, "12-24": 0.6, "24-48": 0.5, "48-80": 0.3, "80-96": 0.2, "ge96": 0.1}
_PLACEMENT_CPU_SHARE: dict[Placement, float] = {
    "sequential_offload": 0.75,
    "group_offload": 0.6,
    "model_cpu_offload": 0.5,
    "gpu": 0.0,
}
# APUs: weights sit in the shared pool as "GPU" memory; keep the CPU side as small as ge96.
_APU_CPU_SHARE = 0.1

# Full-GPU residency needs roughly twice what a model needs under model CPU offload
# (``VideoModelSpec.min_vram_gb`` is the latter; HunyuanVideo: 24 with offload, ~48 resident).
_RESIDENT_FACTOR = 2.0

# A group offload is worth its overhead on a 12-24 card only when the model fills most of it.
_GROUP_OFFLOAD_HEADROOM = 1.5


def _more_conservative(a: Placement, b: Placement) -> Placement:
    """The placement further down ``GPU_PLACEMENTS`` (most GPU-resident first)."""
    return a if GPU_PLACEMENTS.index(a) >= GPU_PLACEMENTS.index(b) else b


@dataclass
class _Draft:
    """The policy's values while ``derive`` works them out (the overridable fields)."""

    device: str
    dtype: str
    placement: Placement
    vae_tiling: bool
    vae_slicing: bool
    cpu_memory_cap_gb: float | None = None
    concurrency: int = 1
    # Speed levers (``videogen.video.speed``): the attention backend is probed at load ("auto": the
    # fastest that works here); a step cache trades quality for time, so it is off unless asked for;
    # regional compilation costs minutes at warm-up, so the operator turns it on.
    attention_backend: str = "auto"
    step_cache: StepCacheKind = "off"
    step_cache_allowed: tuple[StepCacheKind, ...] = STEP_CACHE_KINDS
    compile: str = "off"
    # Quantized weights trade quality for memory: off ("bf16") unless the operator asks (``videogen.video.weights``).
    weights: WeightsMode = "bf16"
    gguf_file: str | None = None
    quantized_rungs: QuantizedRungs = "off"
    reasons: list[str] = field(default_factory=list)

    def values(self) -> dict[str, Any]:
        return {
            "device": self.device,
            "dtype": self.dtype,
            "placement": self.placement,
            "vae_tiling": self.vae_tiling,
            "vae_slicing": self.vae_slicing,
            "cpu_memory_cap_gb": self.cpu_memory_cap_gb,
            "concurrency": self.concurrency,
            "attention_backend": self.attention_backend,
            "step_cache": self.step_cache,
            "step_cache_allowed": self.step_cache_allowed,
            "compile": self.compile,
            "weights": self.weights,
            "gguf_file": self.gguf_file,
            "quantized_rungs": self.quantized_rungs,
        }


def _cpu_draft() -> _Draft:
    # Everything lives in RAM: no separate CPU-memory cap.
    draft = _Draft(device="cpu", dtype="float32", placement="cpu", vae_tiling=False, vae_slicing=False)
    draft.reasons.append("no GPU: float32 on the CPU, one generation at a time")
    return draft


def _tier_draft(profile: VideoHardwareProfile, tier: str) -> _Draft:
    placement, tiling, slicing = TIER_TABLE[tier]
    draft = _Draft(
        device="mps" if profile.backend == "mps" else "cuda",  # ROCm is "cuda" to torch too
        dtype="bfloat16",  # decided by _choose_dtype
        placement=placement,
        vae_tiling=tiling,
        vae_slicing=slicing,
    )
    vram = profile.total_vram_gb
    draft.reasons.append(f"{profile.device_name}: {vram if vram is not None else '?'} GB total VRAM, tier {tier}")
    return draft


def _keep_in_shared_memory(draft: _Draft, profile: VideoHardwareProfile, spec: VideoModelSpec | None) -> None:
    # The "VRAM" is system RAM: offloading would copy weights within the same memory.
    draft.placement = "gpu"
    draft.vae_tiling = draft.vae_slicing = True  # activation peaks (VAE decode) compete with the OS for one pool
    draft.reasons.append(
        "shared memory (APU/unified): weights stay in one place on the GPU, no CPU offload; "
        "VAE tiling and slicing keep decode peaks down"
    )
    vram = profile.total_vram_gb
    if spec is not None and vram is not None and vram < spec.min_vram_gb:
        draft.reasons.append(
            f"{spec.id} wants about {spec.min_vram_gb:g} GB but the GPU may use {vram:g} GB; "
            "raise the shared-memory (GTT/UMA) limit if loading fails"
        )


def _fit_model_size(draft: _Draft, tier: str, vram: float, spec: VideoModelSpec) -> None:
    """Move to a more conservative placement when the model is big for this (dedicated-memory) card."""
    if vram < spec.min_vram_gb * TIER_SLACK:
        if draft.placement != "sequential_offload":
            draft.reasons.append(
                f"{spec.id} wants about {spec.min_vram_gb:g} GB even with model offload: sequential offload"
            )
        draft.placement = "sequential_offload"
        draft.vae_tiling = draft.vae_slicing = True
    elif (
        draft.placement == "model_cpu_offload" and tier == "12-24" and vram < _GROUP_OFFLOAD_HEADROOM * spec.min_vram_gb
    ):
        draft.placement = "group_offload"
        draft.reasons.append(
            f"{spec.id} (about {spec.min_vram_gb:g} GB with model offload) is tight here: group offload"
        )
    elif draft.placement == "gpu" and vram < _RESIDENT_FACTOR * spec.min_vram_gb * TIER_SLACK:
        draft.placement = _more_conservative(draft.placement, "model_cpu_offload")
        draft.vae_tiling = True
        draft.reasons.append(
            f"{spec.id} needs about {_RESIDENT_FACTOR * spec.min_vram_gb:g} GB fully resident: model CPU offload"
        )


def _cpu_memory_cap(profile: VideoHardwareProfile, tier: str, placement: str) -> float | None:
    if profile.shared_memory:
        share = _APU_CPU_SHARE
    else:
        share = max(_TIER_CPU_SHARE[tier], _PLACEMENT_CPU_SHARE.get(placement, 0.0))
    ram = max(float(profile.system_ram_gb), 0.0)
    return round(ram * share, 1) if ram > 0 else None


def _choose_dtype(profile: VideoHardwareProfile, spec: VideoModelSpec | None) -> tuple[str, str]:
    """The dtype and the reason: the model's recommendation, unless the GPU lacks bf16."""
    dtype = spec.recommended_dtype if spec is not None else "bfloat16"
    bf16 = profile.bf16_supported()
    if dtype == "bfloat16" and bf16 is False:
        if profile.backend == "rocm":
            what = f"{profile.gfx_arch}"
        elif profile.backend == "cuda":
            what = f"compute capability {profile.compute_capability}"
        else:
            what = profile.backend
        return "float16", f"bfloat16 not supported on {what}: float16"
    if bf16 is None and dtype == "bfloat16":
        return dtype, "bf16 support unknown for this GPU; keeping bfloat16"
    return dtype, f"dtype {dtype}" + (" (model recommendation)" if spec is not None else "")


def _gpu_draft(profile: VideoHardwareProfile, tier: str, spec: VideoModelSpec | None) -> _Draft:
    draft = _tier_draft(profile, tier)
    vram = profile.total_vram_gb
    if profile.shared_memory:
        _keep_in_shared_memory(draft, profile, spec)
    elif spec is not None and vram is not None:
        _fit_model_size(draft, tier, vram, spec)
    draft.cpu_memory_cap_gb = _cpu_memory_cap(profile, tier, draft.placement)
    draft.dtype, why = _choose_dtype(profile, spec)
    draft.reasons.append(why)
    if profile.backend in ("rocm", "cuda") and profile.device_count > 1:
        draft.reasons.append(f"{profile.device_count} GPUs visible; this replica uses device 0")
    return draft


def _apply_overrides(draft: _Draft, profile: VideoHardwareProfile, overrides: CollectedOverrides) -> None:
    """Put the operator's overrides on top, refusing combinations that cannot run here."""
    parsed = overrides.values
    if not parsed:
        return
    if not profile.is_gpu and parsed.get("placement", "cpu") not in ("cpu", "gpu"):
        raise ValueError(f"invalid load-policy override placement={parsed['placement']!r}: no GPU here; allowed: cpu")
    if not profile.is_gpu and parsed.get("device", "cpu") != "cpu":
        raise ValueError(f"invalid load-policy override device={parsed['device']!r}: no GPU here; allowed: cpu")
    for name, value in parsed.items():
        setattr(draft, name, value)
    if parsed.get("placement") == "cpu" and "device" not in parsed:
        draft.device = "cpu"
    if not profile.is_gpu and draft.placement == "gpu":
        draft.placement = "cpu"  # "gpu" on a CPU-only host means "wherever the device is"
    if draft.device == "cpu" and draft.placement not in ("cpu", "gpu"):
        raise ValueError(
            f"invalid load-policy override: placement {draft.placement!r} needs a GPU device, "
            "but device is cpu; allowed placements on cpu: cpu"
        )
    if draft.step_cache not in draft.step_cache_allowed:  # the operator's default is always allowed
        draft.step_cache_allowed = (*draft.step_cache_allowed, draft.step_cache)
    for name, value in parsed.items():
        draft.reasons.append(f"{name}={value!r} set by {overrides.sources[name]}")
    if draft.concurrency > 1 and profile.is_gpu:
        draft.reasons.append("concurrency > 1 on one GPU: generations share its memory and may run out")


class VideoLoadPolicy(BaseModel):
    tier: str
    device: str  # torch device string: "cuda" (ROCm uses "cuda" too), "mps", "cpu"
    dtype: DType
    placement: Placement
    vae_tiling: bool
    vae_slicing: bool
    cpu_memory_cap_gb: float | None
    concurrency: int  # generation concurrency; 1 on any GPU
    attention_backend: str = "auto"  # "auto" or a diffusers backend name; what was applied is in the load report
    step_cache: StepCacheKind = "off"  # the step cache a job gets when it asks for none
    step_cache_allowed: tuple[StepCacheKind, ...] = STEP_CACHE_KINDS  # what a request may ask for
    compile: CompileMode = "off"  # "regional": compile the denoiser's repeated blocks at warm-up
    weights: WeightsMode = "bf16"  # the denoiser's weights after any fallback (reasons say why); the load report too
    gguf_file: str | None = None  # weights=gguf: the operator's local file (never a client's)
    quantized_rungs: QuantizedRungs = "off"  # what admission may convert the denoiser to when nothing fits at bf16
    parallel: ParallelConfig | None = None  # one job over several ranks (the worker's; None: one), each the whole model
    overrides: dict[str, Any]  # fields the operator overrode, with their values
    reasons: list[str]  # short human notes on why

    @classmethod
    def derive(
        cls,
        profile: VideoHardwareProfile,
        spec: VideoModelSpec | None = None,
        overrides: Mapping[str, Any] | None = None,
        environ: Mapping[str, str] | None = None,
    ) -> VideoLoadPolicy:
        """The policy for ``profile`` (and ``spec``), with config ``overrides`` and ``VIDEOGEN_POLICY_*`` from
        ``environ`` (None: the process environment) on top."""
        collected = collect_overrides(overrides, environ)
        tier = profile.vram_tier
        draft = _gpu_draft(profile, tier, spec) if profile.is_gpu else _cpu_draft()
        _apply_overrides(draft, profile, collected)
        draft.weights, why = settle_weights(draft.weights, draft.gguf_file, profile.backend)
        draft.reasons.extend(why)
        draft.quantized_rungs, why = settle_quantized_rungs(draft.quantized_rungs, draft.weights, profile.backend)
        draft.reasons.extend(why)
        return cls(tier=tier, overrides=dict(collected.values), reasons=draft.reasons, **draft.values())

    def with_parallel(self, parallel: ParallelConfig | None) -> VideoLoadPolicy:
        """This policy for a replica that splits a job across ranks (None or one rank: as it is)."""
        if parallel is None or parallel.world_size == 1:
            return self
        why = f"parallel {parallel.describe()}: {parallel.world_size} ranks, each holding the whole model"
        return self.model_copy(update={"parallel": parallel, "reasons": [*self.reasons, why]})

    def torch_dtype(self):
        import torch

        return getattr(torch, self.dtype)
