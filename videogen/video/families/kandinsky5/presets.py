"""Real-size Kandinsky 5.0 Video presets (``arch:<id>``), from Kandinsky Lab's configs (``kandinskylab/kandinsky-5``
``configs/k5_{lite,pro}_*.yaml``: ``dit_params``, ``scheduler_scale``) and the diffusers checkpoints they were
converted to (``kandinskylab/Kandinsky-5.0-*-Diffusers``).

Lite: a 2B DiT (model_dim 1792, FFN 7168, 2 text + 32 visual blocks, heads of 16 + 24 + 24 = 64); Pro: a 19B DiT
(model_dim 4096, FFN 16384, 4 text + 60 visual blocks, heads of 32 + 48 + 48 = 128). Both set ``visual_cond`` (the
first frame's latents and a mask beside the noise: 33 input channels) for text- and image-to-video alike, on
HunyuanVideo's VAE (the HunyuanVideo preset's), Qwen2.5-VL-7B-Instruct whole (the pipelines call
``Qwen2_5_VLForConditionalGeneration``; its vision tower idles) and CLIP ViT-L/14's text tower (pooled). Flow
matching at ``scheduler_scale`` 5 for the 5 s text-to-video checkpoints, 10 for image-to-video and the 10 s ones.
"""

from __future__ import annotations

from videogen.video.arch.preset import ArchPreset, ComponentArch, SchedulerArch, TokenizerArch
from videogen.video.arch.shared_components import clip_vit_l14_text
from videogen.video.families.hunyuan_video.presets import _VAE as _HUNYUAN_VIDEO_VAE
from videogen.video.families.hunyuan_video15.presets import _QWEN25_VL_7B_TEXT
from videogen.video.families.kandinsky5.spec import I2V_PIPELINE, SPEC, T2V_PIPELINE
from videogen.video.spec import IMAGE_TO_VIDEO, TEXT_TO_VIDEO

_FAMILY = SPEC.id
_SIZES = {
    # the technical report and model cards: "Lite (2B parameters)", "Pro ... 19B"
    "Lite": {"model_dim": 1792, "ff_dim": 7168, "time_dim": 512, "text": 2, "visual": 32, "axes": [16, 24, 24]},
    "Pro": {"model_dim": 4096, "ff_dim": 16384, "time_dim": 1024, "text": 4, "visual": 60, "axes": [32, 48, 48]},
}
_PUBLISHED = {"Lite": 2_000_000_000, "Pro": 19_000_000_000}

# Qwen/Qwen2.5-VL-7B-Instruct's config.json whole: the language model (HunyuanVideo 1.5's preset), its vision tower
# (32 blocks of 1280, merged 2x2 into 3584-wide tokens) and the LM head the pipelines' forward also runs.
_QWEN25_VL_7B = ComponentArch(
    name="text_encoder",
    library="transformers",
    class_name="Qwen2_5_VLForConditionalGeneration",
    config_class="Qwen2_5_VLConfig",
    config={
        "text_config": dict(_QWEN25_VL_7B_TEXT.config),
        "vision_config": {
            "depth": 32,
            "hidden_size": 1280,
            "intermediate_size": 3420,
            "num_heads": 16,
            "in_chans": 3,
            "out_hidden_size": 3584,
            "patch_size": 14,
            "spatial_merge_size": 2,
            "temporal_patch_size": 2,
            "window_size": 112,
            "fullatt_block_indexes": [7, 15, 23, 31],
            "hidden_act": "silu",
            "tokens_per_second": 2,
        },
        "vision_start_token_id": 151652,
        "vision_end_token_id": 151653,
        "image_token_id": 151655,
        "video_token_id": 151656,
        "tie_word_embeddings": False,
    },
)
_TOKENIZERS = [
    TokenizerArch(
        name="tokenizer", kind="builder", builder="videogen.video.families.kandinsky5.tokenizers:qwen_tokenizer"
    ),
    TokenizerArch(name="tokenizer_2", kind="clip", model_max_length=77),
]


def _transformer(size: str) -> ComponentArch:
    shape = _SIZES[size]
    return ComponentArch(
        name="transformer",
        library="diffusers",
        class_name="Kandinsky5Transformer3DModel",
        config={
            "in_visual_dim": 16,
            "out_visual_dim": 16,
            "in_text_dim": 3584,
            "in_text_dim2": 768,
            "time_dim": shape["time_dim"],
            "patch_size": [1, 2, 2],
            "model_dim": shape["model_dim"],
            "ff_dim": shape["ff_dim"],
            "num_text_blocks": shape["text"],
            "num_visual_blocks": shape["visual"],
            "axes_dims": shape["axes"],
            "visual_cond": True,
            "attention_type": "regular",
        },
    )


def _preset(size: str, task: str, checkpoint: str, *, shift: float, notes: str = "") -> ArchPreset:
    i2v = task == IMAGE_TO_VIDEO
    kind = "i2v" if i2v else "t2v"
    return ArchPreset(
        id=f"kandinsky5-{size.lower()}-{kind}-5s",
        family=_FAMILY,
        checkpoint=f"kandinskylab/Kandinsky-5.0-{checkpoint}-Diffusers",
        tasks=[task],
        pipeline_classes={task: I2V_PIPELINE if i2v else T2V_PIPELINE},
        components=[_transformer(size), _HUNYUAN_VIDEO_VAE, _QWEN25_VL_7B, clip_vit_l14_text("text_encoder_2")],
        denoiser="transformer",
        tokenizers=_TOKENIZERS,
        scheduler=SchedulerArch(class_name="FlowMatchEulerDiscreteScheduler", config={"shift": shift}),
        published_params={"transformer": _PUBLISHED[size]},
        notes=notes,
    )


PRESETS: list[ArchPreset] = [
    _preset("Lite", TEXT_TO_VIDEO, "T2V-Lite-sft-5s", shift=5.0),
    _preset("Pro", TEXT_TO_VIDEO, "T2V-Pro-sft-5s", shift=5.0, notes="720p-class (HD) and 512p (SD) generation"),
    _preset("Pro", IMAGE_TO_VIDEO, "I2V-Pro-sft-5s", shift=10.0),
]
