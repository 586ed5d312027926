"""TextToVideoSD (ModelScope text-to-video): the base adapter covers everything."""

from __future__ import annotations

from videogen.video.adapters.base import VideoPipelineAdapter


class Adapter(VideoPipelineAdapter):
    family = "text-to-video-sd"
