"""LTX-Video: what the family is."""

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
    id="ltx-video",
    display_name="LTX-Video",
    task_kind="hybrid",
    pipeline_classes={TEXT_TO_VIDEO: "LTXPipeline", IMAGE_TO_VIDEO: "LTXImageToVideoPipeline"},
    recommended_dtype="bfloat16",
    rocm_notes="Fast on MI300 in bf16; the 2B model fits 24 GB cards without offload.",
    support_level=SupportLevel.READY,
    default_model_ids={TEXT_TO_VIDEO: "Lightricks/LTX-Video", IMAGE_TO_VIDEO: "Lightricks/LTX-Video"},
    frame_rule=FrameRule(multiple=8, remainder=1, min_frames=9, max_frames=257),
    resolution_multiple=32,
    defaults=Defaults(num_inference_steps=50, guidance_scale=3.0, num_frames=121, height=480, width=704, fps=24),
    min_vram_gb=12,
    step_caches=StepCacheSupport(
        works={kind: (TEXT_TO_VIDEO, IMAGE_TO_VIDEO) for kind in ("first_block", "taylorseer", "pyramid_broadcast")},
        why_not={
            "faster_cache": "LTX's transformer takes packed tokens [B, S, C]; FasterCache's frequency split needs a "
            "video tensor (BCFHW or BFCHW)",
            "sea_cache": "SeaCache has a built-in adapter only for Wan text-to-video (and Cosmos 3) in diffusers 0.42",
        },
    ),
)
