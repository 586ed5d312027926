"""The cost model's probe of ``MochiTransformer3DModel``: one forward on the meta device, as ``MochiPipeline`` calls it
each step (``CostFacts.denoiser_probes``).

Its attention (``MochiAttnProcessor2_0``) runs each batch row apart over the video tokens and only that row's valid
prompt tokens, found with ``torch.nonzero`` of the attention mask: a count the meta device does not have. ``AllValid``
answers every such ``nonzero`` as all positions valid, the longest sequence the row can have, so the count is the
FLOPs of a prompt filling all ``text_tokens`` (an upper bound; a shorter prompt attends over fewer). The caption
projections and the attention pool run over every token, valid or not, as they do here.

Its RoPE computes the frequencies under ``torch.autocast(device_type, float32)``, which has no meta device: for the
call the meta model's rope takes the same einsum on float32 inputs without the autocast (which changes no FLOPs).
"""

from __future__ import annotations

import torch
from torch.utils._python_dispatch import TorchDispatchMode

from videogen.video.cost.meta_tensors import meta_tensors

_NONZERO = torch.ops.aten.nonzero.default


class AllValid(TorchDispatchMode):
    """``nonzero`` of a meta tensor: every position, as if each were non-zero."""

    def __torch_dispatch__(self, func, types, args=(), kwargs=None):
        kwargs = kwargs or {}
        if func is _NONZERO and args[0].is_meta:
            source = args[0]
            every = torch.ones(source.shape, dtype=torch.bool).nonzero()  # on the CPU: the shape's own indices
            return every.to(source.device)
        return func(*args, **kwargs)


def _rope_without_autocast(freqs: torch.Tensor, pos: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """``MochiRoPE._create_rope`` without its float32 autocast: the same einsum, in float32, then cos and sin."""
    freqs = torch.einsum("nd,dhf->nhf", pos.to(torch.float32), freqs.to(torch.float32))
    return torch.cos(freqs), torch.sin(freqs)


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
    """One forward on latents of ``frames x height x width`` (latent units) beside ``text_tokens`` T5 tokens (the
    pipeline pads the prompt to ``max_sequence_length``), one timestep per video. Mochi has no image tokens."""
    del image_tokens, per_token_timestep
    cfg = module.config
    t = meta_tensors(module)
    kwargs = {
        "hidden_states": t(batch, cfg.in_channels, frames, height, width),
        "encoder_hidden_states": t(batch, text_tokens, cfg.text_embed_dim),
        "timestep": t(batch, dtype=torch.float32),
        "encoder_attention_mask": t(batch, text_tokens, dtype=torch.bool),
        "return_dict": False,
    }

    def run():
        rope = module.rope
        rope._create_rope = _rope_without_autocast
        try:
            with AllValid():
                return module(**kwargs)
        finally:
            del rope._create_rope  # the class's own again

    return run, [v for v in kwargs.values() if isinstance(v, torch.Tensor)]
