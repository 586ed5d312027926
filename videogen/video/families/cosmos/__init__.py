"""Cosmos Predict 2.5: spec, cost facts, adapter, guardrail and tiny model."""

from videogen.video.families.cosmos.adapter import CosmosAdapter
from videogen.video.families.cosmos.cost import COST
from videogen.video.families.cosmos.spec import SPEC
from videogen.video.families.cosmos.tiny import TINY_CALL_KWARGS
from videogen.video.families.cosmos.tiny import build_pipeline as build_tiny_pipeline

ADAPTER_CLASS = CosmosAdapter

__all__ = ["ADAPTER_CLASS", "COST", "SPEC", "TINY_CALL_KWARGS", "CosmosAdapter", "build_tiny_pipeline"]
