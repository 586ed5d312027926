"""Lucy Edit: what the family is.

Sources: diffusers 0.42.1 ``pipelines/lucy`` (``LucyEditPipeline``: "based on pipeline_wan.py, but with a condition
video appended to the channel dimension"; ``__call__`` defaults 480x832, 81 frames, 50 steps, guidance 5.0,
``max_sequence_length`` 512; its docs example edits an 81-frame 480x832 clip and exports it at 24 fps), the model card
``decart-ai/Lucy-Edit-Dev`` (instruction-guided video editing, "~5B params", "built on Wan2.2 5B": its DiT, Wan 2.2's
48-channel VAE, UMT5-XXL; "81-frame generations produce better temporal consistency than shorter clips"; its example
runs 480x832, 81 frames, guidance 5.0, and exports at 24 fps; ``decart-ai/Lucy-Edit-1.1-Dev`` has the same configs)
and Wan 2.2's README (TI2V-5B: 720p at 24 fps, 121 frames; it runs on one 24 GB GPU with offloading).

The edit is the ``video-to-video`` task: the clip is VAE-encoded (the posterior's mode) and its latents ride beside the
noise at every step (the transformer takes 2 x 48 channels), so every frame of the output is an edit of the input's
frame. Nothing noises the clip part-way: there is no ``strength`` (a request with one is refused, naming it).
"""

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

PIPELINE = "LucyEditPipeline"
_EDIT_ONLY = "it edits a clip: LucyEditPipeline needs an input video (send one as video-to-video)"

SPEC = VideoModelSpec(
    id="lucy-edit",
    display_name="Lucy Edit",
    task_kind="v2v",
    # the clip's latents concatenated to the noise on the channels, at every step
    pipeline_classes={VIDEO_TO_VIDEO: PIPELINE},
    unsupported_task_reasons={
        task: f"Lucy Edit has no {task}: {_EDIT_ONLY}." for task in (TEXT_TO_VIDEO, IMAGE_TO_VIDEO)
    },
    # the docs' example: the pipeline in bf16, the VAE loaded in float32 (``rocm_notes``)
    recommended_dtype="bfloat16",
    rocm_notes="bf16 on MI200/MI300 and RDNA3, as Wan 2.2 TI2V-5B; the docs' example loads the VAE in float32 for "
    "clean colours. The VAE encodes the whole input clip before the first step and decodes the whole output after "
    "the last: VAE tiling bounds both peaks at 720p. Two transformer calls per step with guidance (conditional, then "
    "unconditional), each over the noise and the clip's latents side by side.",
    support_level=SupportLevel.READY,
    default_model_ids={VIDEO_TO_VIDEO: "decart-ai/Lucy-Edit-Dev"},
    # Wan 2.2's VAE is /4 in time: 4k+1 frames. 121 (5 s at 24 fps) is the longest TI2V-5B generates; the card finds
    # 81 more consistent than shorter clips.
    frame_rule=FrameRule(multiple=4, remainder=1, min_frames=5, max_frames=121),
    # Wan 2.2's VAE is /16 in space (a 2x2 patchify ahead of its /8) and the DiT's patches are 2x2: a multiple of 32
    # (the pipeline itself checks only 16; a side of 16 mod 32 would lose a latent row in the patch embedding)
    resolution_multiple=32,
    defaults=Defaults(num_inference_steps=50, guidance_scale=5.0, num_frames=81, height=480, width=832, fps=24),
    min_vram_gb=24,  # Wan 2.2's README: TI2V-5B's 720p on one 24 GB GPU with model offload
    # every step is conditioned on the whole clip; nothing starts part-way through the schedule: no strength
    task_optional_inputs={VIDEO_TO_VIDEO: ()},
    # diffusers' hooks know WanTransformerBlock (First-Block Cache, TaylorSeer) and its attention (Pyramid Attention
    # Broadcast); the pipeline runs each branch in cache_context("cond" / "uncond"): each holds its drift bound on the
    # tiny model (test_speed)
    step_caches=StepCacheSupport(
        works={kind: (VIDEO_TO_VIDEO,) for kind in ("first_block", "taylorseer", "pyramid_broadcast")},
        why_not={
            "faster_cache": "LucyEditPipeline runs the conditional and unconditional passes as two calls; FasterCache "
            "approximates the unconditional half of one batched CFG call",
            "sea_cache": "LucyEditPipeline's cache_context carries no step index or sigma, which SeaCache needs (it "
            "would run without skipping anything)",
        },
    ),
)
