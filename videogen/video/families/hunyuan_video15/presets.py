"""Real-size HunyuanVideo 1.5 presets (``arch:<id>``), from diffusers' ``scripts/convert_hunyuan_video1_5_to_diffusers.py``
(``TRANSFORMER_CONFIGS``, ``SCHEDULER_CONFIGS``, ``GUIDANCE_CONFIGS``; the 720p i2v and step-distilled entries as
diffusers PR #12802 adds them) and the configs its checkpoints ship.

One 8.3B DiT for every checkpoint (54 dual-stream blocks, 16 heads x 128, patch 1, 65 input channels: noise, the
first frame's latents and a mask); they differ in ``target_size`` (640: 480p, 960: 720p), ``task_type``, the flow
shift, the guider's scale (1.0 for the CFG-distilled) and, for the 480p i2v step-distilled one, ``use_meanflow``.
Text: Qwen2.5-VL-7B-Instruct's language model, and Glyph-SDXL-v2's ByT5-small encoder (its vocabulary grown to 1510
by 1251 colour and font tokens); image-to-video adds SigLIP so400m-patch14-384 (FLUX.1-Redux's) for the image tokens.
"""

from __future__ import annotations

from videogen.video.arch.preset import (
    ArchPreset,
    ComponentArch,
    SchedulerArch,
    TokenizerArch,
)
from videogen.video.arch.shared_components import siglip_so400m_processor, siglip_so400m_vision
from videogen.video.spec import IMAGE_TO_VIDEO, TEXT_TO_VIDEO

_FAMILY = "hunyuan-video15"
_TOKENIZERS = "videogen.video.families.hunyuan_video15.tokenizers"


def _transformer(*, target_size: int, task_type: str, use_meanflow: bool = False) -> ComponentArch:
    return ComponentArch(
        name="transformer",
        library="diffusers",
        class_name="HunyuanVideo15Transformer3DModel",
        config={
            "in_channels": 65,
            "out_channels": 32,
            "num_attention_heads": 16,
            "attention_head_dim": 128,
            "num_layers": 54,
            "num_refiner_layers": 2,
            "mlp_ratio": 4.0,
            "patch_size": 1,
            "patch_size_t": 1,
            "qk_norm": "rms_norm",
            "text_embed_dim": 3584,
            "text_embed_2_dim": 1472,
            "image_embed_dim": 1152,
            "rope_theta": 256.0,
            "rope_axes_dim": [16, 56, 56],
            "use_meanflow": use_meanflow,
            "target_size": target_size,
            "task_type": task_type,
        },
    )


# AutoencoderKLHunyuanVideo15() as the converter builds it: /16 spatial, /4 temporal, 32 latent channels.
_VAE = ComponentArch(
    name="vae",
    library="diffusers",
    class_name="AutoencoderKLHunyuanVideo15",
    config={
        "latent_channels": 32,
        "block_out_channels": [128, 256, 512, 1024, 1024],
        "layers_per_block": 2,
        "spatial_compression_ratio": 16,
        "temporal_compression_ratio": 4,
        "scaling_factor": 1.03682,
    },
)
# Qwen/Qwen2.5-VL-7B-Instruct's config.json, its language model (the converter keeps ``.language_model``).
_QWEN25_VL_7B_TEXT = ComponentArch(
    name="text_encoder",
    library="transformers",
    class_name="Qwen2_5_VLTextModel",
    config_class="Qwen2_5_VLTextConfig",
    config={
        "vocab_size": 152064,
        "hidden_size": 3584,
        "intermediate_size": 18944,
        "num_hidden_layers": 28,
        "num_attention_heads": 28,
        "num_key_value_heads": 4,
        "max_position_embeddings": 128000,
        "rms_norm_eps": 1e-6,
        "rope_theta": 1_000_000.0,
        "rope_scaling": {"type": "mrope", "mrope_section": [16, 24, 24]},
        "hidden_act": "silu",
        "tie_word_embeddings": False,
        "bos_token_id": 151643,
        "eos_token_id": 151645,
    },
)
# google/byt5-small's encoder with Glyph-SDXL-v2's 1251 added tokens (text_encoder_2/config.json: vocab 1510).
_BYT5_GLYPH = ComponentArch(
    name="text_encoder_2",
    library="transformers",
    class_name="T5EncoderModel",
    config_class="T5Config",
    config={
        "vocab_size": 1510,
        "d_model": 1472,
        "d_ff": 3584,
        "d_kv": 64,
        "num_heads": 6,
        "num_layers": 12,
        "feed_forward_proj": "gated-gelu",
        "relative_attention_num_buckets": 32,
        "relative_attention_max_distance": 128,
        "layer_norm_epsilon": 1e-6,
        "tie_word_embeddings": False,
        "pad_token_id": 0,
        "eos_token_id": 1,
        "decoder_start_token_id": 0,
    },
)
# SigLIP so400m-patch14-384 (shared_components): 729 image tokens of 1152.
_SIGLIP = siglip_so400m_vision()
_SIGLIP_PROCESSOR = siglip_so400m_processor()
_TOKENIZER_LIST = [
    TokenizerArch(name="tokenizer", kind="builder", builder=f"{_TOKENIZERS}:qwen_chat_tokenizer"),
    TokenizerArch(name="tokenizer_2", kind="builder", builder=f"{_TOKENIZERS}:byt5_tokenizer"),
]
_PUBLISHED = {"transformer": 8_300_000_000}  # "8.3 billion parameters" (model card, technical report)


