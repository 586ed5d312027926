"""Load a family's pipeline for a task: class resolved at run time, safetensors only,
no remote code, no network; the load policy applied; where it came from recorded."""

from __future__ import annotations

import logging
import os
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from videogen.errors import ModelUnavailableError, UnsupportedTaskError
from videogen.video.families import get_adapter
from videogen.video.hardware import VideoHardwareProfile
from videogen.video.model_meta import ModelMeta
from videogen.video.model_source import ModelSource
from videogen.video.placement import Rung, apply_load_policy
from videogen.video.policy import VideoLoadPolicy
from videogen.video.policy_overrides import PLACEMENTS
from videogen.video.quantize import apply_weights, load_kwargs
from videogen.video.speed import apply_attention_backend, apply_compile

logger = logging.getLogger(__name__)

# Weights come from local directories or an already-filled cache only.
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")

# Provenance fields kept from clients: a server path, and the full policy dump (diagnostics show it).
_PRIVATE_PROVENANCE = ("path", "policy")


@dataclass
class LoadedPipeline:
    """A placed diffusers pipeline with what VideoGen knows about it."""

    pipe: Any
    # family, task, model, source, path, pipeline_class, dtype, weights_gb, policy, load_seconds
    provenance: dict[str, Any]
    meta: ModelMeta
    # Where it is now: (placement, vae_tiling, vae_slicing); a job may move it down the admission ladder.
    rung: Rung = Rung("cpu", False, False)

    def public_provenance(self) -> dict[str, Any]:
        """Provenance fit for job records: no server paths (clients see jobs), no policy dump."""
        return {k: v for k, v in self.provenance.items() if k not in _PRIVATE_PROVENANCE}


def quiet_library_progress() -> None:
    """diffusers/transformers draw their own load bars; ours is the job's progress."""
    import diffusers.utils.logging
    import transformers.utils.logging

    diffusers.utils.logging.disable_progress_bar()
    transformers.utils.logging.disable_progress_bar()


# Placements that keep every weight in CPU memory at some point of a generation.
_CPU_RESIDENT = frozenset(PLACEMENTS) - {"gpu"}


def weights_gb(model_dir: Path) -> float:
    """Size of the safetensors weights under a model directory (what loading puts in memory)."""
    return sum(f.stat().st_size for f in Path(model_dir).rglob("*.safetensors")) / 2**30


def check_cpu_memory_cap(model_dir: Path, policy: VideoLoadPolicy) -> float:
    """Refuse, before loading, a model whose CPU-resident weights would exceed the policy's cap."""
    size = weights_gb(model_dir)
    _check_cap(model_dir.name, size, policy)
    return size


def _check_cap(name: str, size: float, policy: VideoLoadPolicy) -> None:
    cap = policy.cpu_memory_cap_gb
    if cap is not None and policy.placement in _CPU_RESIDENT and size > cap:
        raise ModelUnavailableError(
            f"{name}: its weights need {size:.1f} GB of CPU memory with placement {policy.placement}, "
            f"over cpu_memory_cap_gb={cap:g}; raise VIDEOGEN_POLICY_CPU_MEMORY_CAP_GB or use a GPU-first placement",
            weights_gb=round(size, 3),
            cpu_memory_cap_gb=cap,
        )


