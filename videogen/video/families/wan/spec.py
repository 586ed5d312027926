"""Wan 2.1 / 2.2: what the family is."""

from __future__ import annotations

from videogen.video.spec import (
    FIRST_LAST_FRAME,
    IMAGE_TO_VIDEO,
    TEXT_TO_VIDEO,
    VIDEO_TO_VIDEO,
    Defaults,
    FrameRule,
    StepCacheSupport,
    SupportLevel,
    VideoModelSpec,
)

SPEC = VideoModelSpec(
    id="wan",
    display_name="Wan 2.1 / 2.2",
    task_kind="hybrid",
    pipeline_classes={
        TEXT_TO_VIDEO: "WanPipeline",
        IMAGE_TO_VIDEO: "WanImageToVideoPipeline",
        VIDEO_TO_VIDEO: "WanVideoToVideoPipeline",
        # image= the first frame, last_image= the last: both CLIP-embedded, both VAE-encoded into the
        # conditioning latents (frames between them zero, masked as unknown)
        FIRST_LAST_FRAME: "WanImageToVideoPipeline",
    },
    recommended_dtype="bfloat16",
    rocm_notes="bf16 on MI200/MI300 and RDNA3; keep the VAE in float32 for clean colours.",
    support_level=SupportLevel.READY,
    default_model_ids={
        TEXT_TO_VIDEO: "Wan-AI/Wan2.1-T2V-1.3B-Diffusers",
        IMAGE_TO_VIDEO: "Wan-AI/Wan2.1-I2V-14B-480P-Diffusers",
        # WanVideoToVideoPipeline takes the text-to-video checkpoint's components
        VIDEO_TO_VIDEO: "Wan-AI/Wan2.1-T2V-1.3B-Diffusers",
        # its transformer has pos_embed_seq_len (two CLIP images' tokens); an i2v checkpoint has none
        FIRST_LAST_FRAME: "Wan-AI/Wan2.1-FLF2V-14B-720P-Diffusers",
    },
    frame_rule=FrameRule(multiple=4, remainder=1, min_frames=5, max_frames=161),
    resolution_multiple=16,
    defaults=Defaults(num_inference_steps=30, guidance_scale=5.0, num_frames=81, height=480, width=832, fps=16),
    min_vram_gb=12,
    step_caches=StepCacheSupport(
        works={
            "first_block": (TEXT_TO_VIDEO, IMAGE_TO_VIDEO, FIRST_LAST_FRAME),
            "taylorseer": (TEXT_TO_VIDEO, IMAGE_TO_VIDEO, FIRST_LAST_FRAME),
            "pyramid_broadcast": (TEXT_TO_VIDEO, IMAGE_TO_VIDEO, FIRST_LAST_FRAME),
            "sea_cache": (TEXT_TO_VIDEO,),
        },
        why_not={
            "faster_cache": "Wan runs the conditional and unconditional passes as two calls; FasterCache "
            "approximates the unconditional half of one batched CFG call",
            "sea_cache": "WanImageToVideoPipeline's cache_context carries no step index or sigma, which SeaCache "
            "needs (it would run without skipping anything)",
            # every other kind, for video-to-video
            "*": "WanVideoToVideoPipeline calls its transformer outside any cache_context in diffusers 0.42, and "
            "diffusers' step caches keep their state per cache context",
        },
    ),
)
