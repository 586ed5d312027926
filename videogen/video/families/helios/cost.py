"""Helios' cost facts (``HeliosPipeline`` / ``HeliosPyramidPipeline``, diffusers 0.42).

Text: UMT5-XXL at ``max_sequence_length`` 512 (both pipelines' default), its padding kept; the transformer's
guidance cross-attention attends from the chunk's tokens only (not the history's). Guidance: the two branches as two
forwards of batch 1, in separate ``cache_context``s (``sequential``), when ``guidance_scale`` > 1.

The plain estimate prices ``steps`` forwards over the whole clip; a Helios job runs chunks (``chunks.py``), which
``price.py`` prices from estimates of one chunk (``price_job``). Each forward sees the chunk's tokens beside its
packed history (``cost_probe``): 2 latent frames at the chunk's patch, 2 at 2x and 16 at 4x coarser in every
dimension, 28 % more tokens than the chunk's own at 384x640. The VAE decodes one chunk at a time; image-to-video
encodes the image and a still clip of one chunk (its last latent frame seeds the history); video-to-video encodes the
clip's first frame and its whole chunks from the end.
"""

from videogen.video.cost.facts import CostFacts, TextFacts, lazy
from videogen.video.spec import IMAGE_TO_VIDEO

TEXT_TOKENS = 512


COST = CostFacts(
    # the pipelines read vae.config.scale_factor_spatial / scale_factor_temporal (Wan 2.1's VAE: 8 and 4)
    vae_spatial="config_scale_factor",
    vae_temporal="config_scale_factor",
    cfg="sequential",
    text=TextFacts(tokens=TEXT_TOKENS, encoder_tokens={"text_encoder": TEXT_TOKENS}),
    # a still clip of the job's frames: price_job asks for one chunk's (and for the image alone)
    i2v_vae_encode="clip",
    image_tasks={IMAGE_TO_VIDEO: 1},
    denoiser_probes={"HeliosTransformer3DModel": lazy("videogen.video.families.helios.cost_probe:denoiser_call")},
    price_job=lazy("videogen.video.families.helios.price:price_job"),
)

__all__ = ["COST", "TEXT_TOKENS"]
