"""Tiny Stable Video Diffusion (``StableVideoDiffusionPipeline``): the real wiring at tiny widths, built offline.

A one-layer CLIP vision tower with projection at 224 px (the pipeline resizes every image to 224 before embedding it)
in 32 px patches; a one-block spatio-temporal UNet (attention in its mid block) and the temporal-decoder VAE with the
real model's four blocks (/8: 32x32 px is 4x4 latents), both 32 wide (their group norms fix 32 groups); the
checkpoints' scheduler. The UNet's ``num_frames`` is the tiny model's default length, as a real checkpoint's is its
trained one (``checkpoint.py``).
"""

from __future__ import annotations

from videogen.video.adapter import diffusers_pipeline_class
from videogen.video.families.stable_video_diffusion.checkpoint import NUM_FRAMES
from videogen.video.families.stable_video_diffusion.spec import SCHEDULER_CONFIG, SPEC
from videogen.video.model_meta import TINY_REQUEST_DEFAULTS

TINY_CALL_KWARGS: dict[str, dict] = {}
TINY_FAMILY_FACTS = {NUM_FRAMES: TINY_REQUEST_DEFAULTS[NUM_FRAMES]}

_WIDTH = 32  # GroupNorm(32 groups) in the UNet's blocks and output, and in the VAE
_EMBED = 8  # the image embedding the UNet cross-attends to (CLIP's projection)
_TIME_IDS = 3  # fps - 1, motion_bucket_id, noise_aug_strength: each embedded in addition_time_embed_dim


def _image_encoder() -> dict:
    from transformers import CLIPImageProcessor, CLIPVisionConfig, CLIPVisionModelWithProjection

    config = CLIPVisionConfig(
        hidden_size=8,
        intermediate_size=16,
        num_hidden_layers=1,
        num_attention_heads=2,
        image_size=224,
        patch_size=32,
        projection_dim=_EMBED,
    )
    # the pipeline normalises with it only (no resize or crop): the defaults' CLIP mean and std
    processor = CLIPImageProcessor(size={"shortest_edge": 224}, crop_size={"height": 224, "width": 224})
    return {"image_encoder": CLIPVisionModelWithProjection(config).eval(), "feature_extractor": processor}


def build_pipeline(task: str):
    from diffusers import AutoencoderKLTemporalDecoder, EulerDiscreteScheduler, UNetSpatioTemporalConditionModel

    pipeline_class = diffusers_pipeline_class(SPEC, task)
    unet = UNetSpatioTemporalConditionModel(
        sample_size=4,
        in_channels=8,  # the noise and the image's latents
        out_channels=4,
        # plain blocks around the mid block, whose transformer has the spatial, temporal and image cross-attention
        # (the real down/up blocks' kind, run by the scaled arch: presets): half the ops a step
        down_block_types=("DownBlockSpatioTemporal",),
        up_block_types=("UpBlockSpatioTemporal",),
        block_out_channels=(_WIDTH,),
        layers_per_block=1,
        cross_attention_dim=_EMBED,
        num_attention_heads=(2,),
        addition_time_embed_dim=4,
        projection_class_embeddings_input_dim=4 * _TIME_IDS,
        num_frames=TINY_FAMILY_FACTS[NUM_FRAMES],
    )
    vae = AutoencoderKLTemporalDecoder(
        block_out_channels=(_WIDTH,) * 4,
        down_block_types=("DownEncoderBlock2D",) * 4,
        layers_per_block=1,
        latent_channels=4,
        sample_size=32,
    )
    return pipeline_class(
        vae=vae.eval(),
        unet=unet.eval(),
        scheduler=EulerDiscreteScheduler(**SCHEDULER_CONFIG),
        **_image_encoder(),
    )
