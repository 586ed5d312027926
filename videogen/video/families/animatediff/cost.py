"""AnimateDiff's cost facts (``AnimateDiffPipeline`` / ``AnimateDiffControlNetPipeline``, diffusers 0.42)."""

from videogen.video.cost.facts import CostFacts, TextFacts
from videogen.video.spec import CONTROL_TO_VIDEO

COST = CostFacts(
    # SD 1.5's 2D VAE decoding every frame, no temporal compression.
    vae_spatial="downsample_blocks",
    vae_temporal="none",
    cfg="batched",
    text=TextFacts(tokens=77, encoder_tokens={"text_encoder": None}),  # CLIP's context
    # decode_latents(decode_chunk_size=16): the VAE decodes 16 frames per call.
    decode_chunk=16,
    # control-to-video: the ControlNet runs on every frame at every step (both CFG halves: guess_mode is off), on
    # the control frames' pixels; no VAE encodes them
    controlnet_tasks=frozenset({CONTROL_TO_VIDEO}),
)

__all__ = ["COST"]
