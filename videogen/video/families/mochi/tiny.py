"""Tiny Mochi 1 (``MochiPipeline``): the real wiring at tiny widths, built offline.

A one-layer T5 encoder (d_model 32) behind the offline T5 tokenizer; an AsymmDiT of 2 heads x 8 in the visual stream
and a 16-wide text stream, two blocks (the last is the real model's context-pre-only block, a First-Block Cache needs
a head and a tail); the Mochi VAE with the real model's /8 spatial and /6 temporal expansions and its 12 latent
channels (the pipeline reshapes its latent statistics to 12), 32 wide (its group norms fix 32 groups) and one resnet
block, the decoder's first, at the latent size: its up blocks still expand depth to space and time, but a resnet at
the full size costs seconds a decode on two cores. The scheduler inverts the pipeline's sigmas as the checkpoint's
does (``presets.py``).
"""

from __future__ import annotations

from videogen.video.adapter import diffusers_pipeline_class
from videogen.video.families.mochi.spec import SPEC
from videogen.video.tiny.text_encoders import T5_DIM, t5_encoder

TINY_CALL_KWARGS: dict[str, dict] = {}

_LATENT_CHANNELS = 12  # MochiPipeline views the VAE's latents_mean/std as 12 channels
_VAE_WIDTH = 32  # MochiChunkedGroupNorm3D: 32 groups


def build_pipeline(task: str):
    from diffusers import AutoencoderKLMochi, FlowMatchEulerDiscreteScheduler, MochiTransformer3DModel

    from videogen.video.tiny.tokenizers import t5_tokenizer

    pipeline_class = diffusers_pipeline_class(SPEC, task)
    transformer = MochiTransformer3DModel(
        patch_size=2,
        num_attention_heads=2,
        attention_head_dim=8,
        num_layers=2,
        pooled_projection_dim=16,
        in_channels=_LATENT_CHANNELS,
        text_embed_dim=T5_DIM,
        time_embed_dim=4,
        max_sequence_length=16,
    )
    vae = AutoencoderKLMochi(
        latent_channels=_LATENT_CHANNELS,
        out_channels=3,
        encoder_block_out_channels=(_VAE_WIDTH,) * 4,
        decoder_block_out_channels=(_VAE_WIDTH,) * 4,
        # the last entry is the decoder's block_in (latent size): the one resnet block; the others are at larger sizes
        layers_per_block=(0, 0, 0, 0, 1),
        temporal_expansions=(1, 2, 3),
        spatial_expansions=(2, 2, 2),
    )
    return pipeline_class(
        scheduler=FlowMatchEulerDiscreteScheduler(invert_sigmas=True),
        vae=vae.eval(),
        text_encoder=t5_encoder(),
        tokenizer=t5_tokenizer(),
        transformer=transformer.eval(),
    )
