"""Speed levers diffusers ships, applied to a loaded pipeline and reported.

Three levers, each chosen per device and reported with a reason:
- attention backend (``ModelMixin.set_attention_backend``): ``auto`` tries the
  fastest backend installed for this device and dtype with a one-shot probe
  (a small attention call checked against the native result) and falls back to
  ``native`` with the reason. ``*_hub`` backends are never chosen: they
  download kernels at run time, and nothing here downloads anything.
- step cache (``CacheMixin.enable_cache``): First-Block Cache, TaylorSeer,
  Pyramid Attention Broadcast, FasterCache — off by default; it trades quality
  for time, so a request may turn it on only within what the operator allows.
- compile (``ModelMixin.compile_repeated_blocks``): regional compilation of the
  denoiser's repeated blocks, done at warm-up so no job pays for it.

Nothing here writes kernels or patches diffusers: every lever is diffusers' own.
"""

from __future__ import annotations

import logging
import time
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from videogen.video.policy_overrides import StepCacheKind

logger = logging.getLogger(__name__)

# Fastest first. Hopper has FA3; Ampere+ FA2, SageAttention; cuDNN and torch's own flash SDPA are always
# there with CUDA torch. On ROCm: CK flash-attn (the `flash` package built for ROCm), then torch's
# AOTriton flash / memory-efficient SDPA. On CPU and MPS: native SDPA.
_CANDIDATES: dict[str, tuple[str, ...]] = {
    "cuda_sm90": ("_flash_3", "flash", "sage", "_native_cudnn", "_native_flash", "native"),
    "cuda": ("flash", "sage", "_native_flash", "_native_efficient", "native"),
    "rocm": ("flash", "_native_flash", "_native_efficient", "native"),
    "mps": ("native",),
    "cpu": ("native",),
}


class LeverReport(BaseModel):
    """What one lever ended up as on this pipeline, and why."""

    model_config = ConfigDict(extra="forbid")
    lever: str
    requested: Any
    applied: Any
    reason: str = ""
    seconds: float | None = None
    tried: list[dict[str, str]] = Field(default_factory=list, description="backends probed before the applied one")


def denoiser(pipe: Any):
    """The pipeline's hot-loop model: its transformer, else its UNet."""
    return getattr(pipe, "transformer", None) or getattr(pipe, "unet", None)


def attention_candidates(backend: str, compute_capability: str | None = None) -> tuple[str, ...]:
    """Backends ``auto`` tries on a device backend ('cuda', 'rocm', 'mps', 'cpu'), fastest first."""
    if backend == "cuda" and compute_capability:
        try:
            if int(str(compute_capability).split(".", 1)[0]) >= 9:
                return _CANDIDATES["cuda_sm90"]
        except ValueError:
            pass
    return _CANDIDATES.get(backend, ("native",))


def probe_attention_backend(name: str, device: str, dtype) -> str | None:
    """None when ``name`` runs here and agrees with native SDPA; else why not."""
    import torch
    from diffusers.models.attention_dispatch import (
        AttentionBackendName,
        _check_attention_backend_requirements,
        dispatch_attention_fn,
    )

    if name.endswith("_hub"):
        return "downloads its kernels from the Hub at run time; nothing is downloaded here"
    try:
        backend = AttentionBackendName(name)
        _check_attention_backend_requirements(backend)
        gen = torch.Generator(device="cpu").manual_seed(0)
        q, k, v = (torch.randn(1, 64, 2, 64, generator=gen).to(device=device, dtype=dtype) for _ in range(3))
        out = dispatch_attention_fn(q, k, v, backend=backend)
        ref = dispatch_attention_fn(q, k, v, backend=AttentionBackendName.NATIVE)
    except Exception as exc:  # noqa: BLE001 - any failure means "not usable here"
        return f"{type(exc).__name__}: {str(exc).splitlines()[0][:200] if str(exc) else ''}"
    if not torch.isfinite(out).all():
        return "probe gave non-finite values"
    err = (out.float() - ref.float()).abs().max().item()
    if err > 0.05:
        return f"probe disagrees with native SDPA (max abs error {err:.3g})"
    return None


def apply_attention_backend(pipe: Any, requested: str, *, backend: str, device: str, dtype,
                            compute_capability: str | None = None) -> LeverReport:
    """Set the denoiser's attention backend: ``auto`` probes candidates, a named one must work or falls back."""
    model = denoiser(pipe)
    if model is None or not hasattr(model, "set_attention_backend"):
        return LeverReport(lever="attention_backend", requested=requested, applied=None,
                           reason=f"{type(model).__name__} has no set_attention_backend")
    names = attention_candidates(backend, compute_capability) if requested == "auto" else (requested, "native")
    tried: list[dict[str, str]] = []
    for name in dict.fromkeys(names):
        why_not = probe_attention_backend(name, device, dtype)
        if why_not is None:
            try:
                _quiet_set_backend(model, name)
            except Exception as exc:  # noqa: BLE001
                why_not = f"{type(exc).__name__}: {exc}"[:200]
        if why_not is None:
            reason = "fastest working backend for this device and dtype" if requested == "auto" else "as configured"
            if requested not in ("auto", name):
                reason = f"{requested} is not usable here; fell back to native"
            return LeverReport(lever="attention_backend", requested=requested, applied=name, reason=reason, tried=tried)
        tried.append({"backend": name, "reason": why_not})
    return LeverReport(lever="attention_backend", requested=requested, applied=None,
                       reason="no attention backend works here", tried=tried)


