"""Preset types: the architecture of a published checkpoint, as constructor/config values.

``ComponentArch`` is one ``nn.Module`` of a pipeline (transformer/UNet, VAE, text or image
encoder, motion adapter); ``ArchPreset`` a whole checkpoint: its components, tokenizers,
image processors, scheduler and pipeline classes. Parameter counts come from meta-device
builds, so listing presets allocates nothing.
"""

from __future__ import annotations

import copy
import json
from typing import Any, Literal

import torch
from pydantic import BaseModel, ConfigDict, Field, model_validator
from torch import nn


def call_builder(path: str) -> Any:
    """What ``module:function`` returns when called with no arguments (a preset's code-built parts)."""
    from videogen.video.dotted import resolve

    return resolve(path)()


class ComponentArch(BaseModel):
    """One module of a pipeline, built from its library's constructor (diffusers) or config class (transformers)."""

    model_config = ConfigDict(frozen=True)

    name: str = Field(description='pipeline component name, e.g. "transformer", "vae", "text_encoder"')
    library: Literal["diffusers", "transformers"]
    class_name: str
    config: dict[str, Any] = Field(description="diffusers constructor kwargs, or transformers config kwargs")
    config_class: str | None = Field(default=None, description="transformers config class (transformers only)")
    module: str | None = Field(
        default=None,
        description="the module exporting the class where the library's root does not: a pipeline's own modules "
        "(diffusers.pipelines.ltx2: LTX-2's text connectors and vocoder)",
    )
    registered_config: dict[str, Any] = Field(
        default_factory=dict,
        description="config.json values the diffusers constructor does not take but a pipeline reads, registered "
        "after construction as from_pretrained registers them (EasyAnimate's VAE: cache_mag_vae)",
    )

    def _construct(self) -> nn.Module:
        if self.library == "diffusers":
            import importlib

            import diffusers

            owner = importlib.import_module(self.module) if self.module else diffusers
            module = getattr(owner, self.class_name)(**copy.deepcopy(self.config))
            if self.registered_config:
                module.register_to_config(**self.registered_config)
            return module
        import transformers

        if not self.config_class:
            raise ValueError(f"{self.name}: a transformers component needs config_class")
        config = getattr(transformers, self.config_class)(**copy.deepcopy(self.config))
        return getattr(transformers, self.class_name)(config)

    def build(
        self, device: torch.device | str = "meta", dtype: torch.dtype | None = None, seed: int | None = 0
    ) -> nn.Module:
        """The module on ``device``: on "meta" nothing is allocated; elsewhere random weights in ``dtype``."""
        from videogen.video.arch.materialise import default_dtype, materialise, on_meta, retie

        meta = torch.device(device).type == "meta"
        with default_dtype(dtype), on_meta(include_buffers=meta):
            module = self._construct()
        retie(module)
        if meta:  # .to: a parameter made by a legacy constructor (diffusers' AlphaBlender) ignores the meta context
            return module.to(device="meta", dtype=dtype)
        return materialise(module, device, dtype, seed=seed)

    def with_config(self, **overrides: Any) -> ComponentArch:
        """A copy with config values replaced; a dict value is merged into a nested config dict."""
        config = copy.deepcopy(self.config)
        for key, value in overrides.items():
            if isinstance(value, dict) and isinstance(config.get(key), dict):
                config[key] = {**config[key], **value}
            else:
                config[key] = value
        return self.model_copy(update={"config": config})


class TokenizerArch(BaseModel):
    """A tokenizer built offline with a small vocabulary (ids stay below every real encoder's vocab)."""

    model_config = ConfigDict(frozen=True)

    name: str = "tokenizer"
    kind: Literal["t5", "clip", "llama3", "gemma", "builder"]
    model_max_length: int | None = None
    # kind "builder": ``module:function`` of a family's own offline tokenizer (called with no arguments)
    builder: str | None = None


class ProcessorArch(BaseModel):
    """An image processor (transformers class) constructed in code."""

    model_config = ConfigDict(frozen=True)

    name: str = "image_processor"
    class_name: str = "CLIPImageProcessor"
    config: dict[str, Any] = Field(default_factory=dict)


