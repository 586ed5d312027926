"""Tiny AnimateDiff: an SD1.5-shaped UNet2D + a MotionAdapter of the same width, random weights.

Video-to-video (``AnimateDiffVideoToVideoPipeline``) gets the same base components and motion adapter as
text-to-video (same order, same seed: same weights); control-to-video (``AnimateDiffControlNetPipeline``) those and,
built after them, a ControlNet of the UNet's shape (its conditioning embedding downsamples 4x, the tiny VAE's
factor) whose zero convolutions are random: a trained ControlNet's are not zero, and at zero the control frames
would change nothing.
"""

from __future__ import annotations

from videogen.video.adapter import diffusers_pipeline_class
from videogen.video.families.animatediff.spec import SPEC
from videogen.video.spec import CONTROL_TO_VIDEO

TINY_CALL_KWARGS: dict[str, dict] = {}

_WIDTHS = (8, 8)
# The UNet's encoder half, which the ControlNet copies (its residuals join the UNet's down blocks one for one)
_ENCODER = dict(
    in_channels=4,
    down_block_types=("CrossAttnDownBlock2D", "DownBlock2D"),
    block_out_channels=_WIDTHS,
    layers_per_block=1,
    cross_attention_dim=8,
    attention_head_dim=4,
    norm_num_groups=2,
)


def tiny_motion_adapter():
    from diffusers import MotionAdapter

    return MotionAdapter(
        block_out_channels=_WIDTHS,
        motion_layers_per_block=1,
        motion_num_attention_heads=2,
        motion_norm_num_groups=2,
        motion_max_seq_length=64,  # above the family's 32-frame maximum
    )


def tiny_scheduler():
    from diffusers import DDIMScheduler

    return DDIMScheduler(
        beta_start=0.00085,
        beta_end=0.012,
        beta_schedule="linear",
        clip_sample=False,
        timestep_spacing="linspace",
        steps_offset=1,
    )


def tiny_base_components() -> dict:
    """The SD1.5-style parts (what an SD base directory holds), without the motion adapter."""
    from diffusers import UNet2DConditionModel

    from videogen.video.tiny.autoencoders import sd_vae
    from videogen.video.tiny.text_encoders import clip_text_encoder
    from videogen.video.tiny.tokenizers import clip_tokenizer

    unet = UNet2DConditionModel(
        sample_size=8,
        out_channels=4,
        up_block_types=("UpBlock2D", "CrossAttnUpBlock2D"),
        **_ENCODER,
    )
    return {
        "vae": sd_vae(),
        "text_encoder": clip_text_encoder(),
        "tokenizer": clip_tokenizer(),
        "unet": unet,
        "scheduler": tiny_scheduler(),
    }


def tiny_controlnet():
    """A ControlNet for the tiny UNet: its encoder's shape, a conditioning embedding that downsamples the control
    frames 4x to the latents' size, and random zero convolutions."""
    import torch
    from diffusers import ControlNetModel

    controlnet = ControlNetModel(**_ENCODER, conditioning_embedding_out_channels=(4, 8, 8))
    zero_convs = [*controlnet.controlnet_down_blocks, controlnet.controlnet_mid_block]
    with torch.no_grad():
        for conv in [*zero_convs, controlnet.controlnet_cond_embedding.conv_out]:
            conv.weight.normal_(std=0.5)
            conv.bias.normal_(std=0.5)
    return controlnet


def build_pipeline(task: str):
    pipeline_class = diffusers_pipeline_class(SPEC, task)
    # first, in text-to-video's order: from the same seed, the same weights in every task's model
    components = dict(**tiny_base_components(), motion_adapter=tiny_motion_adapter())
    if task == CONTROL_TO_VIDEO:
        components["controlnet"] = tiny_controlnet()
    return pipeline_class(**components)
