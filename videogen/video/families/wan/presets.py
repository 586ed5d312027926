"""Real-size Wan presets (``arch:<id>``), from diffusers' ``scripts/convert_wan_to_diffusers.py``.

All share the UMT5-XXL text encoder; Wan 2.1 uses its 16-channel VAE (/8, /4), Wan 2.2
TI2V-5B the 48-channel residual VAE (/16 spatial after its 2x2 patchify, /4 temporal).
A text-to-video checkpoint's components also serve video-to-video (``WanVideoToVideoPipeline``).
"""

from __future__ import annotations

from videogen.video.arch.preset import ArchPreset, ComponentArch, ProcessorArch, SchedulerArch, TokenizerArch
from videogen.video.arch.shared_components import (
    clip_image_processor_config,
    open_clip_vit_h14_vision,
    umt5_xxl_encoder,
    wan21_vae,
)
from videogen.video.families.wan.spec import SPEC
from videogen.video.families.wan.vace import VACE_TASKS
from videogen.video.spec import FIRST_LAST_FRAME, IMAGE_TO_VIDEO, TEXT_TO_VIDEO, VIDEO_TO_VIDEO

_FAMILY = "wan"


def _transformer(
    *,
    heads: int,
    layers: int,
    ffn: int,
    in_channels: int = 16,
    out_channels: int = 16,
    image_dim=None,
    name: str = "transformer",
    **extra,
):
    # Every Wan DiT: 128-wide heads, (1, 2, 2) patches, UMT5 text (4096), 256-d timestep frequencies.
    # ``extra``: FLF2V's pos_embed_seq_len; VACE's vace_layers / vace_in_channels (a WanVACETransformer3DModel).
    vace = "vace_layers" in extra
    return ComponentArch(
        name=name,
        library="diffusers",
        class_name="WanVACETransformer3DModel" if vace else "WanTransformer3DModel",
        config={
            "patch_size": [1, 2, 2],
            "num_attention_heads": heads,
            "attention_head_dim": 128,
            "in_channels": in_channels,
            "out_channels": out_channels,
            "text_dim": 4096,
            "freq_dim": 256,
            "ffn_dim": ffn,
            "num_layers": layers,
            "cross_attn_norm": True,
            "qk_norm": "rms_norm_across_heads",
            "eps": 1e-6,
            "image_dim": image_dim,
            "added_kv_proj_dim": heads * 128 if image_dim else None,
            "rope_max_seq_len": 1024,
            **extra,
        },
    )


def _unipc(flow_shift: float) -> SchedulerArch:
    return SchedulerArch(
        class_name="UniPCMultistepScheduler",
        config={
            "prediction_type": "flow_prediction",
            "use_flow_sigmas": True,
            "num_train_timesteps": 1000,
            "flow_shift": flow_shift,
        },
    )


# Wan 2.2's VAE: per-channel latent statistics of its 48 channels (from the conversion script).
_WAN22_LATENTS_MEAN = [
    -0.2289,
    -0.0052,
    -0.1323,
    -0.2339,
    -0.2799,
    0.0174,
    0.1838,
    0.1557,
    -0.1382,
    0.0542,
    0.2813,
    0.0891,
    0.1570,
    -0.0098,
    0.0375,
    -0.1825,
    -0.2246,
    -0.1207,
    -0.0698,
    0.5109,
    0.2665,
    -0.2108,
    -0.2158,
    0.2502,
    -0.2055,
    -0.0322,
    0.1109,
    0.1567,
    -0.0729,
    0.0899,
    -0.2799,
    -0.1230,
    -0.0313,
    -0.1649,
    0.0117,
    0.0723,
    -0.2839,
    -0.2083,
    -0.0520,
    0.3748,
    0.0152,
    0.1957,
    0.1433,
    -0.2944,
    0.3573,
    -0.0548,
    -0.1681,
    -0.0667,
]
_WAN22_LATENTS_STD = [
    0.4765,
    1.0364,
    0.4514,
    1.1677,
    0.5313,
    0.4990,
    0.4818,
    0.5013,
    0.8158,
    1.0344,
    0.5894,
    1.0901,
    0.6885,
    0.6165,
    0.8454,
    0.4978,
    0.5759,
    0.3523,
    0.7135,
    0.6804,
    0.5833,
    1.4146,
    0.8986,
    0.5659,
    0.7069,
    0.5338,
    0.4889,
    0.4917,
    0.4069,
    0.4999,
    0.6866,
    0.4093,
    0.5709,
    0.6065,
    0.6415,
    0.4944,
    0.5726,
    1.2042,
    0.5458,
    1.6887,
    0.3971,
    1.0600,
    0.3943,
    0.5537,
    0.5444,
    0.4089,
    0.7468,
    0.7744,
]