class SchedulerArch(BaseModel):
    model_config = ConfigDict(frozen=True)

    class_name: str
    config: dict[str, Any] = Field(default_factory=dict)

    def build(self):
        import diffusers

        return getattr(diffusers, self.class_name)(**copy.deepcopy(self.config))


class ArchPreset(BaseModel):
    """The real-size architecture of one published checkpoint."""

    model_config = ConfigDict(frozen=True)

    id: str = Field(description='lowercase, e.g. "wan2.1-t2v-1.3b"; selected as "arch:<id>"')
    family: str
    checkpoint: str = Field(description="the published repo id these values describe (informational)")
    tasks: list[str]
    pipeline_classes: dict[str, str]
    components: list[ComponentArch]
    denoiser: str = Field(description="component name of the transformer / UNet")
    denoiser_2: str | None = Field(
        default=None,
        description="a second expert of the denoiser's class (Wan 2.2 A14B's low-noise transformer_2): the pipeline "
        "runs it for the steps whose timestep < pipeline_kwargs['boundary_ratio'] * num_train_timesteps",
    )
    tokenizers: list[TokenizerArch] = Field(default_factory=list)
    processors: list[ProcessorArch] = Field(default_factory=list)
    scheduler: SchedulerArch
    task_schedulers: dict[str, SchedulerArch] = Field(default_factory=dict, description="per-task scheduler overrides")
    guider: SchedulerArch | None = Field(
        default=None, description="diffusers' guider component where the pipeline takes one (HunyuanVideo 1.5)"
    )
    pipeline_kwargs: dict[str, Any] = Field(default_factory=dict, description="non-module pipeline constructor args")
    built_kwargs: dict[str, str] = Field(
        default_factory=dict,
        description="pipeline constructor args built in code, as ``module:function`` called with no arguments: what "
        "random weights take in place of a checkpoint's part (Cosmos' guardrail: guardrail.NoGuardrail)",
    )
    call_kwargs: dict[str, dict[str, Any]] = Field(
        default_factory=dict, description="per-task pipeline-call kwargs the offline tokenizers need"
    )
    published_params: dict[str, int] = Field(
        default_factory=dict, description="published parameter counts per component, for comparison"
    )
    published_excludes: dict[str, tuple[str, ...]] = Field(
        default_factory=dict,
        description="per component, submodules (name prefixes) its published figure leaves out: Wan VACE's cards "
        'give only the size of the DiT it extends ("1.3B"), not of the VACE blocks beside it',
    )
    notes: str = ""

    @model_validator(mode="after")
    def _consistent(self) -> ArchPreset:
        names = [c.name for c in self.components]
        problems = []
        if len(set(names)) != len(names):
            problems.append(f"duplicate component names {names}")
        if self.denoiser not in names:
            problems.append(f"denoiser {self.denoiser!r} is not a component")
        if self.denoiser_2 is not None:
            # the pipelines switch experts only when boundary_ratio is set; without it the second never runs
            if self.denoiser_2 not in names or self.denoiser_2 == self.denoiser:
                problems.append(f"denoiser_2 {self.denoiser_2!r} is not a second component")
            if self.pipeline_kwargs.get("boundary_ratio") is None:
                problems.append("denoiser_2 needs pipeline_kwargs['boundary_ratio']")
        if set(self.tasks) != set(self.pipeline_classes):
            problems.append("tasks and pipeline_classes name different tasks")
        for field in ("task_schedulers", "call_kwargs"):
            if not set(getattr(self, field)) <= set(self.tasks):
                problems.append(f"{field} names a task the preset does not offer")
        if not set(self.published_params) <= set(names):
            problems.append("published_params names an unknown component")
        if not set(self.published_excludes) <= set(self.published_params):
            problems.append("published_excludes names a component without published_params")
        if problems:
            raise ValueError(f"arch preset {self.id}: " + "; ".join(problems))
        return self

    def component(self, name: str) -> ComponentArch:
        for comp in self.components:
            if comp.name == name:
                return comp
        raise KeyError(f"{self.id} has no component {name!r}")

    @property
    def denoisers(self) -> list[str]:
        """The denoiser experts in the order the steps reach them: high noise first."""
        return [self.denoiser] + ([self.denoiser_2] if self.denoiser_2 else [])

    @property
    def boundary_ratio(self) -> float | None:
        return self.pipeline_kwargs.get("boundary_ratio") if self.denoiser_2 else None

    def scheduler_for(self, task: str) -> SchedulerArch:
        return self.task_schedulers.get(task, self.scheduler)

    def build_components(
        self, device: torch.device | str = "meta", dtype: torch.dtype | None = None, seed: int | None = 0
    ) -> dict[str, nn.Module]:
        return {comp.name: comp.build(device, dtype, seed=seed) for comp in self.components}

    def param_counts(self) -> dict[str, int]:
        """Parameters per component (tied weights counted once), from a meta build, cached per preset."""
        return dict(_param_counts(self))

    def published_comparable(self, name: str) -> int:
        """Parameters of component ``name`` as its published figure counts them (``published_excludes`` left out)."""
        excluded = self.published_excludes.get(name, ())
        if not excluded:
            return self.param_counts()[name]
        module = self.component(name).build("meta")
        kept = {id(p): p for n, p in module.named_parameters() if not any(n.startswith(f"{x}.") for x in excluded)}
        return sum(p.numel() for p in kept.values())

    def total_params(self) -> int:
        return sum(self.param_counts().values())

    def scaled(self, **component_overrides: dict[str, Any]) -> ArchPreset:
        """A copy with some components' config values replaced (tests build scaled-down copies)."""
        components = [
            comp.with_config(**component_overrides[comp.name]) if comp.name in component_overrides else comp
            for comp in self.components
        ]
        unknown = set(component_overrides) - {c.name for c in self.components}
        if unknown:
            raise KeyError(f"{self.id} has no component(s) {sorted(unknown)}")
        update = {"id": f"{self.id}~scaled", "components": components, "published_params": {}, "published_excludes": {}}
        return self.model_copy(update=update)

    def model_meta(self, task: str):
        """What the worker should know about this model beyond diffusers' own (call kwargs)."""
        from videogen.video.model_meta import ModelMeta

        return ModelMeta(
            family=self.family,
            task=task,
            call_kwargs=dict(self.call_kwargs.get(task, {})),
            experts=len(self.denoisers),
            latent_upsampler=False,  # a preset builds its pipeline alone, never a latent upsampler beside it
        )

    def describe(self) -> dict[str, Any]:
        counts = self.param_counts()
        published = self.published_params
        return {
            "id": self.id,
            "model": f"arch:{self.id}",
            "family": self.family,
            "checkpoint": self.checkpoint,
            "tasks": list(self.tasks),
            "pipeline_classes": dict(self.pipeline_classes),
            "denoiser": self.denoiser,
            "components": [
                {
                    "name": comp.name,
                    "class_name": comp.class_name,
                    "library": comp.library,
                    "params": counts[comp.name],
                    **({"published_params": published[comp.name]} if comp.name in published else {}),
                    **(
                        {"published_params_exclude": list(self.published_excludes[comp.name])}
                        if comp.name in self.published_excludes
                        else {}
                    ),
                }
                for comp in self.components
            ],
            "denoiser_params": counts[self.denoiser],
            # every expert's parameters (Wan 2.2 A14B: two, one running at a time): all are in total_params
            "experts": {name: counts[name] for name in self.denoisers},
            **({"boundary_ratio": self.boundary_ratio} if self.denoiser_2 else {}),
            "total_params": sum(counts.values()),
            "notes": self.notes,
        }


_COUNT_CACHE: dict[str, tuple[tuple[str, int], ...]] = {}


def _param_counts(preset: ArchPreset) -> tuple[tuple[str, int], ...]:
    # Keyed by the components' values, not the id: a scaled copy must not reuse the real preset's counts.
    key = json.dumps([c.model_dump() for c in preset.components], sort_keys=True, default=str)
    if key not in _COUNT_CACHE:
        _COUNT_CACHE[key] = tuple((comp.name, count_params(comp.build("meta"))) for comp in preset.components)
    return _COUNT_CACHE[key]


def count_params(module: nn.Module) -> int:
    """``sum(p.numel())`` over distinct parameters (tied weights once)."""
    return sum(p.numel() for p in module.parameters())


__all__ = ["ArchPreset", "ComponentArch", "ProcessorArch", "SchedulerArch", "TokenizerArch", "count_params"]
