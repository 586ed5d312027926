"""Real-size EasyAnimate V5.1 presets (``arch:<id>``), from the checkpoints' configs (``alibaba-pai/EasyAnimateV5.1-*``:
``transformer/config.json``, ``vae/config.json``, ``scheduler/scheduler_config.json``) and EasyAnimate's
``config/easyanimate_video_v5.1_magvit_qwen.yaml``.

The DiT is 48 heads x 64 (3072 wide), patch 2, Qwen2-VL's 3584-wide hidden states in through an RMSNorm
(``add_norm_text_encoder``, V5.1's): the 7B has 36 blocks of which the first 18 are MMDiT (their own text
projections and FFN), the 12B 48 MMDiT blocks. Text-to-video checkpoints take the noise alone (16 channels); the InP
ones the mask and the kept frames' latents beside it (16 + 1 + 16), and serve text-to-video as well
(``SPEC.checkpoint_tasks``). The Magvit VAE (/8, /4 in time, 16 channels) and Qwen2-VL-7B-Instruct (whole: the
pipelines call ``Qwen2VLForConditionalGeneration``; its vision tower idles) are the same in all four.
"""

from __future__ import annotations

from videogen.video.arch.preset import ArchPreset, ComponentArch, SchedulerArch, TokenizerArch
from videogen.video.families.easyanimate.spec import INPAINT_PIPELINE, SPEC, T2V_PIPELINE
from videogen.video.families.easyanimate.tiny import SCHEDULER_CONFIG, VAE_REGISTERED
from videogen.video.spec import FIRST_LAST_FRAME, IMAGE_TO_VIDEO, TEXT_TO_VIDEO

_LATENT_CHANNELS = 16
# (blocks, of them MMDiT); the model cards' names: "7B", "12B" (the InP safetensors: 6,814,670,912 and
# 11,799,265,856 parameters, which these configs give exactly)
_SIZES = {"7b": (36, 18), "12b": (48, 48)}
_PUBLISHED = {"7b": 7_000_000_000, "12b": 12_000_000_000}

_VAE = ComponentArch(
    name="vae",
    library="diffusers",
    class_name="AutoencoderKLMagvit",
    config={
        "in_channels": 3,
        "out_channels": 3,
        "latent_channels": _LATENT_CHANNELS,
        "block_out_channels": [128, 256, 512, 512],
        "down_block_types": ["SpatialDownBlock3D", *["SpatialTemporalDownBlock3D"] * 3],
        "up_block_types": ["SpatialUpBlock3D", *["SpatialTemporalUpBlock3D"] * 3],
        "layers_per_block": 2,
        "act_fn": "silu",
        "norm_num_groups": 32,
        "scaling_factor": 0.7125,
        "spatial_group_norm": True,
    },
    registered_config=VAE_REGISTERED,
)
# Qwen/Qwen2-VL-7B-Instruct's config.json: the language model, its 32-block vision tower (merged 2x2 into 3584-wide
# tokens) and the LM head the pipelines' forward also runs.
_QWEN2_VL_7B = ComponentArch(
    name="text_encoder",
    library="transformers",
    class_name="Qwen2VLForConditionalGeneration",
    config_class="Qwen2VLConfig",
    config={
        "text_config": {
            "vocab_size": 152064,
            "hidden_size": 3584,
            "intermediate_size": 18944,
            "num_hidden_layers": 28,
            "num_attention_heads": 28,
            "num_key_value_heads": 4,
            "max_position_embeddings": 32768,
            "rms_norm_eps": 1e-6,
            "rope_theta": 1_000_000.0,
            "rope_scaling": {"type": "mrope", "mrope_section": [16, 24, 24]},
            "hidden_act": "silu",
            "tie_word_embeddings": False,
            "bos_token_id": 151643,
            "eos_token_id": 151645,
        },
        "vision_config": {
            "depth": 32,
            "embed_dim": 1280,
            "hidden_size": 3584,
            "mlp_ratio": 4,
            "num_heads": 16,
            "in_channels": 3,
            "patch_size": 14,
            "spatial_merge_size": 2,
            "temporal_patch_size": 2,
            "hidden_act": "quick_gelu",
        },
        "vision_start_token_id": 151652,
        "vision_end_token_id": 151653,
        "image_token_id": 151655,
        "video_token_id": 151656,
        "tie_word_embeddings": False,
    },
)
_TOKENIZERS = [
    TokenizerArch(
        name="tokenizer", kind="builder", builder="videogen.video.families.easyanimate.tokenizers:qwen_chat_tokenizer"
    )
]


def _transformer(size: str, inpaint: bool) -> ComponentArch:
    layers, mmdit = _SIZES[size]
    return ComponentArch(
        name="transformer",
        library="diffusers",
        class_name="EasyAnimateTransformer3DModel",
        config={
            "num_attention_heads": 48,
            "attention_head_dim": 64,
            "in_channels": 2 * _LATENT_CHANNELS + 1 if inpaint else _LATENT_CHANNELS,
            "out_channels": _LATENT_CHANNELS,
            "patch_size": 2,
            "sample_width": 90,
            "sample_height": 60,
            "activation_fn": "gelu-approximate",
            "timestep_activation_fn": "silu",
            "freq_shift": 0,
            "num_layers": layers,
            "mmdit_layers": mmdit,
            "dropout": 0.0,
            "time_embed_dim": 512,
            "add_norm_text_encoder": True,
            "text_embed_dim": 3584,
            "text_embed_dim_t5": None,
            "norm_eps": 1e-5,
            "norm_elementwise_affine": True,
            "flip_sin_to_cos": True,
            "time_position_encoding_type": "3d_rope",
            "after_norm": False,
            "resize_inpaint_mask_directly": True,
            "enable_text_attention_mask": True,
            "add_noise_in_inpaint_model": True,
        },
    )


def _preset(size: str, inpaint: bool) -> ArchPreset:
    tasks = [TEXT_TO_VIDEO, IMAGE_TO_VIDEO, FIRST_LAST_FRAME] if inpaint else [TEXT_TO_VIDEO]
    return ArchPreset(
        id=f"easyanimate-v5.1-{size}-{'inp' if inpaint else 't2v'}",
        family=SPEC.id,
        checkpoint=f"alibaba-pai/EasyAnimateV5.1-{size}-zh{'-InP' if inpaint else ''}-diffusers",
        tasks=tasks,
        pipeline_classes=dict.fromkeys(tasks, INPAINT_PIPELINE if inpaint else T2V_PIPELINE),
        components=[_transformer(size, inpaint), _VAE, _QWEN2_VL_7B],
        denoiser="transformer",
        tokenizers=_TOKENIZERS,
        scheduler=SchedulerArch(class_name="FlowMatchEulerDiscreteScheduler", config=dict(SCHEDULER_CONFIG)),
        # Qwen2-VL-7B-Instruct's model card: 8.29B
        published_params={"transformer": _PUBLISHED[size], "text_encoder": 8_290_000_000},
        notes="InP: image-to-video and first-last-frame (the mask keeps the given frames), text-to-video with "
        "nothing kept"
        if inpaint
        else "text-to-video only",
    )


PRESETS: list[ArchPreset] = [_preset(size, inpaint) for size in _SIZES for inpaint in (False, True)]
