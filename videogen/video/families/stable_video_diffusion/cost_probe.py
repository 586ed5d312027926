"""The cost model's probe of ``UNetSpatioTemporalConditionModel``: one forward on the meta device, as
``StableVideoDiffusionPipeline`` calls it each step (``CostFacts.denoiser_probes``).

Its forward takes the latents frames-first (``[batch, frames, channels, height, width]``: the noise and the image's
latents, 8 channels), one timestep, the image's CLIP embedding as a one-token context (``image_tokens``; there is no
text) and the three added time ids (fps - 1, motion bucket, noise augmentation), embedded like the timestep.
"""

from __future__ import annotations

import torch

from videogen.video.cost.meta_tensors import meta_tensors

_TIME_IDS = 3


def denoiser_call(
    module: torch.nn.Module,
    *,
    batch: int,
    frames: int,
    height: int,
    width: int,
    text_tokens: int,
    image_tokens: int = 0,
    per_token_timestep: bool = False,
):
    """One forward on latents of ``frames x height x width`` (latent units) against ``image_tokens`` CLIP embeddings."""
    del text_tokens, per_token_timestep  # no text encoder; one timestep per video
    cfg = module.config
    t = meta_tensors(module)
    kwargs = {
        "sample": t(batch, frames, cfg.in_channels, height, width),
        "timestep": t(batch, dtype=torch.float32),
        "encoder_hidden_states": t(batch, image_tokens, cfg.cross_attention_dim),
        "added_time_ids": t(batch, _TIME_IDS),
        "return_dict": False,
    }
    return (lambda: module(**kwargs)), [v for v in kwargs.values() if isinstance(v, torch.Tensor)]
