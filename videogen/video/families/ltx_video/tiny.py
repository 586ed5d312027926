"""Tiny LTX-Video pipelines (t2v: LTXPipeline, i2v: LTXImageToVideoPipeline, keyframes and video-to-video:
LTXConditionPipeline, which takes the same components: one set of weights per seed serves every task).

A T5 encoder (d_model 32, 1 layer), a 1-layer LTX transformer (4 heads x 8) and an
8-channel LTX VAE (spatial /8 and temporal /8 compression like the real one, so
frame and size rules behave as in the real model). Beside the pipeline, every task's directory holds a tiny
``latent_upsampler/`` (the layout of Lightricks' spatial upscaler at 8 channels: ``TINY_EXTRA_MODELS``), so
``--model tiny`` takes ``latent_upscale``.
"""

from __future__ import annotations

from videogen.video.adapter import diffusers_pipeline_class
from videogen.video.families.ltx_video.spec import SPEC
from videogen.video.model_meta import LATENT_UPSAMPLER_DIR
from videogen.video.spec import IMAGE_TO_VIDEO, KEYFRAMES, TEXT_TO_VIDEO, VIDEO_TO_VIDEO
from videogen.video.tiny.text_encoders import T5_DIM, t5_encoder
from videogen.video.tiny.tokenizers import t5_tokenizer

_VOCAB = 128

# Tiny-only: the T5 tokenizer's 128-token vocab makes long prompts pointless; keep sequences short.
TINY_CALL_KWARGS = {
    task: {"max_sequence_length": 16} for task in (TEXT_TO_VIDEO, IMAGE_TO_VIDEO, VIDEO_TO_VIDEO, KEYFRAMES)
}


def _components() -> dict:
    from diffusers import AutoencoderKLLTXVideo, FlowMatchEulerDiscreteScheduler, LTXVideoTransformer3DModel

    transformer = LTXVideoTransformer3DModel(
        in_channels=8,
        out_channels=8,
        patch_size=1,
        patch_size_t=1,
        num_attention_heads=4,
        attention_head_dim=8,
        cross_attention_dim=32,
        num_layers=2,  # First-Block Cache needs a head and a tail block
        caption_channels=T5_DIM,
    )
    vae = AutoencoderKLLTXVideo(
        in_channels=3,
        out_channels=3,
        latent_channels=8,
        block_out_channels=(8, 8, 8, 8),
        decoder_block_out_channels=(8, 8, 8, 8),
        layers_per_block=(1, 1, 1, 1, 1),
        decoder_layers_per_block=(1, 1, 1, 1, 1),
        spatio_temporal_scaling=(True, True, False, False),
        decoder_spatio_temporal_scaling=(True, True, False, False),
        decoder_inject_noise=(False, False, False, False, False),
        upsample_residual=(False, False, False, False),
        upsample_factor=(1, 1, 1, 1),
        timestep_conditioning=False,
        patch_size=1,
        patch_size_t=1,
        encoder_causal=True,
        decoder_causal=False,
    )
    vae.use_framewise_encoding = False
    vae.use_framewise_decoding = False
    text_encoder = t5_encoder(vocab_size=_VOCAB)
    return {
        "scheduler": FlowMatchEulerDiscreteScheduler(),
        "vae": vae,
        "text_encoder": text_encoder,
        "tokenizer": t5_tokenizer(_VOCAB),
        "transformer": transformer,
    }


def build_pipeline(task: str):
    return diffusers_pipeline_class(SPEC, task)(**_components())


def build_latent_upsampler():
    """A tiny ``LTXLatentUpsamplerModel`` for the tiny VAE's 8 latent channels: 3D convolutions and a 2x spatial
    pixel shuffle like the published one, one block per stage at 32 channels (its GroupNorms take groups of 32)."""
    from diffusers.pipelines.ltx.modeling_latent_upsampler import LTXLatentUpsamplerModel

    return LTXLatentUpsamplerModel(in_channels=8, mid_channels=32, num_blocks_per_stage=1, dims=3)


# Saved in each tiny LTX directory beside the pipeline (``tiny.cache``), by folder.
TINY_EXTRA_MODELS = {LATENT_UPSAMPLER_DIR: build_latent_upsampler}
