"""Real-size HunyuanVideo presets (``arch:<id>``), from diffusers' ``scripts/convert_hunyuan_video_to_diffusers.py``.

The 13B DiT (20 dual-stream + 40 single-stream blocks, 24 heads x 128) reads Llama-3-8B
hidden states (t2v: the LlamaModel of llava-llama-3-8b; i2v: the whole Llava, which also
sees the image) and CLIP-L's pooled text embedding; the VAE is /8 spatial, /4 temporal.

The published prompt templates count tokens of the real Llama-3 tokenizer (``crop_start``);
the offline tokenizer has Llama-3's special tokens and ids but a tiny vocabulary, so the
presets carry the same templates' structure, shortened, with their own ``crop_start``.
"""

from __future__ import annotations

from videogen.video.arch.preset import ArchPreset, ComponentArch, ProcessorArch, SchedulerArch, TokenizerArch
from videogen.video.arch.shared_components import (
    clip_image_processor_config,
    clip_vit_l14_text,
    llava_llama3_8b,
    llava_llama3_8b_text,
    siglip_so400m_processor,
    siglip_so400m_vision,
)
from videogen.video.families.hunyuan_video.spec import FRAMEPACK, SPEC
from videogen.video.spec import IMAGE_TO_VIDEO, TEXT_TO_VIDEO

