"""Tiny TextToVideoSD (ModelScope): UNet3D + 2D VAE + CLIP text encoder, random weights."""

from __future__ import annotations


def tiny_clip_text_encoder(hidden: int = 8):
    """A 1-layer CLIP text encoder (vocab 1000 >= the offline CLIP tokenizer's 811 tokens)."""
    from transformers import CLIPTextConfig, CLIPTextModel

    config = CLIPTextConfig(
        bos_token_id=0,
        eos_token_id=2,
        pad_token_id=1,
        hidden_size=hidden,
        intermediate_size=16,
        num_attention_heads=2,
        num_hidden_layers=1,
        vocab_size=1000,
        max_position_embeddings=77,
        projection_dim=8,
        hidden_act="gelu",
    )
    return CLIPTextModel(config).eval()


def tiny_sd_vae():
    """A 2D KL VAE with 3 blocks: 4 latent channels, spatial factor 4 (32x32 -> 8x8 latents)."""
    from diffusers import AutoencoderKL

    return AutoencoderKL(
        block_out_channels=(8, 8, 8),
        in_channels=3,
        out_channels=3,
        down_block_types=("DownEncoderBlock2D",) * 3,
        up_block_types=("UpDecoderBlock2D",) * 3,
        latent_channels=4,
        layers_per_block=1,
        norm_num_groups=2,
        sample_size=32,
    )


def build_pipeline(task: str):
    from diffusers import DDIMScheduler, TextToVideoSDPipeline, UNet3DConditionModel

    from videogen.video.tiny.tokenizers import clip_tokenizer

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
    return TextToVideoSDPipeline(
        vae=tiny_sd_vae(),
        text_encoder=tiny_clip_text_encoder(),
        tokenizer=clip_tokenizer(),
        unet=unet,
        scheduler=scheduler,
    )
