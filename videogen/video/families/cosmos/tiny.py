"""The tiny Cosmos Predict 2.5 pipeline (``Cosmos2_5_PredictBasePipeline``, all three tasks).

The real wiring at tiny widths: a Qwen2.5-VL model (Kandinsky 5's tiny one: text hidden 16, 2 layers; the pipeline
concatenates every layer's normalised hidden states, 2 x 16 = 32 channels, which the transformer's cross-attention
projection takes as the real one takes 28 x 3584) behind the offline chat tokenizer, a Cosmos transformer of 2 heads
x 16 and one block with the condition-mask channel (16 + 1 inputs), Wan 2.1's VAE (Wan's tiny one: /8, /4 in time,
16 latent channels) and UniPC on flow sigmas as diffusers' converter configures it.

One difference from the published configs: ``concat_padding_mask`` is off. With it the transformer resizes the
padding mask through torchvision, which this project's CPU torch has no build of (``guardrail.py``); the mask is one
more input channel of zeros, so the tiny model runs the same pipeline without it. The model has no guardrail
component (random weights: the adapter gives the pipeline ``NoGuardrail`` when it loads it).
"""

from __future__ import annotations

from videogen.video.adapter import diffusers_pipeline_class
from videogen.video.families.cosmos.spec import SPEC
from videogen.video.families.cosmos.tokenizers import qwen_chat_tokenizer

TINY_CALL_KWARGS: dict[str, dict] = {}

_QWEN_HIDDEN, _QWEN_LAYERS = 16, 2  # Kandinsky 5's tiny Qwen2.5-VL
_LATENT_CHANNELS = 16  # Wan 2.1's VAE


def _transformer():
    from diffusers import CosmosTransformer3DModel

    return CosmosTransformer3DModel(
        in_channels=_LATENT_CHANNELS + 1,  # the condition mask rides beside the latents
        out_channels=_LATENT_CHANNELS,
        num_attention_heads=2,
        attention_head_dim=16,  # RoPE splits a head 8 (time) + 4 + 4
        num_layers=1,
        mlp_ratio=2.0,
        text_embed_dim=16,
        adaln_lora_dim=4,
        max_size=(128, 240, 240),  # the real grid: RoPE positions only (no learnable embedding), no weights
        patch_size=(1, 2, 2),
        rope_scale=(1.0, 3.0, 3.0),
        concat_padding_mask=False,  # torchvision's resize (module docstring)
        extra_pos_embed_type=None,
        use_crossattn_projection=True,
        crossattn_proj_in_channels=_QWEN_HIDDEN * _QWEN_LAYERS,
        encoder_hidden_states_channels=16,
    ).eval()


def scheduler():
    """UniPC on Karras flow sigmas from 200 to 0.01 (diffusers' ``save_pipeline_cosmos2_5_predict``)."""
    from diffusers import UniPCMultistepScheduler

    return UniPCMultistepScheduler(
        use_karras_sigmas=True,
        use_flow_sigmas=True,
        prediction_type="flow_prediction",
        sigma_max=200.0,
        sigma_min=0.01,
    )


def build_pipeline(task: str):
    from videogen.video.families.cosmos.guardrail import NoGuardrail
    from videogen.video.families.kandinsky5.tiny import _qwen
    from videogen.video.families.wan.tiny import _vae

    tokenizer = qwen_chat_tokenizer()
    pipe = diffusers_pipeline_class(SPEC, task)(
        transformer=_transformer(),
        vae=_vae(),
        text_encoder=_qwen(tokenizer),
        tokenizer=tokenizer,
        scheduler=scheduler(),
        safety_checker=NoGuardrail(),  # its __init__ would build NVIDIA's from the hub otherwise
    )
    pipe.safety_checker = None  # saved without one: the adapter gives random weights theirs when it loads them
    return pipe
