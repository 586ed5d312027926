"""CogVideoX's cost facts (``CogVideoXPipeline`` / ``CogVideoXImageToVideoPipeline`` / ``CogVideoXFunControlPipeline``,
diffusers 0.42)."""

from videogen.video.cost.facts import CostFacts, TextFacts
from videogen.video.spec import CONTROL_TO_VIDEO

COST = CostFacts(
    # Spatial: 2 ** (VAE blocks - 1); temporal: the VAE config's ratio.
    vae_spatial="downsample_blocks",
    vae_temporal="config_ratio",
    cfg="batched",
    # T5 runs at the transformer's max_text_seq_length (226 unless the preset says otherwise).
    text=TextFacts(tokens=226, encoder_tokens={"text_encoder": None}, tokens_config_key="max_text_seq_length"),
    # CogVideoX 1.5 pads latent frames to a multiple of the transformer's temporal patch.
    pad_latent_frames_to_patch=True,
    i2v_vae_encode="image",
    # CogVideoXFunControlPipeline VAE-encodes the control video once, whole, like video-to-video's clip (its
    # transformer's doubled in_channels, which take those latents, are in the denoiser's own config)
    clip_vae_encodes={CONTROL_TO_VIDEO: 1},
)

__all__ = ["COST"]
