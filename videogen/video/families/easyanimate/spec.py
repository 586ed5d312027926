"""EasyAnimate V5.1: what the family is.

Sources: diffusers 0.42.1 ``pipelines/easyanimate`` (``EasyAnimatePipeline``: text-to-video; ``EasyAnimateInpaintPipeline``:
a clip and its mask, which ``get_image_to_video_latent`` makes from a first and optionally a last frame; both refuse
sides off multiples of 16 and read the VAE's compression from the module), the docs page ``api/pipelines/easyanimate``
(V5.1 "support generation with 1~49 frames and work best at this value", 256..1024 px sides, export at 8 fps), and
Alibaba PAI's repository ``aigc-apps/EasyAnimate``: its README (7B and 12B checkpoints, each as text-to-video and
InP; the GPU-memory table) and ``predict_t2v.py`` / ``predict_i2v.py`` (384x672, 49 frames at 8 fps, 50 steps,
guidance 6.0, bfloat16; ``validation_image_end`` the last frame).
"""

from __future__ import annotations

from videogen.video.spec import (
    CONTROL_TO_VIDEO,
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

T2V_PIPELINE = "EasyAnimatePipeline"
INPAINT_PIPELINE = "EasyAnimateInpaintPipeline"

SPEC = VideoModelSpec(
    id="easyanimate",
    display_name="EasyAnimate V5.1",
    task_kind="hybrid",
    pipeline_classes={
        TEXT_TO_VIDEO: T2V_PIPELINE,
        # the InP checkpoints: the clip with its kept frames (mask 0) VAE-encoded beside the noise, the mask resized
        # to the latents (16 + 1 + 16 input channels); the first frame kept for image-to-video, the first and the
        # last for first-last-frame (predict_i2v.py's validation_image_end)
        IMAGE_TO_VIDEO: INPAINT_PIPELINE,
        FIRST_LAST_FRAME: INPAINT_PIPELINE,
    },
    # An InP checkpoint runs text-to-video too, through its own pipeline with nothing kept (zeros beside the noise),
    # as EasyAnimate's predict_t2v.py runs its InP weights
    checkpoint_tasks={INPAINT_PIPELINE: (TEXT_TO_VIDEO,)},
    unsupported_task_reasons={
        VIDEO_TO_VIDEO: "EasyAnimate's video-to-video (the InP pipeline's video and strength) is not served yet.",
        CONTROL_TO_VIDEO: "EasyAnimate's control-to-video (EasyAnimateControlPipeline: control and camera videos) is "
        "not served yet.",
    },
    # EasyAnimate's predict scripts run bfloat16 (float16 only where a GPU lacks it, as the diffusers docs' table
    # says); Qwen2-VL's deep features reach tens of thousands (the V5.1 report), which float16 holds poorly
    recommended_dtype="bfloat16",
    rocm_notes="bf16 on MI200/MI300. The 7B DiT (6.8 B) with Qwen2-VL-7B (8.3 B) runs 384x672x49 in 24 GB with model "
    "CPU offload, the 12B DiT (11.8 B) needs 40 GB (EasyAnimate's README). The attention is one plain SDPA over the "
    "256 text and all video tokens (its processor calls F.scaled_dot_product_attention, not diffusers' backend "
    "dispatch). The Magvit VAE decodes one latent frame a call (a causal convolution cache): its peak is one "
    "frame's working set; tiling splits 512 px tiles.",
    support_level=SupportLevel.READY,
    support_note="a request without a negative prompt runs guidance against the empty prompt (the pipelines have no "
    "default one)",
    default_model_ids={
        # the checkpoints diffusers' own pipeline examples load
        TEXT_TO_VIDEO: "alibaba-pai/EasyAnimateV5.1-7b-zh-diffusers",
        IMAGE_TO_VIDEO: "alibaba-pai/EasyAnimateV5.1-12b-zh-InP-diffusers",
        FIRST_LAST_FRAME: "alibaba-pai/EasyAnimateV5.1-12b-zh-InP-diffusers",
    },
    # The Magvit VAE is /4 in time: L latent frames decode to 4(L-1)+1 frames (the first latent frame alone, then 4
    # each). Trained up to 49 frames (the docs: 1~49; one frame is a still image, not served as a video).
    frame_rule=FrameRule(multiple=4, remainder=1, min_frames=5, max_frames=49),
    resolution_multiple=16,  # VAE /8 x patch 2 (check_inputs)
    # predict_t2v.py / predict_i2v.py: 384x672, 49 frames at 8 fps, 50 steps, guidance 6.0
    defaults=Defaults(num_inference_steps=50, guidance_scale=6.0, num_frames=49, height=384, width=672, fps=8),
    min_vram_gb=24,  # the README's table: the 7B at 384x672x49 under model_cpu_offload on a 24 GB card
    step_caches=StepCacheSupport(
        why_not={
            "*": "EasyAnimateTransformer3DModel has no CacheMixin in diffusers 0.42 (no enable_cache), and its "
            "pipelines call it outside any cache_context",
        }
    ),
)
