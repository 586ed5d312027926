"""Lucy Edit: spec, cost facts, adapter and tiny model."""

from videogen.video.families.lucy_edit.adapter import LucyEditAdapter
from videogen.video.families.lucy_edit.cost import COST
from videogen.video.families.lucy_edit.spec import SPEC
from videogen.video.families.lucy_edit.tiny import TINY_CALL_KWARGS
from videogen.video.families.lucy_edit.tiny import build_pipeline as build_tiny_pipeline

ADAPTER_CLASS = LucyEditAdapter

__all__ = ["ADAPTER_CLASS", "COST", "SPEC", "TINY_CALL_KWARGS", "LucyEditAdapter", "build_tiny_pipeline"]
