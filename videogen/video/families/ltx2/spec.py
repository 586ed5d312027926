"""LTX-2: what the family is.

Sources: diffusers 0.42.1 ``pipelines/ltx2`` (``LTX2Pipeline``, ``LTX2ImageToVideoPipeline``; their ``__call__``
docstrings state the LTX-2.0 defaults: guidance 4.0, no STG, no modality guidance), its conversion script
``scripts/convert_ltx2_to_diffusers.py`` (the 2.0 configs), the diffusers docs page ``api/pipelines/ltx2`` and the model
card / technical report of ``Lightricks/LTX-2`` (arXiv 2601.03233: one 19B dual-stream DiT, 14B video + 5B audio,
Gemma-3-12B text encoder; synchronized stereo sound; up to 20 s).

LTX-2 generates sound with the picture: one transformer denoises video and audio latents together (each stream
attends to the other), an audio VAE and a vocoder turn the audio latents into a waveform. The MP4 carries it as an
AAC track unless a request's ``with_audio`` is false (``audio``): then the track is left out of the file; the model
still denoises the sound, which is part of how it makes the picture.
"""

from __future__ import annotations

from videogen.video.spec import (
    IMAGE_TO_VIDEO,
    KEYFRAMES,
    TEXT_TO_VIDEO,
    Defaults,
    FrameRule,
    StepCacheSupport,
    SupportLevel,
    VideoModelSpec,
)

MODEL_ID = "Lightricks/LTX-2"  # the diffusers-format checkpoint of ltx-2-19b-dev (the pipelines' docstring example)
# The converter's scheduler: LTX-Video's dynamic shift (the pipelines compute ``mu`` from these keys)
SCHEDULER_CONFIG = {
    "use_dynamic_shifting": True,
    "base_shift": 0.95,
    "max_shift": 2.05,
    "base_image_seq_len": 1024,
    "max_image_seq_len": 4096,
    "shift_terminal": 0.1,
}

SPEC = VideoModelSpec(
    id="ltx2",
    display_name="LTX-2",
    task_kind="hybrid",
    pipeline_classes={
        TEXT_TO_VIDEO: "LTX2Pipeline",
        # the first latent frame is the image's (a per-token timestep keeps it clean); the same components
        IMAGE_TO_VIDEO: "LTX2ImageToVideoPipeline",
        # images and clips at chosen frames (first/last frame, in-betweens, extension): the same components again
        KEYFRAMES: "LTX2ConditionPipeline",
    },
    recommended_dtype="bfloat16",
    rocm_notes="19B DiT in bf16 (~38 GB) plus Gemma-3-12B (~24 GB): fits an MI300X resident; on 24-48 GB cards use "
    "model CPU offload and VAE tiling.",
    support_level=SupportLevel.READY,
    default_model_ids={TEXT_TO_VIDEO: MODEL_ID, IMAGE_TO_VIDEO: MODEL_ID, KEYFRAMES: MODEL_ID},
    # The VAE is /8 in time (8k+1 frames, what prepare_latents keeps); up to 20 s (the technical report): 481 frames
    # at the default 24 fps.
    frame_rule=FrameRule(multiple=8, remainder=1, min_frames=9, max_frames=481),
    # check_inputs refuses sides that are not multiples of 32 (the VAE's spatial compression, patch 1)
    resolution_multiple=32,
    # The pipelines' own size and length (512x768, 121 frames at 24 fps); LTX-2.0's 40 steps and guidance 4.0 (its
    # __call__ docstring; 30 steps and 3.0 are LTX-2.3's)
    defaults=Defaults(num_inference_steps=40, guidance_scale=4.0, num_frames=121, height=512, width=768, fps=24),
    min_vram_gb=24,
    audio=True,
    step_caches=StepCacheSupport(
        why_not={
            "*": "not yet measured on LTX-2: its transformer returns the video and the audio prediction together, "
            "and no step cache's drift on either is held to a stated bound here yet",
        }
    ),
)
