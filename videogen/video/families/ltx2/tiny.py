"""Tiny LTX-2 pipelines (t2v: LTX2Pipeline, i2v: LTX2ImageToVideoPipeline, keyframes: LTX2ConditionPipeline: the same
components, one set of weights).

The real wiring at tiny widths (diffusers' own fast tests build the same kinds of components): a Gemma-3 text model
(hidden 16, 2 layers, with the SigLIP tower ``Gemma3ForConditionalGeneration`` carries) behind the offline Gemma
tokenizer, its every layer's states stacked into the text connectors (2 heads x 8, 8 learnable registers, one block
per stream), a dual-stream transformer (video 2 heads x 8, audio 2 heads x 4, 2 blocks with their audio-video
cross-attention), a video VAE of /8 spatial and /8 temporal compression (as the tiny LTX-Video's, so 32x32 has
latents to denoise; the pipelines refuse sides off multiples of 32 whatever the VAE), an audio VAE with the real /4
time and mel compression over 8 mel bins, a vocoder whose upsampling (8 x 10) makes exactly its declared 8 kHz from
the VAE's 100 mel frames a second (the soundtrack lasts as long as the video), and the converter's scheduler.
"""

from __future__ import annotations

from videogen.video.adapter import diffusers_pipeline_class
from videogen.video.families.ltx2.spec import SCHEDULER_CONFIG, SPEC
from videogen.video.model_meta import LATENT_UPSAMPLER_DIR
from videogen.video.spec import IMAGE_TO_VIDEO, KEYFRAMES, TEXT_TO_VIDEO
from videogen.video.tiny.tokenizers import gemma_tokenizer

_VOCAB = 128
_TEXT_HIDDEN, _TEXT_LAYERS = 16, 2
_LATENT_CHANNELS = 8
_COMPRESSION = 8  # the tiny video VAE's, in space and time
_MEL_BINS, _AUDIO_LATENT_CHANNELS = 8, 2
_AUDIO_RATE = 8000  # 16000 / 160 mel frames a second x the vocoder's 80x upsampling

# Tiny-only: the offline tokenizer's 128 words make the real 1024-token window pointless; 16 tokens are a multiple of
# the connectors' 8 registers, as 1024 is of the real 128. (image_crf 0: the adapter compresses the first frame itself.)
TINY_CALL_KWARGS = {
    TEXT_TO_VIDEO: {"max_sequence_length": 16},
    IMAGE_TO_VIDEO: {"max_sequence_length": 16, "image_crf": 0},
    KEYFRAMES: {"max_sequence_length": 16},
}


def _gemma3(tokenizer):
    from transformers import Gemma3Config, Gemma3ForConditionalGeneration

    specials = len(tokenizer)  # the image markers sit past every word id: never produced by a prompt
    config = Gemma3Config(
        text_config={
            "vocab_size": specials + 3,
            "hidden_size": _TEXT_HIDDEN,
            "intermediate_size": 32,
            "num_hidden_layers": _TEXT_LAYERS,
            "num_attention_heads": 2,
            "num_key_value_heads": 1,
            "head_dim": 8,
            "max_position_embeddings": 512,
            "sliding_window": 64,
            "pad_token_id": tokenizer.pad_token_id,
            "eos_token_id": tokenizer.eos_token_id,
            "bos_token_id": tokenizer.bos_token_id,
        },
        vision_config={
            "hidden_size": 8,
            "intermediate_size": 16,
            "num_hidden_layers": 1,
            "num_attention_heads": 2,
            "image_size": 16,
            "patch_size": 4,
        },
        mm_tokens_per_image=4,
        boi_token_index=specials,
        eoi_token_index=specials + 1,
        image_token_index=specials + 2,
    )
    return Gemma3ForConditionalGeneration(config).eval()


