"""Sampling recipes: named sets of sampling values a model is run with (``recipe: fast`` on a request).

A recipe is what a step-distilled checkpoint or LoRA needs to give its quality (e.g. Wan 2.1 with lightx2v's
step/CFG-distillation LoRA: 4 steps, no classifier-free guidance, shift 5): its steps, guidance, scheduler and
flow shift, and the adapters it runs with. Declared by the operator per served model (``recipes:`` in the app
config, ``--recipes FILE`` on the CLI) or by the model directory itself (``videogen.json``'s ``recipes``);
the operator's beat the directory's by name (``ModelMeta.with_recipes``).

A recipe's values take the place of the family's defaults, so a request's own explicit values still win
(``num_inference_steps: 8`` with ``recipe: fast`` runs 8 steps); the cost model sees the settled values, so
guidance 1 is priced as one denoiser pass per step (``cost.shapes.cfg_passes``).

The scheduler swap is per job (``recipe_scheduler``): the pipeline's own scheduler is put back after the call,
so jobs without the recipe on the same replica run exactly as before.
"""

from __future__ import annotations

import contextlib
import inspect
from collections.abc import Iterator, Mapping
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from videogen.errors import InvalidRequestError

# The schedulers a recipe may name: diffusers' classes that take a flow-matching or epsilon model's config
# through ``from_config`` (never an arbitrary import path from a config file).
RecipeScheduler = Literal[
    "FlowMatchEulerDiscreteScheduler",
    "UniPCMultistepScheduler",
    "DPMSolverMultistepScheduler",
    "EulerDiscreteScheduler",
    "DDIMScheduler",
    "LCMScheduler",
]
RECIPE_NAME_PATTERN = r"^[a-z0-9][a-z0-9._-]{0,31}$"
# The config keys a scheduler takes its flow shift under (``flow_shift``: UniPC / DPM-Solver; ``shift``:
# FlowMatchEuler); the first the chosen class accepts is set.
_SHIFT_KEYS = ("flow_shift", "shift")


class RecipeLora(BaseModel):
    """An adapter a recipe runs with: one the operator declared for the model (``loras``), by name."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    name: str = Field(min_length=1, max_length=64)
    scale: float = Field(default=1.0, ge=-4.0, le=4.0)


class SamplingRecipe(BaseModel):
    """One named recipe. Unset values keep the model's defaults."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    description: str = Field(default="", max_length=400)
    num_inference_steps: int | None = Field(default=None, ge=1, le=200)
    guidance_scale: float | None = Field(default=None, ge=0.0, le=50.0)
    scheduler: RecipeScheduler | None = Field(default=None, description="a diffusers scheduler class for the job")
    flow_shift: float | None = Field(default=None, gt=0.0, le=100.0, description="the scheduler's flow shift")
    loras: list[RecipeLora] = Field(default_factory=list, max_length=4)

    @model_validator(mode="after")
    def _shift_fits_scheduler(self) -> SamplingRecipe:
        if self.flow_shift is not None and self.scheduler is not None and _shift_key(self.scheduler) is None:
            raise ValueError(f"{self.scheduler} takes no flow shift; drop flow_shift or pick a flow-matching scheduler")
        return self

    def request_defaults(self) -> dict[str, Any]:
        """The values this recipe puts in place of the family's defaults."""
        # (a two-expert Wan 2.2 model runs its low-noise expert at guidance_scale too unless the request says)
        keys = ("num_inference_steps", "guidance_scale")
        return {k: getattr(self, k) for k in keys if getattr(self, k) is not None}


def parse_recipes(value: Mapping[str, Any] | None, where: str = "recipes") -> dict[str, SamplingRecipe]:
    """An operator's ``recipes:`` mapping, validated (names as requests send them)."""
    import re

    recipes: dict[str, SamplingRecipe] = {}
    for name, body in (value or {}).items():
        if not re.match(RECIPE_NAME_PATTERN, str(name)):
            raise ValueError(f"{where}: recipe name {name!r} must match {RECIPE_NAME_PATTERN}")
        recipes[str(name)] = body if isinstance(body, SamplingRecipe) else SamplingRecipe.model_validate(body)
    return recipes


def pick_recipe(name: str | None, recipes: Mapping[str, SamplingRecipe]) -> SamplingRecipe | None:
    """The recipe a request names, or a 4xx naming ``recipe`` with the ones this model has."""
    if name is None:
        return None
    recipe = recipes.get(name)
    if recipe is None:
        offered = sorted(recipes)
        raise InvalidRequestError(
            "recipe",
            f"{name!r} is not a recipe of this model"
            + (f"; it has: {', '.join(offered)}" if offered else "; it has none"),
            allowed=offered,
        )
    return recipe


def _shift_key(scheduler_name: str) -> str | None:
    import diffusers

    cls = getattr(diffusers, scheduler_name, None)
    accepted = inspect.signature(cls.__init__).parameters if cls is not None else {}
    return next((k for k in _SHIFT_KEYS if k in accepted), None)


def _is_flow_matching(scheduler) -> bool:
    config = scheduler.config
    return (
        type(scheduler).__name__.startswith("FlowMatch")
        or config.get("prediction_type") == "flow_prediction"
        or bool(config.get("use_flow_sigmas"))
    )


@contextlib.contextmanager
def recipe_scheduler(pipe, params: Mapping[str, Any]) -> Iterator[dict[str, Any] | None]:
    """Run the job with the recipe's scheduler and flow shift (``params["scheduler"]``/``["flow_shift"]``, set
    by ``resolve_params``), the pipeline's own scheduler put back afterwards. Yields what was applied."""
    name, shift = params.get("scheduler"), params.get("flow_shift")
    original = getattr(pipe, "scheduler", None)
    if original is None or (name is None and shift is None):
        yield None
        return
    import diffusers

    cls = getattr(diffusers, name) if name else type(original)
    key = _shift_key(cls.__name__)
    if shift is not None and key is None:
        raise InvalidRequestError(
            "recipe", f"sets flow_shift, but this model's scheduler {cls.__name__} takes no flow shift"
        )
    if shift is not None and not _is_flow_matching(original):
        raise InvalidRequestError(
            "recipe", f"sets flow_shift, but this model ({type(original).__name__}) is not a flow-matching model"
        )
    overrides: dict[str, Any] = {key: shift} if shift is not None else {}
    if key == "flow_shift" and _is_flow_matching(original):
        # UniPC / DPM-Solver treat a flow-matching model as one only with these set (Wan's own config has them;
        # a FlowMatchEuler config, e.g. LTX's or HunyuanVideo's, does not).
        overrides |= {"use_flow_sigmas": True, "prediction_type": "flow_prediction"}
    pipe.scheduler = cls.from_config(original.config, **overrides)
    try:
        yield {"scheduler": cls.__name__, **({"flow_shift": shift} if shift is not None else {})}
    finally:
        pipe.scheduler = original


__all__ = [
    "RecipeLora",
    "RecipeScheduler",
    "SamplingRecipe",
    "parse_recipes",
    "pick_recipe",
    "recipe_scheduler",
]