def _quiet_set_backend(model: Any, name: str) -> None:
    """``set_attention_backend`` logs an 'experimental' warning on every call; say it once in our report."""
    import diffusers.models.modeling_utils as mu

    level = mu.logger.level
    mu.logger.setLevel(logging.ERROR)
    try:
        model.set_attention_backend(name)
    finally:
        mu.logger.setLevel(level)


class StepCacheSetting(BaseModel):
    """A step cache and its knob. ``threshold`` is First-Block Cache's residual threshold; ``interval``
    is how many steps TaylorSeer / Pyramid Attention Broadcast / FasterCache reuse a result."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    kind: StepCacheKind = "off"
    threshold: float = Field(default=0.05, gt=0, le=1.0)
    interval: int = Field(default=2, ge=2, le=10)


def step_cache_config(setting: StepCacheSetting, pipe: Any):
    """diffusers' config object for a setting (None for off)."""
    import diffusers

    kind = setting.kind
    if kind == "off":
        return None
    if kind == "first_block":
        return diffusers.FirstBlockCacheConfig(threshold=setting.threshold)
    if kind == "taylorseer":
        return diffusers.TaylorSeerCacheConfig(cache_interval=setting.interval, disable_cache_before_step=1)
    # Both read the current timestep from the pipeline.
    current = lambda: pipe.current_timestep  # noqa: E731
    if kind == "pyramid_broadcast":
        return diffusers.PyramidAttentionBroadcastConfig(
            spatial_attention_block_skip_range=setting.interval, spatial_attention_timestep_skip_range=(100, 800),
            current_timestep_callback=current,
        )
    return diffusers.FasterCacheConfig(
        spatial_attention_block_skip_range=setting.interval, current_timestep_callback=current,
        tensor_format="BFCHW" if type(denoiser(pipe)).__name__.startswith("CogVideoX") else "BCFHW",
        is_guidance_distilled=False,
    )


def step_cache_unsupported(pipe: Any, kind: str) -> str | None:
    """Why this pipeline cannot take step cache ``kind`` (None when it can)."""
    if kind == "off":
        return None
    model = denoiser(pipe)
    if model is None or not hasattr(model, "enable_cache"):
        return f"{type(model).__name__} does not support diffusers' step caches (no CacheMixin)"
    if kind in ("pyramid_broadcast", "faster_cache") and not hasattr(pipe, "current_timestep"):
        return f"{type(pipe).__name__} does not expose current_timestep, which {kind} needs"
    return None


def set_step_cache(pipe: Any, setting: StepCacheSetting) -> LeverReport:
    """Turn the denoiser's step cache to ``setting`` (off first, so a request never inherits another's)."""
    model = denoiser(pipe)
    if model is not None and getattr(model, "is_cache_enabled", False):
        model.disable_cache()
    why_not = step_cache_unsupported(pipe, setting.kind)
    if why_not:
        return LeverReport(lever="step_cache", requested=setting.model_dump(), applied="off", reason=why_not)
    if setting.kind == "off":
        return LeverReport(lever="step_cache", requested=setting.model_dump(), applied="off")
    try:
        model.enable_cache(step_cache_config(setting, pipe))
    except Exception as exc:  # noqa: BLE001 - e.g. no registered block layout for this model
        if getattr(model, "is_cache_enabled", False):
            model.disable_cache()
        return LeverReport(lever="step_cache", requested=setting.model_dump(), applied="off",
                           reason=f"diffusers refused it: {type(exc).__name__}: {str(exc)[:200]}")
    return LeverReport(lever="step_cache", requested=setting.model_dump(), applied=setting.kind,
                       reason="trades quality for time")


def apply_compile(pipe: Any, mode: str, **compile_kwargs: Any) -> LeverReport:
    """Regional compilation of the denoiser's repeated blocks; the compile itself happens at the first call."""
    model = denoiser(pipe)
    if mode == "off":
        return LeverReport(lever="compile", requested=mode, applied="off")
    blocks = getattr(type(model), "_repeated_blocks", None) or []
    if not blocks:
        return LeverReport(lever="compile", requested=mode, applied="off",
                           reason=f"{type(model).__name__} declares no repeated blocks for regional compilation")
    started = time.perf_counter()
    try:
        model.compile_repeated_blocks(**({"fullgraph": True} | compile_kwargs))
    except Exception as exc:  # noqa: BLE001
        return LeverReport(lever="compile", requested=mode, applied="off",
                           reason=f"torch.compile refused it: {type(exc).__name__}: {str(exc)[:200]}")
    return LeverReport(lever="compile", requested=mode, applied="regional", seconds=round(time.perf_counter() - started, 3),
                       reason=f"compiled {', '.join(blocks)} (graphs are built at warm-up)")
