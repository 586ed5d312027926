"""One adapter per family; ``get_adapter(family)`` picks it."""

from __future__ import annotations

from importlib import import_module

from videogen.video.adapters.base import PreparedInputs, VideoPipelineAdapter
from videogen.video.registry import get_spec

# family id -> module under videogen.video.adapters holding ``Adapter``
_MODULES = {
    "text-to-video-sd": "text_to_video_sd",
    "wan": "wan",
    "cogvideox": "cogvideox",
    "ltx-video": "ltx_video",
    "hunyuan-video": "hunyuan_video",
    "sana-video": "sana_video",
    "animatediff": "animatediff",
}


def get_adapter(family: str) -> VideoPipelineAdapter:
    get_spec(family)  # unknown family -> a clear error
    module = import_module(f"videogen.video.adapters.{_MODULES[family]}")
    return module.Adapter()


__all__ = ["PreparedInputs", "VideoPipelineAdapter", "get_adapter"]
