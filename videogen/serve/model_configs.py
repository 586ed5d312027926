"""What the operator configures per served model: a family's entry, a named model, and the served view of both.

``FamilyConfig`` is one entry of ``VideoGenAppConfig.families`` (the family's default model, named by the
family id); ``ModelConfig`` one of ``VideoGenAppConfig.models`` (another checkpoint of a family, on a worker
deployment of its own); ``ServedModel`` is either, under the name requests use (derived by
``VideoGenAppConfig.served_models``, never configured). Kept apart from ``config`` only for its size.
"""

from __future__ import annotations

import re
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from videogen.video.lora_config import DEFAULT_MAX_LORAS_PER_REPLICA, LORA_NAME_PATTERN, LoraAdapter
from videogen.video.parallel.config import ParallelConfig
from videogen.video.recipes import SamplingRecipe, parse_recipes
from videogen.video.registry import FAMILY_IDS
from videogen.video.spec import Task

# Deployment options an operator may override per family (``FamilyConfig.deployment``),
# for all workers (``worker_defaults``) or for the ingress (``ingress``).
DEPLOYMENT_OPTION_KEYS = frozenset(
    {
        "num_replicas",
        "max_ongoing_requests",
        "max_queued_requests",
        "autoscaling_config",
        "ray_actor_options",
        "placement_group_bundles",
        "placement_group_strategy",
        "max_replicas_per_node",
        "health_check_period_s",
        "health_check_timeout_s",
        "graceful_shutdown_wait_loop_s",
        "graceful_shutdown_timeout_s",
        "logging_config",
    }
)

# A named model's name: what requests send as 'model' and what names its worker deployment.
MODEL_NAME_PATTERN = r"^[a-z0-9][a-z0-9._-]{0,63}$"


def check_deployment_keys(where: str, value: dict[str, Any]) -> dict[str, Any]:
    unknown = sorted(set(value) - DEPLOYMENT_OPTION_KEYS)
    if unknown:
        raise ValueError(f"{where}: unknown deployment option(s) {unknown}; allowed: {sorted(DEPLOYMENT_OPTION_KEYS)}")
    return value


class FamilyConfig(BaseModel):
    """One served family: its default model (named by the family id)."""

    # Frozen: part of the app's config, which replicas are bound with and never edit.
    model_config = ConfigDict(extra="forbid", frozen=True)

    model: str | None = Field(
        default="tiny",
        description="'tiny' (built-in random weights), a local model directory, a Hugging Face id already in "
        "the cache, or null for the family's default real model ids",
    )
    deployment: dict[str, Any] = Field(
        default_factory=dict, description="Serve deployment options for this family's worker"
    )
    warm: list[Task] | None = Field(
        default=None,
        description="tasks whose pipeline each replica loads at start (default: every task the family offers; [] = on first job)",
    )

    max_queued_jobs: int | None = Field(
        default=None, ge=1, description="this family's queue bound (default: the app's)"
    )
    policy: dict[str, Any] = Field(
        default_factory=dict,
        description="load-policy overrides for this family's replicas (dtype, placement, vae_tiling, vae_slicing, "
        "cpu_memory_cap_gb, concurrency, device, the speed levers, weights: bf16|fp8_storage|int8|fp8|gguf with "
        "gguf_file, quantized_rungs); they beat VIDEOGEN_POLICY_* variables",
    )
    loras: dict[str, LoraAdapter] = Field(
        default_factory=dict,
        description="LoRA adapters requests may name: name -> {path: a local .safetensors file or directory, or a "
        "Hugging Face repo id in the cache; scale_range: [lo, hi]; experts: high|low|both} (safetensors only; "
        "clients see names, scales and experts, never paths)",
    )
    recipes: dict[str, SamplingRecipe] = Field(
        default_factory=dict,
        description="sampling recipes requests may name ('recipe'): name -> {num_inference_steps, guidance_scale, "
        "scheduler, flow_shift, loras: [{name, scale}], description}; they beat the model directory's by name",
    )
    max_loras_per_replica: int = Field(
        default=DEFAULT_MAX_LORAS_PER_REPLICA,
        ge=1,
        le=64,
        description="LoRA adapters a replica keeps loaded (least recently used unloaded first)",
    )
    parallel: ParallelConfig = Field(
        default_factory=ParallelConfig,
        description="one job on several devices: {cfg: 1|2, ulysses: u, ring: r}; each replica then holds "
        "cfg x ulysses x ring devices on one node (a placement group, one bundle per rank), each rank a whole "
        "copy of the weights; checked against the model when the app is built",
    )

    @field_validator("loras", mode="before")
    @classmethod
    def _lora_names(cls, value: Any) -> Any:
        for name in value or {}:
            if not re.fullmatch(LORA_NAME_PATTERN, str(name)):
                raise ValueError(f"adapter name {name!r} must match {LORA_NAME_PATTERN}")
        return value

    @field_validator("recipes", mode="before")
    @classmethod
    def _recipe_names(cls, value: Any) -> Any:
        return parse_recipes(value)

    @model_validator(mode="after")
    def _recipe_loras_declared(self) -> FamilyConfig:
        """A recipe runs adapters of this model only, within their scales: said when the config is read."""
        for name, recipe in self.recipes.items():
            for lora in recipe.loras:
                adapter = self.loras.get(lora.name)
                if adapter is None:
                    raise ValueError(
                        f"recipes.{name}.loras: {lora.name!r} is not in loras (declared: {sorted(self.loras)})"
                    )
                lo, hi = adapter.scale_range
                if not lo <= lora.scale <= hi:
                    raise ValueError(
                        f"recipes.{name}.loras: {lora.name} scale {lora.scale:g} is outside [{lo:g}, {hi:g}]"
                    )
        return self

    @field_validator("deployment")
    @classmethod
    def _known_keys(cls, value: dict[str, Any]) -> dict[str, Any]:
        return check_deployment_keys("deployment", value)

    @field_validator("policy")
    @classmethod
    def _valid_policy(cls, value: dict[str, Any]) -> dict[str, Any]:
        from videogen.video.foundation import validate_policy_overrides

        return validate_policy_overrides(value)


class ModelConfig(FamilyConfig):
    """One named model of a family (``models.<name>``): another checkpoint beside the family's entry in
    ``families``, on a worker deployment of its own (its own replicas, policy, warm list and queue bound)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    family: str = Field(description="the family id this checkpoint belongs to, e.g. 'wan'")
    default: bool = Field(
        default=False,
        description="the family's default model (what a request without 'model' runs on); only for a family "
        "without an entry in families, whose entry is its default",
    )

    @field_validator("family")
    @classmethod
    def _known_family(cls, value: str) -> str:
        if value not in FAMILY_IDS:
            raise ValueError(f"unknown family {value!r}; known families: {list(FAMILY_IDS)}")
        return value


class ServedModel(BaseModel):
    """A model the app serves, under the name requests use: a family's entry (named by the family id) or a
    named model. Derived from the config (``VideoGenAppConfig.served_models``), never configured itself."""

    model_config = ConfigDict(frozen=True)

    name: str
    family: str
    default: bool
    config: FamilyConfig

    @property
    def source(self) -> str | None:
        return self.config.model
