"""CogVideoX: spec, cost facts, adapter and tiny model."""

from videogen.video.families.cogvideox.adapter import CogVideoXAdapter
from videogen.video.families.cogvideox.cost import COST
from videogen.video.families.cogvideox.spec import SPEC
from videogen.video.families.cogvideox.tiny import TINY_CALL_KWARGS
from videogen.video.families.cogvideox.tiny import build_pipeline as build_tiny_pipeline

ADAPTER_CLASS = CogVideoXAdapter

__all__ = ["ADAPTER_CLASS", "COST", "SPEC", "TINY_CALL_KWARGS", "CogVideoXAdapter", "build_tiny_pipeline"]
