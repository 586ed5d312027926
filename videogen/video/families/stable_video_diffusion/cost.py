"""Stable Video Diffusion's cost facts (``StableVideoDiffusionPipeline``, diffusers 0.42).

No text: CLIP ViT-H/14 embeds the image once (224 px) into the one token the UNet cross-attends to. The VAE encodes
the image once (its latents sit beside the noise in every frame; with guidance the unconditional branch gets zeros).
Latents: the 2D VAE's /8 (``2 ** (len(block_out_channels) - 1)``), one latent frame per frame. Guidance: above 1.0
both branches run as one batch of two (``torch.cat([latents] * 2)``). Decode: the temporal decoder takes every frame
in one call (``decode_chunk_size`` defaults to ``num_frames``), as a batch of frames it mixes in time; it has neither
tiling nor slicing.
"""

from videogen.video.cost.facts import CostFacts, TextFacts, VaeLaw, lazy
from videogen.video.cost.fit import term

COST = CostFacts(
    vae_spatial="downsample_blocks",
    vae_temporal="none",
    cfg="batched",
    text=TextFacts(tokens=0, encoder_tokens={}, notes=("no text encoder: the UNet attends to the image's embedding",)),
    decode_chunk=None,
    i2v_vae_encode="image",
    image_encoder_tokens=1,  # image_embeds.unsqueeze(1): one token per image
    denoiser_probes={
        "UNetSpatioTemporalConditionModel": lazy(
            "videogen.video.families.stable_video_diffusion.cost_probe:denoiser_call"
        )
    },
    # FLOPs: 2D convolutions and temporal (3, 1, 1) convolutions per frame and pixel (F·S), the mid block's spatial
    # attention per frame (F·S²); the peak grows with the frames decoded together (F·S), as AutoencoderKL's does.
    vae_laws={
        "AutoencoderKLTemporalDecoder": VaeLaw(
            flop_terms=(term(f=1, s=1), term(f=1, s=2)),
            flop_points=((2, 0), (4, 1)),
            peak_terms=(term(f=1, s=1),),
            peak_points=((2, 0), (4, 1)),
        )
    },
    # the UNet's num_frames is only the pipeline's default length (SVD 14, SVD-XT 25) and sample_size its default
    # size: the two checkpoints share one calibration
    cost_neutral_config=frozenset({"num_frames", "sample_size"}),
)

__all__ = ["COST"]
