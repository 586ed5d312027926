"""LTX-Video: what the family is.

Keyframes and video-to-video run on ``LTXConditionPipeline`` (the same five components as ``LTXPipeline``, so one
checkpoint directory serves every task). It needs an LTX-Video 0.9.5 or later checkpoint: it passes its own
linear-quadratic timesteps to the scheduler, which 0.9.0/0.9.1's dynamically shifted scheduler refuses
(``mu`` is never passed); the adapter says so before the call (``conditions.refuse_old_scheduler``).
"""

from __future__ import annotations

from videogen.video.spec import (
    IMAGE_TO_VIDEO,
    KEYFRAMES,
    TEXT_TO_VIDEO,
    VIDEO_TO_VIDEO,
    Defaults,
    FrameRule,
    StepCacheSupport,
    SupportLevel,
    VideoModelSpec,
)

# LTXConditionPipeline's first published checkpoint (its docstring's); 0.9.7 and 0.9.8 load the same way.
CONDITION_MODEL_ID = "Lightricks/LTX-Video-0.9.5"

SPEC = VideoModelSpec(
    id="ltx-video",
    display_name="LTX-Video",
    task_kind="hybrid",
    pipeline_classes={
        TEXT_TO_VIDEO: "LTXPipeline",
        IMAGE_TO_VIDEO: "LTXImageToVideoPipeline",
        VIDEO_TO_VIDEO: "LTXConditionPipeline",
        KEYFRAMES: "LTXConditionPipeline",
    },
    recommended_dtype="bfloat16",
    rocm_notes="Fast on MI300 in bf16; the 2B model fits 24 GB cards without offload.",
    support_level=SupportLevel.READY,
    default_model_ids={
        TEXT_TO_VIDEO: "Lightricks/LTX-Video",
        IMAGE_TO_VIDEO: "Lightricks/LTX-Video",
        VIDEO_TO_VIDEO: CONDITION_MODEL_ID,
        KEYFRAMES: CONDITION_MODEL_ID,
    },
    frame_rule=FrameRule(multiple=8, remainder=1, min_frames=9, max_frames=257),
    resolution_multiple=32,
    defaults=Defaults(num_inference_steps=50, guidance_scale=3.0, num_frames=121, height=480, width=704, fps=24),
    min_vram_gb=12,
    step_caches=StepCacheSupport(
        # LTXConditionPipeline calls its transformer inside cache_context("cond_uncond") once per step, like
        # LTXPipeline: the hook-based caches see the same calls (condition tokens are a fixed part of the sequence).
        works={
            kind: (TEXT_TO_VIDEO, IMAGE_TO_VIDEO, VIDEO_TO_VIDEO, KEYFRAMES)
            for kind in ("first_block", "taylorseer", "pyramid_broadcast")
        },
        why_not={
            "faster_cache": "LTX's transformer takes packed tokens [B, S, C]; FasterCache's frequency split needs a "
            "video tensor (BCFHW or BFCHW)",
            "sea_cache": "SeaCache has a built-in adapter only for Wan text-to-video (and Cosmos 3) in diffusers 0.42",
        },
    ),
)
