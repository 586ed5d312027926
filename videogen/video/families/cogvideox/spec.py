"""CogVideoX: what the family is."""

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
    id="cogvideox",
    display_name="CogVideoX",
    task_kind="hybrid",
    pipeline_classes={
        TEXT_TO_VIDEO: "CogVideoXPipeline",
        IMAGE_TO_VIDEO: "CogVideoXImageToVideoPipeline",
        VIDEO_TO_VIDEO: "CogVideoXVideoToVideoPipeline",
        # a CogVideoX-Fun control checkpoint: the control video's VAE latents join the noise latents channel-wise
        # (the transformer's in_channels are twice the VAE's latent channels); families/cogvideox/fun_control.py
        CONTROL_TO_VIDEO: "CogVideoXFunControlPipeline",
    },
    recommended_dtype="bfloat16",
    rocm_notes="bf16 for the 5B models, fp16 for 2B; VAE tiling avoids MIOpen 3D-conv OOMs.",
    support_level=SupportLevel.READY,
    default_model_ids={
        TEXT_TO_VIDEO: "THUDM/CogVideoX-2b",
        IMAGE_TO_VIDEO: "THUDM/CogVideoX-5b-I2V",
        # CogVideoXVideoToVideoPipeline takes a text-to-video checkpoint's components (diffusers' example: 5b)
        VIDEO_TO_VIDEO: "THUDM/CogVideoX-5b",
        # the checkpoint CogVideoXFunControlPipeline's docstring loads (pose control; its model_index.json says
        # CogVideoXPipeline); alibaba-pai/CogVideoX-Fun-V1.1-2b-Pose is the 2B one
        CONTROL_TO_VIDEO: "alibaba-pai/CogVideoX-Fun-V1.1-5b-Pose",
    },
    # CogVideoXFunControlPipeline takes the control video only: no reference images, and no conditioning scale
    # (the control latents are an input of the transformer, not a residual that could be scaled)
    task_optional_inputs={CONTROL_TO_VIDEO: ()},
    # 8k+1, not 4k+1: the VAE decodes an odd number of latent frames ((F-1)/4+1) to F frames, an even number n
    # to 4n (5 frames would come back as 8). Found by tests/families/test_accepted_means_runs.py.
    frame_rule=FrameRule(multiple=8, remainder=1, min_frames=9, max_frames=49),
    resolution_multiple=16,
    defaults=Defaults(num_inference_steps=50, guidance_scale=6.0, num_frames=49, height=480, width=720, fps=8),
    min_vram_gb=12,
    step_caches=StepCacheSupport(
        works={
            kind: (TEXT_TO_VIDEO, IMAGE_TO_VIDEO, VIDEO_TO_VIDEO, CONTROL_TO_VIDEO)
            for kind in ("first_block", "taylorseer", "pyramid_broadcast", "faster_cache")
        },
        why_not={
            "sea_cache": "SeaCache has a built-in adapter only for Wan text-to-video (and Cosmos 3) in diffusers 0.42"
        },
    ),
)
