"""Tiny HunyuanVideo pipelines (t2v: HunyuanVideoPipeline, i2v: HunyuanVideoImageToVideoPipeline,
first-last-frame: HunyuanVideoFramepackPipeline).

Llama text encoder (hidden 16, 2 layers: the pipeline reads ``hidden_states[-3]``) or, for
i2v, a Llava wrapping it with a tiny CLIP vision tower; a CLIP text encoder (hidden 8) for
the pooled embedding; a transformer with 2 heads x 10 and one double, single and refiner
layer; a HunyuanVideo VAE with the real model's /8 spatial and /4 temporal compression.

FramePack: the same text encoders and VAE, a FramePack transformer of the same width (patch 2, which its
history embedder's fixed 2x2 / 4x4 / 8x8 kernels assume) with its image projection and history embedder,
and a SigLIP vision tower (hidden 8, 1 layer, 32 px in 8 px patches) with its image processor.

``TINY_VARIANTS`` (``--model tiny:framepack``): that FramePack model as a checkpoint of its own, which serves
image-to-video from the first frame alone as well as first-last-frame (``SPEC.checkpoint_tasks``), both through
``HunyuanVideoFramepackPipeline`` and the same weights (the plain tiny image-to-video stays
``HunyuanVideoImageToVideoPipeline``).
"""

from __future__ import annotations

from videogen.video.adapter import diffusers_pipeline_class
from videogen.video.families.hunyuan_video.spec import FRAMEPACK, SPEC
from videogen.video.spec import FIRST_LAST_FRAME, IMAGE_TO_VIDEO, TEXT_TO_VIDEO
from videogen.video.tiny.image_encoders import siglip_vision
from videogen.video.tiny.tokenizers import clip_tokenizer, llama_tokenizer
from videogen.video.tiny.variants import TinyVariant

