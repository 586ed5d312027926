"""Tiny text encoders shared by the families that use one (Wan: UMT5; CogVideoX, LTX: T5;
TextToVideoSD, AnimateDiff: CLIP)."""

from __future__ import annotations

T5_DIM = 32
T5_VOCAB = 128


def t5_encoder(umt5: bool = False, d_model: int = T5_DIM, vocab_size: int = T5_VOCAB):
    """A one-layer T5 (or UMT5) encoder; pair it with ``tokenizers.t5_tokenizer(vocab_size)``."""
    if umt5:
        from transformers import UMT5Config as Config
        from transformers import UMT5EncoderModel as Model
    else:
        from transformers import T5Config as Config
        from transformers import T5EncoderModel as Model

    config = Config(
        vocab_size=vocab_size,
        d_model=d_model,
        d_kv=8,
        d_ff=32,
        num_layers=1,
        num_heads=4,
        relative_attention_num_buckets=8,
        relative_attention_max_distance=32,
        decoder_start_token_id=0,
        pad_token_id=0,
        eos_token_id=1,
    )
    return Model(config).eval()


def clip_text_encoder(hidden: int = 8):
    """A 1-layer CLIP text encoder (vocab 1000 >= the offline CLIP tokenizer's 811 tokens)."""
    from transformers import CLIPTextConfig, CLIPTextModel

    config = CLIPTextConfig(
        bos_token_id=0,
        eos_token_id=2,
        pad_token_id=1,
        hidden_size=hidden,
        intermediate_size=16,
        num_attention_heads=2,
        num_hidden_layers=1,
        vocab_size=1000,
        max_position_embeddings=77,
        projection_dim=8,
        hidden_act="gelu",
    )
    return CLIPTextModel(config).eval()
