"""Kandinsky 5's cost facts (``Kandinsky5T2VPipeline`` / ``Kandinsky5I2VPipeline``, diffusers 0.42).

Text: Qwen2.5-VL runs on the prompt in its template (128 tokens cropped after encoding) up to ``max_sequence_length``
(512) more, unpadded: the transformer gets the prompt's own tokens, counted here as the full 512 (an upper bound; its
text blocks and cross-attention are a small part of a step). CLIP-L runs on 77 tokens for the pooled embedding.
Latents: the HunyuanVideo VAE (/8, /4 in time, read from its config), patch 1x2x2. Guidance: above 1.0 the
unconditional pass is a second transformer call. Image-to-video VAE-encodes the image alone (one frame) as the first
latent frame.
"""

from videogen.video.cost.facts import CostFacts, TextFacts, lazy

TEXT_TOKENS = 512  # the pipelines' max_sequence_length
TEMPLATE_CROP = 128  # prompt_template_encode_start_idx
CLIP_TOKENS = 77


COST = CostFacts(
    # the pipelines read vae.config.spatial_compression_ratio (the module's own) and .temporal_compression_ratio
    vae_spatial="module_ratio",
    vae_temporal="config_ratio",
    cfg="sequential",
    text=TextFacts(
        tokens=TEXT_TOKENS,
        encoder_tokens={"text_encoder": TEXT_TOKENS + TEMPLATE_CROP, "text_encoder_2": CLIP_TOKENS},
        notes=("the prompt's own Qwen tokens reach the transformer (no padding): counted as 512, an upper bound",),
    ),
    i2v_vae_encode="image",
    denoiser_probes={
        "Kandinsky5Transformer3DModel": lazy("videogen.video.families.kandinsky5.cost_probe:denoiser_call")
    },
)

__all__ = ["COST", "TEXT_TOKENS"]
