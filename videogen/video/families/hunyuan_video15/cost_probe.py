"""The cost model's probe of ``HunyuanVideo15Transformer3DModel``: one forward on the meta device, as the pipelines
call it each step (``CostFacts.denoiser_probes``).

Its forward packs the condition sequence by boolean masks: the valid image, ByT5 and Qwen tokens first, then the
masked ones (zeroed), ``x[mask]`` and ``x[~mask]`` of each, so the sequence is always all of them. A mask's count of
valid tokens is data the meta device does not have; FLOPs do not depend on it (attention runs over the whole packed
sequence, masked or not), so ``MetaMasks`` answers every mask as all valid and its complement as empty, which keeps
the packed length exact. It also answers the forward's ``torch.all(image_embeds == 0)`` (text-to-video's zero image
tokens) with False; that only scales the image tokens, which costs no counted FLOPs.
"""

from __future__ import annotations

from typing import Any

import torch
from torch.utils._python_dispatch import TorchDispatchMode

from videogen.video.cost.meta_tensors import meta_tensors
from videogen.video.families.hunyuan_video15.sequence import BYT5_TOKENS, VISION_TOKENS

_META = torch.device("meta")
_ATEN = torch.ops.aten
_NEGATIONS = (_ATEN.bitwise_not.default, _ATEN.logical_not.default)


class MetaMasks(TorchDispatchMode):
    """Boolean masks on the meta device: every mask all valid, every negated one empty."""

    def __init__(self) -> None:
        super().__init__()
        self._negated: dict[int, torch.Tensor] = {}  # id -> tensor, held so the id is never reused

    def __torch_dispatch__(self, func, types, args=(), kwargs=None):
        kwargs = kwargs or {}
        if func is _ATEN._local_scalar_dense.default and args[0].is_meta:
            return False
        if func is _ATEN.index.Tensor and args[0].is_meta:
            source, indices = args[0], args[1]
            if len(indices) == 1 and indices[0] is not None and indices[0].dtype == torch.bool:
                mask = indices[0]
                kept = 0 if id(mask) in self._negated else mask.numel()
                return torch.empty((kept, *source.shape[mask.dim() :]), dtype=source.dtype, device=_META)
        out = func(*args, **kwargs)
        if func in _NEGATIONS and isinstance(out, torch.Tensor):
            self._negated[id(out)] = out
        return out


def denoiser_call(
    module: torch.nn.Module,
    *,
    batch: int,
    frames: int,
    height: int,
    width: int,
    text_tokens: int,
    image_tokens: int,
    per_token_timestep: bool = False,
):
    """One forward on latents of ``frames x height x width`` (latent units): ``text_tokens`` are Qwen's and ByT5's
    (``cost.COST.text``), ``image_tokens`` SigLIP's (image-to-video; text-to-video passes 729 zero tokens). Its
    timestep is one per video (``per_token_timestep`` is never set for this family)."""
    del per_token_timestep
    cfg = module.config
    t = meta_tensors(module)

    b, qwen = batch, text_tokens - BYT5_TOKENS
    kwargs: dict[str, Any] = {
        "hidden_states": t(b, cfg.in_channels, frames, height, width),
        "timestep": t(b),
        "encoder_hidden_states": t(b, qwen, cfg.text_embed_dim),
        "encoder_attention_mask": t(b, qwen),
        "encoder_hidden_states_2": t(b, BYT5_TOKENS, cfg.text_embed_2_dim),
        "encoder_attention_mask_2": t(b, BYT5_TOKENS),
        "image_embeds": t(b, image_tokens or VISION_TOKENS, cfg.image_embed_dim),
        "return_dict": False,
    }
    if cfg.use_meanflow:  # the step-distilled model also embeds the next step's timestep
        kwargs["timestep_r"] = t(b)

    def run():
        with MetaMasks():
            return module(**kwargs)

    return run, [v for v in kwargs.values() if isinstance(v, torch.Tensor)]
