"""Meta-device modules of a preset, built once per process.

Keyed by the component's values (not the preset id), like ``ArchPreset.param_counts``:
a scaled copy of a preset must not reuse the real preset's modules.
"""

from __future__ import annotations

import json
import threading

import torch
from torch import nn

from videogen.video.arch.preset import ArchPreset, ComponentArch

_CACHE: dict[tuple[str, str], nn.Module] = {}
_LOCK = threading.Lock()


def component_key(component: ComponentArch) -> str:
    return json.dumps(component.model_dump(), sort_keys=True, default=str)


def preset_key(preset: ArchPreset) -> str:
    return json.dumps([c.model_dump() for c in preset.components], sort_keys=True, default=str)


def meta_module(component: ComponentArch, dtype: torch.dtype = torch.bfloat16) -> nn.Module:
    """``component`` built on the meta device in ``dtype`` (parameters and buffers; nothing allocated)."""
    key = (component_key(component), str(dtype))
    with _LOCK:
        module = _CACHE.get(key)
        if module is None:
            module = _CACHE[key] = component.build("meta", dtype).eval()
        return module


def denoiser_module(preset: ArchPreset, dtype: torch.dtype = torch.bfloat16) -> nn.Module:
    """The module the pipeline runs each step.

    AnimateDiff ships a 2D UNet and a motion adapter; its pipeline joins them into a
    ``UNetMotionModel`` (``UNetMotionModel.from_unet2d``), which is what runs.
    """
    names = {c.name for c in preset.components}
    if "motion_adapter" in names and preset.component(preset.denoiser).class_name == "UNet2DConditionModel":
        key = (preset_key(preset) + "#motion", str(dtype))
        with _LOCK:
            module = _CACHE.get(key)
        if module is None:
            from diffusers import UNetMotionModel

            unet = meta_module(preset.component(preset.denoiser), dtype)
            adapter = meta_module(preset.component("motion_adapter"), dtype)
            with torch.device("meta"):  # from_unet2d copies weights: meta to meta copies nothing
                module = UNetMotionModel.from_unet2d(unet, adapter).to(dtype).eval()
            with _LOCK:
                _CACHE[key] = module
        return module
    return meta_module(preset.component(preset.denoiser), dtype)
