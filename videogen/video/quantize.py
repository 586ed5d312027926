"""The load policy's ``weights`` applied to a pipeline's denoiser(s), probed on the device, and measured.

What each mode is and what it falls back to: ``videogen.video.weights``. Here:

- ``load_kwargs``: what the pipeline's ``from_pretrained`` gets so the denoiser is quantized *while* it loads —
  diffusers' ``TorchAoConfig`` per denoiser component (``PipelineQuantizationConfig``) for ``int8``/``fp8``, so a
  14B model never sits in RAM in bf16; for ``gguf`` the denoiser itself, read from the operator's file.
- ``apply_weights``: after loading, before placement: ``fp8_storage`` (layerwise casting), and ``int8``/``fp8``
  in place where the denoiser was not quantized while loading (an ``arch:`` preset's random weights, AnimateDiff's
  UNet joined from a motion adapter); a mode the device refuses (a one-shot probe on a small ``nn.Linear``) falls
  back and the report says why. The report also carries the bytes each denoiser holds afterwards.
- ``stored_bytes``: what a module really holds (a torchao tensor's inner data and scales, not its nominal dtype).

The denoisers are the hot-loop models: ``transformer`` (and Wan 2.2 A14B's ``transformer_2``) or ``unet``.
"""

from __future__ import annotations

import functools
import json
import logging
from pathlib import Path
from typing import Any

from videogen.errors import ModelUnavailableError
from videogen.video.policy import VideoLoadPolicy
from videogen.video.weights import FALLBACK, torchao_keeps, unavailable_reason

logger = logging.getLogger(__name__)

DENOISER_COMPONENTS = ("transformer", "transformer_2", "unet")
_TORCHAO = ("int8", "fp8")


def denoiser_components(pipe: Any) -> dict[str, Any]:
    """The pipeline's denoiser modules by component name."""
    return {name: m for name in DENOISER_COMPONENTS if (m := getattr(pipe, name, None)) is not None}


def _torchao_config(mode: str):
    # torchao logs a warning per CUDA-only extension it cannot load on a CPU build; the probe reports what matters.
    torchao_logger = logging.getLogger("torchao")
    level = torchao_logger.level
    torchao_logger.setLevel(logging.ERROR)
    try:
        from torchao.quantization import Float8WeightOnlyConfig, Int8WeightOnlyConfig
    finally:
        torchao_logger.setLevel(level)
    return Int8WeightOnlyConfig() if mode == "int8" else Float8WeightOnlyConfig()


def _keep_modules(model: Any) -> list[str]:
    return list(getattr(model, "_keep_in_fp32_modules", None) or [])


def _quantize_in_place(model: Any, mode: str, dtype) -> None:
    import torch

    if mode == "fp8_storage":
        model.enable_layerwise_casting(storage_dtype=torch.float8_e4m3fn, compute_dtype=dtype)
        return
    from torchao.quantization import quantize_

    keep = _keep_modules(model)  # the modules diffusers' TorchAoConfig leaves alone, left alone here too
    quantize_(
        model,
        _torchao_config(mode),
        filter_fn=lambda m, fqn: isinstance(m, torch.nn.Linear) and not torchao_keeps(f"{fqn}.weight", keep),
    )


@functools.lru_cache(maxsize=32)
def probe(mode: str, device: str, dtype_name: str) -> str | None:
    """None when ``mode`` stores, runs and agrees with the plain layer on ``device``; else why not."""
    import torch

    dtype = getattr(torch, dtype_name)
    try:
        gen = torch.Generator(device="cpu").manual_seed(0)
        layer = torch.nn.Linear(64, 64).to(dtype=dtype)
        x = torch.randn(4, 64, generator=gen).to(dtype=dtype)
        layer, x = layer.to(device), x.to(device)
        with torch.no_grad():
            ref = layer(x).float()
            if mode == "fp8_storage":
                from diffusers.hooks import apply_layerwise_casting

                apply_layerwise_casting(layer, storage_dtype=torch.float8_e4m3fn, compute_dtype=dtype)
            else:
                from torchao.quantization import quantize_

                quantize_(layer, _torchao_config(mode))
            out = layer(x).float()
    except Exception as exc:  # noqa: BLE001 - any failure means "not usable here"
        return f"{type(exc).__name__}: {str(exc).splitlines()[0][:200] if str(exc) else ''}"
    if not torch.isfinite(out).all():
        return "the probe gave non-finite values"
    err = ((out - ref).norm() / ref.norm().clamp_min(1e-6)).item()
    if err > 0.1:
        return f"the probe disagrees with the unquantized layer (relative error {err:.3g})"
    return None


def _model_index(model_dir: Path) -> dict[str, Any]:
    path = Path(model_dir) / "model_index.json"
    return json.loads(path.read_text()) if path.is_file() else {}


def _indexed_denoisers(index: dict[str, Any]) -> list[str]:
    return [name for name in DENOISER_COMPONENTS if (index.get(name) or [None])[0] is not None]


