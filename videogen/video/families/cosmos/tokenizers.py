"""Cosmos Predict 2.5's Qwen tokenizer, built offline: the tiny model's and the ``arch:`` presets'.

The pipeline formats every prompt as a chat (a fixed system turn, then the prompt as the user's turn, each message's
content a list of ``{"type": "text", ...}`` parts, as Qwen2.5-VL's processor takes them), tokenizes it through
``apply_chat_template`` padded and truncated to ``max_sequence_length`` (512), and keeps every token: the text
encoder's hidden states of all 512 reach the transformer. This tokenizer is word-level over the system turn's words
and the tiny prompts' (``videogen.video.tiny.tokenizers``), with Qwen's ChatML special tokens (``<|endoftext|>``
pads on the right) and a ChatML template that reads content parts as Qwen2.5-VL's does.
"""

from __future__ import annotations

_UNK, _PAD, _START, _END = "<unk>", "<|endoftext|>", "<|im_start|>", "<|im_end|>"
_SPECIALS = [_UNK, _PAD, _START, _END]
# The system turn of ``Cosmos2_5_PredictBasePipeline._get_prompt_embeds`` (0.42.1).
SYSTEM_TURN = "You are a helpful assistant who will provide prompts to an image generator."
_CHAT_TEMPLATE = (
    "{% for message in messages %}<|im_start|>{{ message['role'] }}\n"
    "{% if message['content'] is string %}{{ message['content'] }}"
    "{% else %}{% for part in message['content'] %}{% if part['type'] == 'text' %}{{ part['text'] }}{% endif %}"
    "{% endfor %}{% endif %}<|im_end|>\n{% endfor %}"
    "{% if add_generation_prompt %}<|im_start|>assistant\n{% endif %}"
)


def _words() -> list[str]:
    from tokenizers import pre_tokenizers

    from videogen.video.tiny.tokenizers import llama_tokenizer

    pieces = [piece for piece, _ in pre_tokenizers.Whitespace().pre_tokenize_str(SYSTEM_TURN)]
    prompt_words = [w for w in llama_tokenizer().get_vocab() if not w.startswith("<")]
    return list(dict.fromkeys(["system", "user", "assistant", *pieces, *prompt_words]))


def qwen_chat_tokenizer():
    """Word-level, Qwen's special tokens, its ChatML template over content parts."""
    from tokenizers import Tokenizer, models, pre_tokenizers
    from transformers import PreTrainedTokenizerFast

    vocab = {token: i for i, token in enumerate([*_SPECIALS, *_words()])}
    backend = Tokenizer(models.WordLevel(vocab=vocab, unk_token=_UNK))
    backend.pre_tokenizer = pre_tokenizers.Whitespace()
    backend.add_special_tokens(_SPECIALS)
    tok = PreTrainedTokenizerFast(
        tokenizer_object=backend, unk_token=_UNK, eos_token=_END, pad_token=_PAD, model_max_length=4096
    )
    tok.padding_side = "right"
    tok.chat_template = _CHAT_TEMPLATE
    return tok
