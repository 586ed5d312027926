"""Mochi 1: what the family is.

Sources: diffusers 0.42.1 ``pipelines/mochi`` (``MochiPipeline``: text-to-video only), its conversion script
``scripts/convert_mochi_to_diffusers.py`` (``MochiTransformer3DModel()`` at its defaults, T5 at 256 tokens), the diffusers
docs page ``api/pipelines/mochi`` and the model card ``genmo/mochi-1-preview`` (a 10B Asymmetric Diffusion Transformer,
one T5-XXL text encoder, an asymmetric VAE compressing 8x8 in space and 6x in time to 12 channels; 480p at 30 fps).
"""

from __future__ import annotations

from videogen.video.spec import (
    TEXT_TO_VIDEO,
    Defaults,
    FrameRule,
    StepCacheSupport,
    SupportLevel,
    VideoModelSpec,
)

SPEC = VideoModelSpec(
    id="mochi",
    display_name="Mochi 1",
    task_kind="t2v",
    pipeline_classes={TEXT_TO_VIDEO: "MochiPipeline"},
    unsupported_task_reasons={
        "image-to-video": "Mochi 1 preview is text-to-video only: diffusers 0.42 has no Mochi image-to-video pipeline.",
    },
    # The docs' bf16 variant (22 GB with offloading); Genmo's reference runs the T5 and the VAE in float32 and only the
    # DiT in bf16, which one pipeline dtype cannot say (``rocm_notes``).
    recommended_dtype="bfloat16",
    rocm_notes="bf16 DiT on MI200/MI300. The VAE decoder is convolutions only (no attention) but wide (768 channels at "
    "1/8 size): decoding 163 frames in float32 needs ~70 GB (the diffusers docs), so keep VAE tiling on; the pipeline "
    "runs both guidance branches as one batch of two, and its attention loops over the batch with each branch's own "
    "prompt tokens (plain SDPA, no attention backend dispatch).",
    support_level=SupportLevel.READY,
    default_model_ids={TEXT_TO_VIDEO: "genmo/mochi-1-preview"},
    # The VAE is /6 in time and decodes L latent frames to 6(L-1)+1 (it drops the first 5 upsampled frames):
    # 6k+1 frames come back exactly. 163 frames (5.4 s at 30 fps) is the longest the docs and Genmo's reference run.
    frame_rule=FrameRule(multiple=6, remainder=1, min_frames=7, max_frames=163),
    # VAE /8 (the pipeline's fixed vae_spatial_scale_factor) x patch 2: a multiple of 16 (480x848 is 30x53 tokens)
    resolution_multiple=16,
    # 480x848 (the pipeline's default_height/width), 64 steps and guidance 4.5 (the pipeline's defaults and the docs'
    # reproduction of Genmo's results), 85 frames (the docs' examples) at 30 fps (the docs' export_to_video)
    defaults=Defaults(num_inference_steps=64, guidance_scale=4.5, num_frames=85, height=480, width=848, fps=30),
    min_vram_gb=22,  # the docs: the bf16 variant with model CPU offload and VAE tiling needs 22 GB
    # diffusers' hooks know MochiTransformerBlock (First-Block Cache, TaylorSeer) and MochiAttention (Pyramid
    # Attention Broadcast, FasterCache); the pipeline runs its batched branches in one cache_context and gives the
    # caches a timestep counting down (1000 - t): each holds its drift bound on the tiny model (test_speed)
    step_caches=StepCacheSupport(
        works={kind: (TEXT_TO_VIDEO,) for kind in ("first_block", "taylorseer", "pyramid_broadcast", "faster_cache")},
        why_not={
            "sea_cache": "SeaCache has a built-in adapter only for Wan text-to-video (and Cosmos 3) in diffusers 0.42"
        },
    ),
)
