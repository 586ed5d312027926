"""Load-policy flags of ``videogen generate`` and ``videogen estimate``: the denoiser's weights mode.

Whoever runs the CLI is the operator, so these are the same overrides an app config sets per family
(``policy: {weights: ..., gguf_file: ..., quantized_rungs: ...}``), parsed by the same parsers.
"""

from __future__ import annotations

import argparse
import os
from typing import Any

from videogen.errors import InvalidRequestError
from videogen.video.policy_overrides import ENV_PREFIX, QUANTIZED_RUNGS, WEIGHTS_MODES, parse_override

_FIELDS = ("weights", "gguf_file", "quantized_rungs")


def add_policy_flags(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--weights",
        choices=WEIGHTS_MODES,
        help="the denoiser's weights: bf16 (the policy's dtype), fp8_storage (layerwise casting), int8 / fp8 "
        "(torchao weight-only), gguf (with --gguf-file); a mode that cannot run here falls back and says why",
    )
    parser.add_argument("--gguf-file", help="with --weights gguf: a local .gguf file holding the denoiser")
    parser.add_argument(
        "--quantized-rungs",
        choices=QUANTIZED_RUNGS,
        help="let admission convert the denoiser to this 8-bit mode when nothing fits at bf16 (default off)",
    )


def policy_overrides(args: argparse.Namespace) -> dict[str, Any]:
    """The flags given, parsed; an ``InvalidRequestError`` naming the flag's field when one is refused."""
    given = {name: value for name in _FIELDS if (value := getattr(args, name, None)) is not None}
    parsed = {}
    for name, value in given.items():
        try:
            parsed[name] = parse_override(name, value)
        except ValueError as exc:
            raise InvalidRequestError(name, str(exc)) from None
    if parsed.get("weights") == "gguf" and not (parsed.get("gguf_file") or os.environ.get(ENV_PREFIX + "GGUF_FILE")):
        raise InvalidRequestError("weights", "gguf needs --gguf-file, a local .gguf file holding the denoiser")
    return parsed
