"""TextToVideoSD's cost facts (``TextToVideoSDPipeline``, diffusers 0.42)."""

from videogen.video.cost.facts import CostFacts, TextFacts

COST = CostFacts(
    # A 2D Stable Diffusion VAE decoding every frame, no temporal compression.
    vae_spatial="downsample_blocks",
    vae_temporal="none",
    cfg="batched",
    text=TextFacts(tokens=77, encoder_tokens={"text_encoder": None}),  # CLIP's context
    # decode_latents decodes every frame in one call.
    decode_chunk=None,
)

__all__ = ["COST"]
