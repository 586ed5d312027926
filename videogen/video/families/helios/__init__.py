"""Helios (Base, Mid, Distilled): spec, cost facts, adapter and tiny model."""

from videogen.video.families.helios.adapter import HeliosAdapter
from videogen.video.families.helios.checkpoint import checkpoint_facts
from videogen.video.families.helios.cost import COST
from videogen.video.families.helios.spec import SPEC
from videogen.video.families.helios.tiny import TINY_CALL_KWARGS
from videogen.video.families.helios.tiny import build_pipeline as build_tiny_pipeline

ADAPTER_CLASS = HeliosAdapter

__all__ = [
    "ADAPTER_CLASS",
    "COST",
    "SPEC",
    "TINY_CALL_KWARGS",
    "HeliosAdapter",
    "build_tiny_pipeline",
    "checkpoint_facts",
]
