"""Cosmos Predict 2.5's cost facts (``Cosmos2_5_PredictBasePipeline``, diffusers 0.42).

Text: the Qwen2.5-VL text encoder runs the chat-formatted prompt padded to ``max_sequence_length`` (512) and every
one of the 512 tokens reaches the transformer (all layers' hidden states side by side, projected down by its
cross-attention projection). Guidance: above 1.0 the unconditional pass is a second transformer call (and a second
text-encoder run on the negative prompt). The VAE (Wan 2.1's, read from its config) encodes the whole clip for
image- and video-to-video: the image or the clip's last frames padded to the job's ``num_frames``.
"""

from videogen.video.cost.facts import CostFacts, TextFacts, lazy
from videogen.video.spec import VIDEO_TO_VIDEO

TEXT_TOKENS = 512  # the pipeline's max_sequence_length, padded to


COST = CostFacts(
    # the pipeline reads 2 ** sum(vae.temperal_downsample) and 2 ** len(...): the VAE config's scale factors
    vae_spatial="config_scale_factor",
    vae_temporal="config_scale_factor",
    cfg="sequential",
    text=TextFacts(tokens=TEXT_TOKENS, encoder_tokens={"text_encoder": TEXT_TOKENS}),
    # Image2World: the image followed by padding frames, num_frames of them, through the VAE
    i2v_vae_encode="clip",
    # Video2World: the clip's last frames padded to num_frames, encoded once
    clip_vae_encodes={VIDEO_TO_VIDEO: 1},
    denoiser_probes={"CosmosTransformer3DModel": lazy("videogen.video.families.cosmos.cost_probe:denoiser_call")},
)

__all__ = ["COST", "TEXT_TOKENS"]
