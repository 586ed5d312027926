"""Wan 2.1 / 2.2's cost facts (``WanPipeline`` / ``WanImageToVideoPipeline``, diffusers 0.42)."""

from videogen.video.cost.facts import CostFacts, TextFacts
from videogen.video.families.wan.vace import VACE_TASKS
from videogen.video.spec import FIRST_LAST_FRAME, IMAGE_TO_VIDEO

COST = CostFacts(
    # The VAE's config names its compression (Wan 2.2's /16 VAE too).
    vae_spatial="config_scale_factor",
    vae_temporal="config_scale_factor",
    # The transformer runs twice per step with guidance: conditional, then unconditional.
    cfg="sequential",
    text=TextFacts(tokens=512, encoder_tokens={"text_encoder": None}),  # UMT5 at max_sequence_length
    # Wan 2.1 I2V encodes the image followed by zero frames, the whole clip; Wan 2.2
    # (expand_timesteps) the image only, and gives every token its own timestep.
    i2v_vae_encode="clip",
    # Wan 2.1 I2V's CLIP-H/14 at 224: 16x16 patches + the class token.
    image_encoder_tokens=257,
    # first-last-frame (WanImageToVideoPipeline with last_image): both images CLIP-embedded (2 x 257 tokens, which
    # the FLF2V transformer's image embedder folds into one sequence) and the clip between them VAE-encoded once
    image_tasks={IMAGE_TO_VIDEO: 1, FIRST_LAST_FRAME: 2},
    # WanVACEPipeline VAE-encodes video * (1 - mask) and video * mask, each the whole clip (a zero clip without video)
    clip_vae_encodes=dict.fromkeys(VACE_TASKS, 2),
    # ... and each reference image once more (one frame), one more latent frame in both streams
    reference_image_tasks=frozenset(VACE_TASKS),
)

__all__ = ["COST"]
