"""Tiny Wan VACE: ``WanVACEPipeline`` around a tiny ``WanVACETransformer3DModel``, with the tiny Wan VAE, UMT5
and scheduler that ``tiny.py`` builds (handed in, so this module needs nothing from it).

The transformer is the tiny Wan DiT's shape (2 heads of 12, ffn 32) with four blocks, VACE blocks beside
blocks 0 and 2: every other layer, the tail block not a VACE layer, like VACE 1.3B's ``vace_layers`` (0, 2, ...,
28 of 30). Its control stream takes ``vace_in_channels`` = 16 (kept-video latents) + 16 (regenerated-video latents)
+ 64 (the mask folded 8x8: the tiny VAE compresses 8x, as the real one): 96, the published value. One model per
task directory (the tiny cache builds per family and task); the three are the same weights, from the fixed seed.
"""

from __future__ import annotations

from videogen.video.adapter import diffusers_pipeline_class
from videogen.video.families.wan.spec import SPEC
from videogen.video.families.wan.vace import VACE_TASKS
from videogen.video.tiny.text_encoders import T5_DIM

VACE_LAYERS = (0, 2)
NUM_LAYERS = 4


def _vace_in_channels(vae) -> int:
    """The control stream's channels: kept + regenerated latents, and the mask folded to the latent grid."""
    spatial = 2 ** len(vae.temperal_downsample)
    return 2 * vae.config.z_dim + spatial * spatial


def vace_transformer(vace_in_channels: int = 96):
    from diffusers import WanVACETransformer3DModel

    return WanVACETransformer3DModel(
        patch_size=(1, 2, 2),
        num_attention_heads=2,
        attention_head_dim=12,
        in_channels=16,
        out_channels=16,
        text_dim=T5_DIM,
        freq_dim=32,
        ffn_dim=32,
        num_layers=NUM_LAYERS,
        cross_attn_norm=True,
        qk_norm="rms_norm_across_heads",
        rope_max_seq_len=1024,  # positions per axis: 161 frames are 41 latent frames, plus up to 4 references
        vace_layers=list(VACE_LAYERS),
        vace_in_channels=vace_in_channels,
    )


def build_vace(task: str, *, vae, **text_components):
    """``WanVACEPipeline`` for one of the VACE tasks; ``vae`` and the text components (tokenizer, text encoder,
    scheduler) are tiny Wan's, built by the caller first (the same seed gives the same weights)."""
    if task not in VACE_TASKS:
        raise ValueError(f"the tiny VACE model serves {', '.join(VACE_TASKS)}, not {task}")
    pipeline_class = diffusers_pipeline_class(SPEC, task)
    transformer = vace_transformer(_vace_in_channels(vae))
    return pipeline_class(vae=vae, transformer=transformer, **text_components)


__all__ = ["NUM_LAYERS", "VACE_LAYERS", "build_vace", "vace_transformer"]
