"""Tiny EasyAnimate pipelines (t2v: EasyAnimatePipeline; i2v and first-last-frame: EasyAnimateInpaintPipeline).

The real wiring at tiny widths, as diffusers' own tests build it, offline: a Qwen2-VL model
(``Qwen2VLForConditionalGeneration``, as the checkpoints ship it: text hidden 16, 2 layers, a 1-block vision tower the
pipelines never call; they read ``hidden_states[-2]``) behind the offline chat tokenizer (``tokenizers.py``); an
EasyAnimate DiT of 2 heads x 16 (its 3D RoPE splits a head 4 + 6 + 6) with two blocks, the first MMDiT (its own text
projections and FFN) and the second shared, as the 7B's 18 + 18; the text RMSNorm before the projection
(``add_norm_text_encoder``, V5.1's); the Magvit VAE at the real /8 spatial and /4 temporal compression and 16 latent
channels, 8 wide; the flow-matching scheduler as the checkpoints configure it. The InP DiT takes the noise, the mask
and the masked clip's latents (16 + 1 + 16 channels), as the InP checkpoints do.
"""

from __future__ import annotations

from videogen.video.adapter import diffusers_pipeline_class
from videogen.video.families.easyanimate.spec import INPAINT_PIPELINE, SPEC
from videogen.video.families.easyanimate.tokenizers import qwen_chat_tokenizer

TINY_CALL_KWARGS: dict[str, dict] = {}

_QWEN_HIDDEN = 16
_LATENT_CHANNELS = 16  # the Magvit VAE's (the DiT's out_channels)
# EasyAnimateV5.1-*-InP's scheduler_config.json (the pipelines pass mu=1: a shift of e)
SCHEDULER_CONFIG = {"shift": 3.0, "use_dynamic_shifting": True, "base_shift": 0.5, "max_shift": 1.15}
# The checkpoints' vae/config.json carries it; AutoencoderKLMagvit's constructor does not take it, and from_pretrained
# registers it. The InP pipeline reads it (``resize_mask``: the first frame's mask resized alone, as the causal VAE
# encodes the first frame alone).
VAE_REGISTERED = {"cache_mag_vae": True}


def _qwen(tokenizer):
    from transformers import Qwen2VLConfig, Qwen2VLForConditionalGeneration

    specials = len(tokenizer)  # the vision markers sit past every word id: never produced by a prompt
    config = Qwen2VLConfig(
        text_config={
            "vocab_size": specials + 4,
            "hidden_size": _QWEN_HIDDEN,
            "intermediate_size": 32,
            "num_hidden_layers": 2,
            "num_attention_heads": 2,
            "num_key_value_heads": 2,
            # multimodal RoPE over (time, height, width) sections of the 8-wide head
            "rope_scaling": {"type": "mrope", "mrope_section": [1, 1, 2]},
            "rope_theta": 1_000_000.0,
            "bos_token_id": None,
            "eos_token_id": tokenizer.eos_token_id,
            "pad_token_id": tokenizer.pad_token_id,
        },
        vision_config={"depth": 1, "embed_dim": 16, "hidden_size": _QWEN_HIDDEN, "num_heads": 2, "mlp_ratio": 1},
        vision_start_token_id=specials,
        vision_end_token_id=specials + 1,
        image_token_id=specials + 2,
        video_token_id=specials + 3,
    )
    return Qwen2VLForConditionalGeneration(config).eval()


def _vae():
    from diffusers import AutoencoderKLMagvit

    vae = AutoencoderKLMagvit(
        latent_channels=_LATENT_CHANNELS,
        block_out_channels=(8, 8, 8, 8),
        layers_per_block=1,
        norm_num_groups=4,
        spatial_group_norm=True,
    ).eval()
    vae.register_to_config(**VAE_REGISTERED)
    return vae


def _transformer(inpaint: bool):
    from diffusers import EasyAnimateTransformer3DModel

    return EasyAnimateTransformer3DModel(
        num_attention_heads=2,
        attention_head_dim=16,
        in_channels=2 * _LATENT_CHANNELS + 1 if inpaint else _LATENT_CHANNELS,
        out_channels=_LATENT_CHANNELS,
        patch_size=2,
        time_embed_dim=16,
        text_embed_dim=_QWEN_HIDDEN,
        num_layers=2,
        mmdit_layers=1,
        add_norm_text_encoder=True,
    ).eval()


def build_pipeline(task: str):
    from diffusers import FlowMatchEulerDiscreteScheduler

    pipeline_class = diffusers_pipeline_class(SPEC, task)
    tokenizer = qwen_chat_tokenizer()
    return pipeline_class(
        transformer=_transformer(inpaint=pipeline_class.__name__ == INPAINT_PIPELINE),
        vae=_vae(),
        text_encoder=_qwen(tokenizer),
        tokenizer=tokenizer,
        scheduler=FlowMatchEulerDiscreteScheduler(**SCHEDULER_CONFIG),
    )
