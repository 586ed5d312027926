"""Wan 2.1 / 2.2: spec, cost facts, adapter and tiny model."""

from videogen.video.families.wan.adapter import WanAdapter
from videogen.video.families.wan.cost import COST
from videogen.video.families.wan.spec import SPEC
from videogen.video.families.wan.tiny import TINY_CALL_KWARGS
from videogen.video.families.wan.tiny import build_pipeline as build_tiny_pipeline

ADAPTER_CLASS = WanAdapter

__all__ = ["ADAPTER_CLASS", "COST", "SPEC", "TINY_CALL_KWARGS", "WanAdapter", "build_tiny_pipeline"]
