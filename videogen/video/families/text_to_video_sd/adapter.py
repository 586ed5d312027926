"""TextToVideoSD (ModelScope text-to-video): the generic adapter covers everything."""

from __future__ import annotations

from videogen.video.adapter import VideoPipelineAdapter
from videogen.video.families.text_to_video_sd.spec import SPEC


class TextToVideoSDAdapter(VideoPipelineAdapter):
    spec = SPEC
