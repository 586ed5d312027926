"""Kandinsky 5.0 Video: what the family is.

Sources: diffusers 0.42.1 ``pipelines/kandinsky5`` (``Kandinsky5T2VPipeline``, ``Kandinsky5I2VPipeline``: defaults
512x768, 121 frames, 50 steps, guidance 5.0; ``check_inputs`` refuses sides off multiples of 16), the diffusers docs
page ``api/pipelines/kandinsky5_video`` (Lite: 2B, Pro: 19B; 5 s and 10 s checkpoints, 10 s = 241 frames at 24 fps;
the no-CFG and 16-step distilled checkpoints run at guidance 1.0), Kandinsky Lab's repository ``kandinskylab/kandinsky-5``
(``configs/k5_*``: 50 steps, guidance 5.0; its README: the whole pipeline in 24 GB with offloading, Lite on 12 GB
GPUs) and the technical report (arXiv 2511.14993).
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

T2V_PIPELINE = "Kandinsky5T2VPipeline"
I2V_PIPELINE = "Kandinsky5I2VPipeline"
# Image-to-video renormalises its first 4 latent frames against the next ones (``normalize_first_frame``): with no
# latent frame after the fourth the reference is empty and every latent turns NaN, so it needs 5 latent frames.
I2V_MIN_LATENT_FRAMES = 5

SPEC = VideoModelSpec(
    id="kandinsky5",
    display_name="Kandinsky 5.0 Video",
    task_kind="hybrid",
    pipeline_classes={
        TEXT_TO_VIDEO: T2V_PIPELINE,
        # the image's latents are the first latent frame, marked by a mask channel (visual_cond: 2 x 16 + 1 inputs)
        # and never stepped; the same DiT layout as text-to-video
        IMAGE_TO_VIDEO: I2V_PIPELINE,
    },
    recommended_dtype="bfloat16",
    rocm_notes="bf16 on MI200/MI300. Lite (2B DiT) fits any 24 GB card with Qwen2.5-VL-7B offloaded; Pro (19B DiT, "
    "~38 GB) fits an MI300X resident, else model CPU offload. The HunyuanVideo VAE decodes 121 frames at once: enable "
    "VAE tiling below 48 GB. The 10 s checkpoints' NABLA sparse attention needs flex attention (torch.compile).",
    support_level=SupportLevel.READY,
    default_model_ids={
        TEXT_TO_VIDEO: "kandinskylab/Kandinsky-5.0-T2V-Lite-sft-5s-Diffusers",
        # the image-to-video checkpoint diffusers publishes (its docs' model table)
        IMAGE_TO_VIDEO: "kandinskylab/Kandinsky-5.0-I2V-Pro-sft-5s-Diffusers",
    },
    # The HunyuanVideo VAE is /4 in time (4k+1 frames: the pipelines round to it); up to the 10 s checkpoints' 241
    # frames at 24 fps (the docs' example); image-to-video from 17 (``I2V_MIN_LATENT_FRAMES``).
    frame_rule=FrameRule(multiple=4, remainder=1, min_frames=5, max_frames=241),
    pipeline_frame_rules={
        I2V_PIPELINE: FrameRule(
            multiple=4,
            remainder=1,
            min_frames=(I2V_MIN_LATENT_FRAMES - 1) * 4 + 1,
            max_frames=241,
            reason=f"Kandinsky 5 image-to-video needs {I2V_MIN_LATENT_FRAMES} latent frames at least (it renormalises "
            "the first 4 against the ones after them)",
        )
    },
    resolution_multiple=16,  # VAE /8 x patch 2 (check_inputs)
    # The pipelines' own 512x768 x 121 frames; 50 steps and guidance 5.0 (the SFT configs); 24 fps (the docs)
    defaults=Defaults(num_inference_steps=50, guidance_scale=5.0, num_frames=121, height=512, width=768, fps=24),
    min_vram_gb=12,  # kandinskylab/kandinsky-5 README: Lite "should work on the GPUs with 12 GB" with offloading
    step_caches=StepCacheSupport(
        why_not={
            "*": "not yet measured on Kandinsky 5: its pipelines call the transformer outside any cache_context, so "
            "diffusers' step caches would share one state between the conditional and unconditional pass",
        }
    ),
)
