"""Tiny Kandinsky 5 pipelines (t2v: Kandinsky5T2VPipeline, i2v: Kandinsky5I2VPipeline).

The real wiring at tiny widths: a Qwen2.5-VL model (``Qwen2_5_VLForConditionalGeneration``, as the checkpoints ship
it: text hidden 16, 2 layers, with a 1-layer vision tower the pipelines never call) behind the offline template
tokenizer (``tokenizers.py``), a CLIP text encoder (hidden 8) for the pooled embedding, a Kandinsky 5 DiT of 2 heads x
8 (axes 2 + 2 + 4), one text block and two visual blocks with ``visual_cond`` (image-to-video's mask and first-frame
channels; the real Lite and Pro configs set it for both tasks), the HunyuanVideo VAE at the real /8 spatial and /4
temporal compression (HunyuanVideo's tiny one, imported), and the flow-matching scheduler at the configs' shift.
"""

from __future__ import annotations

from videogen.video.adapter import diffusers_pipeline_class
from videogen.video.families.kandinsky5.spec import SPEC
from videogen.video.families.kandinsky5.tokenizers import qwen_tokenizer
from videogen.video.tiny.text_encoders import clip_text_encoder
from videogen.video.tiny.tokenizers import clip_tokenizer

TINY_CALL_KWARGS: dict[str, dict] = {}

_QWEN_HIDDEN = 16
_CLIP_HIDDEN = 8
_LATENT_CHANNELS = 16  # the HunyuanVideo VAE's (the DiT's in_visual_dim)
FLOW_SHIFT = 5.0  # the 5 s SFT checkpoints' scheduler shift (diffusers' converted scheduler_config)


def _qwen(tokenizer):
    from transformers import Qwen2_5_VLConfig, Qwen2_5_VLForConditionalGeneration

    specials = len(tokenizer)  # the vision markers sit past every word id: never produced by a prompt
    config = Qwen2_5_VLConfig(
        text_config={
            "vocab_size": specials + 4,
            "hidden_size": _QWEN_HIDDEN,
            "intermediate_size": 32,
            "num_hidden_layers": 2,
            "num_attention_heads": 2,
            "num_key_value_heads": 2,
            # multimodal RoPE over (time, height, width) sections of the 8-wide head
            "rope_scaling": {"mrope_section": [1, 1, 2], "rope_type": "default", "type": "default"},
            "rope_theta": 1_000_000.0,
            "bos_token_id": None,
            "eos_token_id": tokenizer.eos_token_id,
            "pad_token_id": tokenizer.pad_token_id,
        },
        vision_config={
            "depth": 1,
            "hidden_size": 16,
            "intermediate_size": 16,
            "num_heads": 2,
            "out_hidden_size": _QWEN_HIDDEN,
            "fullatt_block_indexes": [0],
        },
        vision_start_token_id=specials,
        vision_end_token_id=specials + 1,
        image_token_id=specials + 2,
        video_token_id=specials + 3,
    )
    return Qwen2_5_VLForConditionalGeneration(config).eval()


def _vae():
    from diffusers import AutoencoderKLHunyuanVideo

    # HunyuanVideo's tiny VAE at Kandinsky's 16 latent channels (the real one's)
    return AutoencoderKLHunyuanVideo(
        latent_channels=_LATENT_CHANNELS,
        down_block_types=("HunyuanVideoDownBlock3D",) * 4,
        up_block_types=("HunyuanVideoUpBlock3D",) * 4,
        block_out_channels=(8, 8, 8, 8),
        layers_per_block=1,
        norm_num_groups=4,
        scaling_factor=0.476986,
        spatial_compression_ratio=8,
        temporal_compression_ratio=4,
        mid_block_add_attention=True,
    ).eval()


def _transformer():
    from diffusers import Kandinsky5Transformer3DModel

    return Kandinsky5Transformer3DModel(
        in_visual_dim=_LATENT_CHANNELS,
        out_visual_dim=_LATENT_CHANNELS,
        in_text_dim=_QWEN_HIDDEN,
        in_text_dim2=_CLIP_HIDDEN,
        time_dim=16,
        patch_size=(1, 2, 2),
        model_dim=16,
        ff_dim=32,
        num_text_blocks=1,
        num_visual_blocks=2,
        axes_dims=(2, 2, 4),  # head dim 8: 2 heads
        visual_cond=True,
    ).eval()


def build_pipeline(task: str):
    from diffusers import FlowMatchEulerDiscreteScheduler

    tokenizer = qwen_tokenizer()
    return diffusers_pipeline_class(SPEC, task)(
        transformer=_transformer(),
        vae=_vae(),
        text_encoder=_qwen(tokenizer),
        tokenizer=tokenizer,
        text_encoder_2=clip_text_encoder(hidden=_CLIP_HIDDEN),
        tokenizer_2=clip_tokenizer(),
        scheduler=FlowMatchEulerDiscreteScheduler(shift=FLOW_SHIFT),
    )
