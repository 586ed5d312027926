"""Mochi 1: spec, cost facts, adapter and tiny model."""

from videogen.video.families.mochi.adapter import MochiAdapter
from videogen.video.families.mochi.cost import COST
from videogen.video.families.mochi.spec import SPEC
from videogen.video.families.mochi.tiny import TINY_CALL_KWARGS
from videogen.video.families.mochi.tiny import build_pipeline as build_tiny_pipeline

ADAPTER_CLASS = MochiAdapter

__all__ = ["ADAPTER_CLASS", "COST", "SPEC", "TINY_CALL_KWARGS", "MochiAdapter", "build_tiny_pipeline"]
