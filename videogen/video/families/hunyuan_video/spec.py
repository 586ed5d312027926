"""HunyuanVideo: what the family is."""

from __future__ import annotations

from videogen.video.spec import (
    IMAGE_TO_VIDEO,
    TEXT_TO_VIDEO,
    Defaults,
    FrameRule,
    StepCacheSupport,
    SupportLevel,
    VideoModelSpec,
)

SPEC = VideoModelSpec(
    id="hunyuan-video",
    display_name="HunyuanVideo",
    task_kind="hybrid",
    pipeline_classes={
        TEXT_TO_VIDEO: "HunyuanVideoPipeline",
        IMAGE_TO_VIDEO: "HunyuanVideoImageToVideoPipeline",
    },
    recommended_dtype="bfloat16",
    rocm_notes="13B transformer: needs ≥ 48 GB or offload; bf16 on MI300X runs it fully on GPU.",
    support_level=SupportLevel.READY,
    default_model_ids={
        TEXT_TO_VIDEO: "hunyuanvideo-community/HunyuanVideo",
        IMAGE_TO_VIDEO: "hunyuanvideo-community/HunyuanVideo-I2V",
    },
    frame_rule=FrameRule(multiple=4, remainder=1, min_frames=9, max_frames=129),
    resolution_multiple=16,
    defaults=Defaults(num_inference_steps=30, guidance_scale=6.0, num_frames=61, height=544, width=960, fps=24),
    min_vram_gb=24,
    # The image-to-video pipeline returns the video without its 4 conditioning frames.
    frames_dropped={IMAGE_TO_VIDEO: 4},
    step_caches=StepCacheSupport(
        works={
            "first_block": (TEXT_TO_VIDEO,),
            "taylorseer": (TEXT_TO_VIDEO,),
            "pyramid_broadcast": (TEXT_TO_VIDEO, IMAGE_TO_VIDEO),
        },
        why_not={
            "first_block": "HunyuanVideoImageToVideoPipeline calls its transformer outside any cache_context, "
            "which this cache keeps its state under",
            "taylorseer": "HunyuanVideoImageToVideoPipeline calls its transformer outside any cache_context, "
            "which this cache keeps its state under",
            "faster_cache": "HunyuanVideo's guidance is embedded (one pass a step) and its true CFG runs the "
            "unconditional pass as a separate call; FasterCache approximates the unconditional half of one "
            "batched CFG call",
            "sea_cache": "SeaCache has a built-in adapter only for Wan text-to-video (and Cosmos 3) in diffusers 0.42",
        },
    ),
)
