"""Wan 2.1 / 2.2: the generic adapter covers everything (frames 4k+1, sizes multiple of 16)."""

from __future__ import annotations

from videogen.video.adapter import VideoPipelineAdapter
from videogen.video.families.wan.spec import SPEC


class WanAdapter(VideoPipelineAdapter):
    spec = SPEC
