"""Kandinsky 5.0 Video (Lite and Pro): spec, cost facts, adapter and tiny model."""

from videogen.video.families.kandinsky5.adapter import Kandinsky5Adapter
from videogen.video.families.kandinsky5.cost import COST
from videogen.video.families.kandinsky5.spec import SPEC
from videogen.video.families.kandinsky5.tiny import TINY_CALL_KWARGS
from videogen.video.families.kandinsky5.tiny import build_pipeline as build_tiny_pipeline

ADAPTER_CLASS = Kandinsky5Adapter

__all__ = ["ADAPTER_CLASS", "COST", "SPEC", "TINY_CALL_KWARGS", "Kandinsky5Adapter", "build_tiny_pipeline"]
