"""AnimateDiff (SD 1.5 + motion adapter): spec, cost facts, adapter and tiny model."""

from videogen.video.families.animatediff.adapter import BASE_ENV, AnimateDiffAdapter
from videogen.video.families.animatediff.cost import COST
from videogen.video.families.animatediff.spec import SPEC
from videogen.video.families.animatediff.tiny import TINY_CALL_KWARGS
from videogen.video.families.animatediff.tiny import build_pipeline as build_tiny_pipeline

ADAPTER_CLASS = AnimateDiffAdapter

__all__ = ["ADAPTER_CLASS", "COST", "BASE_ENV", "SPEC", "TINY_CALL_KWARGS", "AnimateDiffAdapter", "build_tiny_pipeline"]
