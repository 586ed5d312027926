"""Tiny CogVideoX: T5 text encoder, CogVideoX 3D VAE (8x spatial, 4x temporal), transformer.

t2v uses sin-cos positional embeddings (CogVideoX-2b style), so the prompt must be padded
to exactly ``max_text_seq_length`` tokens: the adapter passes ``max_sequence_length`` from
the transformer config. i2v uses rotary embeddings (CogVideoX-5b-I2V style) but no learned
positional embeddings, so any size that is a multiple of 16 works. Video-to-video
(``CogVideoXVideoToVideoPipeline``) gets exactly the text-to-video components (same seed: same weights).
Control-to-video (``CogVideoXFunControlPipeline``) is CogVideoX-Fun's control layout: the i2v transformer's shape
(rotary positions, like the 5B it is fine-tuned from) taking the noise and the control video's latents side by side,
twice the VAE's latent channels.
"""

from __future__ import annotations

from videogen.video.adapter import diffusers_pipeline_class
from videogen.video.families.cogvideox.spec import SPEC
from videogen.video.spec import CONTROL_TO_VIDEO, IMAGE_TO_VIDEO
from videogen.video.tiny.text_encoders import T5_DIM, t5_encoder

TINY_CALL_KWARGS: dict[str, dict] = {}

_LATENT = 4


def build_pipeline(task: str):
    from diffusers import AutoencoderKLCogVideoX, CogVideoXDDIMScheduler, CogVideoXTransformer3DModel

    from videogen.video.tiny.tokenizers import t5_tokenizer

    pipeline_class = diffusers_pipeline_class(SPEC, task)
    # the noise latents beside the image's (i2v) or the control video's (CogVideoX-Fun control)
    doubled = task in (IMAGE_TO_VIDEO, CONTROL_TO_VIDEO)
    vae = AutoencoderKLCogVideoX(
        in_channels=3,
        out_channels=3,
        down_block_types=("CogVideoXDownBlock3D",) * 4,
        up_block_types=("CogVideoXUpBlock3D",) * 4,
        block_out_channels=(8, 8, 8, 8),
        latent_channels=_LATENT,
        layers_per_block=1,
        norm_num_groups=2,
        temporal_compression_ratio=4,
    )
    transformer = CogVideoXTransformer3DModel(
        num_attention_heads=2,
        attention_head_dim=16,  # rotary (i2v) splits it 4 + 6 + 6: needs 16
        in_channels=2 * _LATENT if doubled else _LATENT,
        out_channels=_LATENT,
        time_embed_dim=4,
        text_embed_dim=T5_DIM,
        num_layers=2,  # First-Block Cache needs a head and a tail block
        sample_width=4,
        sample_height=4,
        sample_frames=9,
        patch_size=2,
        temporal_compression_ratio=4,
        max_text_seq_length=16,
        use_rotary_positional_embeddings=doubled,
    )
    return pipeline_class(
        tokenizer=t5_tokenizer(),
        text_encoder=t5_encoder(umt5=False),
        vae=vae,
        transformer=transformer,
        scheduler=CogVideoXDDIMScheduler(),
    )
