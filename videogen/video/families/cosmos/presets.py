"""Real-size Cosmos Predict 2.5 presets (``arch:<id>``), from diffusers' ``scripts/convert_cosmos_to_diffusers.py``
(``TRANSFORMER_CONFIGS["Cosmos-2.5-Predict-Base-2B" / "-14B"]``, ``save_pipeline_cosmos2_5_predict``) and the model
cards ``nvidia/Cosmos-Predict2.5-2B`` / ``-14B``.

2B: 28 blocks of 16 heads x 128 (2048 wide); 14B: 36 blocks of 40 x 128 (5120). Both take the condition mask and the
padding mask beside the 16 latent channels, RoPE scaled (1, 3, 3) over a (128, 240, 240) latent grid, no learnable
position embedding, and project the text encoder's 28 x 3584 = 100352 channels (every layer's hidden state) down to
1024 for the cross-attention. The text encoder is Cosmos-Reason1-7B (Qwen2.5-VL-7B-Instruct's architecture, whole,
as Kandinsky 5's preset has it), the VAE Wan 2.1's, the scheduler UniPC on Karras flow sigmas.

The presets are random weights: they run with ``NoGuardrail`` (``guardrail.py``), never NVIDIA's guardrail.
"""

from __future__ import annotations

from videogen.video.arch.preset import ArchPreset, ComponentArch, SchedulerArch, TokenizerArch
from videogen.video.arch.shared_components import wan21_vae
from videogen.video.families.cosmos.spec import PIPELINE, SPEC
from videogen.video.families.kandinsky5.presets import _QWEN25_VL_7B

_QWEN_LAYERS, _QWEN_HIDDEN = 28, 3584
_SIZES = {"2B": {"heads": 16, "layers": 28}, "14B": {"heads": 40, "layers": 36}}
_PUBLISHED = {"2B": 2_000_000_000, "14B": 14_000_000_000}  # the model cards' names


def _transformer(size: str) -> ComponentArch:
    shape = _SIZES[size]
    return ComponentArch(
        name="transformer",
        library="diffusers",
        class_name="CosmosTransformer3DModel",
        config={
            "in_channels": 16 + 1,
            "out_channels": 16,
            "num_attention_heads": shape["heads"],
            "attention_head_dim": 128,
            "num_layers": shape["layers"],
            "mlp_ratio": 4.0,
            "text_embed_dim": 1024,
            "adaln_lora_dim": 256,
            "max_size": [128, 240, 240],
            "patch_size": [1, 2, 2],
            "rope_scale": [1.0, 3.0, 3.0],
            "concat_padding_mask": True,
            "extra_pos_embed_type": None,
            "use_crossattn_projection": True,
            "crossattn_proj_in_channels": _QWEN_LAYERS * _QWEN_HIDDEN,
            "encoder_hidden_states_channels": 1024,
        },
    )


def _preset(size: str) -> ArchPreset:
    return ArchPreset(
        id=f"cosmos-predict2.5-{size.lower()}",
        family=SPEC.id,
        checkpoint=f"nvidia/Cosmos-Predict2.5-{size}",
        tasks=list(SPEC.pipeline_classes),
        pipeline_classes=dict.fromkeys(SPEC.pipeline_classes, PIPELINE),
        components=[_transformer(size), wan21_vae(), _QWEN25_VL_7B],
        denoiser="transformer",
        tokenizers=[
            TokenizerArch(
                name="tokenizer",
                kind="builder",
                builder="videogen.video.families.cosmos.tokenizers:qwen_chat_tokenizer",
            )
        ],
        scheduler=SchedulerArch(
            class_name="UniPCMultistepScheduler",
            config={
                "use_karras_sigmas": True,
                "use_flow_sigmas": True,
                "prediction_type": "flow_prediction",
                "sigma_max": 200.0,
                "sigma_min": 0.01,
            },
        ),
        built_kwargs={"safety_checker": "videogen.video.families.cosmos.guardrail:NoGuardrail"},
        published_params={"transformer": _PUBLISHED[size]},
    )


PRESETS: list[ArchPreset] = [_preset("2B"), _preset("14B")]
