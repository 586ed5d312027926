"""The cost model's probe of ``CosmosTransformer3DModel``: one forward on the meta device, as
``Cosmos2_5_PredictBasePipeline`` calls it each step (``CostFacts.denoiser_probes``).

The pipeline passes the latents and the condition mask apart (the transformer concatenates them: ``in_channels``
counts the mask), a timestep per latent frame (``[batch, 1, frames, 1, 1]``: the conditioning frames' is near zero),
the text encoder's 512 tokens at every layer's width together (``crossattn_proj_in_channels``, projected to the
cross-attention's), and a padding mask of zeros at the pixel size, which a config with ``concat_padding_mask``
resizes (through torchvision) and concatenates as one more input channel. Where torchvision does not import, the
probe prices a twin built on the meta device with that channel as an ordinary input channel: the same patch
embedding, the same FLOPs.
"""

from __future__ import annotations

from typing import Any

import torch

from videogen.video.cost.meta_tensors import meta_tensors, module_dtype

_META = torch.device("meta")
_PIXELS_PER_LATENT = 8  # Wan 2.1's VAE; the mask is resized to the latents' size whatever it is


def _without_torchvision(module: torch.nn.Module) -> tuple[torch.nn.Module, int]:
    """The module the probe runs and the input channels its latents carry beside the condition mask."""
    from videogen.video.families.cosmos.guardrail import torchvision_missing

    cfg = module.config
    latent_channels = cfg.in_channels - 1
    if not cfg.concat_padding_mask or torchvision_missing() is None:
        return module, latent_channels
    with torch.device(_META):
        twin = type(module).from_config({**cfg, "concat_padding_mask": False, "in_channels": cfg.in_channels + 1})
    return twin.to(dtype=module_dtype(module)), latent_channels + 1


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
    """One forward on latents of ``frames x height x width`` (latent units) with ``text_tokens`` prompt tokens."""
    del image_tokens, per_token_timestep  # no image encoder; the timestep is per latent frame in every task
    module, channels = _without_torchvision(module)
    cfg = module.config
    t = meta_tensors(module)
    text_width = cfg.crossattn_proj_in_channels if cfg.use_crossattn_projection else cfg.text_embed_dim
    kwargs: dict[str, Any] = {
        "hidden_states": t(batch, channels, frames, height, width),
        "condition_mask": t(batch, 1, frames, height, width),
        "timestep": t(batch, 1, frames, 1, 1),
        "encoder_hidden_states": t(batch, text_tokens, text_width),
        "padding_mask": t(1, 1, height * _PIXELS_PER_LATENT, width * _PIXELS_PER_LATENT),
        "return_dict": False,
    }
    inputs = [v for v in kwargs.values() if isinstance(v, torch.Tensor)]
    return (lambda: module(**kwargs)), inputs
