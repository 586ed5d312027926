"""Cosmos Predict 2.5: what the family is.

Sources: diffusers 0.42.1 ``pipelines/cosmos/pipeline_cosmos2_5_predict.py`` (``Cosmos2_5_PredictBasePipeline``: one
pipeline for Text2World, Image2World and Video2World; ``__call__`` defaults 704x1280, 93 frames, 36 steps, guidance
7.0, ``max_sequence_length`` 512; ``check_inputs`` refuses sides off multiples of 16; its docs example exports at
16 fps), diffusers' ``scripts/convert_cosmos_to_diffusers.py`` (``Cosmos-2.5-Predict-Base-2B`` / ``-14B``: the Wan 2.1
VAE, Cosmos-Reason1-7B (Qwen2.5-VL-7B) as the text encoder with Qwen2.5-VL's tokenizer, UniPC on flow sigmas) and
the model cards ``nvidia/Cosmos-Predict2.5-2B`` / ``-14B`` (93-frame clips at 16 fps, 720p; NVIDIA Open Model License,
which requires the Cosmos guardrail: ``guardrail.py``).

Video2World continues a clip: the pipeline conditions on its last 1 or 2 latent frames (the last 1 or 5 frames) and
generates ``num_frames`` whose first frames are those; Image2World is the same with one frame.
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

PIPELINE = "Cosmos2_5_PredictBasePipeline"
_TASKS = (TEXT_TO_VIDEO, IMAGE_TO_VIDEO, VIDEO_TO_VIDEO)

SPEC = VideoModelSpec(
    id="cosmos",
    display_name="Cosmos Predict 2.5",
    task_kind="hybrid",
    # one pipeline: no input (Text2World), an image (Image2World), a clip (Video2World); the conditioning latent
    # frames are held clean (their velocity replaced by the ground truth's) while the rest is denoised
    pipeline_classes=dict.fromkeys(_TASKS, PIPELINE),
    recommended_dtype="bfloat16",
    rocm_notes="bf16 on MI300X: the 2B DiT (4 GB) and Cosmos-Reason1-7B (15 GB, whose 28 layers' hidden states are "
    "all kept for the prompt) fit any 32 GB card resident; the 14B DiT wants model CPU offload below 48 GB. The Wan "
    "2.1 VAE encodes the whole padded clip for Image2World and Video2World and decodes 93 frames at once: VAE tiling "
    "below 24 GB. The transformer and the pipeline's image path call torchvision: install the torchvision built for "
    "the ROCm torch (PyPI's is CUDA's).",
    support_level=SupportLevel.READY,
    support_note="NVIDIA's checkpoints run only with NVIDIA's Cosmos guardrail (the cosmos_guardrail package and its "
    "models in the Hugging Face cache), as their license requires; VideoGen's own random-weight models run without it",
    default_model_ids=dict.fromkeys(_TASKS, "nvidia/Cosmos-Predict2.5-2B"),
    # Wan 2.1's VAE is /4 in time: 4k+1 frames (the pipeline pads or cuts the decoded clip to num_frames otherwise).
    # 93 is what the checkpoints were trained on (the model cards; the pipeline's default): longer clips are chained
    # by continuing a clip (video-to-video), not generated in one go.
    frame_rule=FrameRule(multiple=4, remainder=1, min_frames=5, max_frames=93),
    resolution_multiple=16,  # check_inputs: VAE /8 x patch 2
    # 704x1280 (the pipeline's 720p-class default), 93 frames, 36 steps, guidance 7.0; 16 fps (the docs' export)
    defaults=Defaults(num_inference_steps=36, guidance_scale=7.0, num_frames=93, height=704, width=1280, fps=16),
    # the 2B DiT + Cosmos-Reason1-7B in bf16 with model CPU offload (the 7B text encoder is the larger part)
    min_vram_gb=24,
    # Video2World keeps the clip's last frames as they are and continues from them: no strength
    task_optional_inputs={VIDEO_TO_VIDEO: ()},
    # a clip longer than 93 frames at the job's fps keeps its last ones: the new video follows them
    continues_clip=True,
    step_caches=StepCacheSupport(
        why_not={
            "*": "not measured on Cosmos: diffusers 0.42 registers no Cosmos transformer block for First-Block Cache, "
            "and the pipeline calls the transformer outside any cache_context, so a step cache would share one state "
            "between the conditional and unconditional pass",
        }
    ),
)
