"""Real-size AnimateDiff preset (``arch:<id>``): Stable Diffusion 1.5 with motion adapter v1-5-2.

The pipeline turns SD 1.5's UNet2DConditionModel plus the MotionAdapter into a
UNetMotionModel (``UNetMotionModel.from_unet2d``); the preset builds that merged UNet
directly (so it is placed on the device like any other component) and keeps the
adapter as the pipeline's ``motion_adapter`` component, as a loaded pipeline holds it.
Adapter values: diffusers' ``scripts/convert_animatediff_motion_module_to_diffusers.py``
with ``--use_motion_mid_block`` (v1-5-2 has a mid block). ``animatediff-v1-5-2-controlnet`` adds the SD 1.5
ControlNet control-to-video runs beside the UNet every step (``lllyasviel/sd-controlnet-*``'s config: the UNet's
encoder and mid block, a conditioning embedding from pixels to the /8 latents, zero convolutions).
"""

from __future__ import annotations

from videogen.video.arch.preset import ArchPreset, ComponentArch, SchedulerArch, TokenizerArch
from videogen.video.arch.shared_components import clip_vit_l14_text, sd_vae
from videogen.video.families.animatediff.controlnet import ASSUMED_CONTROLNET
from videogen.video.families.animatediff.spec import SPEC
from videogen.video.spec import CONTROL_TO_VIDEO, TEXT_TO_VIDEO, VIDEO_TO_VIDEO

_BLOCKS = [320, 640, 1280, 1280]
# v1-5-2: 8 heads, 2 temporal layers per block (1 in the mid block), 32 frames of positions
_MOTION = {
    "motion_num_attention_heads": 8,
    "motion_max_seq_length": 32,
    "use_motion_mid_block": True,
}

MOTION_ADAPTER_V152 = ComponentArch(
    name="motion_adapter",
    library="diffusers",
    class_name="MotionAdapter",
    config={
        **_MOTION,
        "block_out_channels": _BLOCKS,
        "motion_layers_per_block": 2,
        "motion_mid_block_layers_per_block": 1,
        "motion_norm_num_groups": 32,
        "conv_in_channels": None,
    },
)

# SD 1.5's UNet blocks, shared by its motion UNet and its ControlNets' encoder copy.
_SD15_BLOCKS = {
    "block_out_channels": _BLOCKS,
    "layers_per_block": 2,
    "downsample_padding": 1,
    "mid_block_scale_factor": 1,
    "act_fn": "silu",
    "norm_num_groups": 32,
    "norm_eps": 1e-5,
    "cross_attention_dim": 768,
}

# SD 1.5's UNet (8 heads, CLIP-L's 768-d context) with the adapter's temporal blocks.
SD15_MOTION_UNET = ComponentArch(
    name="unet",
    library="diffusers",
    class_name="UNetMotionModel",
    config={
        **_MOTION,
        "sample_size": 64,
        "in_channels": 4,
        "out_channels": 4,
        "down_block_types": ["CrossAttnDownBlockMotion"] * 3 + ["DownBlockMotion"],
        "up_block_types": ["UpBlockMotion"] + ["CrossAttnUpBlockMotion"] * 3,
        **_SD15_BLOCKS,
        "num_attention_heads": 8,
        "use_linear_projection": False,
    },
)

SD15_UNET_PARAMS = 859_520_964  # runwayml/stable-diffusion-v1-5 UNet2DConditionModel
MOTION_ADAPTER_PARAMS = 453_000_000  # mm_sd_v15_v2: 1.82 GB of fp32 weights
CONTROLNET_PARAMS = 361_000_000  # lllyasviel/sd-controlnet-depth: 1.45 GB of fp32 weights

# lllyasviel/sd-controlnet-* (every one of them): SD 1.5's UNet encoder and mid block (8 heads, CLIP-L's 768-d
# context) and a conditioning embedding 3 -> 16 -> 32 -> 96 -> 256 channels, /8 like the VAE
SD15_CONTROLNET = ComponentArch(
    name="controlnet",
    library="diffusers",
    class_name="ControlNetModel",
    config={
        "in_channels": 4,
        "conditioning_channels": 3,
        "down_block_types": ["CrossAttnDownBlock2D"] * 3 + ["DownBlock2D"],
        **_SD15_BLOCKS,
        "attention_head_dim": 8,
        "use_linear_projection": False,
        "conditioning_embedding_out_channels": [16, 32, 96, 256],
        "controlnet_conditioning_channel_order": "rgb",
    },
)

# a text-to-video checkpoint's components serve video-to-video unchanged (the family's video-to-video pipeline)
_T2V_TASKS = {task: SPEC.pipeline_classes[task] for task in (TEXT_TO_VIDEO, VIDEO_TO_VIDEO)}

_COMPONENTS = [SD15_MOTION_UNET, MOTION_ADAPTER_V152, sd_vae(sample_size=512), clip_vit_l14_text()]
_SHARED = dict(
    family="animatediff",
    checkpoint=SPEC.default_model_ids[TEXT_TO_VIDEO],  # the motion adapter, whichever task
    denoiser="unet",
    tokenizers=[TokenizerArch(name="tokenizer", kind="clip", model_max_length=77)],
    scheduler=SchedulerArch(
        class_name="DDIMScheduler",
        config={
            "beta_start": 0.00085,
            "beta_end": 0.012,
            "beta_schedule": "linear",
            "clip_sample": False,
            "timestep_spacing": "linspace",
            "steps_offset": 1,
        },
    ),
)
_PUBLISHED = {"unet": SD15_UNET_PARAMS + MOTION_ADAPTER_PARAMS, "motion_adapter": MOTION_ADAPTER_PARAMS}

PRESETS: list[ArchPreset] = [
    ArchPreset(
        id="animatediff-v1-5-2",
        tasks=list(_T2V_TASKS),
        pipeline_classes=dict(_T2V_TASKS),
        components=_COMPONENTS,
        published_params=_PUBLISHED,
        notes="base model: SD 1.5 (any SD 1.5 fine-tune has the same architecture)",
        **_SHARED,
    ),
    ArchPreset(
        id="animatediff-v1-5-2-controlnet",
        tasks=[CONTROL_TO_VIDEO],
        pipeline_classes={CONTROL_TO_VIDEO: SPEC.pipeline_classes[CONTROL_TO_VIDEO]},
        components=[*_COMPONENTS, SD15_CONTROLNET],
        published_params={**_PUBLISHED, "controlnet": CONTROLNET_PARAMS},
        notes=f"base model: SD 1.5; ControlNet: {ASSUMED_CONTROLNET} (every lllyasviel/sd-controlnet-* has this "
        "architecture)",
        **_SHARED,
    ),
]
