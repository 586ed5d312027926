"""The video families VideoGen knows: one package per family, listed here.

Each ``families/<family>/`` holds the family's ``SPEC`` (``spec.py``), its cost facts
(``cost.py``: ``COST``), its adapter (``adapter.py``), its tiny model builder (``tiny.py``)
and its real-size presets (``presets.py``, imported only when asked for). Adding a family
is one folder and one line in ``_PACKAGES``.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from types import ModuleType
from typing import TYPE_CHECKING, Any

from videogen.errors import ModelUnavailableError, UnknownFamilyError
from videogen.video.adapter import VideoPipelineAdapter
from videogen.video.cost.facts import CostFacts
from videogen.video.families import (
    animatediff,
    cogvideox,
    cosmos,
    easyanimate,
    helios,
    hunyuan_video,
    hunyuan_video15,
    kandinsky5,
    ltx2,
    ltx_video,
    lucy_edit,
    mochi,
    sana_video,
    skyreels_v2,
    stable_video_diffusion,
    text_to_video_sd,
    wan,
)
from videogen.video.spec import VideoModelSpec

if TYPE_CHECKING:
    from videogen.video.arch.preset import ArchPreset
    from videogen.video.tiny.variants import TinyVariant

# The order is the order every listing shows.
_PACKAGES = (
    text_to_video_sd,
    wan,
    cogvideox,
    ltx_video,
    hunyuan_video,
    sana_video,
    animatediff,
    hunyuan_video15,
    ltx2,
    skyreels_v2,
    kandinsky5,
    mochi,
    lucy_edit,
    stable_video_diffusion,
    helios,
    cosmos,
    easyanimate,
)

FAMILIES: dict[str, ModuleType] = {package.SPEC.id: package for package in _PACKAGES}
SPECS: dict[str, VideoModelSpec] = {family: package.SPEC for family, package in FAMILIES.items()}
FAMILY_IDS: tuple[str, ...] = tuple(FAMILIES)


def family_package(family: str) -> ModuleType:
    try:
        return FAMILIES[family]
    except KeyError:
        raise UnknownFamilyError("family", f"unknown family {family!r}", allowed=list(FAMILIES)) from None


def get_spec(family: str) -> VideoModelSpec:
    return family_package(family).SPEC


def adapter_class(family: str) -> type[VideoPipelineAdapter]:
    return family_package(family).ADAPTER_CLASS


def get_adapter(family: str) -> VideoPipelineAdapter:
    return adapter_class(family)()


def tiny_builder(family: str) -> Callable[[str], object]:
    """The family's ``build_pipeline(task)`` for its tiny model (random weights; seed it first)."""
    return family_package(family).build_tiny_pipeline


def get_cost_facts(family: str) -> CostFacts:
    """What the cost model knows about the family's pipeline (``families/<family>/cost.py``)."""
    return family_package(family).COST


def family_presets(family: str) -> tuple[ArchPreset, ...]:
    """The family's real-size presets (``families/<family>/presets.py``), imported on first use."""
    return tuple(importlib.import_module(f"{family_package(family).__name__}.presets").PRESETS)


def tiny_call_kwargs(family: str, task: str, variant: str | None = None) -> dict:
    """Extra pipeline kwargs the family's tiny components need for ``task`` (of tiny ``variant`` when named)."""
    if variant is not None:
        return dict(tiny_variant(family, variant).call_kwargs.get(task, {}))
    return dict(family_package(family).TINY_CALL_KWARGS.get(task, {}))


def tiny_extra_models(family: str) -> dict[str, Callable[[], Any]]:
    """Models the family's plain tiny model directory holds beside its pipeline, by folder (``TINY_EXTRA_MODELS`` in
    ``families/<family>/tiny.py``: LTX-Video's ``latent_upsampler``); none if it declares none."""
    module = importlib.import_module(f"{family_package(family).__name__}.tiny")
    return dict(getattr(module, "TINY_EXTRA_MODELS", {}))


def family_checkpoint_facts(family: str, preset: ArchPreset, task: str) -> dict[str, Any]:
    """What a checkpoint (an ``arch:`` preset, or a preset read from a model directory) says that only its family's
    adapter reads: the family's ``checkpoint_facts(preset, task)``; none if it declares none."""
    read = getattr(family_package(family), "checkpoint_facts", None)
    return dict(read(preset, task)) if read is not None else {}


def tiny_family_facts(family: str) -> dict[str, Any]:
    """The family's ``checkpoint_facts`` of its plain tiny model, known without building it (``TINY_FAMILY_FACTS`` in
    ``families/<family>/tiny.py``); none if it declares none."""
    module = importlib.import_module(f"{family_package(family).__name__}.tiny")
    return dict(getattr(module, "TINY_FAMILY_FACTS", {}))


def tiny_variants(family: str) -> dict[str, TinyVariant]:
    """The family's named tiny models (``TINY_VARIANTS`` in ``families/<family>/tiny.py``; none if it declares none)."""
    module = importlib.import_module(f"{family_package(family).__name__}.tiny")
    return dict(getattr(module, "TINY_VARIANTS", {}))


def tiny_variant(family: str, name: str) -> TinyVariant:
    """The family's tiny variant ``name``; ``ModelUnavailableError`` naming ``model`` and the values allowed."""
    variants = tiny_variants(family)
    if name in variants:
        return variants[name]
    allowed = ["tiny", *(variant.model for variant in variants.values())]
    raise ModelUnavailableError(
        f"tiny:{name} is not a {family} tiny model; {family} has: {', '.join(allowed)}", field="model", allowed=allowed
    )


__all__ = [
    "FAMILIES",
    "FAMILY_IDS",
    "SPECS",
    "adapter_class",
    "family_checkpoint_facts",
    "family_package",
    "family_presets",
    "get_adapter",
    "get_cost_facts",
    "get_spec",
    "tiny_builder",
    "tiny_call_kwargs",
    "tiny_extra_models",
    "tiny_family_facts",
    "tiny_variant",
    "tiny_variants",
]
