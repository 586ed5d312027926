"""The fixed sequence lengths of HunyuanVideo 1.5's pipelines (diffusers 0.42: set in ``__init__``, not arguments)."""

QWEN_TOKENS = 1000  # tokenizer_max_length: the Qwen2.5-VL tokens the transformer gets
QWEN_CROP = 108  # prompt_template_encode_start_idx: the system turn, cropped after encoding
BYT5_TOKENS = 256  # tokenizer_2_max_length: the glyph encoder's padded window
VISION_TOKENS = 729  # vision_num_semantic_tokens: SigLIP so400m at 384 px in 14 px patches (27 x 27)
