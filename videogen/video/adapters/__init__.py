"""One adapter per family; ``get_adapter(family)`` picks it."""

from __future__ import annotations

from importlib import import_module

from videogen.video.adapters.base import PreparedInputs, VideoPipelineAdapter
from videogen.video.registry import family_module


def get_adapter(family: str) -> VideoPipelineAdapter:
    module = import_module(f"videogen.video.adapters.{family_module(family)}")  # unknown family: a clear error
    return module.Adapter()


__all__ = ["PreparedInputs", "VideoPipelineAdapter", "get_adapter"]
