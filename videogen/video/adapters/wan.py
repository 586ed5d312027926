"""Wan 2.1 / 2.2: the base adapter covers everything (frames 4k+1, sizes multiple of 16)."""

from __future__ import annotations

from videogen.video.adapters.base import VideoPipelineAdapter


class Adapter(VideoPipelineAdapter):
    family = "wan"
