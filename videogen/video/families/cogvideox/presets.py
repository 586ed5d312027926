"""Real-size CogVideoX presets (``arch:<id>``), from diffusers' ``scripts/convert_cogvideox_to_diffusers.py``
(version 1.0 values) and the published transformer configs.

2B: 30 layers x 30 heads, sin-cos positions (a buffer); 5B: 42 layers x 48 heads with 3D RoPE;
5B-I2V adds the image latents as 16 extra input channels and learned positions. CogVideoX-Fun V1.1 5B Pose
(``CogVideoXFunControlPipeline``) is the 5B fine-tuned with the control video's latents as 16 extra input channels
(the pipeline draws ``in_channels // 2`` noise channels) and the 5B's rotary positions: it is trained at several
resolutions (512 to 1280), which learned positions would not allow.
All use the T5-v1.1-XXL encoder (226 tokens) and the CogVideoX VAE (/8 spatial, /4 temporal).
"""

from __future__ import annotations

from videogen.video.arch.preset import ArchPreset, ComponentArch, SchedulerArch, TokenizerArch
from videogen.video.arch.shared_components import t5_v1_1_xxl_encoder
from videogen.video.families.cogvideox.spec import SPEC
from videogen.video.spec import CONTROL_TO_VIDEO, IMAGE_TO_VIDEO, TEXT_TO_VIDEO, VIDEO_TO_VIDEO

_FAMILY = "cogvideox"
_MAX_TEXT_TOKENS = 226


def _transformer(*, heads: int, layers: int, rope: bool, i2v: bool = False, control: bool = False) -> ComponentArch:
    return ComponentArch(
        name="transformer",
        library="diffusers",
        class_name="CogVideoXTransformer3DModel",
        config={
            "num_attention_heads": heads,
            "attention_head_dim": 64,
            # i2v / control: the noise latents beside the image's / the control video's
            "in_channels": 32 if i2v or control else 16,
            "out_channels": 16,
            "time_embed_dim": 512,
            "text_embed_dim": 4096,
            "num_layers": layers,
            "attention_bias": True,
            # 480 x 720 x 49 frames in latents (/8, /8, /4)
            "sample_height": 60,
            "sample_width": 90,
            "sample_frames": 49,
            "patch_size": 2,
            "patch_size_t": None,
            "patch_bias": True,
            "temporal_compression_ratio": 4,
            "max_text_seq_length": _MAX_TEXT_TOKENS,
            "spatial_interpolation_scale": 1.875,
            "temporal_interpolation_scale": 1.0,
            "use_rotary_positional_embeddings": rope,
            "use_learned_positional_embeddings": i2v,
        },
    )


def _vae(scaling_factor: float) -> ComponentArch:
    return ComponentArch(
        name="vae",
        library="diffusers",
        class_name="AutoencoderKLCogVideoX",
        config={
            "block_out_channels": [128, 256, 256, 512],
            "latent_channels": 16,
            "layers_per_block": 3,
            "norm_num_groups": 32,
            "temporal_compression_ratio": 4,
            "sample_height": 480,
            "sample_width": 720,
            "scaling_factor": scaling_factor,
        },
    )


def _scheduler(snr_shift_scale: float) -> SchedulerArch:
    return SchedulerArch(
        class_name="CogVideoXDDIMScheduler",
        config={
            "snr_shift_scale": snr_shift_scale,
            "beta_start": 0.00085,
            "beta_end": 0.012,
            "beta_schedule": "scaled_linear",
            "clip_sample": False,
            "num_train_timesteps": 1000,
            "prediction_type": "v_prediction",
            "rescale_betas_zero_snr": True,
            "set_alpha_to_one": True,
            "timestep_spacing": "trailing",
        },
    )


_TOKENIZER = TokenizerArch(name="tokenizer", kind="t5", model_max_length=_MAX_TEXT_TOKENS)

# a text-to-video checkpoint's components serve video-to-video unchanged (the family's video-to-video pipeline)
_T2V_TASKS = {task: SPEC.pipeline_classes[task] for task in (TEXT_TO_VIDEO, VIDEO_TO_VIDEO)}

PRESETS: list[ArchPreset] = [
    ArchPreset(
        id="cogvideox-2b",
        family=_FAMILY,
        checkpoint="THUDM/CogVideoX-2b",
        tasks=list(_T2V_TASKS),
        pipeline_classes=dict(_T2V_TASKS),
        components=[_transformer(heads=30, layers=30, rope=False), _vae(1.15258426), t5_v1_1_xxl_encoder()],
        denoiser="transformer",
        tokenizers=[_TOKENIZER],
        scheduler=_scheduler(3.0),
        published_params={"transformer": 1_690_000_000},  # "2B": 1.69 B in the released transformer
    ),
    ArchPreset(
        id="cogvideox-5b",
        family=_FAMILY,
        checkpoint="THUDM/CogVideoX-5b",
        tasks=list(_T2V_TASKS),
        pipeline_classes=dict(_T2V_TASKS),
        components=[_transformer(heads=48, layers=42, rope=True), _vae(0.7), t5_v1_1_xxl_encoder()],
        denoiser="transformer",
        tokenizers=[_TOKENIZER],
        scheduler=_scheduler(1.0),
        published_params={"transformer": 5_570_000_000},  # "5B": 5.57 B in the released transformer
    ),
    ArchPreset(
        id="cogvideox-5b-i2v",
        family=_FAMILY,
        checkpoint="THUDM/CogVideoX-5b-I2V",
        tasks=[IMAGE_TO_VIDEO],
        pipeline_classes={IMAGE_TO_VIDEO: "CogVideoXImageToVideoPipeline"},
        components=[_transformer(heads=48, layers=42, rope=True, i2v=True), _vae(0.7), t5_v1_1_xxl_encoder()],
        denoiser="transformer",
        tokenizers=[_TOKENIZER],
        scheduler=_scheduler(1.0),
        published_params={"transformer": 5_570_000_000},  # same "5B" transformer, 16 more input channels
    ),
    ArchPreset(
        id="cogvideox-fun-v1.1-5b-pose",
        family=_FAMILY,
        checkpoint=SPEC.default_model_ids[CONTROL_TO_VIDEO],
        tasks=[CONTROL_TO_VIDEO],
        pipeline_classes={CONTROL_TO_VIDEO: SPEC.pipeline_classes[CONTROL_TO_VIDEO]},
        components=[_transformer(heads=48, layers=42, rope=True, control=True), _vae(0.7), t5_v1_1_xxl_encoder()],
        denoiser="transformer",
        tokenizers=[_TOKENIZER],
        scheduler=_scheduler(1.0),
        # its transformer's safetensors: 11.1 GB in bf16, the "5B" transformer with 16 more input channels
        published_params={"transformer": 5_570_000_000},
    ),
]
