"""Components several families share, with the values of their published configs.

Text encoders are the Hub models the video checkpoints ship (their ``config.json``);
the VAEs are the ones the diffusers conversion scripts build. One definition each, so a
family preset says "Wan 2.1 VAE" rather than repeating its numbers.
"""

from __future__ import annotations

from videogen.video.arch.preset import ComponentArch, ProcessorArch

# Both T5 encoders below: 24 layers, d_model 4096, 64 heads x 64, gated-GELU FFN 10240.
_T5_XXL_BODY = {
    "d_model": 4096,
    "d_kv": 64,
    "d_ff": 10240,
    "num_layers": 24,
    "num_heads": 64,
    "feed_forward_proj": "gated-gelu",
    "relative_attention_num_buckets": 32,
    "relative_attention_max_distance": 128,
    "layer_norm_epsilon": 1e-6,
    "tie_word_embeddings": False,
    "pad_token_id": 0,
    "eos_token_id": 1,
    "decoder_start_token_id": 0,
}


def t5_v1_1_xxl_encoder(name: str = "text_encoder") -> ComponentArch:
    """google/t5-v1_1-xxl, encoder only (CogVideoX, LTX-Video): 4.76 B parameters."""
    return ComponentArch(
        name=name,
        library="transformers",
        class_name="T5EncoderModel",
        config_class="T5Config",
        config={**_T5_XXL_BODY, "vocab_size": 32128},
    )


def umt5_xxl_encoder(name: str = "text_encoder") -> ComponentArch:
    """google/umt5-xxl, encoder only (Wan): T5-XXL with a 256k vocabulary and per-layer position bias."""
    return ComponentArch(
        name=name,
        library="transformers",
        class_name="UMT5EncoderModel",
        config_class="UMT5Config",
        config={**_T5_XXL_BODY, "vocab_size": 256384},
    )


_CLIP_TEXT_TOKENS = {
    "vocab_size": 49408,
    "max_position_embeddings": 77,
    "bos_token_id": 0,
    "eos_token_id": 2,
    "pad_token_id": 1,
}


def clip_vit_l14_text(name: str = "text_encoder") -> ComponentArch:
    """openai/clip-vit-large-patch14 text tower (SD 1.5, AnimateDiff, HunyuanVideo's text_encoder_2): 123 M."""
    return ComponentArch(
        name=name,
        library="transformers",
        class_name="CLIPTextModel",
        config_class="CLIPTextConfig",
        config={
            **_CLIP_TEXT_TOKENS,
            "hidden_size": 768,
            "intermediate_size": 3072,
            "num_hidden_layers": 12,
            "num_attention_heads": 12,
            "hidden_act": "quick_gelu",
            "projection_dim": 768,
        },
    )


def open_clip_vit_h14_text(name: str = "text_encoder") -> ComponentArch:
    """OpenCLIP ViT-H/14 text tower minus its last layer (23 of 24, as SD 2 ships it; ModelScope t2v): 340 M."""
    return ComponentArch(
        name=name,
        library="transformers",
        class_name="CLIPTextModel",
        config_class="CLIPTextConfig",
        config={
            **_CLIP_TEXT_TOKENS,
            "hidden_size": 1024,
            "intermediate_size": 4096,
            "num_hidden_layers": 23,
            "num_attention_heads": 16,
            "hidden_act": "gelu",
            "projection_dim": 512,
        },
    )


def open_clip_vit_h14_vision(name: str = "image_encoder") -> ComponentArch:
    """laion/CLIP-ViT-H-14-laion2B-s32B-b79K vision tower with projection (Wan 2.1 I2V): 632 M."""
    return ComponentArch(
        name=name,
        library="transformers",
        class_name="CLIPVisionModelWithProjection",
        config_class="CLIPVisionConfig",
        config={
            "hidden_size": 1280,
            "intermediate_size": 5120,
            "num_hidden_layers": 32,
            "num_attention_heads": 16,
            "patch_size": 14,
            "image_size": 224,
            "hidden_act": "gelu",
            "projection_dim": 1024,
        },
    )


# Llama-3-8B as llava-llama-3-8b-v1_1 ships it: the vocabulary grows to 128320 for the image/pad tokens.
LLAMA3_8B_TEXT = {
    "model_type": "llama",
    "vocab_size": 128320,
    "hidden_size": 4096,
    "intermediate_size": 14336,
    "num_hidden_layers": 32,
    "num_attention_heads": 32,
    "num_key_value_heads": 8,
    "max_position_embeddings": 8192,
    "rope_theta": 500000.0,
    "rms_norm_eps": 1e-5,
    "bos_token_id": 128000,
    "eos_token_id": 128001,
    "tie_word_embeddings": False,
}


def llava_llama3_8b_text(name: str = "text_encoder") -> ComponentArch:
    """The text half of xtuner/llava-llama-3-8b-v1_1 as a LlamaModel (HunyuanVideo t2v): 7.5 B."""
    config = {k: v for k, v in LLAMA3_8B_TEXT.items() if k != "model_type"}
    return ComponentArch(
        name=name, library="transformers", class_name="LlamaModel", config_class="LlamaConfig", config=config
    )


