"""TextToVideoSD (ModelScope text-to-video): the generic adapter covers everything.

Video-to-video (``VideoToVideoSDPipeline``) has no height, width or num_frames arguments: its output takes the
input clip's size and frame count, which ``resolve_params`` conforms to the job's.
"""

from __future__ import annotations

from videogen.video.adapter import VideoPipelineAdapter
from videogen.video.families.text_to_video_sd.spec import SPEC


class TextToVideoSDAdapter(VideoPipelineAdapter):
    spec = SPEC
    default_strength = 0.6  # VideoToVideoSDPipeline's own default
