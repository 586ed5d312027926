"""Speed levers diffusers ships, applied to a loaded pipeline and reported.

Three levers, each chosen per device and reported with a reason:
- attention backend (``ModelMixin.set_attention_backend``): ``auto`` tries the
  fastest backend installed for this device and dtype with a one-shot probe
  (a small attention call checked against the native result) and falls back to
  ``native`` with the reason. ``*_hub`` backends are never chosen: they
  download kernels at run time, and nothing here downloads anything.
- step cache (``CacheMixin.enable_cache``): First-Block Cache, TaylorSeer,
  Pyramid Attention Broadcast, FasterCache, SeaCache — off by default; it trades
  quality for time, so a request may turn it on only within what the operator
  allows. Which caches a family takes is declared in its ``spec.py``
  (``step_caches``) and read only by ``step_cache_unsupported``; anything else
  becomes an adjustment on the job, never a failure. MagCache is not offered: it
  needs per-checkpoint ``mag_ratios`` (diffusers ships Flux's only), and its
  ``calibrate=True`` mode skips nothing.
- compile (``ModelMixin.compile_repeated_blocks``): regional compilation of the
  denoiser's repeated blocks; the graphs are built by one short call at replica
  warm-up (its seconds reported), so no job pays for them.

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


# torch.compile arguments for regional compile (tests swap in the cheap "eager" backend). Not fullgraph: a step
# cache's hooks run inside the blocks and break the graph by design (their skip decisions are data-dependent and
# ``torch.compiler.disable``d), and a cached job must still run compiled. A block without a hook has no break.
COMPILE_KWARGS: dict[str, Any] = {}


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


def apply_attention_backend(
    pipe: Any, requested: str, *, backend: str, device: str, dtype, compute_capability: str | None = None
) -> LeverReport:
    """Set the denoiser's attention backend: ``auto`` probes candidates, a named one must work or falls back."""
    model = denoiser(pipe)
    if model is None or not hasattr(model, "set_attention_backend"):
        return LeverReport(
            lever="attention_backend",
            requested=requested,
            applied=None,
            reason=f"{type(model).__name__} has no set_attention_backend",
        )
    names = attention_candidates(backend, compute_capability) if requested == "auto" else (requested, "native")
    tried: list[dict[str, str]] = []
    for name in dict.fromkeys(names):
        why_not = probe_attention_backend(name, device, dtype)
        if why_not is None:
            try:
                for each in denoisers(pipe):  # Wan 2.2 A14B: the low-noise expert runs the late steps alike
                    _quiet_set_backend(each, name)
            except Exception as exc:  # noqa: BLE001
                why_not = f"{type(exc).__name__}: {exc}"[:200]
        if why_not is None:
            reason = "fastest working backend for this device and dtype" if requested == "auto" else "as configured"
            if requested not in ("auto", name):
                reason = f"{requested} is not usable here; fell back to native"
            return LeverReport(lever="attention_backend", requested=requested, applied=name, reason=reason, tried=tried)
        tried.append({"backend": name, "reason": why_not})
    return LeverReport(
        lever="attention_backend",
        requested=requested,
        applied=None,
        reason="no attention backend works here",
        tried=tried,
    )


def _quiet_set_backend(model: Any, name: str) -> None:
    """``set_attention_backend`` logs an 'experimental' warning on every call; say it once in our report."""
    import diffusers.models.modeling_utils as mu

    level = mu.logger.level
    mu.logger.setLevel(logging.ERROR)
    try:
        model.set_attention_backend(name)
    finally:
        mu.logger.setLevel(level)


# Drift each step cache is held to: PSNR (dB) of the decoded uint8 frames against the same job with the cache
# off (same seed), on every family's tiny model at 8 steps with the default knobs (First-Block Cache at
# threshold 0.3: random tiny models move more per step than trained ones), checked by tests/unit/test_speed.py.
# Lowest measured across 8 seeds and 3 prompts per family and task (diffusers 0.42.1, CPU): first_block 41.2,
# taylorseer 29.6, pyramid_broadcast 37.9, faster_cache 29.3, sea_cache 45.9; each bound sits about 5 dB
# below. On a real model the drift depends on the model, the steps and the knob: these bounds are what the
# tests guarantee on the tiny models, not a quality claim for a real one.
STEP_CACHE_MIN_PSNR_DB: dict[StepCacheKind, float] = {
    "off": float("inf"),
    "first_block": 36.0,
    "taylorseer": 25.0,
    "pyramid_broadcast": 33.0,
    "faster_cache": 24.0,
    "sea_cache": 41.0,
}


