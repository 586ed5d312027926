"""Tiny image encoders several families' tiny pipelines share (random weights, built offline)."""

from __future__ import annotations


def siglip_vision(hidden: int = 8, image_size: int = 32, patch_size: int = 8) -> dict:
    """A one-layer SigLIP vision tower and its processor, as ``image_encoder`` / ``feature_extractor``: the image
    encoder of FramePack (HunyuanVideo's first-last-frame) and of HunyuanVideo 1.5's image-to-video."""
    from transformers import SiglipImageProcessor, SiglipVisionConfig, SiglipVisionModel

    config = SiglipVisionConfig(
        hidden_size=hidden,
        intermediate_size=2 * hidden,
        num_hidden_layers=1,
        num_attention_heads=2,
        image_size=image_size,
        patch_size=patch_size,
    )
    processor = SiglipImageProcessor(size={"height": image_size, "width": image_size})
    return {"image_encoder": SiglipVisionModel(config).eval(), "feature_extractor": processor}
