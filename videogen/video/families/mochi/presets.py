"""Real-size Mochi 1 presets (``arch:<id>``), from diffusers' ``scripts/convert_mochi_to_diffusers.py`` and the
configs ``genmo/mochi-1-preview`` ships.

The converter builds ``MochiTransformer3DModel()`` at its defaults: the AsymmDiT's 48 blocks, a visual stream of 24
heads x 128 (3072 wide) beside a 1536-wide text stream (``pooled_projection_dim``), patch 2, 12 latent channels, T5-XXL's
4096-wide tokens in, at most 256 of them (``TOKENIZER_MAX_LENGTH``). The VAE is ``AutoencoderKLMochi()`` at its
defaults: /8 in space and /6 in time (expansions (2, 2, 2) and (1, 2, 3)), 12 channels with per-channel latent
statistics; the decoder is 362.5 M of its 460 M parameters. Text: google/t5-v1_1-xxl's encoder.
"""

from __future__ import annotations

from videogen.video.arch.preset import ArchPreset, ComponentArch, SchedulerArch, TokenizerArch
from videogen.video.arch.shared_components import t5_v1_1_xxl_encoder
from videogen.video.families.mochi.cost import TEXT_TOKENS
from videogen.video.families.mochi.spec import SPEC
from videogen.video.spec import TEXT_TO_VIDEO

_TRANSFORMER = ComponentArch(
    name="transformer",
    library="diffusers",
    class_name="MochiTransformer3DModel",
    config={
        "patch_size": 2,
        "num_attention_heads": 24,
        "attention_head_dim": 128,
        "num_layers": 48,
        "pooled_projection_dim": 1536,
        "in_channels": 12,
        "qk_norm": "rms_norm",
        "text_embed_dim": 4096,
        "time_embed_dim": 256,
        "activation_fn": "swiglu",
        "max_sequence_length": TEXT_TOKENS,
    },
)
_VAE = ComponentArch(
    name="vae",
    library="diffusers",
    class_name="AutoencoderKLMochi",
    config={
        "in_channels": 15,  # RGB with Fourier features
        "out_channels": 3,
        "encoder_block_out_channels": [64, 128, 256, 384],
        "decoder_block_out_channels": [128, 256, 512, 768],
        "latent_channels": 12,
        "layers_per_block": [3, 3, 4, 6, 3],
        "temporal_expansions": [1, 2, 3],
        "spatial_expansions": [2, 2, 2],
        "add_attention_block": [False, True, True, True, True],
        "scaling_factor": 1.0,
    },
)

PRESETS: list[ArchPreset] = [
    ArchPreset(
        id="mochi-1-preview",
        family=SPEC.id,
        checkpoint=SPEC.default_model_ids[TEXT_TO_VIDEO],
        tasks=[TEXT_TO_VIDEO],
        pipeline_classes=dict(SPEC.pipeline_classes),
        components=[_TRANSFORMER, _VAE, t5_v1_1_xxl_encoder()],
        denoiser="transformer",
        tokenizers=[TokenizerArch(name="tokenizer", kind="t5", model_max_length=TEXT_TOKENS)],
        # The pipeline passes its own sigmas (Genmo's linear-quadratic schedule); the checkpoint's scheduler inverts
        # them (Mochi runs time from noise at 0: the pipeline's "reversed timesteps").
        scheduler=SchedulerArch(class_name="FlowMatchEulerDiscreteScheduler", config={"invert_sigmas": True}),
        published_params={"transformer": 10_000_000_000},  # "a 10B parameter AsymmDiT" (model card, diffusers docs)
    ),
]