# A threshold's meaning is the cache's own; None in a request means this default.
DEFAULT_THRESHOLDS: dict[StepCacheKind, float] = {"first_block": 0.05, "sea_cache": 0.25}


class StepCacheSetting(BaseModel):
    """A step cache and its knob. ``threshold``: First-Block Cache's relative change of the first block's residual,
    or SeaCache's accumulated relative-L1 budget, under which the blocks are skipped (None: ``DEFAULT_THRESHOLDS``);
    ``interval``: every how many steps (calls) TaylorSeer / Pyramid Attention Broadcast / FasterCache compute."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    kind: StepCacheKind = "off"
    threshold: float | None = Field(default=None, gt=0, le=1.0)
    interval: int = Field(default=2, ge=2, le=10)

    def threshold_for_kind(self) -> float | None:
        return self.threshold if self.threshold is not None else DEFAULT_THRESHOLDS.get(self.kind)


def denoisers(pipe: Any) -> list[Any]:
    """Every hot-loop model: Wan 2.2's low-noise ``transformer_2`` runs the late steps, so it is cached too."""
    models = [denoiser(pipe), getattr(pipe, "transformer_2", None)]
    return [m for m in models if m is not None]


def step_cache_config(setting: StepCacheSetting, pipe: Any, model: Any, guidance_scale: float | None = None):
    """diffusers' config object for a setting (None for off).

    TaylorSeer runs in diffusers' lite mode: on a predicted step every block is skipped and only the final
    projection is extrapolated. Its full mode keeps Taylor factors of every attention output of every block,
    which for a video model is tens of GB. FasterCache approximates the unconditional half of a CFG batch, so
    with guidance off (no unconditional half) it only skips attention. Pyramid Attention Broadcast counts calls,
    not steps: where a pipeline runs the unconditional pass as its own call (Wan, HunyuanVideo), that pass
    reuses the conditional pass's self-attention (diffusers' behaviour; the drift bound covers it).
    """
    import diffusers

    kind = setting.kind
    if kind == "off":
        return None
    if kind == "first_block":
        return diffusers.FirstBlockCacheConfig(threshold=setting.threshold_for_kind())
    if kind == "sea_cache":
        return diffusers.SeaCacheConfig(threshold=setting.threshold_for_kind())
    if kind == "taylorseer":
        return diffusers.TaylorSeerCacheConfig(
            cache_interval=setting.interval,
            disable_cache_before_step=2,
            use_lite_mode=True,
            taylor_factors_dtype=model.dtype,
        )
    # Both read the current timestep from the pipeline.
    current = lambda: pipe.current_timestep  # noqa: E731
    if kind == "pyramid_broadcast":
        return diffusers.PyramidAttentionBroadcastConfig(
            spatial_attention_block_skip_range=setting.interval,
            spatial_attention_timestep_skip_range=(100, 800),
            current_timestep_callback=current,
        )
    return diffusers.FasterCacheConfig(
        spatial_attention_block_skip_range=setting.interval,
        current_timestep_callback=current,
        attention_weight_callback=lambda _module: 0.5,
        tensor_format="BFCHW" if type(model).__name__.startswith("CogVideoX") else "BCFHW",
        is_guidance_distilled=guidance_scale is not None and guidance_scale <= 1.0,
    )


def step_cache_unsupported(support: Any, task: str, kind: StepCacheKind, pipe: Any = None) -> str | None:
    """Why step cache ``kind`` does not work for ``task`` (None when it does).

    ``support`` is the family's ``StepCacheSupport`` (its ``spec.step_caches``): the one place that says which
    caches work. ``pipe``, when given, is checked too: a model directory may hold another denoiser class.
    """
    why_not = support.unsupported_reason(kind, task)
    if why_not or kind == "off" or pipe is None:
        return why_not
    for model in denoisers(pipe) or [None]:
        if model is None or not hasattr(model, "enable_cache"):
            return f"{type(model).__name__} does not support diffusers' step caches (no CacheMixin)"
    return None


