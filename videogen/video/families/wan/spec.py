"""Wan 2.1 / 2.2: what the family is."""

from __future__ import annotations

from videogen.video.spec import (
    CONTROL_TO_VIDEO,
    FIRST_LAST_FRAME,
    IMAGE_TO_VIDEO,
    REFERENCE_TO_VIDEO,
    TEXT_TO_VIDEO,
    VIDEO_INPAINT,
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
        # Wan 2.1 VACE: one pipeline, three uses of its video / mask / reference_images (families/wan/vace.py)
        REFERENCE_TO_VIDEO: "WanVACEPipeline",
        VIDEO_INPAINT: "WanVACEPipeline",
        CONTROL_TO_VIDEO: "WanVACEPipeline",
    },
    recommended_dtype="bfloat16",
    rocm_notes="bf16 on MI200/MI300 and RDNA3; keep the VAE in float32 for clean colours. Wan 2.2 A14B is two "
    "14B experts (transformer for high-noise steps, transformer_2 below boundary_ratio): both resident need "
    "~76 GB at 81x480x832 in bf16, model CPU offload holds one at a time (~34 GB); guidance_scale_2 sets the "
    "low-noise expert's guidance.",
    support_level=SupportLevel.READY,
    default_model_ids={
        TEXT_TO_VIDEO: "Wan-AI/Wan2.1-T2V-1.3B-Diffusers",
        IMAGE_TO_VIDEO: "Wan-AI/Wan2.1-I2V-14B-480P-Diffusers",
        # WanVideoToVideoPipeline takes the text-to-video checkpoint's components
        VIDEO_TO_VIDEO: "Wan-AI/Wan2.1-T2V-1.3B-Diffusers",
        # its transformer has pos_embed_seq_len (two CLIP images' tokens); an i2v checkpoint has none
        FIRST_LAST_FRAME: "Wan-AI/Wan2.1-FLF2V-14B-720P-Diffusers",
        # a WanVACETransformer3DModel (vace_layers, vace_in_channels); the 14B is Wan-AI/Wan2.1-VACE-14B-diffusers
        REFERENCE_TO_VIDEO: "Wan-AI/Wan2.1-VACE-1.3B-diffusers",
        VIDEO_INPAINT: "Wan-AI/Wan2.1-VACE-1.3B-diffusers",
        CONTROL_TO_VIDEO: "Wan-AI/Wan2.1-VACE-1.3B-diffusers",
    },
    frame_rule=FrameRule(multiple=4, remainder=1, min_frames=5, max_frames=161),
    resolution_multiple=16,
    defaults=Defaults(num_inference_steps=30, guidance_scale=5.0, num_frames=81, height=480, width=832, fps=16),
    min_vram_gb=12,
    step_caches=StepCacheSupport(
        works={
            "first_block": (TEXT_TO_VIDEO, IMAGE_TO_VIDEO, FIRST_LAST_FRAME),
            # VACE too: WanVACEPipeline runs each pass in cache_context("cond" / "uncond"); TaylorSeer (lite)
            # extrapolates proj_out's output, whatever the skipped blocks and VACE hints would have added
            "taylorseer": (
                TEXT_TO_VIDEO,
                IMAGE_TO_VIDEO,
                FIRST_LAST_FRAME,
                REFERENCE_TO_VIDEO,
                VIDEO_INPAINT,
                CONTROL_TO_VIDEO,
            ),
            "pyramid_broadcast": (
                TEXT_TO_VIDEO,
                IMAGE_TO_VIDEO,
                FIRST_LAST_FRAME,
                REFERENCE_TO_VIDEO,
                VIDEO_INPAINT,
                CONTROL_TO_VIDEO,
            ),
            "sea_cache": (TEXT_TO_VIDEO,),
        },
        why_not={
            "faster_cache": "Wan runs the conditional and unconditional passes as two calls; FasterCache "
            "approximates the unconditional half of one batched CFG call",
            "sea_cache": "WanImageToVideoPipeline's and WanVACEPipeline's cache_context carry no step index or sigma, "
            "which SeaCache needs (it would run without skipping anything)",
            "first_block": "video-to-video: WanVideoToVideoPipeline calls its transformer outside any cache_context in "
            "diffusers 0.42; VACE tasks: WanVACETransformer3DModel adds each VACE layer's control hint after its "
            "block, outside it, so on a skipped step the cached residual (which holds the hints) gets them added again",
            # every other kind, for video-to-video
            "*": "WanVideoToVideoPipeline calls its transformer outside any cache_context in diffusers 0.42, and "
            "diffusers' step caches keep their state per cache context",
        },
    ),
)
