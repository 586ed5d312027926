"""HunyuanVideo 1.5: what the family is.

Sources: diffusers 0.42.1 ``pipelines/hunyuan_video1_5`` (``HunyuanVideo15Pipeline``,
``HunyuanVideo15ImageToVideoPipeline``), its conversion script ``scripts/convert_hunyuan_video1_5_to_diffusers.py``
(per-checkpoint flow shift and guidance), the diffusers docs page ``api/pipelines/hunyuan_video15`` and the model card
``tencent/HunyuanVideo-1.5`` (8.3B DiT; 480p and 720p; 121 frames at 24 fps; ~14 GB with offloading; the 480p
image-to-video step-distilled model in 8 or 12 steps).
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

SPEC = VideoModelSpec(
    id="hunyuan-video15",
    display_name="HunyuanVideo 1.5",
    task_kind="hybrid",
    pipeline_classes={
        TEXT_TO_VIDEO: "HunyuanVideo15Pipeline",
        # the first frame's latents concatenated to the noise (65 = 32 + 32 + 1 mask channels) and its SigLIP tokens
        # beside the text; the output size is the checkpoint's resolution bucket nearest the requested aspect ratio
        # (``buckets.py``), not the requested size
        IMAGE_TO_VIDEO: "HunyuanVideo15ImageToVideoPipeline",
    },
    recommended_dtype="bfloat16",
    rocm_notes="8.3B DiT in bf16 (~17 GB) plus Qwen2.5-VL-7B (~16 GB): fits an MI300X resident; on smaller cards use "
    "model CPU offload and VAE tiling (the VAE's mid-block attends over every latent of the clip at once).",
    support_level=SupportLevel.READY,
    default_model_ids={
        TEXT_TO_VIDEO: "hunyuanvideo-community/HunyuanVideo-1.5-Diffusers-480p_t2v",
        IMAGE_TO_VIDEO: "hunyuanvideo-community/HunyuanVideo-1.5-Diffusers-480p_i2v",
    },
    # The VAE is /4 in time (4k+1 frames, what prepare_latents keeps); 121 frames (5 s at 24 fps) is the pipelines'
    # default, and the technical report (arXiv 2511.18870) generates 5-10 s clips: up to 241 frames.
    frame_rule=FrameRule(multiple=4, remainder=1, min_frames=5, max_frames=241),
    # VAE /16 with a 1x1 patch: one token per 16x16 pixels (its resolution buckets are multiples of 16 too)
    resolution_multiple=16,
    # 480p (the 480p checkpoints' target_size 640 at 16:9), 50 steps and guidance 6.0 (the converter's
    # GUIDANCE_CONFIGS), 121 frames at 24 fps (the model card)
    defaults=Defaults(num_inference_steps=50, guidance_scale=6.0, num_frames=121, height=480, width=848, fps=24),
    min_vram_gb=14,  # the model card: 480p with model offloading in ~14 GB
    step_caches=StepCacheSupport(
        why_not={
            "*": "not yet measured on HunyuanVideo 1.5: its pipelines run each guidance branch in a cache_context, "
            "but no step cache's drift is held to a stated bound here yet",
        }
    ),
)
