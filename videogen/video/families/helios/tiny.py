"""Tiny Helios (``HeliosPipeline``): Wan's tiny UMT5 text encoder, tokenizer and VAE (imported from the Wan family, not
copied) with a one-block ``HeliosTransformer3DModel`` of the tiny Wan transformer's width (2 heads x 12, its RoPE
split 4 + 4 + 4 over time, height and width) and the multi-term memory patches, history timesteps at zero and the
guidance cross-attention of the published model. The scheduler is Helios-Base's: ``HeliosScheduler`` in one stage with
dynamic shifting (diffusers' own tests build it so).

Its chunks are 3 latent frames (9 frames) where the real checkpoints' are 9 (33 frames): the tiny model's default 9
frames are one chunk and 17 are two, so every test sees whole chunks and the cut of the last one at a few frames' cost
(the VAE decodes each chunk on its own).
"""

from __future__ import annotations

from videogen.video.adapter import diffusers_pipeline_class
from videogen.video.families.helios.chunks import CHUNK_KWARG
from videogen.video.families.helios.spec import SPEC
from videogen.video.families.wan.tiny import _vae
from videogen.video.tiny.text_encoders import T5_DIM, t5_encoder

TINY_CHUNK_LATENT_FRAMES = 3
TINY_CALL_KWARGS: dict[str, dict] = {task: {CHUNK_KWARG: TINY_CHUNK_LATENT_FRAMES} for task in SPEC.tasks}


def transformer(num_layers: int = 1):
    from diffusers import HeliosTransformer3DModel

    return HeliosTransformer3DModel(
        patch_size=(1, 2, 2),
        num_attention_heads=2,
        attention_head_dim=12,
        in_channels=16,
        out_channels=16,
        text_dim=T5_DIM,
        freq_dim=32,
        ffn_dim=32,
        num_layers=num_layers,
        rope_dim=(4, 4, 4),
    )


def build_pipeline(task: str):
    """The same weights for every task (built in the same order from the caller's seed)."""
    from diffusers import HeliosScheduler

    from videogen.video.tiny.tokenizers import t5_tokenizer

    pipeline_class = diffusers_pipeline_class(SPEC, task)
    vae = _vae()
    return pipeline_class(
        vae=vae,
        transformer=transformer().eval(),
        text_encoder=t5_encoder(umt5=True),
        tokenizer=t5_tokenizer(),
        scheduler=HeliosScheduler(stages=1, stage_range=[0, 1], use_dynamic_shifting=True),
    )
