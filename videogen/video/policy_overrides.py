"""Operator overrides of the load policy: which fields, how each is parsed, where it came from.

An override comes from the app config (``policy_overrides``) or from a
``VIDEOGEN_POLICY_<FIELD>`` environment variable; config beats environment. Every
value is parsed by its field's parser in ``_PARSERS``; a bad value raises a
``ValueError`` that names the field and the allowed values, so a config error is
reported at config time (``validate_policy_overrides``) rather than at load.
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable, Mapping
from typing import Any, Literal, NamedTuple, get_args

DType = Literal["bfloat16", "float16", "float32"]
# The one definition of the placements, most GPU-resident first (the admission ladder's order), then cpu.
Placement = Literal["gpu", "model_cpu_offload", "group_offload", "sequential_offload", "cpu"]

CompileMode = Literal["off", "regional"]
# The denoiser's weights (``videogen.video.quantize``): "bf16" keeps the policy's dtype (float32 on a CPU); the
# others store the denoiser in 8 bits (diffusers' layerwise casting, torchao weight-only) or load it from the
# operator's GGUF file. The order is the fallback order's reverse: a mode that cannot run here steps towards bf16.
WeightsMode = Literal["bf16", "fp8_storage", "int8", "fp8", "gguf"]
# What admission may convert a loaded bf16 denoiser to when nothing fits at bf16 (the operator's allowance, off by
# default: it trades quality for memory). Only modes that convert a loaded model in place are offered.
QuantizedRungs = Literal["off", "fp8_storage", "int8"]
StepCacheKind = Literal["off", "first_block", "taylorseer", "pyramid_broadcast", "faster_cache", "sea_cache"]

DTYPES: tuple[str, ...] = get_args(DType)
PLACEMENTS: tuple[Placement, ...] = get_args(Placement)
GPU_PLACEMENTS: tuple[Placement, ...] = tuple(p for p in PLACEMENTS if p != "cpu")
COMPILE_MODES: tuple[str, ...] = get_args(CompileMode)
STEP_CACHE_KINDS: tuple[StepCacheKind, ...] = get_args(StepCacheKind)
WEIGHTS_MODES: tuple[WeightsMode, ...] = get_args(WeightsMode)
QUANTIZED_RUNGS: tuple[str, ...] = get_args(QuantizedRungs)
# diffusers 0.42's AttentionBackendName values (a unit test keeps this in step with diffusers; kept here so
# parsing an override never imports diffusers, and so torch, before the ROCm environment is set).
ATTENTION_BACKENDS: tuple[str, ...] = (
    "flash",
    "flash_hub",
    "flash_varlen",
    "flash_varlen_hub",
    "flash_4_hub",
    "_flash_3",
    "_flash_varlen_3",
    "_flash_3_hub",
    "_flash_3_varlen_hub",
    "aiter_fa2_hub",
    "flex",
    "native",
    "_native_cudnn",
    "_native_efficient",
    "_native_flash",
    "_native_math",
    "_native_npu",
    "_native_xla",
    "sage",
    "sage_hub",
    "sage_blackwell_hub",
    "sage_varlen",
    "_sage_qk_int8_pv_fp8_cuda",
    "_sage_qk_int8_pv_fp8_cuda_sm90",
    "_sage_qk_int8_pv_fp16_cuda",
    "_sage_qk_int8_pv_fp16_triton",
    "xformers",
)

ENV_PREFIX = "VIDEOGEN_POLICY_"

_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off"}
_DTYPE_ALIASES = {"bf16": "bfloat16", "fp16": "float16", "half": "float16", "fp32": "float32", "float": "float32"}
_DEVICE_RE = re.compile(r"^(cpu|mps|cuda(:\d+)?)$")
_NO_CAP = ("none", "null", "unlimited")


class _Rejected(Exception):
    """A parser's refusal; ``allowed`` describes what the field accepts."""

    def __init__(self, allowed: str) -> None:
        super().__init__(allowed)
        self.allowed = allowed


def _parse_device(value: Any) -> str:
    text = str(value).strip().lower()
    if not _DEVICE_RE.match(text):
        raise _Rejected("cuda, cuda:N, mps, cpu")
    return text


def _parse_dtype(value: Any) -> str:
    text = str(value).strip().lower().removeprefix("torch.")
    text = _DTYPE_ALIASES.get(text, text)
    if text not in DTYPES:
        raise _Rejected(", ".join(DTYPES))
    return text


def _parse_placement(value: Any) -> str:
    text = str(value).strip().lower()
    if text not in PLACEMENTS:
        raise _Rejected(", ".join(PLACEMENTS))
    return text


def _parse_flag(value: Any) -> bool:
    if isinstance(value, bool):
        return value
    text = str(value).strip().lower()
    if text in _TRUE:
        return True
    if text in _FALSE:
        return False
    raise _Rejected("true/false (1/0, yes/no, on/off)")


