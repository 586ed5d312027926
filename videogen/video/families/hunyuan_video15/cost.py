"""HunyuanVideo 1.5's cost facts (``HunyuanVideo15Pipeline`` / ``HunyuanVideo15ImageToVideoPipeline``, diffusers 0.42).

Text: Qwen2.5-VL runs on the chat-formatted prompt padded to 1000 + 108 tokens and the pipeline crops the 108 of the
system turn; ByT5 runs on the prompt's quoted (glyph) text padded to 256, only when there is some (zeros
otherwise). The transformer packs, per guidance branch, the Qwen tokens, the ByT5 tokens and 729 image tokens
(SigLIP's on the image for image-to-video, zeros for text-to-video), masked or not, beside the video's tokens
(VAE /16, patch 1). Guidance: the guider runs the conditional and the unconditional batch as two calls.
"""

from videogen.video.cost.facts import CostFacts, TextFacts, VaeLaw, lazy
from videogen.video.cost.fit import term
from videogen.video.families.hunyuan_video15.sequence import BYT5_TOKENS, QWEN_CROP, QWEN_TOKENS, VISION_TOKENS

COST = CostFacts(
    # the pipelines read the VAE module's spatial_compression_ratio / temporal_compression_ratio
    vae_spatial="module_ratio",
    vae_temporal="module_ratio",
    cfg="sequential",
    text=TextFacts(
        tokens=QWEN_TOKENS + BYT5_TOKENS,
        encoder_tokens={"text_encoder": QWEN_TOKENS + QWEN_CROP, "text_encoder_2": BYT5_TOKENS},
        notes=(
            "ByT5 (text_encoder_2) runs only on quoted text in the prompt; counted always (an upper bound)",
            f"the transformer also attends to {VISION_TOKENS} image tokens (zeros in text-to-video)",
        ),
    ),
    # the first frame alone (one pixel frame, unsqueezed to a clip), as the conditioning latents' first frame
    i2v_vae_encode="image",
    image_encoder_tokens=VISION_TOKENS,
    denoiser_probes={
        "HunyuanVideo15Transformer3DModel": lazy("videogen.video.families.hunyuan_video15.cost_probe:denoiser_call")
    },
    # the resolution image-to-video is bucketed at, and the task the checkpoint was trained for: pipeline-only
    cost_neutral_config=frozenset({"target_size", "task_type"}),
    # Its decoder's mid-block attends over every latent of the clip at once ((F·S)², under a causal mask); the
    # convolutions scale with F·S, and its first frame is upsampled apart (S).
    vae_laws={
        "AutoencoderKLHunyuanVideo15": VaeLaw(
            flop_terms=(term(s=1), term(f=1, s=1), term(f=2, s=2)),
            flop_points=((2, 0), (5, 0), (2, 1)),
            peak_terms=(term(s=1), term(f=1, s=1), term(f=2, s=2)),
            peak_points=((2, 0), (5, 0), (2, 1), (5, 1)),
        )
    },
)

__all__ = ["COST"]
