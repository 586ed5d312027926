"""SANA-Video: what the family is."""

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
    id="sana-video",
    display_name="SANA-Video",
    task_kind="hybrid",
    pipeline_classes={TEXT_TO_VIDEO: "SanaVideoPipeline", IMAGE_TO_VIDEO: "SanaImageToVideoPipeline"},
    recommended_dtype="bfloat16",
    rocm_notes="Linear-attention transformer; bf16 on MI300/RDNA3. Gemma-2 text encoder stays in bf16.",
    support_level=SupportLevel.READY,
    default_model_ids={
        TEXT_TO_VIDEO: "Efficient-Large-Model/SANA-Video_2B_480p_diffusers",
        IMAGE_TO_VIDEO: "Efficient-Large-Model/SANA-Video_2B_480p_diffusers",
    },
    frame_rule=FrameRule(multiple=4, remainder=1, min_frames=5, max_frames=81),
    resolution_multiple=32,
    defaults=Defaults(num_inference_steps=50, guidance_scale=6.0, num_frames=81, height=480, width=832, fps=16),
    min_vram_gb=12,
    step_caches=StepCacheSupport(
        why_not={
            "*": "SanaVideoTransformer3DModel has no CacheMixin in diffusers 0.42, and the Sana-Video pipelines "
            "enter no cache_context"
        }
    ),
)
