"""What one Stable Video Diffusion checkpoint says beyond its family (``ModelMeta.family_facts``): the frame count its
UNet was trained at, ``num_frames`` in the UNet's config (14 for ``stable-video-diffusion-img2vid``, 25 for
``-img2vid-xt``), which is also the pipeline's own length when it is given none. A request naming no length runs at
it: over the family's default (SVD-XT's 25), under a model directory's ``videogen.json``.
"""

from __future__ import annotations

from typing import Any

from videogen.video.model_meta import ModelMeta

NUM_FRAMES = "num_frames"


def checkpoint_facts(preset, task: str) -> dict[str, Any]:
    """The facts of ``preset`` (an ``arch:`` preset, or one read from a model directory)."""
    del task  # one task
    frames = preset.component(preset.denoiser).config.get(NUM_FRAMES)
    return {NUM_FRAMES: int(frames)} if frames else {}


def with_trained_frames(meta: ModelMeta) -> ModelMeta:
    """``meta`` with the checkpoint's trained frame count as its default length, unless it names one itself."""
    frames = (meta.family_facts or {}).get(NUM_FRAMES)
    if frames is None or NUM_FRAMES in meta.request_defaults:
        return meta
    return meta.model_copy(update={"request_defaults": {**meta.request_defaults, NUM_FRAMES: frames}})
