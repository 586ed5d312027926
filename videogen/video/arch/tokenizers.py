"""Tokenizers and image processors for arch presets, built offline (no vocab download).

Small vocabularies (the tiny models' tokenizers), so every id stays below the real
encoders' vocabularies. Llama-3 gets its own: HunyuanVideo's pipelines locate prompt parts
by Llama-3's header/eot special tokens and Llava expects its image token, so those keep
their real ids.
"""

from __future__ import annotations

from videogen.video.arch.preset import ProcessorArch, TokenizerArch, call_builder

# Llama-3's special-token ids, and the image/pad ids llava-llama-3-8b adds after them.
LLAMA3_SPECIAL_IDS = {
    "<|begin_of_text|>": 128000,
    "<|end_of_text|>": 128001,
    "<|start_header_id|>": 128006,
    "<|end_header_id|>": 128007,
    "<|eot_id|>": 128009,
    "<image>": 128257,
    "<pad>": 128258,
}


def build_tokenizer(spec: TokenizerArch):
    from videogen.video.tiny import tokenizers as tiny

    if spec.kind == "t5":
        tok = tiny.t5_tokenizer()
    elif spec.kind == "clip":
        tok = tiny.clip_tokenizer(model_max_length=spec.model_max_length or 77)
    elif spec.kind == "gemma":
        tok = tiny.gemma_tokenizer()
    elif spec.kind == "llama3":
        tok = llama3_tokenizer()
    elif spec.kind == "builder" and spec.builder:
        tok = call_builder(spec.builder)
    else:  # pragma: no cover - the Literal type rules it out
        raise ValueError(f"unknown tokenizer kind {spec.kind!r}")
    if spec.model_max_length is not None:
        tok.model_max_length = spec.model_max_length
    return tok


def llama3_tokenizer(vocab_size: int = 128):
    """Word-level: the tiny Llama vocabulary plus Llama-3's special tokens at their real ids.

    Like Llama-3's own tokenizer it prepends <|begin_of_text|>.
    """
    from tokenizers import Tokenizer, models, pre_tokenizers, processors
    from transformers import PreTrainedTokenizerFast

    from videogen.video.tiny.tokenizers import llama_tokenizer

    words = [w for w in llama_tokenizer(vocab_size).get_vocab() if not (w.startswith("<") and w.endswith(">"))]
    vocab = {w: i for i, w in enumerate(["<unk>", *words])}
    vocab.update(LLAMA3_SPECIAL_IDS)
    backend = Tokenizer(models.WordLevel(vocab=vocab, unk_token="<unk>"))
    backend.pre_tokenizer = pre_tokenizers.Whitespace()
    backend.add_special_tokens(list(LLAMA3_SPECIAL_IDS))
    bos = "<|begin_of_text|>"
    backend.post_processor = processors.TemplateProcessing(
        single=f"{bos} $A", pair=f"{bos} $A {bos} $B", special_tokens=[(bos, LLAMA3_SPECIAL_IDS[bos])]
    )
    tok = PreTrainedTokenizerFast(
        tokenizer_object=backend,
        unk_token="<unk>",
        bos_token=bos,
        eos_token="<|eot_id|>",
        pad_token="<pad>",
    )
    tok.padding_side = "right"
    return tok


def build_processor(spec: ProcessorArch):
    import transformers

    return getattr(transformers, spec.class_name)(**spec.config)