def _components() -> dict:
    from diffusers import (
        AutoencoderKLLTX2Audio,
        AutoencoderKLLTX2Video,
        FlowMatchEulerDiscreteScheduler,
        LTX2VideoTransformer3DModel,
    )
    from diffusers.pipelines.ltx2 import LTX2TextConnectors
    from diffusers.pipelines.ltx2.vocoder import LTX2Vocoder

    tokenizer = gemma_tokenizer(_VOCAB)
    transformer = LTX2VideoTransformer3DModel(
        in_channels=_LATENT_CHANNELS,
        out_channels=_LATENT_CHANNELS,
        num_attention_heads=2,
        attention_head_dim=8,
        cross_attention_dim=16,
        vae_scale_factors=(_COMPRESSION, _COMPRESSION, _COMPRESSION),
        audio_in_channels=_AUDIO_LATENT_CHANNELS * _MEL_BINS // 4,  # latent channels x latent mel bins (/4)
        audio_out_channels=_AUDIO_LATENT_CHANNELS * _MEL_BINS // 4,
        audio_num_attention_heads=2,
        audio_attention_head_dim=4,
        audio_cross_attention_dim=8,
        num_layers=2,
        caption_channels=_TEXT_HIDDEN,
        rope_type="split",  # LTX-2.0's (the converter's)
    )
    connectors = LTX2TextConnectors(
        caption_channels=_TEXT_HIDDEN,
        text_proj_in_factor=_TEXT_LAYERS + 1,  # every hidden state: the embeddings and each layer's
        video_connector_num_attention_heads=2,
        video_connector_attention_head_dim=8,
        video_connector_num_layers=1,
        video_connector_num_learnable_registers=8,
        audio_connector_num_attention_heads=2,
        audio_connector_attention_head_dim=8,
        audio_connector_num_layers=1,
        audio_connector_num_learnable_registers=8,
        connector_rope_base_seq_len=32,
        rope_type="split",
    )
    vae = AutoencoderKLLTX2Video(
        latent_channels=_LATENT_CHANNELS,
        block_out_channels=(8, 8, 8, 8),
        decoder_block_out_channels=(8, 8, 8),
        layers_per_block=(1, 1, 1, 1, 1),
        decoder_layers_per_block=(1, 1, 1, 1),
        decoder_inject_noise=(False, False, False, False),
        upsample_residual=(False, False, False),
        upsample_factor=(1, 1, 1),
        patch_size=1,
        decoder_causal=False,
        spatial_compression_ratio=_COMPRESSION,
        temporal_compression_ratio=_COMPRESSION,
    )
    audio_vae = AutoencoderKLLTX2Audio(
        base_channels=4,
        ch_mult=(1, 2, 4),  # two 2x downsamplings: the real /4 in time and in mel bins
        num_res_blocks=1,
        resolution=32,
        latent_channels=_AUDIO_LATENT_CHANNELS,
        mel_bins=_MEL_BINS,
    )
    vocoder = LTX2Vocoder(
        in_channels=audio_vae.config.output_channels * _MEL_BINS,
        hidden_channels=16,
        upsample_kernel_sizes=[16, 20],
        upsample_factors=[8, 10],
        resnet_kernel_sizes=[3],
        resnet_dilations=[[1, 3, 5]],
        output_sampling_rate=_AUDIO_RATE,
    )
    return {
        "scheduler": FlowMatchEulerDiscreteScheduler(**SCHEDULER_CONFIG),
        "vae": vae.eval(),
        "audio_vae": audio_vae.eval(),
        "text_encoder": _gemma3(tokenizer),
        "tokenizer": tokenizer,
        "connectors": connectors.eval(),
        "transformer": transformer.eval(),
        "vocoder": vocoder.eval(),
    }


def build_pipeline(task: str):
    return diffusers_pipeline_class(SPEC, task)(**_components())


def build_latent_upsampler():
    """A tiny ``LTX2LatentUpsamplerModel`` for the tiny VAE's 8 latent channels: the published layout (3D convolutions,
    the rational 2x spatial resampler) with one block per stage at 32 channels (its GroupNorms take groups of 32)."""
    from diffusers.pipelines.ltx2.latent_upsampler import LTX2LatentUpsamplerModel

    return LTX2LatentUpsamplerModel(in_channels=_LATENT_CHANNELS, mid_channels=32, num_blocks_per_stage=1)


# Saved in each tiny LTX-2 directory beside the pipeline (``tiny.cache``), by folder: latent_upscale's upsampler.
TINY_EXTRA_MODELS = {LATENT_UPSAMPLER_DIR: build_latent_upsampler}
