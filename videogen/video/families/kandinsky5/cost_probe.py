"""The cost model's probe of ``Kandinsky5Transformer3DModel``: one forward on the meta device, as the pipelines call it
each step (``CostFacts.denoiser_probes``).

Its forward takes the latents channels-last (``[batch, frames, height, width, channels]``; with ``visual_cond`` the
noise, the conditioning latents and their mask: 2 x 16 + 1 channels), the Qwen tokens and CLIP's pooled embedding
(added to the time embedding), and the RoPE positions the pipelines build: latent frames x (height / 2) x (width / 2)
for the video, the prompt's tokens for the text. The pipelines pass no sparse attention (``attention_type``
"regular"): the 10 s checkpoints' NABLA is priced as the full attention it bounds.
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
    """One forward on latents of ``frames x height x width`` (latent units) with ``text_tokens`` Qwen tokens."""
    del image_tokens, per_token_timestep  # no image encoder; one timestep per video in both pipelines
    cfg = module.config
    t = meta_tensors(module)
    channels = 2 * cfg.in_visual_dim + 1 if cfg.visual_cond else cfg.in_visual_dim
    _, ph, pw = cfg.patch_size

    def positions(n: int) -> torch.Tensor:
        return torch.arange(n, device=_META)

    kwargs: dict[str, Any] = {
        "hidden_states": t(batch, frames, height, width, channels),
        "encoder_hidden_states": t(batch, text_tokens, cfg.in_text_dim),
        "timestep": t(batch),
        "pooled_projections": t(batch, cfg.in_text_dim2),
        "visual_rope_pos": [positions(frames), positions(height // ph), positions(width // pw)],
        "text_rope_pos": positions(text_tokens),
        "return_dict": False,
    }
    inputs = [v for v in kwargs.values() if isinstance(v, torch.Tensor)] + kwargs["visual_rope_pos"]
    return (lambda: module(**kwargs)), inputs
