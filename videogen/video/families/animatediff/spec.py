"""AnimateDiff (SD 1.5 + motion adapter): what the family is."""

from __future__ import annotations

from videogen.video.spec import (
    CONTROL_TO_VIDEO,
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
    id="animatediff",
    display_name="AnimateDiff (SD 1.5 + motion adapter)",
    task_kind="t2v",
    pipeline_classes={
        TEXT_TO_VIDEO: "AnimateDiffPipeline",
        VIDEO_TO_VIDEO: "AnimateDiffVideoToVideoPipeline",
        # an SD 1.5 ControlNet beside the UNet (families/animatediff/controlnet.py: where it comes from)
        CONTROL_TO_VIDEO: "AnimateDiffControlNetPipeline",
    },
    recommended_dtype="float16",
    rocm_notes="SD 1.5 UNet with a motion adapter; fp16 everywhere, small enough for 8 GB cards.",
    support_level=SupportLevel.READY,
    # video-to-video: the same motion adapter and SD 1.5 base, through AnimateDiffVideoToVideoPipeline;
    # control-to-video: those and an SD 1.5 ControlNet (the one assumed: lllyasviel/sd-controlnet-depth, a depth
    # clip as the control video; any lllyasviel/sd-controlnet-* has its architecture and takes its own kind of clip)
    default_model_ids={
        TEXT_TO_VIDEO: "guoyww/animatediff-motion-adapter-v1-5-2",
        VIDEO_TO_VIDEO: "guoyww/animatediff-motion-adapter-v1-5-2",
        CONTROL_TO_VIDEO: "guoyww/animatediff-motion-adapter-v1-5-2",
    },
    # AnimateDiffControlNetPipeline takes no reference images; conditioning_scale is its
    # controlnet_conditioning_scale (the ControlNet's residuals, scaled)
    task_optional_inputs={CONTROL_TO_VIDEO: ("conditioning_scale",)},
    unsupported_task_reasons={
        IMAGE_TO_VIDEO: "AnimateDiff is a text-to-video model; diffusers has no image-to-video pipeline for it."
    },
    # The default model is a lone motion adapter (combined with an SD 1.5 base at load time).
    extra_checkpoint_classes=["MotionAdapter"],
    frame_rule=FrameRule(multiple=1, remainder=0, min_frames=1, max_frames=32),
    resolution_multiple=8,
    defaults=Defaults(num_inference_steps=25, guidance_scale=7.5, num_frames=16, height=512, width=512, fps=8),
    min_vram_gb=8,
    step_caches=StepCacheSupport(
        why_not={
            "*": "UNetMotionModel has no CacheMixin in diffusers 0.42 (its step caches hook transformer "
            "denoisers), and AnimateDiff's pipelines expose neither current_timestep nor cache_context"
        }
    ),
)
