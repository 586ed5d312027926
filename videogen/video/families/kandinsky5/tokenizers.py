"""Kandinsky 5's Qwen tokenizer, built offline: the tiny model's and the ``arch:`` presets'.

The pipelines format every prompt into a fixed template (``prompt_template``: a system turn asking for a detailed
video description, then the prompt as the user's turn), tokenize it unpadded (one prompt: its own length) and crop
the first ``prompt_template_encode_start_idx`` (128) tokens after encoding. This tokenizer is word-level over the
template's words and the tiny prompts' (``videogen.video.tiny.tokenizers``), with Qwen's ChatML special tokens and
each newline a token of its own, as Qwen's byte-level BPE has them: the template's tokens before the prompt are then
at least the crop, so the crop keeps the whole prompt (a test holds it).

The checkpoints ship a ``Qwen2VLProcessor``; the pipelines call it with ``text=`` alone (``images=None``,
``videos=None``), which a plain fast tokenizer takes the same way.
"""

from __future__ import annotations

_UNK, _PAD, _START, _END = "<unk>", "<|endoftext|>", "<|im_start|>", "<|im_end|>"
_SPECIALS = [_UNK, _PAD, _START, _END]
_COMPONENTS = ("transformer", "vae", "text_encoder", "tokenizer", "text_encoder_2", "tokenizer_2", "scheduler")


def template_and_crop() -> tuple[str, int]:
    """The pipelines' prompt template and crop, which their ``__init__`` sets (read from one without components)."""
    from diffusers import Kandinsky5T2VPipeline

    holder = Kandinsky5T2VPipeline(**dict.fromkeys(_COMPONENTS))
    return holder.prompt_template, holder.prompt_template_encode_start_idx


_NEWLINE = "\u010a"  # "Ċ": the byte-level BPE's newline, a word of its own here


def _normalizer():
    from tokenizers import normalizers

    return normalizers.Replace("\n", f" {_NEWLINE} ")


def _pre_tokenizer():
    from tokenizers import pre_tokenizers

    return pre_tokenizers.Whitespace()  # words and runs of punctuation


def _words(template: str) -> list[str]:
    from videogen.video.tiny.tokenizers import llama_tokenizer

    text = template.replace("{}", " ")
    for special in _SPECIALS:
        text = text.replace(special, " ")
    text = _normalizer().normalize_str(text)
    pieces = [piece for piece, _ in _pre_tokenizer().pre_tokenize_str(text)]
    prompt_words = [w for w in llama_tokenizer().get_vocab() if not w.startswith("<")]
    return list(dict.fromkeys([*pieces, *prompt_words]))


def qwen_tokenizer():
    """Word-level, Qwen's special tokens (``<|endoftext|>`` pads, right side), newlines as tokens."""
    from tokenizers import Tokenizer, models
    from transformers import PreTrainedTokenizerFast

    template, _ = template_and_crop()
    vocab = {token: i for i, token in enumerate([*_SPECIALS, *_words(template)])}
    backend = Tokenizer(models.WordLevel(vocab=vocab, unk_token=_UNK))
    backend.normalizer = _normalizer()
    backend.pre_tokenizer = _pre_tokenizer()
    backend.add_special_tokens(_SPECIALS)
    tok = PreTrainedTokenizerFast(
        tokenizer_object=backend, unk_token=_UNK, eos_token=_END, pad_token=_PAD, model_max_length=4096
    )
    tok.padding_side = "right"
    return tok


def prefix_tokens(tok) -> int:
    """Tokens of the template before the user's prompt, as this tokenizer gives them."""
    template, _ = template_and_crop()
    return len(tok(template.split("{}")[0])["input_ids"])