_FAMILY = "hunyuan-video"
_IMAGE_TOKENS = (336 // 14) ** 2  # CLIP ViT-L/14-336 patches; Llava drops the CLS token


def _transformer(*, in_channels: int, guidance_embeds: bool, image_condition_type: str | None) -> ComponentArch:
    return ComponentArch(
        name="transformer",
        library="diffusers",
        class_name="HunyuanVideoTransformer3DModel",
        config={
            "in_channels": in_channels,
            "out_channels": 16,
            "num_attention_heads": 24,
            "attention_head_dim": 128,
            "num_layers": 20,
            "num_single_layers": 40,
            "num_refiner_layers": 2,
            "mlp_ratio": 4.0,
            "patch_size": 2,
            "patch_size_t": 1,
            "qk_norm": "rms_norm",
            "guidance_embeds": guidance_embeds,
            "text_embed_dim": 4096,
            "pooled_projection_dim": 768,
            "rope_theta": 256.0,
            "rope_axes_dim": [16, 56, 56],
            "image_condition_type": image_condition_type,
        },
    )


_VAE = ComponentArch(
    name="vae",
    library="diffusers",
    class_name="AutoencoderKLHunyuanVideo",
    config={
        "latent_channels": 16,
        "down_block_types": ["HunyuanVideoDownBlock3D"] * 4,
        "up_block_types": ["HunyuanVideoUpBlock3D"] * 4,
        "block_out_channels": [128, 256, 512, 512],
        "layers_per_block": 2,
        "norm_num_groups": 32,
        "scaling_factor": 0.476986,
        "spatial_compression_ratio": 8,
        "temporal_compression_ratio": 4,
        "mid_block_add_attention": True,
    },
)

_TOKENIZERS = [
    TokenizerArch(name="tokenizer", kind="llama3", model_max_length=1024),
    TokenizerArch(name="tokenizer_2", kind="clip", model_max_length=77),
]
_SCHEDULER = SchedulerArch(class_name="FlowMatchEulerDiscreteScheduler", config={"shift": 7.0})

# Offline-tokenizer templates: tokens before the user's prompt = crop_start (bos counted).
# t2v: <bos> <sh> system <eh> Describe the video . <eot> <sh> user <eh>  -> 12
_T2V_TEMPLATE = {
    "template": "<|start_header_id|>system<|end_header_id|>\n\nDescribe the video.<|eot_id|>"
    "<|start_header_id|>user<|end_header_id|>\n\n{}<|eot_id|>",
    "crop_start": 12,
}
# i2v: <bos> <sh> system <eh> <image> Describe the video . <eot> <sh> user <eh>  -> 13; <image> at 4
_I2V_TEMPLATE = {
    "template": "<|start_header_id|>system<|end_header_id|>\n\n<image>\nDescribe the video.<|eot_id|>\n\n"
    "<|start_header_id|>user<|end_header_id|>\n\n{}<|eot_id|><|start_header_id|>assistant<|end_header_id|>\n\n",
    "crop_start": 13,
    "image_emb_start": 4,
    "image_emb_end": 4 + _IMAGE_TOKENS,
    "image_emb_len": _IMAGE_TOKENS,
}


def _i2v(preset_id: str, checkpoint: str, transformer: ComponentArch, notes: str) -> ArchPreset:
    return ArchPreset(
        id=preset_id,
        family=_FAMILY,
        checkpoint=checkpoint,
        tasks=[IMAGE_TO_VIDEO],
        pipeline_classes={IMAGE_TO_VIDEO: "HunyuanVideoImageToVideoPipeline"},
        components=[transformer, _VAE, llava_llama3_8b(), clip_vit_l14_text("text_encoder_2")],
        denoiser="transformer",
        tokenizers=_TOKENIZERS,
        processors=[ProcessorArch(name="image_processor", config=clip_image_processor_config(336))],
        scheduler=_SCHEDULER,
        call_kwargs={IMAGE_TO_VIDEO: {"prompt_template": _I2V_TEMPLATE}},
        published_params={"transformer": 12_800_000_000},  # "13B": 12.8 B in the released transformer
        notes=notes,
    )


# FramePack (lllyasviel/FramePackI2V_HY's config.json): HunyuanVideo's 13B DiT plus the history patch embedder
# (has_clean_x_embedder) and a projection of SigLIP's 1152-wide image tokens (has_image_proj).
_FRAMEPACK_TRANSFORMER = ComponentArch(
    name="transformer",
    library="diffusers",
    class_name="HunyuanVideoFramepackTransformer3DModel",
    config={
        **{
            k: v
            for k, v in _transformer(in_channels=16, guidance_embeds=True, image_condition_type=None).config.items()
            if k != "image_condition_type"
        },
        "has_image_proj": True,
        "image_proj_dim": 1152,
        "has_clean_x_embedder": True,
    },
)
# SigLIP so400m-patch14-384 (shared_components): 729 image tokens of 1152.
_SIGLIP = siglip_so400m_vision()
_SIGLIP_PROCESSOR = siglip_so400m_processor()

PRESETS: list[ArchPreset] = [
    ArchPreset(
        id="hunyuanvideo-t2v",
        family=_FAMILY,
        checkpoint="hunyuanvideo-community/HunyuanVideo",
        tasks=[TEXT_TO_VIDEO],
        pipeline_classes={TEXT_TO_VIDEO: "HunyuanVideoPipeline"},
        components=[
            _transformer(in_channels=16, guidance_embeds=True, image_condition_type=None),
            _VAE,
            llava_llama3_8b_text(),
            clip_vit_l14_text("text_encoder_2"),
        ],
        denoiser="transformer",
        tokenizers=_TOKENIZERS,
        scheduler=_SCHEDULER,
        call_kwargs={TEXT_TO_VIDEO: {"prompt_template": _T2V_TEMPLATE}},
        published_params={"transformer": 12_800_000_000},  # "13B": 12.8 B in the released (cfg-distilled) transformer
    ),
    _i2v(
        "hunyuanvideo-i2v",
        "hunyuanvideo-community/HunyuanVideo-I2V",
        _transformer(in_channels=16, guidance_embeds=True, image_condition_type="token_replace"),
        "Tencent's updated I2V: the first frame's latents replace the first latent frame's tokens.",
    ),
    _i2v(
        "hunyuanvideo-i2v-33ch",
        "hunyuanvideo-community/HunyuanVideo-I2V-33ch",
        _transformer(in_channels=16 * 2 + 1, guidance_embeds=False, image_condition_type="latent_concat"),
        "Tencent's original I2V: image latents and a mask channel concatenated to the noise (33 channels).",
    ),
    ArchPreset(
        id="framepack-i2v-hy",
        family=_FAMILY,
        checkpoint="lllyasviel/FramePackI2V_HY",
        # first-last-frame, and image-to-video from the first frame alone (SPEC.checkpoint_tasks): one pipeline
        tasks=list(SPEC.checkpoint_tasks[FRAMEPACK]),
        pipeline_classes=dict.fromkeys(SPEC.checkpoint_tasks[FRAMEPACK], FRAMEPACK),
        components=[_FRAMEPACK_TRANSFORMER, _VAE, llava_llama3_8b_text(), clip_vit_l14_text("text_encoder_2"), _SIGLIP],
        denoiser="transformer",
        tokenizers=_TOKENIZERS,
        processors=[_SIGLIP_PROCESSOR],
        scheduler=_SCHEDULER,
        call_kwargs=dict.fromkeys(SPEC.checkpoint_tasks[FRAMEPACK], {"prompt_template": _T2V_TEMPLATE}),
        published_params={"transformer": 13_000_000_000},  # FramePack's README: "a 13B model"
        notes="FramePack on HunyuanVideo's VAE and text encoders (hunyuanvideo-community/HunyuanVideo) with "
        "lllyasviel/flux_redux_bfl's SigLIP image encoder: sections of 9 latent frames beside packed history.",
    ),
]
