"""Tiny TextToVideoSD (ModelScope): UNet3D + 2D VAE + CLIP text encoder, random weights.

Both tasks' pipelines (``TextToVideoSDPipeline``, ``VideoToVideoSDPipeline``) get the same components, built
in the same order from the same seed: the same weights.
"""

from __future__ import annotations

from videogen.video.adapter import diffusers_pipeline_class
from videogen.video.families.text_to_video_sd.spec import SPEC

TINY_CALL_KWARGS: dict[str, dict] = {}


def build_pipeline(task: str):
    from diffusers import DDIMScheduler, UNet3DConditionModel

    from videogen.video.tiny.autoencoders import sd_vae
    from videogen.video.tiny.text_encoders import clip_text_encoder
    from videogen.video.tiny.tokenizers import clip_tokenizer

    pipeline_class = diffusers_pipeline_class(SPEC, task)
    unet = UNet3DConditionModel(
        sample_size=8,
        in_channels=4,
        out_channels=4,
        down_block_types=("CrossAttnDownBlock3D", "DownBlock3D"),
        up_block_types=("UpBlock3D", "CrossAttnUpBlock3D"),
        block_out_channels=(8, 8),
        layers_per_block=1,
        cross_attention_dim=8,
        attention_head_dim=4,
        norm_num_groups=2,
    )
    scheduler = DDIMScheduler(
        beta_start=0.00085,
        beta_end=0.012,
        beta_schedule="scaled_linear",
        clip_sample=False,
        set_alpha_to_one=False,
    )
    return pipeline_class(
        vae=sd_vae(),
        text_encoder=clip_text_encoder(),
        tokenizer=clip_tokenizer(),
        unet=unet,
        scheduler=scheduler,
    )
