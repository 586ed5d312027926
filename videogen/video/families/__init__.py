"""The video families VideoGen knows: one package per family, listed here.

Each ``families/<family>/`` holds the family's ``SPEC`` (``spec.py``), its adapter
(``adapter.py``) and its tiny model builder (``tiny.py``). Adding a family is one
folder and one line in ``_PACKAGES``.
"""

from __future__ import annotations

from collections.abc import Callable
from types import ModuleType

from videogen.errors import UnknownFamilyError
from videogen.video.adapter import VideoPipelineAdapter
from videogen.video.families import (
    animatediff,
    cogvideox,
    hunyuan_video,
    ltx_video,
    sana_video,
    text_to_video_sd,
    wan,
)
from videogen.video.spec import VideoModelSpec

# The order is the order every listing shows.
_PACKAGES = (text_to_video_sd, wan, cogvideox, ltx_video, hunyuan_video, sana_video, animatediff)

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


def tiny_call_kwargs(family: str, task: str) -> dict:
    """Extra pipeline kwargs the family's tiny components need for ``task``."""
    return dict(family_package(family).TINY_CALL_KWARGS.get(task, {}))


__all__ = [
    "FAMILIES",
    "FAMILY_IDS",
    "SPECS",
    "adapter_class",
    "family_package",
    "get_adapter",
    "get_spec",
    "tiny_builder",
    "tiny_call_kwargs",
]
