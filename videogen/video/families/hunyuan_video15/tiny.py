"""Tiny HunyuanVideo 1.5 pipelines (t2v: HunyuanVideo15Pipeline, i2v: HunyuanVideo15ImageToVideoPipeline).

The real wiring at tiny widths (diffusers' own fast test for the pipeline builds the same kinds of components): a
Qwen2.5-VL text model (hidden 16, 2 layers: the pipeline reads ``hidden_states[-3]``) behind the offline chat
tokenizer, a T5 encoder (d_model 32) with the byte-level ByT5 tokenizer for quoted (glyph) text, a transformer of
2 heads x 8 and one dual-stream layer, a HunyuanVideo 1.5 VAE with the real model's /16 spatial and /4 temporal
compression (4 latent channels), a classifier-free guider at the family's default 6.0, and for i2v a SigLIP vision
tower (hidden 8, 32 px in 8 px patches: 16 image tokens) with its processor.

The transformer's ``target_size`` is 32: the tiny image-to-video model generates about 32x32 pixels (the resolution
bucket nearest the requested aspect ratio, ``buckets.py``), as a real 480p checkpoint generates about 640x640.
The ByT5 projection inside the transformer keeps its fixed 2048-wide hidden layer (4.2 M of the ~4.5 M parameters).
"""

from __future__ import annotations

from videogen.video.adapter import diffusers_pipeline_class
from videogen.video.families.hunyuan_video15.spec import SPEC
from videogen.video.families.hunyuan_video15.tokenizers import byt5_tokenizer, qwen_chat_tokenizer
from videogen.video.spec import IMAGE_TO_VIDEO
from videogen.video.tiny.image_encoders import siglip_vision
from videogen.video.tiny.text_encoders import T5_DIM, t5_encoder

TINY_CALL_KWARGS: dict[str, dict] = {}

TARGET_SIZE = 32
_QWEN_HIDDEN = 16
_LATENT_CHANNELS = 4
_SIGLIP_HIDDEN = 8
_VISION_SIZE, _VISION_PATCH = 32, 8
_BYT5_VOCAB = 384  # ByT5Tokenizer: 256 bytes, 3 specials and 125 extra ids

# What the tiny model says about itself beyond its family (``ModelMeta.family_facts``): the resolution its
# image-to-video generates at.
TINY_FAMILY_FACTS = {"target_size": TARGET_SIZE}


def _qwen(tokenizer):
    from transformers import Qwen2_5_VLTextConfig, Qwen2_5_VLTextModel

    config = Qwen2_5_VLTextConfig(
        vocab_size=len(tokenizer),
        hidden_size=_QWEN_HIDDEN,
        intermediate_size=16,
        num_hidden_layers=2,
        num_attention_heads=2,
        num_key_value_heads=2,
        # multimodal RoPE over (time, height, width) sections of the 8-wide head, as diffusers' test sets it
        rope_scaling={"mrope_section": [1, 1, 2], "rope_type": "default", "type": "default"},
        rope_theta=1_000_000.0,
        bos_token_id=None,  # the chat starts with <|im_start|>, no bos
        eos_token_id=tokenizer.eos_token_id,
        pad_token_id=tokenizer.pad_token_id,
    )
    return Qwen2_5_VLTextModel(config).eval()


def _components(task: str) -> dict:
    from diffusers import (
        AutoencoderKLHunyuanVideo15,
        ClassifierFreeGuidance,
        FlowMatchEulerDiscreteScheduler,
        HunyuanVideo15Transformer3DModel,
    )

    i2v = task == IMAGE_TO_VIDEO
    transformer = HunyuanVideo15Transformer3DModel(
        in_channels=2 * _LATENT_CHANNELS + 1,  # noise + conditioning latents + mask
        out_channels=_LATENT_CHANNELS,
        num_attention_heads=2,
        attention_head_dim=8,
        num_layers=1,
        num_refiner_layers=1,
        mlp_ratio=2.0,
        patch_size=1,
        patch_size_t=1,
        text_embed_dim=_QWEN_HIDDEN,
        text_embed_2_dim=T5_DIM,
        image_embed_dim=_SIGLIP_HIDDEN,
        rope_axes_dim=(2, 2, 4),
        target_size=TARGET_SIZE,
        task_type="i2v" if i2v else "t2v",
    )
    vae = AutoencoderKLHunyuanVideo15(
        latent_channels=_LATENT_CHANNELS,
        block_out_channels=(8, 8, 8, 8, 8),  # four 2x downsamplings: /16, the last two also in time: /4
        layers_per_block=1,
        spatial_compression_ratio=16,
        temporal_compression_ratio=4,
    )
    tokenizer = qwen_chat_tokenizer()
    components = {
        "transformer": transformer.eval(),
        "vae": vae.eval(),
        # 480p's flow shift (the converter's SCHEDULER_CONFIGS)
        "scheduler": FlowMatchEulerDiscreteScheduler(shift=5.0),
        "text_encoder": _qwen(tokenizer),
        "tokenizer": tokenizer,
        "text_encoder_2": t5_encoder(vocab_size=_BYT5_VOCAB),
        "tokenizer_2": byt5_tokenizer(),
        "guider": ClassifierFreeGuidance(guidance_scale=SPEC.defaults.guidance_scale),
    }
    if i2v:
        components.update(siglip_vision(_SIGLIP_HIDDEN, _VISION_SIZE, _VISION_PATCH))
    return components


def build_pipeline(task: str):
    return diffusers_pipeline_class(SPEC, task)(**_components(task))
