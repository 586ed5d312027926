"""HunyuanVideo 1.5: spec, cost facts, adapter, tiny model and what a checkpoint says beyond its family."""

from videogen.video.families.hunyuan_video15.adapter import HunyuanVideo15Adapter
from videogen.video.families.hunyuan_video15.checkpoint import checkpoint_facts
from videogen.video.families.hunyuan_video15.cost import COST
from videogen.video.families.hunyuan_video15.spec import SPEC
from videogen.video.families.hunyuan_video15.tiny import TINY_CALL_KWARGS
from videogen.video.families.hunyuan_video15.tiny import build_pipeline as build_tiny_pipeline

ADAPTER_CLASS = HunyuanVideo15Adapter

__all__ = [
    "ADAPTER_CLASS",
    "COST",
    "SPEC",
    "TINY_CALL_KWARGS",
    "HunyuanVideo15Adapter",
    "build_tiny_pipeline",
    "checkpoint_facts",
]
