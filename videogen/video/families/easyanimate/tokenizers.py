"""EasyAnimate's Qwen2-VL tokenizer, built offline: the tiny model's and the ``arch:`` presets'.

The pipelines put every prompt in a chat (one user turn whose content is a list of ``{"type": "text"}`` parts),
format it with ``apply_chat_template(..., add_generation_prompt=True)`` and pad it to ``max_sequence_length`` (256)
on the right; the transformer attends to all 256 (``cost.py``). This tokenizer is word-level with Qwen's ChatML
special tokens (``<|endoftext|>`` pads) and each newline a token of its own, as Qwen's byte-level BPE has them, and
its chat template is Qwen2-VL's for text: the default system turn ("You are a helpful assistant.") when the chat
has none, then each message's text parts.
"""

from __future__ import annotations

_UNK, _PAD, _START, _END = "<unk>", "<|endoftext|>", "<|im_start|>", "<|im_end|>"
_SPECIALS = [_UNK, _PAD, _START, _END]
_NEWLINE = "\u010a"  # "Ċ": the byte-level BPE's newline
_SYSTEM = "You are a helpful assistant."
# Qwen2-VL-7B-Instruct's chat template with its image and video branches left out (the pipelines send text only).
CHAT_TEMPLATE = (
    "{% for message in messages %}{% if loop.first and message['role'] != 'system' %}"
    "<|im_start|>system\n" + _SYSTEM + "<|im_end|>\n{% endif %}"
    "<|im_start|>{{ message['role'] }}\n{% if message['content'] is string %}{{ message['content'] }}"
    "{% else %}{% for content in message['content'] %}{% if content['type'] == 'text' %}{{ content['text'] }}"
    "{% endif %}{% endfor %}{% endif %}<|im_end|>\n{% endfor %}"
    "{% if add_generation_prompt %}<|im_start|>assistant\n{% endif %}"
)


def _words() -> list[str]:
    from tokenizers import pre_tokenizers

    from videogen.video.tiny.tokenizers import llama_tokenizer

    template = [piece for piece, _ in pre_tokenizers.Whitespace().pre_tokenize_str(_SYSTEM)]
    vocab = llama_tokenizer().get_vocab()
    prompt_words = [w for w in sorted(vocab, key=vocab.get) if not w.startswith("<")]  # by id: the same every build
    return list(dict.fromkeys(["system", "user", "assistant", _NEWLINE, *template, *prompt_words]))


def qwen_chat_tokenizer():
    """Word-level, Qwen's special tokens, newlines as tokens, Qwen2-VL's chat template for text."""
    from tokenizers import Tokenizer, models, normalizers, pre_tokenizers
    from transformers import PreTrainedTokenizerFast

    vocab = {token: i for i, token in enumerate([*_SPECIALS, *_words()])}
    backend = Tokenizer(models.WordLevel(vocab=vocab, unk_token=_UNK))
    backend.normalizer = normalizers.Replace("\n", f" {_NEWLINE} ")
    backend.pre_tokenizer = pre_tokenizers.Whitespace()
    backend.add_special_tokens(_SPECIALS)
    tok = PreTrainedTokenizerFast(
        tokenizer_object=backend, unk_token=_UNK, eos_token=_END, pad_token=_PAD, model_max_length=4096
    )
    tok.padding_side = "right"
    tok.chat_template = CHAT_TEMPLATE
    return tok
