"""LTX-Video: spec, cost facts, adapter and tiny model."""

from videogen.video.families.ltx_video.adapter import LTXVideoAdapter
from videogen.video.families.ltx_video.cost import COST
from videogen.video.families.ltx_video.spec import SPEC
from videogen.video.families.ltx_video.tiny import TINY_CALL_KWARGS
from videogen.video.families.ltx_video.tiny import build_pipeline as build_tiny_pipeline

ADAPTER_CLASS = LTXVideoAdapter

__all__ = ["ADAPTER_CLASS", "COST", "SPEC", "TINY_CALL_KWARGS", "LTXVideoAdapter", "build_tiny_pipeline"]
