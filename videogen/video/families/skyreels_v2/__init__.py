"""SkyReels-V2: spec, cost facts, adapter and tiny model (diffusion forcing: ``forcing.py``)."""

from videogen.video.families.skyreels_v2.adapter import SkyReelsV2Adapter
from videogen.video.families.skyreels_v2.cost import COST
from videogen.video.families.skyreels_v2.spec import SPEC
from videogen.video.families.skyreels_v2.tiny import TINY_CALL_KWARGS
from videogen.video.families.skyreels_v2.tiny import build_pipeline as build_tiny_pipeline

ADAPTER_CLASS = SkyReelsV2Adapter

__all__ = ["ADAPTER_CLASS", "COST", "SPEC", "TINY_CALL_KWARGS", "SkyReelsV2Adapter", "build_tiny_pipeline"]
