"""The LoRA flags of the command line: ``--lora NAME[=SCALE]`` picks declared adapters for a request;
``--lora-config FILE`` (``videogen generate``) declares them, as an operator does in the serve config.

The file is YAML or JSON, ``{name: {path, scale_range, experts, weight_name, description}}``; a relative
``path`` is taken from the file's own directory. ``videogen submit`` takes ``--lora`` only: the server
declares its adapters.
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from videogen.errors import VideoGenError


def add_lora_flags(parser: argparse.ArgumentParser, with_config: bool = True) -> None:
    parser.add_argument(
        "--lora",
        dest="loras",
        action="append",
        metavar="NAME[=SCALE]",
        help="run with a declared LoRA adapter (repeatable, up to 4); SCALE defaults to 1",
    )
    if with_config:
        parser.add_argument(
            "--lora-config",
            metavar="FILE",
            help="YAML/JSON declaring the LoRA adapters: {name: {path: FILE.safetensors, scale_range: [lo, hi], "
            "experts: high|low|both}}",
        )


def loras_from_args(args) -> list[dict[str, Any]] | None:
    """``--lora`` values as the request's ``loras``."""
    values = getattr(args, "loras", None)
    if not values:
        return None
    out = []
    for value in values:
        name, sep, scale = value.partition("=")
        try:
            out.append({"name": name.strip(), "scale": float(scale) if sep else 1.0})
        except ValueError:
            raise VideoGenError(f"--lora: {value!r} is not NAME[=SCALE] (e.g. ghibli=0.8)") from None
    return out


def lora_config_from_args(args) -> dict[str, Any] | None:
    """``--lora-config FILE``'s adapters, validated (a pickle or a bad name: a one-line error naming the file)."""
    path = getattr(args, "lora_config", None)
    if not path:
        return None
    import yaml
    from pydantic import ValidationError

    from videogen.video.lora_config import parse_loras

    try:
        data = yaml.safe_load(Path(path).read_text()) or {}
    except (OSError, yaml.YAMLError) as exc:
        raise VideoGenError(f"--lora-config: cannot read {path}: {exc}") from None
    if not isinstance(data, dict):
        raise VideoGenError(f"--lora-config: {path} must map adapter names to {{path, scale_range, experts}}")
    here = Path(path).resolve().parent
    for body in data.values():
        if isinstance(body, dict) and isinstance(body.get("path"), str) and (here / body["path"]).exists():
            body["path"] = str(here / body["path"])  # relative to the file (an absolute path stays as it is)
    adapters: dict[str, Any] = {}
    for name, body in data.items():
        try:
            adapters.update(parse_loras({name: body}, where=f"--lora-config {path}"))
        except ValidationError as exc:
            err = exc.errors()[0]
            where = ".".join(map(str, (name, *err["loc"])))
            raise VideoGenError(f"--lora-config {path}: {where}: {err['msg']}") from None
        except ValueError as exc:
            raise VideoGenError(str(exc)) from None
    return adapters