_WAN22_VAE = ComponentArch(
    name="vae",
    library="diffusers",
    class_name="AutoencoderKLWan",
    config={
        "base_dim": 160,
        "decoder_base_dim": 256,
        "z_dim": 48,
        "is_residual": True,
        "in_channels": 12,
        "out_channels": 12,
        "patch_size": 2,
        "scale_factor_temporal": 4,
        "scale_factor_spatial": 16,
        "latents_mean": _WAN22_LATENTS_MEAN,
        "latents_std": _WAN22_LATENTS_STD,
    },
)

_TOKENIZER = TokenizerArch(name="tokenizer", kind="t5")
# the t2v checkpoints: text-to-video, and video-to-video on the same components
_T2V_TASKS = {task: SPEC.pipeline_classes[task] for task in (TEXT_TO_VIDEO, VIDEO_TO_VIDEO)}
# VACE: the control stream is 16 kept + 16 regenerated latent channels + the mask folded 8x8 (64)
_VACE_IN_CHANNELS = 96

PRESETS: list[ArchPreset] = [
    ArchPreset(
        id="wan2.1-t2v-1.3b",
        family=_FAMILY,
        checkpoint="Wan-AI/Wan2.1-T2V-1.3B-Diffusers",
        tasks=list(_T2V_TASKS),
        pipeline_classes=dict(_T2V_TASKS),
        components=[
            _transformer(heads=12, layers=30, ffn=8960),
            wan21_vae(),
            umt5_xxl_encoder(),
        ],
        denoiser="transformer",
        tokenizers=[_TOKENIZER],
        scheduler=_unipc(3.0),
        published_params={"transformer": 1_420_000_000},  # "1.3B" model card; 1.42 B in the diffusers checkpoint
    ),
    ArchPreset(
        id="wan2.1-t2v-14b",
        family=_FAMILY,
        checkpoint="Wan-AI/Wan2.1-T2V-14B-Diffusers",
        tasks=list(_T2V_TASKS),
        pipeline_classes=dict(_T2V_TASKS),
        components=[
            _transformer(heads=40, layers=40, ffn=13824),
            wan21_vae(),
            umt5_xxl_encoder(),
        ],
        denoiser="transformer",
        tokenizers=[_TOKENIZER],
        scheduler=_unipc(3.0),
        published_params={"transformer": 14_290_000_000},  # "14B" by name; 14.29 B in the released transformer
    ),
    ArchPreset(
        id="wan2.1-i2v-14b-480p",
        family=_FAMILY,
        checkpoint="Wan-AI/Wan2.1-I2V-14B-480P-Diffusers",
        tasks=[IMAGE_TO_VIDEO],
        pipeline_classes={IMAGE_TO_VIDEO: "WanImageToVideoPipeline"},
        components=[
            # noise latents + first-frame latents + 4 mask channels; CLIP-H image tokens via extra K/V
            _transformer(heads=40, layers=40, ffn=13824, in_channels=36, image_dim=1280),
            wan21_vae(),
            umt5_xxl_encoder(),
            open_clip_vit_h14_vision(),
        ],
        denoiser="transformer",
        tokenizers=[_TOKENIZER],
        processors=[ProcessorArch(name="image_processor", config=clip_image_processor_config(224))],
        scheduler=_unipc(3.0),
        # "14B" by name; the image cross-attention adds ~2.1 B on top of the T2V 14B
        published_params={"transformer": 16_400_000_000},
    ),
    ArchPreset(
        id="wan2.1-flf2v-14b-720p",
        family=_FAMILY,
        checkpoint="Wan-AI/Wan2.1-FLF2V-14B-720P-Diffusers",
        tasks=[FIRST_LAST_FRAME],
        pipeline_classes={FIRST_LAST_FRAME: SPEC.pipeline_classes[FIRST_LAST_FRAME]},
        components=[
            # the I2V-14B transformer plus a learned position table over both images' CLIP tokens (2 x 257):
            # its image embedder folds the pipeline's two images into one sequence of 514, so it takes
            # exactly two images (first and last frame), never one
            _transformer(heads=40, layers=40, ffn=13824, in_channels=36, image_dim=1280, pos_embed_seq_len=2 * 257),
            wan21_vae(),
            umt5_xxl_encoder(),
            open_clip_vit_h14_vision(),
        ],
        denoiser="transformer",
        tokenizers=[_TOKENIZER],
        processors=[ProcessorArch(name="image_processor", config=clip_image_processor_config(224))],
        # 720p: the flow shift Wan recommends at 720p (the cost does not depend on it)
        scheduler=_unipc(5.0),
        # "14B" by name, as Wan 2.1 I2V-14B; the position table adds 0.66 M to its 16.39 B
        published_params={"transformer": 16_400_000_000},
    ),
    *(
        # Wan 2.1 VACE: the T2V DiT of the same size plus VACE blocks beside the listed layers, which read the
        # control stream (video / mask / reference images); one checkpoint for all three VACE tasks. The model
        # cards give only "1.3B" / "14B", the size of the T2V DiT it is built on: the VACE blocks add 0.73 B /
        # 3.05 B on top, so the published figure is checked against the transformer without them.
        ArchPreset(
            id=f"wan2.1-vace-{size.lower()}",
            family=_FAMILY,
            checkpoint=f"Wan-AI/Wan2.1-VACE-{size}-diffusers",
            tasks=list(VACE_TASKS),
            pipeline_classes={task: SPEC.pipeline_classes[task] for task in VACE_TASKS},
            components=[
                _transformer(
                    heads=heads, layers=layers, ffn=ffn, vace_layers=vace_layers, vace_in_channels=_VACE_IN_CHANNELS
                ),
                wan21_vae(),
                umt5_xxl_encoder(),
            ],
            denoiser="transformer",
            tokenizers=[_TOKENIZER],
            scheduler=_unipc(3.0),
            published_params={"transformer": published},
            published_excludes={"transformer": ("vace_blocks", "vace_patch_embedding")},
        )
        for size, heads, layers, ffn, vace_layers, published in (
            # every other layer of 30; 1.42 B: the T2V-1.3B transformer it extends
            ("1.3B", 12, 30, 8960, list(range(0, 30, 2)), 1_420_000_000),
            # every fifth layer of 40; 14.29 B: the T2V-14B transformer it extends
            ("14B", 40, 40, 13824, list(range(0, 40, 5)), 14_290_000_000),
        )
    ),
    ArchPreset(
        id="wan2.2-ti2v-5b",
        family=_FAMILY,
        checkpoint="Wan-AI/Wan2.2-TI2V-5B-Diffusers",
        tasks=[TEXT_TO_VIDEO, IMAGE_TO_VIDEO],
        pipeline_classes={TEXT_TO_VIDEO: "WanPipeline", IMAGE_TO_VIDEO: "WanImageToVideoPipeline"},
        components=[
            _transformer(heads=24, layers=30, ffn=14336, in_channels=48, out_channels=48),
            _WAN22_VAE,
            umt5_xxl_encoder(),
        ],
        denoiser="transformer",
        tokenizers=[_TOKENIZER],
        scheduler=_unipc(5.0),
        # one model for both tasks: the first frame is given as clean latents with per-token timesteps
        pipeline_kwargs={"expand_timesteps": True},
        published_params={"transformer": 5_000_000_000},  # "5B" (model card)
    ),
    *(
        # Wan 2.2 A14B: two Wan 2.1-14B-sized experts, "27B total, 14B active" (model card). ``transformer`` (high
        # noise) runs the steps whose timestep >= boundary_ratio * 1000, ``transformer_2`` (low noise) the rest;
        # boundary_ratio as each published model_index.json has it. Wan 2.1's VAE; the i2v transformer takes the
        # first frame only through its 36 input channels (no CLIP image encoder, no image cross-attention).
        ArchPreset(
            id=f"wan2.2-{short}-a14b",
            family=_FAMILY,
            checkpoint=f"Wan-AI/Wan2.2-{short.upper()}-A14B-Diffusers",
            tasks=[task],
            pipeline_classes={task: pipeline_class},
            components=[
                _transformer(heads=40, layers=40, ffn=13824, in_channels=in_channels),
                _transformer(heads=40, layers=40, ffn=13824, in_channels=in_channels, name="transformer_2"),
                wan21_vae(),
                umt5_xxl_encoder(),
            ],
            denoiser="transformer",
            denoiser_2="transformer_2",
            tokenizers=[_TOKENIZER],
            scheduler=_unipc(3.0),
            pipeline_kwargs={"boundary_ratio": boundary_ratio},
            # each expert is "14B" by name: the Wan 2.1 T2V-14B transformer, 14.29 B
            published_params={"transformer": 14_290_000_000, "transformer_2": 14_290_000_000},
        )
        for short, task, pipeline_class, in_channels, boundary_ratio in (
            ("t2v", TEXT_TO_VIDEO, "WanPipeline", 16, 0.875),
            # noise latents + first-frame latents + 4 mask channels
            ("i2v", IMAGE_TO_VIDEO, "WanImageToVideoPipeline", 36, 0.9),
        )
    ),
]
