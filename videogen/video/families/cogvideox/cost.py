"""CogVideoX's cost facts (``CogVideoXPipeline`` / ``CogVideoXImageToVideoPipeline``, diffusers 0.42)."""

from videogen.video.cost.facts import CostFacts, TextFacts

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
)

__all__ = ["COST"]
