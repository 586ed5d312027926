"""Real-size Stable Video Diffusion presets (``arch:<id>``): ``stabilityai/stable-video-diffusion-img2vid`` (SVD, 14
frames) and ``-img2vid-xt`` (SVD-XT, 25 frames; ``-img2vid-xt-1-1`` has the same architecture), from their diffusers
configs.

Both UNets are ``UNetSpatioTemporalConditionModel()`` at its defaults, which are these checkpoints' values: SD 2.1's
UNet (320/640/1280/1280 channels, 5/10/20/20 heads of 64, 2 layers a block) with temporal convolutions and attention in
every block, 8 input channels (noise and image latents), CLIP's 1024-wide image embedding as the cross-attention
context and 3 added time ids embedded in 256 each (768); they differ only in ``num_frames`` (the length each was
trained at). The VAE is SD's KL-f8 encoder with a temporal decoder (``AutoencoderKLTemporalDecoder``: 128/256/512/512,
2 layers a block, 4 latent channels); the image encoder is OpenCLIP ViT-H/14's vision tower with its projection
(``CLIPVisionModelWithProjection``, Wan 2.1 I2V's), its processor CLIP's at 224 px.
"""

from __future__ import annotations

from videogen.video.arch.preset import ArchPreset, ComponentArch, ProcessorArch, SchedulerArch
from videogen.video.arch.shared_components import clip_image_processor_config, open_clip_vit_h14_vision
from videogen.video.families.stable_video_diffusion.spec import PIPELINE, SCHEDULER_CONFIG, SPEC
from videogen.video.spec import IMAGE_TO_VIDEO

_VAE = ComponentArch(
    name="vae",
    library="diffusers",
    class_name="AutoencoderKLTemporalDecoder",
    config={
        "in_channels": 3,
        "out_channels": 3,
        "down_block_types": ["DownEncoderBlock2D"] * 4,
        "block_out_channels": [128, 256, 512, 512],
        "layers_per_block": 2,
        "latent_channels": 4,
        "sample_size": 768,
        "scaling_factor": 0.18215,
        "force_upcast": True,
    },
)


def _unet(num_frames: int) -> ComponentArch:
    return ComponentArch(
        name="unet",
        library="diffusers",
        class_name="UNetSpatioTemporalConditionModel",
        config={
            "sample_size": 96,  # 768 px / 8: the pipeline's default size when given none (the service gives one)
            "in_channels": 8,
            "out_channels": 4,
            "down_block_types": ["CrossAttnDownBlockSpatioTemporal"] * 3 + ["DownBlockSpatioTemporal"],
            "up_block_types": ["UpBlockSpatioTemporal"] + ["CrossAttnUpBlockSpatioTemporal"] * 3,
            "block_out_channels": [320, 640, 1280, 1280],
            "addition_time_embed_dim": 256,
            "projection_class_embeddings_input_dim": 768,
            "layers_per_block": 2,
            "cross_attention_dim": 1024,
            "transformer_layers_per_block": 1,
            "num_attention_heads": [5, 10, 20, 20],
            "num_frames": num_frames,
        },
    )


def _preset(preset_id: str, checkpoint: str, num_frames: int, notes: str) -> ArchPreset:
    return ArchPreset(
        id=preset_id,
        family=SPEC.id,
        checkpoint=checkpoint,
        tasks=[IMAGE_TO_VIDEO],
        pipeline_classes={IMAGE_TO_VIDEO: PIPELINE},
        components=[_unet(num_frames), _VAE, open_clip_vit_h14_vision()],
        denoiser="unet",
        processors=[ProcessorArch(name="feature_extractor", config=clip_image_processor_config(224))],
        scheduler=SchedulerArch(class_name="EulerDiscreteScheduler", config=dict(SCHEDULER_CONFIG)),
        # the size SVD's UNet is published at: 1.5B parameters (1.52 B counted)
        published_params={"unet": 1_500_000_000},
        notes=notes,
    )


PRESETS: list[ArchPreset] = [
    _preset("svd-img2vid", "stabilityai/stable-video-diffusion-img2vid", 14, "SVD: 14 frames at 576x1024"),
    _preset(
        "svd-img2vid-xt",
        SPEC.default_model_ids[IMAGE_TO_VIDEO],
        25,
        "SVD-XT: 25 frames at 576x1024 (stable-video-diffusion-img2vid-xt-1-1 has the same architecture)",
    ),
]