def _parse_memory_cap(value: Any) -> float | None:
    allowed = "a positive number of GB, or none"
    if value is None or (isinstance(value, str) and value.strip().lower() in _NO_CAP):
        return None
    if isinstance(value, bool):  # bool is an int to float(); True GB is a typo, not a cap
        raise _Rejected(allowed)
    try:
        number = float(value)
    except (TypeError, ValueError):
        raise _Rejected(allowed) from None
    if not number > 0 or number == float("inf"):  # "not >" also rejects NaN
        raise _Rejected(allowed)
    return number


def _parse_concurrency(value: Any) -> int:
    allowed = "an integer >= 1"
    if isinstance(value, bool):
        raise _Rejected(allowed)
    if isinstance(value, float):
        if value != int(value):
            raise _Rejected(allowed)
        number = int(value)
    elif isinstance(value, int):
        number = value
    else:
        try:
            number = int(str(value).strip())
        except ValueError:
            raise _Rejected(allowed) from None
    if number < 1:
        raise _Rejected(allowed)
    return number


def _one_of(choices: tuple[str, ...]) -> Callable[[Any], str]:
    def parse(value: Any) -> str:
        text = str(value).strip().lower()
        if text not in choices:
            raise _Rejected(", ".join(choices))
        return text

    return parse


def _parse_step_cache_allowed(value: Any) -> tuple[str, ...]:
    items = value.split(",") if isinstance(value, str) else list(value or [])
    kinds = tuple(dict.fromkeys(str(v).strip().lower() for v in items if str(v).strip()))
    if any(k not in STEP_CACHE_KINDS for k in kinds):
        raise _Rejected("a comma-separated subset of " + ", ".join(STEP_CACHE_KINDS))
    return tuple(dict.fromkeys(("off", *kinds)))  # a request may always ask for no cache


def _parse_gguf_file(value: Any) -> str | None:
    """The operator's local GGUF file for the denoiser (checked for existence at load, where it is read)."""
    if value is None or (isinstance(value, str) and value.strip().lower() in _NO_CAP):
        return None
    text = str(value).strip()
    if not text.lower().endswith(".gguf") or "\x00" in text:
        raise _Rejected("a path to a local .gguf file, or none")
    return os.path.expanduser(text)


# Field -> parser. The order is the order environment overrides are read (and reported in).
_PARSERS: dict[str, Callable[[Any], Any]] = {
    "device": _parse_device,
    "dtype": _parse_dtype,
    "placement": _parse_placement,
    "vae_tiling": _parse_flag,
    "vae_slicing": _parse_flag,
    "cpu_memory_cap_gb": _parse_memory_cap,
    "concurrency": _parse_concurrency,
    "attention_backend": _one_of(("auto", *ATTENTION_BACKENDS)),
    "step_cache": _one_of(STEP_CACHE_KINDS),
    "step_cache_allowed": _parse_step_cache_allowed,
    "compile": _one_of(COMPILE_MODES),
    "weights": _one_of(WEIGHTS_MODES),
    "gguf_file": _parse_gguf_file,
    "quantized_rungs": _one_of(QUANTIZED_RUNGS),
}
OVERRIDABLE_FIELDS: tuple[str, ...] = tuple(_PARSERS)


def _unknown_field(key: Any) -> ValueError:
    return ValueError(f"unknown load-policy override {key!r}; allowed fields: {', '.join(OVERRIDABLE_FIELDS)}")


def parse_override(field: str, value: Any) -> Any:
    """Validate one operator override; raise ValueError naming the field and allowed values."""
    parser = _PARSERS.get(field)
    if parser is None:
        raise _unknown_field(field)
    try:
        return parser(value)
    except _Rejected as rejected:
        raise ValueError(f"invalid load-policy override {field}={value!r}; allowed: {rejected.allowed}") from None


class CollectedOverrides(NamedTuple):
    values: dict[str, Any]  # field -> parsed value
    sources: dict[str, str]  # field -> "config" or the environment variable's name


def collect_overrides(overrides: Mapping[str, Any] | None, environ: Mapping[str, str] | None) -> CollectedOverrides:
    """Parsed overrides and where each came from; config beats environment.

    ``environ`` None reads the process environment; pass ``{}`` to ignore it.
    """
    environ = os.environ if environ is None else environ
    collected = CollectedOverrides({}, {})
    for field in OVERRIDABLE_FIELDS:
        name = ENV_PREFIX + field.upper()
        raw = environ.get(name)
        if raw is None or raw.strip() == "":
            continue
        collected.values[field] = parse_override(field, raw)
        collected.sources[field] = name
    for key, raw in (overrides or {}).items():
        field = str(key).strip().lower()
        if field not in _PARSERS:
            raise _unknown_field(key)
        collected.values[field] = parse_override(field, raw)
        collected.sources[field] = "config"
    return collected


def validate_policy_overrides(overrides: Mapping[str, Any]) -> dict[str, Any]:
    """Config-side overrides, parsed and checked (ValueError naming the field) without a profile."""
    return collect_overrides(overrides, environ={}).values
