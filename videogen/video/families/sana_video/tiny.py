"""Tiny SANA-Video pipelines (t2v: SanaVideoPipeline, i2v: SanaImageToVideoPipeline).

A Gemma-2 text encoder (hidden 8, 1 layer), a 1-layer linear-attention SANA-Video
transformer (2 heads x 12) and a Wan VAE (base_dim 3, z_dim 16: /8 spatial, /4
temporal, as in SANA-Video 480p).
"""

from __future__ import annotations

from videogen.video.adapter import diffusers_pipeline_class
from videogen.video.families.sana_video.spec import SPEC
from videogen.video.spec import IMAGE_TO_VIDEO, TEXT_TO_VIDEO
from videogen.video.tiny.tokenizers import gemma_tokenizer

_VOCAB = 128
_TEXT_DIM = 8

# Tiny-only: resolution binning only knows the real transformers' sample sizes (30/22) and would
# move 32x32 to a 480p bin; the "complex human instruction" preamble is meaningless to a 128-word
# tokenizer and only lengthens the sequence.
_TINY = {"use_resolution_binning": False, "complex_human_instruction": [], "max_sequence_length": 16}
TINY_CALL_KWARGS = {TEXT_TO_VIDEO: dict(_TINY), IMAGE_TO_VIDEO: dict(_TINY)}


def _components(task: str) -> dict:
    from diffusers import (
        AutoencoderKLWan,
        DPMSolverMultistepScheduler,
        FlowMatchEulerDiscreteScheduler,
        SanaVideoTransformer3DModel,
    )
    from transformers import Gemma2Config, Gemma2Model

    vae = AutoencoderKLWan(
        base_dim=3,
        z_dim=16,
        dim_mult=[1, 1, 1, 1],
        num_res_blocks=1,
        temperal_downsample=[False, True, True],
    )
    text_encoder = Gemma2Model(
        Gemma2Config(
            vocab_size=_VOCAB,
            hidden_size=_TEXT_DIM,
            intermediate_size=16,
            num_hidden_layers=1,
            num_attention_heads=2,
            num_key_value_heads=2,
            head_dim=8,
            max_position_embeddings=512,
            pad_token_id=0,
            eos_token_id=1,
            bos_token_id=2,
            attn_implementation="eager",
        )
    )
    transformer = SanaVideoTransformer3DModel(
        in_channels=16,
        out_channels=16,
        num_attention_heads=2,
        attention_head_dim=12,
        num_layers=1,
        num_cross_attention_heads=2,
        cross_attention_head_dim=12,
        cross_attention_dim=24,
        caption_channels=_TEXT_DIM,
        mlp_ratio=2.5,
        dropout=0.0,
        attention_bias=False,
        sample_size=8,
        patch_size=(1, 2, 2),
        norm_elementwise_affine=False,
        norm_eps=1e-6,
        qk_norm="rms_norm_across_heads",
        rope_max_seq_len=1024,  # positions per axis: enough for the family's largest request (Wan: 161 frames)
    )
    if task == IMAGE_TO_VIDEO:
        scheduler = FlowMatchEulerDiscreteScheduler(shift=8.0)
    else:
        scheduler = DPMSolverMultistepScheduler(prediction_type="flow_prediction", use_flow_sigmas=True, flow_shift=8.0)
    return {
        "tokenizer": gemma_tokenizer(_VOCAB),
        "text_encoder": text_encoder,
        "vae": vae,
        "transformer": transformer,
        "scheduler": scheduler,
    }


def build_pipeline(task: str):
    return diffusers_pipeline_class(SPEC, task)(**_components(task))
