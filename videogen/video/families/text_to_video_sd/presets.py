"""Real-size ModelScope text-to-video preset (``arch:<id>``), from diffusers'
``scripts/convert_ms_text_to_video_to_diffusers.py`` (``UNet3DConditionModel()``'s values)
and the published text encoder: OpenCLIP ViT-H/14's text tower, SD 2 style (23 layers).
"""

from __future__ import annotations

from videogen.video.arch.preset import ArchPreset, ComponentArch, SchedulerArch, TokenizerArch
from videogen.video.arch.shared_components import open_clip_vit_h14_text, sd_vae
from videogen.video.families.text_to_video_sd.spec import SPEC
from videogen.video.spec import TEXT_TO_VIDEO, VIDEO_TO_VIDEO

_UNET = ComponentArch(
    name="unet",
    library="diffusers",
    class_name="UNet3DConditionModel",
    config={
        "sample_size": 32,
        "in_channels": 4,
        "out_channels": 4,
        "down_block_types": ["CrossAttnDownBlock3D"] * 3 + ["DownBlock3D"],
        "up_block_types": ["UpBlock3D"] + ["CrossAttnUpBlock3D"] * 3,
        "block_out_channels": [320, 640, 1280, 1280],
        "layers_per_block": 2,
        "downsample_padding": 1,
        "mid_block_scale_factor": 1,
        "act_fn": "silu",
        "norm_num_groups": 32,
        "norm_eps": 1e-5,
        "cross_attention_dim": 1024,
        "attention_head_dim": 64,
    },
)

# a text-to-video checkpoint's components serve video-to-video unchanged (the family's video-to-video pipeline)
_T2V_TASKS = {task: SPEC.pipeline_classes[task] for task in (TEXT_TO_VIDEO, VIDEO_TO_VIDEO)}

PRESETS: list[ArchPreset] = [
    ArchPreset(
        id="modelscope-t2v-1.7b",
        family="text-to-video-sd",
        checkpoint="ali-vilab/text-to-video-ms-1.7b",
        tasks=list(_T2V_TASKS),
        pipeline_classes=dict(_T2V_TASKS),
        components=[_UNET, sd_vae(sample_size=256), open_clip_vit_h14_text()],
        denoiser="unet",
        tokenizers=[TokenizerArch(name="tokenizer", kind="clip", model_max_length=77)],
        scheduler=SchedulerArch(
            class_name="DDIMScheduler",
            config={
                "beta_start": 0.00085,
                "beta_end": 0.012,
                "beta_schedule": "scaled_linear",
                "clip_sample": False,
                "set_alpha_to_one": False,
                "steps_offset": 1,
                "prediction_type": "epsilon",
            },
        ),
        # "1.7B" = UNet + text encoder + VAE; the UNet alone is ~1.41 B
        published_params={"unet": 1_410_000_000},
    ),
]