_LLAMA_VOCAB = 128  # tokenizer ids 0..127; the Llava image token sits just past them
_IMAGE_TOKEN = _LLAMA_VOCAB
_LLAMA_HIDDEN = 16
_CLIP_HIDDEN = 8
_VISION_SIZE = 32
_VISION_PATCH = 8
_IMAGE_EMB_LEN = (_VISION_SIZE // _VISION_PATCH) ** 2  # Llava drops the CLS token
_IMAGE_EMB_START = 5
_SIGLIP_HIDDEN = 8

# Tiny-only: the real prompt templates assume the Llama-3 tokenizer (their crop_start counts its
# tokens) and, for i2v, 576 image tokens from a 336px CLIP vision tower.
TINY_CALL_KWARGS = {
    TEXT_TO_VIDEO: {"prompt_template": {"template": "{}", "crop_start": 0}, "max_sequence_length": 32},
    FIRST_LAST_FRAME: {"prompt_template": {"template": "{}", "crop_start": 0}, "max_sequence_length": 32},
    IMAGE_TO_VIDEO: {
        "prompt_template": {
            "template": "{}",
            "crop_start": 0,
            "image_emb_len": _IMAGE_EMB_LEN,
            "image_emb_start": _IMAGE_EMB_START,
            "image_emb_end": _IMAGE_EMB_START + _IMAGE_EMB_LEN,
        },
        "max_sequence_length": 32,
    },
}


def _llama_config():
    from transformers import LlamaConfig

    return LlamaConfig(
        vocab_size=_LLAMA_VOCAB + 1,
        hidden_size=_LLAMA_HIDDEN,
        intermediate_size=32,
        num_hidden_layers=2,
        num_attention_heads=4,
        num_key_value_heads=4,
        max_position_embeddings=256,
        bos_token_id=1,
        eos_token_id=2,
        pad_token_id=3,
    )


def _components(task: str) -> dict:
    from diffusers import (
        AutoencoderKLHunyuanVideo,
        FlowMatchEulerDiscreteScheduler,
        HunyuanVideoFramepackTransformer3DModel,
        HunyuanVideoTransformer3DModel,
    )
    from transformers import CLIPTextConfig, CLIPTextModel

    i2v = task == IMAGE_TO_VIDEO
    flf = task == FIRST_LAST_FRAME
    shared = dict(
        out_channels=4,
        num_attention_heads=2,
        attention_head_dim=10,
        num_layers=1,
        num_single_layers=1,
        num_refiner_layers=1,
        patch_size_t=1,
        guidance_embeds=True,
        text_embed_dim=_LLAMA_HIDDEN,
        pooled_projection_dim=_CLIP_HIDDEN,
        rope_axes_dim=(2, 4, 4),
    )
    if flf:
        transformer = HunyuanVideoFramepackTransformer3DModel(
            in_channels=4,
            patch_size=2,
            has_image_proj=True,
            image_proj_dim=_SIGLIP_HIDDEN,
            has_clean_x_embedder=True,
            **shared,
        )
    else:
        transformer = HunyuanVideoTransformer3DModel(
            in_channels=2 * 4 + 1 if i2v else 4,
            patch_size=1,
            image_condition_type="latent_concat" if i2v else None,
            **shared,
        )
    vae = AutoencoderKLHunyuanVideo(
        in_channels=3,
        out_channels=3,
        latent_channels=4,
        down_block_types=("HunyuanVideoDownBlock3D",) * 4,
        up_block_types=("HunyuanVideoUpBlock3D",) * 4,
        block_out_channels=(8, 8, 8, 8),
        layers_per_block=1,
        act_fn="silu",
        norm_num_groups=4,
        scaling_factor=0.476986,
        spatial_compression_ratio=8,
        temporal_compression_ratio=4,
        mid_block_add_attention=True,
    )
    clip_tok = clip_tokenizer()
    text_encoder_2 = CLIPTextModel(
        CLIPTextConfig(
            vocab_size=1000,
            hidden_size=_CLIP_HIDDEN,
            intermediate_size=16,
            num_hidden_layers=1,
            num_attention_heads=2,
            max_position_embeddings=77,
            projection_dim=8,
            bos_token_id=clip_tok.bos_token_id,
            eos_token_id=clip_tok.eos_token_id,
            pad_token_id=clip_tok.pad_token_id,
        )
    )
    components = {
        "transformer": transformer,
        "vae": vae,
        "scheduler": FlowMatchEulerDiscreteScheduler(shift=7.0),
        "tokenizer": llama_tokenizer(_LLAMA_VOCAB),
        "text_encoder_2": text_encoder_2,
        "tokenizer_2": clip_tok,
    }
    if not i2v:
        from transformers import LlamaModel

        components["text_encoder"] = LlamaModel(_llama_config())
        if flf:
            components.update(siglip_vision(_SIGLIP_HIDDEN, _VISION_SIZE, _VISION_PATCH))
        return components

    from transformers import CLIPImageProcessor, CLIPVisionConfig, LlavaConfig, LlavaForConditionalGeneration

    llava_config = LlavaConfig(
        vision_config=CLIPVisionConfig(
            hidden_size=8,
            intermediate_size=16,
            projection_dim=8,
            num_attention_heads=2,
            num_hidden_layers=2,
            image_size=_VISION_SIZE,
            patch_size=_VISION_PATCH,
        ),
        text_config=_llama_config(),
        image_token_index=_IMAGE_TOKEN,
        pad_token_id=3,
    )
    components["text_encoder"] = LlavaForConditionalGeneration(llava_config)
    components["image_processor"] = CLIPImageProcessor(
        size={"shortest_edge": _VISION_SIZE},
        crop_size={"height": _VISION_SIZE, "width": _VISION_SIZE},
        do_center_crop=True,
        do_normalize=True,
        do_resize=True,
        image_mean=[0.48145466, 0.4578275, 0.40821073],
        image_std=[0.26862954, 0.26130258, 0.27577711],
        resample=3,
    )
    return components


def build_pipeline(task: str):
    return diffusers_pipeline_class(SPEC, task)(**_components(task))


def build_framepack(task: str):
    """The tiny FramePack model for either of its tasks: the same components (and weights) as the plain tiny
    first-last-frame model, saved as a ``HunyuanVideoFramepackPipeline``."""
    if task not in SPEC.checkpoint_tasks[FRAMEPACK]:
        raise ValueError(f"tiny:framepack offers {', '.join(SPEC.checkpoint_tasks[FRAMEPACK])}, not {task}")
    return diffusers_pipeline_class(SPEC, task, FRAMEPACK)(**_components(FIRST_LAST_FRAME))


TINY_VARIANTS: dict[str, TinyVariant] = {
    "framepack": TinyVariant(
        name="framepack",
        description="FramePack (HunyuanVideoFramepackPipeline) as its own checkpoint: first-last-frame, and long "
        "image-to-video from the first frame alone, section by section",
        tasks=SPEC.checkpoint_tasks[FRAMEPACK],
        build=build_framepack,
        call_kwargs=dict.fromkeys(SPEC.checkpoint_tasks[FRAMEPACK], TINY_CALL_KWARGS[FIRST_LAST_FRAME]),
        checkpoint_class=FRAMEPACK,
    ),
}