def llava_llama3_8b(name: str = "text_encoder") -> ComponentArch:
    """xtuner/llava-llama-3-8b-v1_1 whole (HunyuanVideo i2v): Llama-3-8B + CLIP ViT-L/14-336 + 2-layer projector."""
    return ComponentArch(
        name=name,
        library="transformers",
        class_name="LlavaForConditionalGeneration",
        config_class="LlavaConfig",
        config={
            "text_config": dict(LLAMA3_8B_TEXT),
            "vision_config": {
                "model_type": "clip_vision_model",
                "hidden_size": 1024,
                "intermediate_size": 4096,
                "num_hidden_layers": 24,
                "num_attention_heads": 16,
                "patch_size": 14,
                "image_size": 336,
                "hidden_act": "quick_gelu",
                "projection_dim": 768,
            },
            "image_token_index": 128257,
            "pad_token_id": 128258,
            "projector_hidden_act": "gelu",
            "vision_feature_layer": -2,
            "vision_feature_select_strategy": "default",
            "image_seq_length": 576,
        },
    )


def gemma2_2b(name: str = "text_encoder") -> ComponentArch:
    """Efficient-Large-Model/gemma-2-2b-it's decoder (SANA-Video): 2.61 B."""
    return ComponentArch(
        name=name,
        library="transformers",
        class_name="Gemma2Model",
        config_class="Gemma2Config",
        config={
            "vocab_size": 256000,
            "hidden_size": 2304,
            "intermediate_size": 9216,
            "num_hidden_layers": 26,
            "num_attention_heads": 8,
            "num_key_value_heads": 4,
            "head_dim": 256,
            "max_position_embeddings": 8192,
            "hidden_activation": "gelu_pytorch_tanh",
            "query_pre_attn_scalar": 256,
            "sliding_window": 4096,
            "final_logit_softcapping": 30.0,
            "attn_logit_softcapping": 50.0,
            "rms_norm_eps": 1e-6,
            "rope_theta": 10000.0,
            "pad_token_id": 0,
            "eos_token_id": 1,
            "bos_token_id": 2,
            # as the tiny SANA model: soft-capped attention in the eager kernel
            "attn_implementation": "eager",
        },
    )


def wan21_vae(name: str = "vae") -> ComponentArch:
    """Wan 2.1's causal 3D VAE (Wan 2.1, SANA-Video 480p): /8 spatial, /4 temporal, 16 latent channels, 127 M."""
    return ComponentArch(
        name=name,
        library="diffusers",
        class_name="AutoencoderKLWan",
        config={
            "base_dim": 96,
            "z_dim": 16,
            "dim_mult": [1, 2, 4, 4],
            "num_res_blocks": 2,
            "attn_scales": [],
            "temperal_downsample": [False, True, True],
            "dropout": 0.0,
        },
    )


def sd_vae(name: str = "vae", sample_size: int = 512) -> ComponentArch:
    """Stable Diffusion's 2D KL-f8 VAE (SD 1.5 / AnimateDiff, ModelScope t2v): 83.7 M."""
    return ComponentArch(
        name=name,
        library="diffusers",
        class_name="AutoencoderKL",
        config={
            "in_channels": 3,
            "out_channels": 3,
            "down_block_types": ["DownEncoderBlock2D"] * 4,
            "up_block_types": ["UpDecoderBlock2D"] * 4,
            "block_out_channels": [128, 256, 512, 512],
            "layers_per_block": 2,
            "act_fn": "silu",
            "latent_channels": 4,
            "norm_num_groups": 32,
            "sample_size": sample_size,
            "scaling_factor": 0.18215,
        },
    )


# CLIP's normalisation, shared by every CLIP image processor below.
CLIP_MEAN = [0.48145466, 0.4578275, 0.40821073]
CLIP_STD = [0.26862954, 0.26130258, 0.27577711]


def clip_image_processor_config(size: int) -> dict:
    return {
        "size": {"shortest_edge": size},
        "crop_size": {"height": size, "width": size},
        "do_resize": True,
        "do_center_crop": True,
        "do_normalize": True,
        "do_convert_rgb": True,
        "image_mean": CLIP_MEAN,
        "image_std": CLIP_STD,
        "resample": 3,
    }


def siglip_so400m_vision(name: str = "image_encoder") -> ComponentArch:
    """google/siglip-so400m-patch14-384's vision tower (FramePack's image encoder via flux_redux_bfl, HunyuanVideo
    1.5's image-to-video): 27 layers, 1152 wide, 16 heads, 4304 FFN, 384 px in 14 px patches = 729 tokens."""
    return ComponentArch(
        name=name,
        library="transformers",
        class_name="SiglipVisionModel",
        config_class="SiglipVisionConfig",
        config={
            "hidden_size": 1152,
            "intermediate_size": 4304,
            "num_hidden_layers": 27,
            "num_attention_heads": 16,
            "image_size": 384,
            "patch_size": 14,
            "hidden_act": "gelu_pytorch_tanh",
            "layer_norm_eps": 1e-6,
        },
    )


def siglip_so400m_processor(name: str = "feature_extractor") -> ProcessorArch:
    """Its image processor: resized to 384 x 384 (bicubic), normalised to [-1, 1]."""
    size = {"height": 384, "width": 384}
    return ProcessorArch(
        name=name,
        class_name="SiglipImageProcessor",
        config={"size": size, "image_mean": [0.5] * 3, "image_std": [0.5] * 3, "resample": 3},
    )
