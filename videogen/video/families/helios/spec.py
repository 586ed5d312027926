"""Helios: what the family is.

Sources: diffusers 0.42.1 ``pipelines/helios`` (``HeliosPipeline`` and ``HeliosPyramidPipeline``, each text-, image-
and video-to-video through ``image=`` / ``video=``, over one ``HeliosTransformer3DModel`` with Wan 2.1's UMT5-XXL text
encoder and VAE), its tests (``tests/pipelines/helios``), and the docs page ``api/pipelines/helios`` with the model
cards it links: Helios is a 14B autoregressive video model (the paper, arXiv 2603.04379: "minute-scale generation",
"17 FPS on a single NVIDIA H100" distilled) published as three checkpoints of one architecture:

- ``BestWishYsh/Helios-Base``: ``HeliosPipeline``, 50 steps, guidance 5.0 (the docs' examples);
- ``BestWishYsh/Helios-Mid``: ``HeliosPyramidPipeline`` with CFG-Zero*, steps [20, 20, 20], guidance 5.0;
- ``BestWishYsh/Helios-Distilled``: ``HeliosPyramidPipeline`` step-distilled (``HeliosDMDScheduler``), steps
  [2, 2, 2], guidance 1.0, ``is_amplify_first_chunk``.

The pyramid pipeline is a denoising schedule of the same transformer, not another model: the same weights' shape,
tasks, text encoder and VAE, with each chunk denoised from 1/4 to full size. So it is this family's, run by a checkpoint
saved with it (``checkpoint_tasks``, as FramePack in HunyuanVideo), not a family of its own (``checkpoint.py``).
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

PIPELINE = "HeliosPipeline"
PYRAMID = "HeliosPyramidPipeline"
_TASKS = (TEXT_TO_VIDEO, IMAGE_TO_VIDEO, VIDEO_TO_VIDEO)

SPEC = VideoModelSpec(
    id="helios",
    display_name="Helios",
    task_kind="hybrid",
    # one pipeline for the three tasks: image= conditions the first chunk on the image's latents, video= puts the
    # clip's latents into the history the first chunk continues (video-to-video continues the clip)
    pipeline_classes=dict.fromkeys(_TASKS, PIPELINE),
    # a pyramid checkpoint (Helios-Mid, Helios-Distilled: model_index.json's _class_name) runs every task through its
    # own pipeline: the same inputs and chunks, each chunk in stages (checkpoint.py)
    checkpoint_tasks={PYRAMID: _TASKS},
    extra_checkpoint_classes=[PYRAMID],
    recommended_dtype="bfloat16",
    rocm_notes="14.3B DiT in bf16 (28.6 GB of weights) on MI300X, or group offload on smaller cards (the docs: ~6 GB "
    "with leaf-level offload); the docs load the Wan VAE in float32. The VAE decodes one chunk (33 frames) at a time, "
    "so its peak is a chunk's whatever the length; the decoded frames accumulate on the device. HeliosAttnProcessor "
    "calls diffusers' attention dispatch: the backend the policy picks (native SDPA, flash-attn for ROCm) runs it.",
    support_level=SupportLevel.READY,
    support_note="Helios-Mid and Helios-Distilled run through HeliosPyramidPipeline: sizes in multiples of 64, "
    "num_inference_steps split over the pyramid's stages, Helios-Distilled at guidance 1.0",
    default_model_ids=dict.fromkeys(_TASKS, "BestWishYsh/Helios-Base"),
    # 4k+1 (the VAE's /4); the pipelines generate whole 33-frame chunks and the job keeps the frames it asked for
    # (chunks.py). Up to 1021 (a request's num_frames <= 1024): 42 s at 24 fps, 31 chunks of the minute-scale model.
    frame_rule=FrameRule(multiple=4, remainder=1, min_frames=5, max_frames=1021),
    # VAE /8 x patch 2: both pipelines check multiples of 16 (a pyramid checkpoint's are 64: checkpoint.py)
    resolution_multiple=16,
    # The docs' Helios-Base examples: 384x640 (the pipelines' default size), 50 steps, guidance 5.0, num_frames 99
    # (three chunks: 97 frames), exported at 24 fps.
    defaults=Defaults(num_inference_steps=50, guidance_scale=5.0, num_frames=97, height=384, width=640, fps=24),
    # the 14.3B transformer alone is 28.6 GB in bf16 (model CPU offload keeps it resident while it runs)
    min_vram_gb=32,
    # extending a clip keeps it whole: no strength (the pipelines take none)
    task_optional_inputs={VIDEO_TO_VIDEO: ()},
    # a clip longer than the longest job keeps its last frames: the history the first chunk follows
    continues_clip=True,
    step_caches=StepCacheSupport(
        why_not={
            "*": "not measured on Helios: diffusers 0.42 registers no Helios transformer block (First-Block Cache needs "
            "one), and every chunk restarts the schedule beside history tokens, where no step cache's drift is held "
            "to a bound here",
        }
    ),
)
