"""Real-size LTX-2 presets (``arch:<id>``), from diffusers' ``scripts/convert_ltx2_to_diffusers.py`` (version "2.0":
the transformer, connectors, video VAE, audio VAE, vocoder and scheduler it builds for ``Lightricks/LTX-2``) and the
Gemma-3-12B text encoder it loads (``google/gemma-3-12b-it-qat-q4_0-unquantized``'s ``config.json``, whole:
``Gemma3ForConditionalGeneration``, its SigLIP tower included).

One 19B dual-stream DiT (48 blocks; video 32 heads x 128 over 128 latent channels, audio 32 heads x 64 over 8
latent channels x 16 mel bins; each stream cross-attends to the other in every block), "19B" on the model card
(14B video + 5B audio). The text connectors (two 2-block transformers, 30 heads x 128, 128 learnable registers)
project Gemma's 49 stacked hidden states (48 layers + embeddings) for each stream. The vocoder makes 24 kHz stereo
from the audio VAE's 64-bin mel spectrogram (16 kHz, hop 160).
"""

from __future__ import annotations

from videogen.video.arch.preset import ArchPreset, ComponentArch, SchedulerArch, TokenizerArch
from videogen.video.families.ltx2.spec import MODEL_ID, SCHEDULER_CONFIG
from videogen.video.spec import IMAGE_TO_VIDEO, TEXT_TO_VIDEO

_FAMILY = "ltx2"
_PIPELINE_MODULE = "diffusers.pipelines.ltx2"  # the connectors and the vocoder are the pipeline's own modules

