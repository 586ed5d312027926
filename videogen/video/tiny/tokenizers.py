"""Tokenizers built offline for tiny models (no hub, no vocab downloads).

Each returns a real transformers tokenizer that survives save_pretrained /
from_pretrained. The vocabulary is small and fixed so builds are reproducible.
"""

from __future__ import annotations

_WORDS = (
    "a an the of and in on with to at from by for is are cat dog bird fish horse car boat tree sky sea "
    "mountain river city street forest beach sun moon star cloud rain snow fire water light red green blue "
    "yellow white black running walking flying swimming dancing slowly quickly over under through night day "
    "video photo cinematic realistic painting close up wide shot camera pans zooms scene person man woman "
    "child robot astronaut dragon flower field house window door road bridge train plane ocean wave"
).split()


def _word_vocab(size: int, specials: list[str]) -> dict[str, int]:
    vocab = {tok: i for i, tok in enumerate(specials)}
    for word in _WORDS:
        if len(vocab) >= size:
            break
        vocab.setdefault(word, len(vocab))
    i = 0
    while len(vocab) < size:
        vocab.setdefault(f"tok{i}", len(vocab))
        i += 1
    return vocab


def t5_tokenizer(vocab_size: int = 128):
    """A sentencepiece-style T5 tokenizer (also used for UMT5) from an in-memory unigram vocab."""
    from transformers import T5Tokenizer

    specials = ["<pad>", "</s>", "<unk>"]
    pieces = [(tok, 0.0) for tok in specials]
    pieces += [("▁" + w, -float(i + 1)) for i, w in enumerate(_WORDS[: vocab_size - len(specials)])]
    while len(pieces) < vocab_size:
        pieces.append((f"▁tok{len(pieces)}", -1000.0 - len(pieces)))
    return T5Tokenizer(vocab=pieces, extra_ids=0, unk_id=2)


def clip_tokenizer(vocab_size: int = 1000, model_max_length: int = 77):
    """A byte-level BPE CLIP tokenizer generated offline (vocab and merges in memory)."""
    from transformers import CLIPTokenizer
    from transformers.convert_slow_tokenizer import bytes_to_unicode

    byte_chars = list(bytes_to_unicode().values())
    vocab: dict[str, int] = {}
    for ch in byte_chars:
        vocab.setdefault(ch, len(vocab))
    for ch in byte_chars:
        vocab.setdefault(ch + "</w>", len(vocab))
    merges: list[tuple[str, str]] = []
    for word in _WORDS:
        # merge each word into one token so prompts tokenize compactly
        parts = list(word[:-1]) + [word[-1] + "</w>"]
        while len(parts) > 1 and len(vocab) < vocab_size - 2:
            merges.append((parts[0], parts[1]))
            parts = [parts[0] + parts[1]] + parts[2:]
            vocab.setdefault(parts[0], len(vocab))
    for special in ("<|startoftext|>", "<|endoftext|>"):
        vocab.setdefault(special, len(vocab))
    return CLIPTokenizer(vocab=vocab, merges=merges, model_max_length=model_max_length)


def _word_level_fast(vocab_size: int, specials: list[str], **special_kwargs):
    from tokenizers import Tokenizer, models, pre_tokenizers
    from transformers import PreTrainedTokenizerFast

    vocab = _word_vocab(vocab_size, specials)
    backend = Tokenizer(models.WordLevel(vocab=vocab, unk_token=special_kwargs.get("unk_token", specials[0])))
    backend.pre_tokenizer = pre_tokenizers.Whitespace()
    return PreTrainedTokenizerFast(tokenizer_object=backend, **special_kwargs)


def llama_tokenizer(vocab_size: int = 128, model_max_length: int = 256):
    """A word-level fast tokenizer with Llama's special tokens (HunyuanVideo's text encoder)."""
    tok = _word_level_fast(
        vocab_size,
        ["<unk>", "<s>", "</s>", "<pad>"],
        unk_token="<unk>",
        bos_token="<s>",
        eos_token="</s>",
        pad_token="<pad>",
        model_max_length=model_max_length,
    )
    tok.padding_side = "right"
    return tok


def gemma_tokenizer(vocab_size: int = 128, model_max_length: int = 300):
    """A word-level fast tokenizer with Gemma's special tokens (SANA's text encoder)."""
    tok = _word_level_fast(
        vocab_size,
        ["<pad>", "<eos>", "<bos>", "<unk>"],
        unk_token="<unk>",
        bos_token="<bos>",
        eos_token="<eos>",
        pad_token="<pad>",
        model_max_length=model_max_length,
    )
    tok.padding_side = "right"
    return tok
