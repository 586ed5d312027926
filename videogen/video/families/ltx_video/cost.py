"""LTX-Video's cost facts (``LTXPipeline`` / ``LTXImageToVideoPipeline`` / ``LTXConditionPipeline``, diffusers 0.42)."""

from videogen.video.cost.facts import CostFacts, TextFacts
from videogen.video.spec import IMAGE_TO_VIDEO, KEYFRAMES

COST = CostFacts(
    vae_spatial="module_ratio",
    vae_temporal="module_ratio",
    cfg="batched",
    text=TextFacts(tokens=128, encoder_tokens={"text_encoder": None}),  # T5 at max_sequence_length
    i2v_vae_encode="image",
    # Image-to-video conditions the first latent frame, keyframes their frames (timestep = min(t, (1 - mask) x
    # 1000)): every token gets its own timestep.
    per_token_timestep_tasks=frozenset({IMAGE_TO_VIDEO, KEYFRAMES}),
    # latent_upscale's upsampler (``upscale.py``), run once between the two passes
    latent_upsampler_class="diffusers.pipelines.ltx.modeling_latent_upsampler:LTXLatentUpsamplerModel",  # upscale.py's
    # LTXConditionPipeline VAE-encodes every condition; one after frame 0 adds its first latent frame (an image) or
    # first two (a clip: prepare_latents' num_prefix_latent_frames, which __call__ leaves at 2) as tokens
    keyframe_token_frames={KEYFRAMES: 2},
)

__all__ = ["COST"]
