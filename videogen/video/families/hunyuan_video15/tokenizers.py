"""HunyuanVideo 1.5's tokenizers, built offline: the tiny model's and the ``arch:`` presets'.

``tokenizer`` (Qwen2.5-VL's, for the MLLM text encoder): the pipeline formats every prompt as a chat (its system
message, then the prompt as the user's turn, ``apply_chat_template``), pads it to 1000 + 108 tokens and crops a fixed
108 (``prompt_template_encode_start_idx``): the tokens the real Qwen2.5 tokenizer gives the system turn. This one is
word-level with Qwen's ChatML special tokens; its chat template pads the system turn with ``<|fill|>`` tokens to
exactly that crop, so the crop removes the system turn and keeps the whole prompt, as with the real tokenizer.

``tokenizer_2`` (ByT5's, for the glyph encoder): ``ByT5Tokenizer`` is byte-level and needs no vocabulary file.
"""

from __future__ import annotations

import inspect

_UNK, _PAD, _START, _END, _FILL = "<unk>", "<|endoftext|>", "<|im_start|>", "<|im_end|>", "<|fill|>"
_SPECIALS = [_UNK, _PAD, _START, _END, _FILL]
# ChatML as Qwen2.5 writes it; ``fill`` follows the system message.
_CHAT_TEMPLATE = (
    "{% for message in messages %}<|im_start|>{{ message['role'] }}\n{{ message['content'] }}"
    "{% if message['role'] == 'system' %}{{ fill }}{% endif %}<|im_end|>\n{% endfor %}"
    "{% if add_generation_prompt %}<|im_start|>assistant\n{% endif %}"
)
_MARK = "xyzzy"  # a word in no vocabulary: where the user's prompt starts


def _pipeline_prompt_defaults() -> tuple[str, int]:
    """The system message and crop the pipelines use (``_get_mllm_prompt_embeds``' defaults, which they pass)."""
    from diffusers import HunyuanVideo15Pipeline

    defaults = inspect.signature(HunyuanVideo15Pipeline._get_mllm_prompt_embeds).parameters
    return defaults["system_message"].default, defaults["crop_start"].default


def _words(system_message: str) -> list[str]:
    from tokenizers import pre_tokenizers

    from videogen.video.tiny.tokenizers import llama_tokenizer

    pieces = [piece for piece, _ in pre_tokenizers.Whitespace().pre_tokenize_str(system_message)]
    prompt_words = [w for w in llama_tokenizer().get_vocab() if not w.startswith("<")]
    return list(dict.fromkeys(["system", "user", "assistant", *pieces, *prompt_words]))


def qwen_chat_tokenizer():
    """Word-level, Qwen's special tokens (``<|endoftext|>`` pads), its system turn exactly the pipeline's crop."""
    from tokenizers import Tokenizer, models, pre_tokenizers
    from transformers import PreTrainedTokenizerFast

    system_message, crop_start = _pipeline_prompt_defaults()
    vocab = {token: i for i, token in enumerate([*_SPECIALS, *_words(system_message)])}
    backend = Tokenizer(models.WordLevel(vocab=vocab, unk_token=_UNK))
    backend.pre_tokenizer = pre_tokenizers.Whitespace()
    backend.add_special_tokens(_SPECIALS)
    tok = PreTrainedTokenizerFast(
        tokenizer_object=backend, unk_token=_UNK, eos_token=_END, pad_token=_PAD, model_max_length=4096
    )
    tok.padding_side = "right"
    tok.chat_template = _CHAT_TEMPLATE.replace("{{ fill }}", "")
    unfilled = system_turn_tokens(tok, system_message)
    if unfilled > crop_start:
        raise ValueError(f"the system turn is {unfilled} tokens, more than the pipeline's crop of {crop_start}")
    tok.chat_template = _CHAT_TEMPLATE.replace("{{ fill }}", _FILL * (crop_start - unfilled))
    return tok


def system_turn_tokens(tok, system_message: str) -> int:
    """Tokens before the user's prompt, as the pipeline's chat formats it (``format_text_input``)."""
    chat = [{"role": "system", "content": system_message}, {"role": "user", "content": _MARK}]
    ids = tok.apply_chat_template(chat, add_generation_prompt=True, tokenize=True, return_dict=True)["input_ids"]
    return ids.index(tok.unk_token_id)


def vocab_size() -> int:
    """Ids the offline Qwen tokenizer gives (every id is below it)."""
    return len(qwen_chat_tokenizer())


def byt5_tokenizer():
    from transformers import ByT5Tokenizer

    return ByT5Tokenizer()
