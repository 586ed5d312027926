"""Tiny VAEs shared by more than one family (the SD-style 2D VAE: TextToVideoSD, AnimateDiff)."""

from __future__ import annotations


def sd_vae():
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
