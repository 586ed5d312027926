"""The recipe flags of the command line: ``--recipe NAME`` picks a sampling recipe for a request;
``--recipes FILE`` (``videogen generate`` / ``estimate``) declares them, as an operator does in the serve config.

The file is YAML or JSON, ``{name: {num_inference_steps, guidance_scale, scheduler, flow_shift, loras,
description}}`` (``videogen.video.recipes``). ``videogen submit`` takes ``--recipe`` only: the server declares its
recipes.
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from videogen.errors import VideoGenError


def add_recipe_flags(parser: argparse.ArgumentParser, with_config: bool = True) -> None:
    parser.add_argument("--recipe", help="a sampling recipe of the model by name (e.g. a few-step distilled setting)")
    if with_config:
        parser.add_argument(
            "--recipes",
            dest="recipes_file",
            metavar="FILE",
            help="YAML/JSON declaring sampling recipes: {name: {num_inference_steps, guidance_scale, scheduler, "
            "flow_shift, loras: [{name, scale}]}}",
        )


def recipes_from_args(args) -> dict[str, Any] | None:
    """``--recipes FILE``'s recipes, validated (a bad one: a one-line error naming the file and the field)."""
    path = getattr(args, "recipes_file", None)
    if not path:
        return None
    import yaml
    from pydantic import ValidationError

    from videogen.video.recipes import parse_recipes

    try:
        data = yaml.safe_load(Path(path).read_text()) or {}
    except (OSError, yaml.YAMLError) as exc:
        raise VideoGenError(f"--recipes: cannot read {path}: {exc}") from None
    if not isinstance(data, dict):
        raise VideoGenError(f"--recipes: {path} must map recipe names to their values")
    recipes: dict[str, Any] = {}
    for name, body in data.items():  # one at a time, so an error names its recipe
        try:
            recipes.update(parse_recipes({name: body}, where=f"--recipes {path}"))
        except ValidationError as exc:
            err = exc.errors()[0]
            raise VideoGenError(f"--recipes {path}: {'.'.join(map(str, (name, *err['loc'])))}: {err['msg']}") from None
        except ValueError as exc:
            raise VideoGenError(str(exc)) from None
    return recipes
