"""TextToVideoSD (ModelScope text-to-video): what the family is."""

from __future__ import annotations

from videogen.video.spec import (
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
    id="text-to-video-sd",
    display_name="ModelScope Text-to-Video (TextToVideoSD)",
    task_kind="t2v",
    # VideoToVideoSDPipeline has lived in diffusers' pipelines/deprecated/ since 0.38 (no fixes upstream) and is
    # still importable from ``diffusers`` in 0.42; kept while it is (support.py says so when it is gone).
    pipeline_classes={TEXT_TO_VIDEO: "TextToVideoSDPipeline", VIDEO_TO_VIDEO: "VideoToVideoSDPipeline"},
    recommended_dtype="float16",
    rocm_notes="UNet3D runs on all ROCm GPUs; fp16 is fine on gfx90a/gfx94x/gfx11xx.",
    support_level=SupportLevel.READY,
    support_note="video-to-video runs through VideoToVideoSDPipeline, which diffusers keeps in "
    "pipelines/deprecated/ since 0.38 (still importable in 0.42, no fixes upstream); its output takes the input "
    "clip's size and frame count",
    # video-to-video: the same checkpoint's components (zeroscope_v2 checkpoints load too)
    default_model_ids={
        TEXT_TO_VIDEO: "ali-vilab/text-to-video-ms-1.7b",
        VIDEO_TO_VIDEO: "ali-vilab/text-to-video-ms-1.7b",
    },
    unsupported_task_reasons={
        IMAGE_TO_VIDEO: "TextToVideoSD is a text-to-video model; diffusers has no image-to-video pipeline for it."
    },
    frame_rule=FrameRule(multiple=1, remainder=0, min_frames=1, max_frames=64),
    resolution_multiple=8,
    defaults=Defaults(num_inference_steps=25, guidance_scale=9.0, num_frames=16, height=256, width=256, fps=8),
    min_vram_gb=8,
    step_caches=StepCacheSupport(
        why_not={
            "*": "UNet3DConditionModel has no CacheMixin in diffusers 0.42 (its step caches hook transformer "
            "denoisers), and TextToVideoSDPipeline / VideoToVideoSDPipeline expose neither current_timestep nor "
            "cache_context"
        }
    ),
)