_TRANSFORMER = ComponentArch(
    name="transformer",
    library="diffusers",
    class_name="LTX2VideoTransformer3DModel",
    config={
        "in_channels": 128,
        "out_channels": 128,
        "patch_size": 1,
        "patch_size_t": 1,
        "num_attention_heads": 32,
        "attention_head_dim": 128,
        "cross_attention_dim": 4096,
        "vae_scale_factors": [8, 32, 32],
        "pos_embed_max_pos": 20,
        "base_height": 2048,
        "base_width": 2048,
        "audio_in_channels": 128,
        "audio_out_channels": 128,
        "audio_patch_size": 1,
        "audio_patch_size_t": 1,
        "audio_num_attention_heads": 32,
        "audio_attention_head_dim": 64,
        "audio_cross_attention_dim": 2048,
        "audio_scale_factor": 4,
        "audio_pos_embed_max_pos": 20,
        "audio_sampling_rate": 16000,
        "audio_hop_length": 160,
        "num_layers": 48,
        "activation_fn": "gelu-approximate",
        "qk_norm": "rms_norm_across_heads",
        "norm_elementwise_affine": False,
        "norm_eps": 1e-6,
        "caption_channels": 3840,
        "attention_bias": True,
        "attention_out_bias": True,
        "rope_theta": 10000.0,
        "rope_double_precision": True,
        "causal_offset": 1,
        "timestep_scale_multiplier": 1000,
        "cross_attn_timestep_scale_multiplier": 1000,
        "rope_type": "split",
    },
)
_CONNECTORS = ComponentArch(
    name="connectors",
    library="diffusers",
    module=_PIPELINE_MODULE,
    class_name="LTX2TextConnectors",
    config={
        "caption_channels": 3840,
        "text_proj_in_factor": 49,
        "video_connector_num_attention_heads": 30,
        "video_connector_attention_head_dim": 128,
        "video_connector_num_layers": 2,
        "video_connector_num_learnable_registers": 128,
        "audio_connector_num_attention_heads": 30,
        "audio_connector_attention_head_dim": 128,
        "audio_connector_num_layers": 2,
        "audio_connector_num_learnable_registers": 128,
        "connector_rope_base_seq_len": 4096,
        "rope_theta": 10000.0,
        "rope_double_precision": True,
        "causal_temporal_positioning": False,
        "rope_type": "split",
    },
)
_VAE = ComponentArch(
    name="vae",
    library="diffusers",
    class_name="AutoencoderKLLTX2Video",
    config={
        "in_channels": 3,
        "out_channels": 3,
        "latent_channels": 128,
        "block_out_channels": [256, 512, 1024, 2048],
        "down_block_types": ["LTX2VideoDownBlock3D"] * 4,
        "decoder_block_out_channels": [256, 512, 1024],
        "layers_per_block": [4, 6, 6, 2, 2],
        "decoder_layers_per_block": [5, 5, 5, 5],
        "spatio_temporal_scaling": [True, True, True, True],
        "decoder_spatio_temporal_scaling": [True, True, True],
        "decoder_inject_noise": [False, False, False, False],
        "downsample_type": ["spatial", "temporal", "spatiotemporal", "spatiotemporal"],
        "upsample_residual": [True, True, True],
        "upsample_factor": [2, 2, 2],
        "timestep_conditioning": False,
        "patch_size": 4,
        "patch_size_t": 1,
        "resnet_norm_eps": 1e-6,
        "encoder_causal": True,
        "decoder_causal": False,
        "encoder_spatial_padding_mode": "zeros",
        "decoder_spatial_padding_mode": "reflect",
        "spatial_compression_ratio": 32,
        "temporal_compression_ratio": 8,
    },
)
_AUDIO_VAE = ComponentArch(
    name="audio_vae",
    library="diffusers",
    class_name="AutoencoderKLLTX2Audio",
    config={
        "base_channels": 128,
        "output_channels": 2,
        "ch_mult": [1, 2, 4],
        "num_res_blocks": 2,
        "attn_resolutions": None,
        "in_channels": 2,
        "resolution": 256,
        "latent_channels": 8,
        "norm_type": "pixel",
        "causality_axis": "height",
        "dropout": 0.0,
        "mid_block_add_attention": False,
        "sample_rate": 16000,
        "mel_hop_length": 160,
        "is_causal": True,
        "mel_bins": 64,
        "double_z": True,
    },
)
_VOCODER = ComponentArch(
    name="vocoder",
    library="diffusers",
    module=_PIPELINE_MODULE,
    class_name="LTX2Vocoder",
    config={
        "in_channels": 128,
        "hidden_channels": 1024,
        "out_channels": 2,
        "upsample_kernel_sizes": [16, 15, 8, 4, 4],
        "upsample_factors": [6, 5, 2, 2, 2],
        "resnet_kernel_sizes": [3, 7, 11],
        "resnet_dilations": [[1, 3, 5], [1, 3, 5], [1, 3, 5]],
        "leaky_relu_negative_slope": 0.1,
        "output_sampling_rate": 24000,
    },
)
# google/gemma-3-12b-it's config.json (the QAT-unquantized copy the converter loads has the same architecture)
_GEMMA3_12B = ComponentArch(
    name="text_encoder",
    library="transformers",
    class_name="Gemma3ForConditionalGeneration",
    config_class="Gemma3Config",
    config={
        "text_config": {
            "vocab_size": 262208,
            "hidden_size": 3840,
            "intermediate_size": 15360,
            "num_hidden_layers": 48,
            "num_attention_heads": 16,
            "num_key_value_heads": 8,
            "head_dim": 256,
            "query_pre_attn_scalar": 256,
            "sliding_window": 1024,
            "rope_theta": 1_000_000.0,
            "rope_scaling": {"factor": 8.0, "rope_type": "linear"},
            "max_position_embeddings": 131072,
        },
        "vision_config": {
            "hidden_size": 1152,
            "intermediate_size": 4304,
            "num_hidden_layers": 27,
            "num_attention_heads": 16,
            "image_size": 896,
            "patch_size": 14,
            "vision_use_head": False,
        },
        "mm_tokens_per_image": 256,
        "boi_token_index": 255999,
        "eoi_token_index": 256000,
        "image_token_index": 262144,
    },
)
# The published sizes: "19B" (the model card: one DiT, 14B video + 5B audio) and Gemma 3's "12B".
_PUBLISHED = {"transformer": 19_000_000_000, "text_encoder": 12_000_000_000}

PRESETS: list[ArchPreset] = [
    ArchPreset(
        id="ltx-2-19b-dev",
        family=_FAMILY,
        checkpoint=MODEL_ID,
        tasks=[TEXT_TO_VIDEO, IMAGE_TO_VIDEO],
        pipeline_classes={TEXT_TO_VIDEO: "LTX2Pipeline", IMAGE_TO_VIDEO: "LTX2ImageToVideoPipeline"},
        components=[_TRANSFORMER, _CONNECTORS, _VAE, _AUDIO_VAE, _VOCODER, _GEMMA3_12B],
        denoiser="transformer",
        tokenizers=[TokenizerArch(kind="gemma")],
        scheduler=SchedulerArch(class_name="FlowMatchEulerDiscreteScheduler", config=dict(SCHEDULER_CONFIG)),
        # the first frame is compressed as in training by the adapter (image_crf.py); the pipeline's own pass needs
        # PyAV, which VideoGen does not install
        call_kwargs={IMAGE_TO_VIDEO: {"image_crf": 0}},
        published_params=_PUBLISHED,
        notes="LTX-2 19B dev: video with a stereo soundtrack (24 kHz) from one dual-stream DiT; "
        "Gemma-3-12B text encoder.",
    ),
]
