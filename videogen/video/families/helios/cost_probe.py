"""The cost model's probe of ``HeliosTransformer3DModel``: one forward on the meta device, as both Helios pipelines
call it each step (``CostFacts.denoiser_probes``).

Beside the chunk's latents the forward takes its history, packed by the transformer's own patch embedders: the short
history (the first frame's latents and the newest latent frame) at the chunk's 1x2x2 patch, the mid (2 latent frames)
at 2x4x4 and the long (16) at 4x8x8, each with the frame indices the pipelines give it (``keep_first_frame``: the
first frame's index 0, then long, mid, short and the chunk's), all at the latents' size. The history tokens join the
self-attention and the feed-forward; the cross-attention and the output run on the chunk's tokens only.

A pyramid stage runs the chunk at half or a quarter of the size beside the full-size history: calibrated at the
family's default size, the law (in the chunk's tokens) carries that size's history, which is every stage's at that
size; at another size the history's share is the default size's (``price.py``).
"""

from __future__ import annotations

import torch

from videogen.video.cost.meta_tensors import meta_tensors
from videogen.video.families.helios.chunks import HISTORY_SIZES


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
    """One forward on a chunk of ``frames x height x width`` latents (latent units) beside its packed history, with
    ``text_tokens`` UMT5 tokens (padded to ``max_sequence_length``), one timestep per video."""
    del image_tokens, per_token_timestep  # no image encoder; one timestep per chunk
    cfg = module.config
    t = meta_tensors(module)
    channels = cfg.in_channels
    long, mid, short = HISTORY_SIZES
    # the pipelines' indices (CPU tensors; the rotary embedding moves them): prefix, long, mid, 1x, the chunk's
    prefix, at_long, at_mid, at_short, at_chunk = torch.arange(1 + long + mid + short + frames).split(
        [1, long, mid, short, frames]
    )
    kwargs = {
        "hidden_states": t(batch, channels, frames, height, width),
        "timestep": t(batch, dtype=torch.float32),
        "encoder_hidden_states": t(batch, text_tokens, cfg.text_dim),
        "indices_hidden_states": at_chunk.unsqueeze(0),
        "indices_latents_history_short": torch.cat([prefix, at_short]).unsqueeze(0),
        "indices_latents_history_mid": at_mid.unsqueeze(0),
        "indices_latents_history_long": at_long.unsqueeze(0),
        "latents_history_short": t(batch, channels, 1 + short, height, width),
        "latents_history_mid": t(batch, channels, mid, height, width),
        "latents_history_long": t(batch, channels, long, height, width),
        "return_dict": False,
    }
    inputs = [v for v in kwargs.values() if isinstance(v, torch.Tensor)]

    def run():
        rope = module.rope
        rope.get_frequency_batched = _frequencies_without_autocast
        try:
            return module(**kwargs)
        finally:
            del rope.get_frequency_batched  # the class's own again

    return run, inputs


def _frequencies_without_autocast(freqs_base: torch.Tensor, pos: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """``HeliosRotaryPosEmbed.get_frequency_batched`` without its autocast: the same einsum, then cos and sin."""
    freqs = torch.einsum("d,bthw->dbthw", freqs_base, pos).repeat_interleave(2, dim=0)
    return freqs.cos(), freqs.sin()