def _preset(
    preset_id: str,
    variant: str,
    task: str,
    *,
    target_size: int,
    shift: float,
    guidance: float = 6.0,
    use_meanflow: bool = False,
    notes: str = "",
) -> ArchPreset:
    i2v = task == IMAGE_TO_VIDEO
    transformer = _transformer(target_size=target_size, task_type="i2v" if i2v else "t2v", use_meanflow=use_meanflow)
    return ArchPreset(
        id=preset_id,
        family=_FAMILY,
        checkpoint=f"hunyuanvideo-community/HunyuanVideo-1.5-Diffusers-{variant}",
        tasks=[task],
        pipeline_classes={task: "HunyuanVideo15ImageToVideoPipeline" if i2v else "HunyuanVideo15Pipeline"},
        components=[transformer, _VAE, _QWEN25_VL_7B_TEXT, _BYT5_GLYPH, *([_SIGLIP] if i2v else [])],
        denoiser="transformer",
        tokenizers=_TOKENIZER_LIST,
        processors=[_SIGLIP_PROCESSOR] if i2v else [],
        scheduler=SchedulerArch(class_name="FlowMatchEulerDiscreteScheduler", config={"shift": shift}),
        guider=SchedulerArch(class_name="ClassifierFreeGuidance", config={"guidance_scale": guidance}),
        published_params=_PUBLISHED,
        notes=notes,
    )


PRESETS: list[ArchPreset] = [
    _preset("hunyuanvideo-1.5-480p-t2v", "480p_t2v", TEXT_TO_VIDEO, target_size=640, shift=5.0),
    _preset(
        "hunyuanvideo-1.5-480p-t2v-cfg-distilled",
        "480p_t2v_distilled",
        TEXT_TO_VIDEO,
        target_size=640,
        shift=5.0,
        guidance=1.0,
        notes="CFG-distilled: the same DiT, guidance 1.0 by default (one pass a step instead of two).",
    ),
    _preset("hunyuanvideo-1.5-720p-t2v", "720p_t2v", TEXT_TO_VIDEO, target_size=960, shift=9.0),
    _preset("hunyuanvideo-1.5-480p-i2v", "480p_i2v", IMAGE_TO_VIDEO, target_size=640, shift=5.0),
    _preset("hunyuanvideo-1.5-720p-i2v", "720p_i2v", IMAGE_TO_VIDEO, target_size=960, shift=7.0),
    _preset(
        "hunyuanvideo-1.5-480p-i2v-step-distilled",
        "480p_i2v_step_distilled",
        IMAGE_TO_VIDEO,
        target_size=640,
        shift=7.0,
        guidance=1.0,
        use_meanflow=True,
        notes="Step-distilled (MeanFlow): 8 or 12 steps (model card), guidance 1.0; the transformer also embeds "
        "the next step's timestep (timestep_r).",
    ),
]
