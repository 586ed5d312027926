"""LTX-2 (video with sound): spec, cost facts, adapter and tiny model."""

from videogen.video.families.ltx2.adapter import LTX2Adapter
from videogen.video.families.ltx2.cost import COST
from videogen.video.families.ltx2.spec import SPEC
from videogen.video.families.ltx2.tiny import TINY_CALL_KWARGS
from videogen.video.families.ltx2.tiny import build_pipeline as build_tiny_pipeline

ADAPTER_CLASS = LTX2Adapter

__all__ = ["ADAPTER_CLASS", "COST", "SPEC", "TINY_CALL_KWARGS", "LTX2Adapter", "build_tiny_pipeline"]
