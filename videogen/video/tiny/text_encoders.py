"""Tiny T5-family text encoders shared by the families that use one (Wan: UMT5; CogVideoX, LTX: T5)."""

from __future__ import annotations

T5_DIM = 32
T5_VOCAB = 128


def t5_encoder(umt5: bool = False, d_model: int = T5_DIM, vocab_size: int = T5_VOCAB):
    """A one-layer T5 (or UMT5) encoder; pair it with ``tokenizers.t5_tokenizer(vocab_size)``."""
    if umt5:
        from transformers import UMT5Config as Config, UMT5EncoderModel as Model
    else:
        from transformers import T5Config as Config, T5EncoderModel as Model

    config = Config(
        vocab_size=vocab_size, d_model=d_model, d_kv=8, d_ff=32, num_layers=1, num_heads=4,
        relative_attention_num_buckets=8, relative_attention_max_distance=32,
        decoder_start_token_id=0, pad_token_id=0, eos_token_id=1,
    )
    return Model(config).eval()
