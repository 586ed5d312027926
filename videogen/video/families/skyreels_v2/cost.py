"""SkyReels-V2's cost facts (its five pipelines in diffusers 0.42; the transformer is a Wan 2.1 DiT).

Text: UMT5-XXL at ``max_sequence_length`` 512, as Wan's. Guidance: the conditional and the unconditional pass as two
calls. The diffusion-forcing image-to-video encodes the image alone (its one clean latent frame), a plain image-to-video
checkpoint (``SkyReelsV2ImageToVideoPipeline``, Wan 2.1's layout) the image followed by zero frames, the whole clip,
and embeds it with CLIP-H/14 (257 tokens). A diffusion-forcing job's denoising runs in windows, each with its own
number of transformer calls: ``forcing_cost.price_job`` prices it from the windows its params record.
"""

from videogen.video.cost.facts import CostFacts, TextFacts, lazy
from videogen.video.families.skyreels_v2.spec import PLAIN_I2V
from videogen.video.spec import FIRST_LAST_FRAME, IMAGE_TO_VIDEO

COST = CostFacts(
    # the Wan VAE's config names its compression, as for Wan (the pipelines compute the same 8 and 4)
    vae_spatial="config_scale_factor",
    vae_temporal="config_scale_factor",
    cfg="sequential",
    text=TextFacts(tokens=512, encoder_tokens={"text_encoder": None}),
    i2v_vae_encode="image",
    # first-last-frame (the DF image-to-video pipeline's last_image): both images VAE-encoded, one frame each
    image_tasks={IMAGE_TO_VIDEO: 1, FIRST_LAST_FRAME: 2},
    i2v_vae_encode_by_pipeline={PLAIN_I2V: "clip"},
    image_encoder_tokens=257,
    denoiser_probes={
        "SkyReelsV2Transformer3DModel": lazy("videogen.video.families.skyreels_v2.cost_probe:denoiser_call")
    },
    price_job=lazy("videogen.video.families.skyreels_v2.forcing_cost:price_job"),
)

__all__ = ["COST"]
