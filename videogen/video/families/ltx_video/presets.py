"""Real-size LTX-Video presets (``arch:<id>``), from diffusers' ``scripts/convert_ltx_to_diffusers.py``.

The 2B transformer is the same in 0.9.0 - 0.9.5 (28 layers, 32 heads x 64, T5-XXL captions);
the VAE changed: 0.9.5's has a 5-level encoder, a timestep-conditioned decoder and /32
spatial, /8 temporal compression. One checkpoint serves text- and image-to-video; 0.9.5 also
video-to-video and keyframes through ``LTXConditionPipeline``, which 0.9.0's dynamically shifting
scheduler cannot drive (``conditions.refuse_old_scheduler``).
"""

from __future__ import annotations

from videogen.video.arch.preset import ArchPreset, ComponentArch, SchedulerArch, TokenizerArch
from videogen.video.arch.shared_components import t5_v1_1_xxl_encoder
from videogen.video.families.ltx_video.spec import SPEC
from videogen.video.spec import IMAGE_TO_VIDEO, KEYFRAMES, TEXT_TO_VIDEO, VIDEO_TO_VIDEO

_FAMILY = "ltx-video"
_TASKS = [TEXT_TO_VIDEO, IMAGE_TO_VIDEO]
_PIPELINES = {TEXT_TO_VIDEO: "LTXPipeline", IMAGE_TO_VIDEO: "LTXImageToVideoPipeline"}
# 0.9.5: LTXConditionPipeline too (its scheduler does not shift dynamically)
_CONDITION_TASKS = [VIDEO_TO_VIDEO, KEYFRAMES]
_PIPELINES_095 = {**_PIPELINES, **{task: SPEC.pipeline_classes[task] for task in _CONDITION_TASKS}}

_TRANSFORMER_2B = ComponentArch(
    name="transformer",
    library="diffusers",
    class_name="LTXVideoTransformer3DModel",
    config={
        "in_channels": 128,
        "out_channels": 128,
        "patch_size": 1,
        "patch_size_t": 1,
        "num_attention_heads": 32,
        "attention_head_dim": 64,
        "cross_attention_dim": 2048,
        "num_layers": 28,
        "activation_fn": "gelu-approximate",
        "qk_norm": "rms_norm_across_heads",
        "norm_elementwise_affine": False,
        "norm_eps": 1e-6,
        "caption_channels": 4096,
        "attention_bias": True,
        "attention_out_bias": True,
    },
)

# Shared by both VAEs: 128 latent channels, 4x4 pixel patches, causal encoder.
_VAE_COMMON = {
    "in_channels": 3,
    "out_channels": 3,
    "latent_channels": 128,
    "patch_size": 4,
    "patch_size_t": 1,
    "resnet_norm_eps": 1e-6,
    "scaling_factor": 1.0,
    "encoder_causal": True,
    "decoder_causal": False,
}

_VAE_090 = ComponentArch(
    name="vae",
    library="diffusers",
    class_name="AutoencoderKLLTXVideo",
    config={
        **_VAE_COMMON,
        "block_out_channels": [128, 256, 512, 512],
        "down_block_types": ["LTXVideoDownBlock3D"] * 4,
        "decoder_block_out_channels": [128, 256, 512, 512],
        "layers_per_block": [4, 3, 3, 3, 4],
        "decoder_layers_per_block": [4, 3, 3, 3, 4],
        "spatio_temporal_scaling": [True, True, True, False],
        "decoder_spatio_temporal_scaling": [True, True, True, False],
        "decoder_inject_noise": [False, False, False, False, False],
        "downsample_type": ["conv", "conv", "conv", "conv"],
        "upsample_residual": [False, False, False, False],
        "upsample_factor": [1, 1, 1, 1],
        "timestep_conditioning": False,
    },
)

_VAE_095 = ComponentArch(
    name="vae",
    library="diffusers",
    class_name="AutoencoderKLLTXVideo",
    config={
        **_VAE_COMMON,
        "block_out_channels": [128, 256, 512, 1024, 2048],
        "down_block_types": ["LTXVideo095DownBlock3D"] * 4,
        "decoder_block_out_channels": [256, 512, 1024],
        "layers_per_block": [4, 6, 6, 2, 2],
        "decoder_layers_per_block": [5, 5, 5, 5],
        "spatio_temporal_scaling": [True, True, True, True],
        "decoder_spatio_temporal_scaling": [True, True, True],
        "decoder_inject_noise": [False, False, False, False],
        "downsample_type": ["spatial", "temporal", "spatiotemporal", "spatiotemporal"],
        "upsample_residual": [True, True, True],
        "upsample_factor": [2, 2, 2],
        "timestep_conditioning": True,
        "spatial_compression_ratio": 32,
        "temporal_compression_ratio": 8,
    },
)

_TOKENIZER = TokenizerArch(name="tokenizer", kind="t5", model_max_length=128)
_PUBLISHED = {"transformer": 1_920_000_000}  # "2B": 1.92 B in the released transformer

PRESETS: list[ArchPreset] = [
    ArchPreset(
        id="ltx-video-0.9.0",
        family=_FAMILY,
        checkpoint="Lightricks/LTX-Video",
        tasks=_TASKS,
        pipeline_classes=_PIPELINES,
        components=[_TRANSFORMER_2B, _VAE_090, t5_v1_1_xxl_encoder()],
        denoiser="transformer",
        tokenizers=[_TOKENIZER],
        scheduler=SchedulerArch(
            class_name="FlowMatchEulerDiscreteScheduler",
            config={
                "use_dynamic_shifting": True,
                "base_shift": 0.95,
                "max_shift": 2.05,
                "base_image_seq_len": 1024,
                "max_image_seq_len": 4096,
                "shift_terminal": 0.1,
            },
        ),
        published_params=_PUBLISHED,
    ),
    ArchPreset(
        id="ltx-video-0.9.5",
        family=_FAMILY,
        checkpoint="Lightricks/LTX-Video-0.9.5",
        tasks=[*_TASKS, *_CONDITION_TASKS],
        pipeline_classes=_PIPELINES_095,
        components=[_TRANSFORMER_2B, _VAE_095, t5_v1_1_xxl_encoder()],
        denoiser="transformer",
        tokenizers=[_TOKENIZER],
        scheduler=SchedulerArch(class_name="FlowMatchEulerDiscreteScheduler", config={"use_dynamic_shifting": False}),
        published_params=_PUBLISHED,
    ),
]