def set_step_cache(
    pipe: Any, setting: StepCacheSetting, *, support: Any, task: str, guidance_scale: float | None = None
) -> LeverReport:
    """Turn the denoisers' step cache to ``setting`` (off first, so a request never inherits another's)."""
    models = denoisers(pipe)
    for model in models:
        if getattr(model, "is_cache_enabled", False):
            model.disable_cache()
    requested = setting.model_dump()
    why_not = step_cache_unsupported(support, task, setting.kind, pipe)
    if why_not:
        return LeverReport(lever="step_cache", requested=requested, applied="off", reason=why_not)
    if setting.kind == "off":
        return LeverReport(lever="step_cache", requested=requested, applied="off")
    try:
        for model in models:
            _quiet(lambda m=model: m.enable_cache(step_cache_config(setting, pipe, m, guidance_scale)))
    except Exception as exc:  # noqa: BLE001 - a lever never fails a job: report it and run without
        for model in models:
            if getattr(model, "is_cache_enabled", False):
                model.disable_cache()
        return LeverReport(
            lever="step_cache",
            requested=requested,
            applied="off",
            reason=f"diffusers refused it: {type(exc).__name__}: {str(exc)[:200]}",
        )
    return LeverReport(
        lever="step_cache",
        requested=requested,
        applied=setting.kind,
        reason=f"trades quality for time (drift bound on the tiny models: "
        f"PSNR >= {STEP_CACHE_MIN_PSNR_DB[setting.kind]:g} dB vs off)",
    )


def _quiet(call) -> None:
    """FasterCache and friends log an 'experimental' warning on every enable; the lever report says it once."""
    import diffusers.hooks as hooks_package
    from diffusers.utils import logging as diffusers_logging

    logger_ = diffusers_logging.get_logger(hooks_package.__name__)
    level = logger_.level
    logger_.setLevel(logging.ERROR)
    try:
        call()
    finally:
        logger_.setLevel(level)


def apply_compile(pipe: Any, mode: str, **compile_kwargs: Any) -> LeverReport:
    """Regional compilation of the denoiser's repeated blocks. torch.compile builds the graphs at the first call:
    ``warm_up_compiled`` makes that call at replica warm-up and reports its seconds."""
    model = denoiser(pipe)
    if mode == "off":
        return LeverReport(lever="compile", requested=mode, applied="off")
    blocks = getattr(type(model), "_repeated_blocks", None) or []
    if not blocks:
        return LeverReport(
            lever="compile",
            requested=mode,
            applied="off",
            reason=f"{type(model).__name__} declares no repeated blocks for regional compilation",
        )
    try:
        for each in denoisers(pipe):  # both experts of a two-expert pipeline, each its own graphs
            each.compile_repeated_blocks(**(COMPILE_KWARGS | compile_kwargs))
    except Exception as exc:  # noqa: BLE001
        uncompile(pipe)
        return LeverReport(
            lever="compile",
            requested=mode,
            applied="off",
            reason=f"torch.compile refused it: {type(exc).__name__}: {str(exc)[:200]}",
        )
    return LeverReport(
        lever="compile",
        requested=mode,
        applied="regional",
        reason=f"compiled {', '.join(blocks)}; the graphs are built by a warm-up call",
    )


def warm_up_compiled(pipe: Any, call_kwargs: dict[str, Any], report: dict[str, Any]) -> None:
    """One short call (``call_kwargs``) so torch.compile builds the graphs now, during replica warm-up, not in a
    job; its seconds become the compile report's ``seconds``. If it fails compiled, the compile is undone (jobs
    run eager) and the report says why."""
    if report.get("applied") != "regional":
        return
    started = time.perf_counter()
    try:
        pipe(**call_kwargs)
    except Exception as exc:  # noqa: BLE001 - a lever never fails a job: run eager instead
        uncompile(pipe)
        report.update(
            applied="off",
            reason=f"the compiled warm-up call failed, so the denoiser runs eager: "
            f"{type(exc).__name__}: {str(exc)[:200]}",
        )
        return
    report["seconds"] = round(time.perf_counter() - started, 3)


def compiled_modules(pipe: Any) -> list[Any]:
    """The denoisers' modules compiled in place (``nn.Module.compile``)."""
    return [
        m for model in denoisers(pipe) for m in model.modules() if getattr(m, "_compiled_call_impl", None) is not None
    ]


def uncompile(pipe: Any) -> None:
    """Undo ``nn.Module.compile`` on the denoiser's blocks (torch has no public call for it: ``compile`` stores
    the compiled ``__call__`` in ``_compiled_call_impl``, and None restores the eager one)."""
    for module in compiled_modules(pipe):
        module._compiled_call_impl = None
