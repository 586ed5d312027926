"""The cost model's probe of ``SkyReelsV2Transformer3DModel``: one forward on the meta device, as the pipelines call it
each step (``CostFacts.denoiser_probes``).

The diffusion-forcing pipelines give every latent frame its own timestep (``enable_diffusion_forcing``: the time
embedding runs once per frame) and, to a model with ``inject_sample_info`` (DF-1.3B), the frame rate. An image-to-video
checkpoint (CLIP image tokens in the cross-attention: ``image_dim``) runs ``SkyReelsV2ImageToVideoPipeline``: one
timestep per video, the image tokens beside the text. A plain text-to-video checkpoint is traced like a DF one: its
pipeline embeds one timestep instead of one per latent frame, a few of the time MLP's rows, below 1e-4 of a forward.
"""

from __future__ import annotations

from typing import Any

import torch

from videogen.video.cost.meta_tensors import meta_tensors

_META = torch.device("meta")


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
    """One forward on latents of ``frames x height x width`` (latent units) at batch ``batch``."""
    del per_token_timestep  # the per-frame timesteps are diffusion forcing's, decided by the model here
    cfg = module.config
    t = meta_tensors(module)

    forcing = not cfg.image_dim
    kwargs: dict[str, Any] = {
        "hidden_states": t(batch, cfg.in_channels, frames, height, width),
        "timestep": t(batch, frames, dtype=torch.float32) if forcing else t(batch, dtype=torch.float32),
        "encoder_hidden_states": t(batch, text_tokens, cfg.text_dim),
        "return_dict": False,
    }
    if forcing:
        kwargs["enable_diffusion_forcing"] = True
        if cfg.inject_sample_info:
            kwargs["fps"] = [1] * batch  # the pipelines' 0 (16 fps) or 1 (any other rate): an embedding row
    elif image_tokens:
        kwargs["encoder_hidden_states_image"] = t(batch, image_tokens, cfg.image_dim)
    return (lambda: module(**kwargs)), [v for v in kwargs.values() if isinstance(v, torch.Tensor)]
