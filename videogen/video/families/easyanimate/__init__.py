"""EasyAnimate V5.1 (7B, 12B; text-to-video and InP): spec, cost facts, adapter and tiny model."""

from videogen.video.families.easyanimate.adapter import EasyAnimateAdapter
from videogen.video.families.easyanimate.cost import COST
from videogen.video.families.easyanimate.spec import SPEC
from videogen.video.families.easyanimate.tiny import TINY_CALL_KWARGS
from videogen.video.families.easyanimate.tiny import build_pipeline as build_tiny_pipeline

ADAPTER_CLASS = EasyAnimateAdapter

__all__ = ["ADAPTER_CLASS", "COST", "SPEC", "TINY_CALL_KWARGS", "EasyAnimateAdapter", "build_tiny_pipeline"]
