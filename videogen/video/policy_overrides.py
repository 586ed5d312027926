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
Placement = Literal["gpu", "model_cpu_offload", "group_offload", "sequential_offload", "cpu"]

DTYPES: tuple[str, ...] = get_args(DType)
PLACEMENTS: tuple[str, ...] = get_args(Placement)

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


# Field -> parser. The order is the order environment overrides are read (and reported in).
_PARSERS: dict[str, Callable[[Any], Any]] = {
    "device": _parse_device,
    "dtype": _parse_dtype,
    "placement": _parse_placement,
    "vae_tiling": _parse_flag,
    "vae_slicing": _parse_flag,
    "cpu_memory_cap_gb": _parse_memory_cap,
    "concurrency": _parse_concurrency,
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