def load_pipeline(
    source: ModelSource, task: str, policy: VideoLoadPolicy, profile: VideoHardwareProfile | None = None
) -> LoadedPipeline:
    """Load, place and describe the pipeline ``source`` names for ``task``; the policy's speed levers are
    applied after placement (``profile`` tells the attention probe which device family this is)."""
    adapter = get_adapter(source.family)
    adapter.pipeline_class(task)  # unsupported family/task: a clear error before touching disk
    quiet_library_progress()
    started = time.perf_counter()
    if source.is_arch:
        if policy.weights == "gguf":
            raise ModelUnavailableError(
                "weights=gguf: an arch: preset has random weights and no model directory; use a local model",
                field="weights",
            )
        pipe, path, size = _build_arch(source, task, policy)
    else:
        model_dir = source.local_dir(task)
        missing = adapter.model_unavailable_reason(task, model_dir)  # before reading any weights
        if missing is not None:
            raise UnsupportedTaskError(missing, field="model", family=source.family, task=task)
        path, size = str(model_dir), check_cpu_memory_cap(model_dir, policy)
        pipe = _load_dir(adapter, task, model_dir, policy)
    weights = apply_weights(pipe, policy, profile.backend if profile is not None else None)  # before placement
    apply_load_policy(pipe, policy)
    pipe.set_progress_bar_config(disable=True)  # progress is reported through callbacks
    levers = {**apply_load_levers(pipe, policy, profile), "weights": weights}
    provenance = {
        "family": source.family,
        "task": task,
        "model": source.value if source.is_tiny else source.model_id_for(task),  # tiny, or tiny:<variant>
        "source": source.kind,
        "path": path,
        "pipeline_class": type(pipe).__name__,
        "dtype": policy.dtype,
        "weights_gb": round(size, 4),
        "policy": policy.model_dump(),
        "load_seconds": round(time.perf_counter() - started, 3),
        "levers": levers,
    }
    rung = Rung(policy.placement, policy.vae_tiling, policy.vae_slicing, weights["applied"])
    return LoadedPipeline(pipe=pipe, provenance=provenance, meta=source.model_meta(task), rung=rung)


def _load_dir(adapter: Any, task: str, model_dir: Path, policy: VideoLoadPolicy) -> Any:
    """The pipeline from ``model_dir``, its denoiser quantized while loading when the weights mode does that; if
    diffusers refuses that, a plain load (``apply_weights`` then quantizes in place or falls back, and says so)."""
    extra = load_kwargs(policy, model_dir)
    if "quantization_config" not in extra:
        return adapter.load(task, model_dir, policy.torch_dtype(), **extra)
    try:
        return adapter.load(task, model_dir, policy.torch_dtype(), **extra)
    except Exception:  # noqa: BLE001 - quantizing while loading is an optimisation: load plain, quantize after
        logger.warning("quantizing %s while loading failed; loading it plain", model_dir, exc_info=True)
        return adapter.load(task, model_dir, policy.torch_dtype())


def _build_arch(source: ModelSource, task: str, policy: VideoLoadPolicy) -> tuple[Any, str, float]:
    """An ``arch:`` preset's pipeline with random weights, allocated where the placement wants it first:
    on the device when everything stays there, in CPU memory (under the cap) when it is offloaded."""
    from videogen.video.arch.pipeline import build_pipeline

    preset = source.arch_preset()
    dtype = policy.torch_dtype()
    size = preset.total_params() * dtype.itemsize / 2**30
    resident_on_device = policy.placement == "gpu"
    if not resident_on_device:
        _check_cap(source.value or preset.id, size, policy)
    pipe = build_pipeline(preset, task, device=policy.device if resident_on_device else "cpu", dtype=dtype)
    return pipe, f"arch:{preset.id}", size


def apply_load_levers(pipe: Any, policy: VideoLoadPolicy, profile: VideoHardwareProfile | None) -> dict[str, Any]:
    """The load-time speed levers (attention backend, regional compile), as applied, for the load report."""
    import torch

    backend = profile.backend if profile is not None else ("cpu" if policy.device == "cpu" else "cuda")
    attention = apply_attention_backend(
        pipe,
        policy.attention_backend,
        backend=backend,
        device=policy.device,
        dtype=policy.torch_dtype(),
        compute_capability=profile.compute_capability if profile is not None else None,
    )
    compiled = apply_compile(pipe, policy.compile)
    del torch  # imported above only to fail early, with a clear trace, if torch is missing
    return {
        "attention_backend": attention.model_dump(exclude_none=True),
        "compile": compiled.model_dump(exclude_none=True),
    }
