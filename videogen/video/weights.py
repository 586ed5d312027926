"""The load policy's ``weights``: which mode can run here, and what a mode that cannot falls back to.

Decided from facts that need no torch (installed packages, the device's backend), so the policy, the
estimate and admission agree before anything loads; ``videogen.video.quantize`` applies the mode at load,
probes it on the device and falls back the same way if the device refuses it there.

- ``bf16``: the denoiser in the policy's dtype (float32 on a CPU), as without this setting.
- ``fp8_storage``: diffusers' ``enable_layerwise_casting``: weights stored in float8 e4m3, each layer cast to
  the compute dtype for its forward. Norms, embeddings and the model's float32 modules stay as they were.
- ``int8`` / ``fp8``: torchao weight-only (``Int8WeightOnlyConfig`` / ``Float8WeightOnlyConfig``) through
  diffusers' ``TorchAoConfig``: the ``nn.Linear`` weights in 8 bits with a float32 scale per output row; the
  matmul runs in the compute dtype (torchao dequantizes first), so neither needs an fp8 or int8 kernel.
- ``gguf``: the denoiser read from the operator's single-file GGUF (``gguf_file``) with
  ``GGUFQuantizationConfig``; its tensors stay in the file's quantized blocks and are dequantized per layer.

Fallbacks keep the memory class when they can: ``int8``/``fp8`` fall back to ``fp8_storage``, which falls back
to ``bf16`` (on a device without float8 tensors, MPS). ``gguf`` never falls back (the file *is* the weights): a
missing package or file is refused.
"""

from __future__ import annotations

import importlib.util
from typing import NamedTuple

from videogen.video.policy_overrides import WeightsMode

# The next mode to try when one cannot run here (a mode not listed has no fallback).
FALLBACK: dict[str, WeightsMode] = {"int8": "fp8_storage", "fp8": "fp8_storage", "fp8_storage": "bf16"}

# The Python package each mode needs beyond diffusers and torch (``pip install`` name).
_PACKAGES: dict[str, str] = {"int8": "torchao", "fp8": "torchao", "gguf": "gguf"}

# The modes that store weights as float8 (a device without float8 tensors cannot run them).
FLOAT8: frozenset[str] = frozenset({"fp8_storage", "fp8"})


class SettledWeights(NamedTuple):
    mode: WeightsMode
    reasons: list[str]


def package_missing(mode: str) -> str | None:
    """The package ``mode`` needs when it is not installed here, else None."""
    package = _PACKAGES.get(mode)
    if package is None or importlib.util.find_spec(package) is not None:
        return None
    return package


def unavailable_reason(mode: str, backend: str) -> str | None:
    """Why ``mode`` cannot run on a ``backend`` device ('cuda', 'rocm', 'mps', 'cpu'), from facts known without
    torch; None when it may (``quantize`` still probes it on the device at load)."""
    missing = package_missing(mode)
    if missing:
        return f"{mode} needs the {missing} package, which is not installed here (pip install {missing})"
    if mode in FLOAT8 and backend == "mps":
        return "MPS has no float8 dtypes in torch"
    return None


def settle_weights(requested: WeightsMode, gguf_file: str | None, backend: str) -> SettledWeights:
    """The mode that will run for ``requested`` on ``backend``, and a reason per decision (the policy's)."""
    if requested == "gguf":
        if not gguf_file:
            raise ValueError(
                "invalid load-policy override weights='gguf': it needs gguf_file, the path of a local .gguf file "
                "holding the denoiser (set by the operator)"
            )
        missing = package_missing("gguf")
        if missing:
            raise ValueError(f"invalid load-policy override weights='gguf': the {missing} package is not installed")
        return SettledWeights("gguf", ["weights: the denoiser from the operator's GGUF file (gguf_file)"])
    reasons = [] if gguf_file is None else [f"gguf_file is not used: weights is {requested}, not gguf"]
    mode: WeightsMode = requested
    while (why := unavailable_reason(mode, backend)) is not None:
        fallback = FALLBACK[mode]
        reasons.append(f"weights={mode} cannot run here ({why}): fell back to {fallback}")
        mode = fallback
    if mode != "bf16":
        reasons.append(f"weights: the denoiser stored as {mode}; it computes in the policy's dtype")
    return SettledWeights(mode, reasons)


def settle_quantized_rungs(mode: str, weights: str, backend: str) -> tuple[str, list[str]]:
    """Admission's quantized-rung mode that can run here ("off" when none), and why (the policy's reasons)."""
    if mode == "off":
        return "off", []
    if weights != "bf16":
        return "off", [f"quantized_rungs={mode} is not used: the denoiser is already {weights}"]
    reasons = []
    while mode != "bf16" and (why := unavailable_reason(mode, backend)) is not None:
        reasons.append(f"quantized_rungs={mode} cannot run here ({why}): fell back to {FALLBACK[mode]}")
        mode = FALLBACK[mode]
    if mode == "bf16":
        return "off", reasons
    return mode, [*reasons, f"quantized_rungs: admission may convert the denoiser to {mode} when no bf16 rung fits"]


def torchao_keeps(param_name: str, keep_modules: list[str]) -> bool:
    """Whether diffusers' ``TorchAoConfig`` leaves ``param_name`` unquantized: it skips the model's
    ``_keep_in_fp32_modules`` by substring (``TorchAoHfQuantizer.check_if_quantized_param``, diffusers 0.42); the
    in-place path and the cost model use this same rule."""
    return any(f"{key}." in param_name or key == param_name for key in keep_modules)