def load_kwargs(policy: VideoLoadPolicy, model_dir: Path) -> dict[str, Any]:
    """Extra ``from_pretrained`` arguments that quantize the denoiser while the pipeline loads ({} for none)."""
    mode = policy.weights
    if mode == "gguf":
        return _gguf_denoiser(policy, Path(model_dir))
    if mode not in _TORCHAO or probe(mode, policy.device, policy.dtype) is not None:
        return {}  # fp8_storage applies after loading; a refused torchao mode falls back in apply_weights
    names = _indexed_denoisers(_model_index(model_dir))
    if not names:
        return {}
    from diffusers import PipelineQuantizationConfig, TorchAoConfig

    config = _torchao_config(mode)
    return {"quantization_config": PipelineQuantizationConfig(quant_mapping={n: TorchAoConfig(config) for n in names})}


def _gguf_denoiser(policy: VideoLoadPolicy, model_dir: Path) -> dict[str, Any]:
    """``{component: model}``: the denoiser read from the operator's GGUF file, the rest from ``model_dir``."""
    import diffusers
    from diffusers.loaders.single_file_model import SINGLE_FILE_LOADABLE_CLASSES

    def refuse(why: str) -> ModelUnavailableError:
        # A job's error reaches its client: the file's path goes to the log only (clients never see server paths).
        logger.warning("weights=gguf with gguf_file=%s: %s", policy.gguf_file, why)
        return ModelUnavailableError(f"weights=gguf: {why}", field="weights")

    names = _indexed_denoisers(_model_index(model_dir))
    if len(names) != 1:
        raise refuse(
            f"the model has {len(names)} denoisers ({', '.join(names) or 'none found'}); one GGUF file holds one"
        )
    name = names[0]
    class_name = _model_index(model_dir)[name][1]
    cls = getattr(diffusers, class_name, None)
    if cls is None or class_name not in SINGLE_FILE_LOADABLE_CLASSES:
        raise refuse(f"diffusers cannot load a {class_name} from a single file; use bf16, fp8_storage or int8")
    path = Path(str(policy.gguf_file)).expanduser()
    if not path.is_file():
        raise refuse("the configured gguf_file is not a file")
    model = cls.from_single_file(
        str(path),
        quantization_config=diffusers.GGUFQuantizationConfig(compute_dtype=policy.torch_dtype()),
        config=str(model_dir),
        subfolder=name,
        torch_dtype=policy.torch_dtype(),
        local_files_only=True,
    )
    return {name: model}


def _is_quantized(model: Any) -> bool:
    """Quantized while loading (diffusers keeps the quantizer on the model)."""
    return getattr(model, "hf_quantizer", None) is not None


def apply_weights(
    pipe: Any, policy: VideoLoadPolicy, backend: str | None = None, requested: str | None = None
) -> dict[str, Any]:
    """Put the denoiser(s) in ``requested`` (default: the operator's mode) or what it falls back to here; the
    load report. Called after loading (before placement) and by admission's quantized rungs on a loaded pipeline."""
    requested = requested or policy.overrides.get("weights", policy.weights)
    models = denoiser_components(pipe)
    tried: list[dict[str, str]] = []
    mode = requested
    while mode not in ("bf16", "gguf"):  # gguf was read while loading (load_kwargs), or refused there
        why = unavailable_reason(mode, backend or policy.device) or probe(mode, policy.device, policy.dtype)
        if why is None:
            try:
                for model in models.values():
                    if not (mode in _TORCHAO and _is_quantized(model)):
                        _quantize_in_place(model, mode, policy.torch_dtype())
                break
            except Exception as exc:  # noqa: BLE001 - a mode the model refuses falls back, it never fails the load
                why = f"{type(exc).__name__}: {str(exc)[:200]}"
        tried.append({"mode": mode, "reason": why})
        logger.warning("weights=%s not applied (%s); falling back to %s", mode, why, FALLBACK[mode])
        mode = FALLBACK[mode]
    if mode == requested:
        reason = "as configured" if mode != "bf16" else ""
    else:
        reason = f"{requested} is not usable here ({tried[0]['reason']}); fell back to {mode}"
    return {
        "lever": "weights",
        "requested": requested,
        "applied": mode,
        "reason": reason,
        "tried": tried,
        "stored_bytes": {name: stored_bytes(model) for name, model in models.items()},
    }


def _nbytes(tensor: Any) -> int:
    """Bytes a tensor holds: a tensor subclass (torchao's) is the sum of its inner tensors."""
    inner = getattr(tensor, "__tensor_flatten__", None)
    if inner is not None:
        names, _ = inner()
        return sum(_nbytes(getattr(tensor, n)) for n in names)
    return tensor.numel() * tensor.element_size()


def stored_bytes(module: Any) -> int:
    """Bytes of a module's parameters and buffers as stored (after any quantization)."""
    seen: set[int] = set()
    total = 0
    for tensor in (*module.parameters(), *module.buffers()):
        if id(tensor) not in seen:
            seen.add(id(tensor))
            total += _nbytes(tensor)
    return total
