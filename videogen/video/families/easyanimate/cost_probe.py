"""The cost model's probe of ``EasyAnimateTransformer3DModel``: one forward on the meta device, as the pipelines call it
each step (``CostFacts.denoiser_probes``).

Its ``in_channels`` count what its patch embedding takes: the noise (``out_channels``, the VAE's latent channels) and,
on an InP checkpoint, ``inpaint_latents`` beside it (the mask resized to the latents and the kept frames' latents: 1 +
16), which the InP pipeline passes every step, zeros for text-to-video. The text is the Qwen2-VL hidden states of all
``text_tokens`` padded tokens: the transformer takes no mask and attends over every one. The 3D RoPE is computed on
the CPU from the latents' shape, as in a real call.
"""

from __future__ import annotations

from typing import Any

import torch

from videogen.video.cost.meta_tensors import meta_tensors


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
    """One forward on latents of ``frames x height x width`` (latent units) beside ``text_tokens`` Qwen2-VL tokens."""
    del image_tokens, per_token_timestep  # no image encoder; one timestep per video
    cfg = module.config
    t = meta_tensors(module)
    kwargs: dict[str, Any] = {
        "hidden_states": t(batch, cfg.out_channels, frames, height, width),
        "timestep": t(batch),  # the pipelines' t_expand, in the latents' dtype
        "encoder_hidden_states": t(batch, text_tokens, cfg.text_embed_dim),
        "return_dict": False,
    }
    conditioning = cfg.in_channels - cfg.out_channels
    if conditioning:
        kwargs["inpaint_latents"] = t(batch, conditioning, frames, height, width)
    return (lambda: module(**kwargs)), [v for v in kwargs.values() if isinstance(v, torch.Tensor)]
