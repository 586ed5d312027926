"""SANA-Video's cost facts (``SanaVideoPipeline`` / ``SanaImageToVideoPipeline``, diffusers 0.42)."""

from videogen.video.cost.facts import CostFacts, TextFacts

# The pipeline prepends its default "complex human instruction" (8 lines, ~1,000 characters)
# to the prompt and tokenises to ``instruction tokens + 300 - 2``. The Gemma tokenizer is not
# available offline; ~4.5 characters per token gives ~220 tokens (approximate).
_INSTRUCTION_TOKENS = 220
_PROMPT = 300  # max_sequence_length

COST = CostFacts(
    vae_spatial="config_scale_factor",
    vae_temporal="config_scale_factor",
    cfg="batched",
    text=TextFacts(
        tokens=_PROMPT,
        encoder_tokens={"text_encoder": _INSTRUCTION_TOKENS + _PROMPT - 2},
        notes=("Gemma-2 sequence length includes an approximate count of the instruction prefix",),
    ),
    i2v_vae_encode="image",
)

__all__ = ["COST"]
