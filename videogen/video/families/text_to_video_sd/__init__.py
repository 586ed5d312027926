"""TextToVideoSD (ModelScope text-to-video): spec, cost facts, adapter and tiny model."""

from videogen.video.families.text_to_video_sd.adapter import TextToVideoSDAdapter
from videogen.video.families.text_to_video_sd.cost import COST
from videogen.video.families.text_to_video_sd.spec import SPEC
from videogen.video.families.text_to_video_sd.tiny import TINY_CALL_KWARGS
from videogen.video.families.text_to_video_sd.tiny import build_pipeline as build_tiny_pipeline

ADAPTER_CLASS = TextToVideoSDAdapter

__all__ = ["ADAPTER_CLASS", "COST", "SPEC", "TINY_CALL_KWARGS", "TextToVideoSDAdapter", "build_tiny_pipeline"]
