"""Stable Video Diffusion (SVD, SVD-XT): what the family is.

Sources: diffusers 0.42.1 ``pipelines/stable_video_diffusion`` (``StableVideoDiffusionPipeline``: image-to-video only,
no text encoder; defaults 576x1024, the UNet's own ``num_frames``, 25 steps, guidance ramped per frame from
``min_guidance_scale`` 1.0 to ``max_guidance_scale`` 3.0, ``fps`` 7 conditioned as fps - 1, ``motion_bucket_id`` 127,
``noise_aug_strength`` 0.02; ``check_inputs`` refuses sides off multiples of 8), the diffusers docs page
``api/pipelines/stable_diffusion/svd`` and the model cards ``stabilityai/stable-video-diffusion-img2vid`` (14 frames)
and ``-img2vid-xt`` (25 frames) at 576x1024; the paper (arXiv 2311.15127).
"""

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

PIPELINE = "StableVideoDiffusionPipeline"
# Both checkpoints' scheduler_config.json: EDM-style Euler on continuous timesteps, v-prediction, Karras sigmas from 700
SCHEDULER_CONFIG = {
    "beta_start": 0.00085,
    "beta_end": 0.012,
    "beta_schedule": "scaled_linear",
    "interpolation_type": "linear",
    "num_train_timesteps": 1000,
    "prediction_type": "v_prediction",
    "sigma_max": 700.0,
    "sigma_min": 0.002,
    "steps_offset": 1,
    "timestep_spacing": "leading",
    "timestep_type": "continuous",
    "use_karras_sigmas": True,
}

SPEC = VideoModelSpec(
    id="stable-video-diffusion",
    display_name="Stable Video Diffusion (SVD, SVD-XT)",
    task_kind="i2v",
    # the image is the only condition: CLIP ViT-H/14's embedding of it (cross-attention) and its VAE latents beside
    # the noise (8 input channels); there is no text encoder (the adapter says a request's prompt is not used)
    pipeline_classes={IMAGE_TO_VIDEO: PIPELINE},
    unsupported_task_reasons={
        TEXT_TO_VIDEO: "Stable Video Diffusion animates an image: it has no text encoder, and diffusers has no "
        "text-to-video pipeline for it.",
    },
    # the checkpoints' fp16 variant; in float16 the pipeline runs the VAE in float32 (its force_upcast)
    recommended_dtype="float16",
    rocm_notes="fp16 UNet (SD 2.1's, with temporal layers) on MI200/MI300 and RDNA3; the VAE upcasts to float32 in "
    "fp16. Its temporal decoder has neither tiling nor slicing: decoding every frame in one call is the memory peak, "
    "which a model's videogen.json bounds with call_kwargs decode_chunk_size (the docs use 8).",
    support_level=SupportLevel.READY,
    support_note="image-to-video without text: a request's prompt (which the API requires) and negative prompt are "
    "not used, and each job says so; guidance_scale is the last frame's (the pipeline ramps it from 1.0 at the first)",
    default_model_ids={IMAGE_TO_VIDEO: "stabilityai/stable-video-diffusion-img2vid-xt"},
    # SVD is trained at 14 frames and SVD-XT at 25; longer counts run (the temporal layers' positions are sinusoidal)
    # but drift from the image and their temporal attention grows as F²: 64 (2.5x XT's) bounds a request. One frame
    # fails with guidance: the per-frame ramp linspace(1.0, max, 1) is the first frame's 1.0, so the denoising loop
    # turns guidance off after the image was encoded for both branches (a batch mismatch in diffusers 0.42).
    frame_rule=FrameRule(multiple=1, remainder=0, min_frames=2, max_frames=64),
    resolution_multiple=8,  # check_inputs; the UNet forwards its upsampling sizes for sides off its /8 grid
    # the model cards' 576x1024 and SVD-XT's 25 frames (a model's own count: checkpoint.py); the pipeline's 25 steps,
    # max guidance 3.0 and fps 7 (the docs export at 7)
    defaults=Defaults(num_inference_steps=25, guidance_scale=3.0, num_frames=25, height=576, width=1024, fps=7),
    # the diffusers docs' SVD guide: model CPU offload, feed-forward chunking and a small decode_chunk_size bring it
    # under 8 GB
    min_vram_gb=8,
    step_caches=StepCacheSupport(
        why_not={
            "*": "UNetSpatioTemporalConditionModel has no CacheMixin in diffusers 0.42 (its step caches hook "
            "transformer denoisers), and StableVideoDiffusionPipeline exposes neither current_timestep nor "
            "cache_context"
        }
    ),
)
