"""SANA-Video: spec, cost facts, adapter and tiny model."""

from videogen.video.families.sana_video.adapter import SanaVideoAdapter
from videogen.video.families.sana_video.cost import COST
from videogen.video.families.sana_video.spec import SPEC
from videogen.video.families.sana_video.tiny import TINY_CALL_KWARGS
from videogen.video.families.sana_video.tiny import build_pipeline as build_tiny_pipeline

ADAPTER_CLASS = SanaVideoAdapter

__all__ = ["ADAPTER_CLASS", "COST", "SPEC", "TINY_CALL_KWARGS", "SanaVideoAdapter", "build_tiny_pipeline"]
