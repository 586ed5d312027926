"""Stable Video Diffusion (SVD, SVD-XT): spec, cost facts, adapter, tiny model and what a checkpoint says beyond its
family (its trained frame count)."""

from videogen.video.families.stable_video_diffusion.adapter import StableVideoDiffusionAdapter
from videogen.video.families.stable_video_diffusion.checkpoint import checkpoint_facts
from videogen.video.families.stable_video_diffusion.cost import COST
from videogen.video.families.stable_video_diffusion.spec import SPEC
from videogen.video.families.stable_video_diffusion.tiny import TINY_CALL_KWARGS
from videogen.video.families.stable_video_diffusion.tiny import build_pipeline as build_tiny_pipeline

ADAPTER_CLASS = StableVideoDiffusionAdapter

__all__ = [
    "ADAPTER_CLASS",
    "COST",
    "SPEC",
    "TINY_CALL_KWARGS",
    "StableVideoDiffusionAdapter",
    "build_tiny_pipeline",
    "checkpoint_facts",
]
