"""HunyuanVideo: spec, cost facts, adapter and tiny model."""

from videogen.video.families.hunyuan_video.adapter import HunyuanVideoAdapter
from videogen.video.families.hunyuan_video.cost import COST
from videogen.video.families.hunyuan_video.spec import SPEC
from videogen.video.families.hunyuan_video.tiny import TINY_CALL_KWARGS
from videogen.video.families.hunyuan_video.tiny import build_pipeline as build_tiny_pipeline

ADAPTER_CLASS = HunyuanVideoAdapter

__all__ = ["ADAPTER_CLASS", "COST", "SPEC", "TINY_CALL_KWARGS", "HunyuanVideoAdapter", "build_tiny_pipeline"]
