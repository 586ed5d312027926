"""Mochi 1's cost facts (``MochiPipeline``, diffusers 0.42).

Text: T5-XXL at ``max_sequence_length`` 256 (the pipeline's default and the converter's TOKENIZER_MAX_LENGTH). The
transformer attends over the video tokens and each branch's valid prompt tokens only; the probe counts all 256 (an
upper bound, ``cost_probe``). Guidance: both branches as one forward at batch 2 (the latents concatenated), which the
processor attends one row at a time: twice a batch-1 forward. The VAE's decoder is causal 3D convolutions and no
attention.
"""

from videogen.video.cost.facts import CostFacts, TextFacts, VaeLaw, lazy
from videogen.video.cost.fit import term

TEXT_TOKENS = 256


COST = CostFacts(
    # The pipeline fixes its factors at 8 and 6 (``vae_spatial_scale_factor``, ``vae_temporal_scale_factor``); the
    # VAE module's ratios are the products of its expansions, (2, 2, 2) and (1, 2, 3): the same 8 and 6.
    vae_spatial="module_ratio",
    vae_temporal="module_ratio",
    cfg="batched",
    text=TextFacts(
        tokens=TEXT_TOKENS,
        encoder_tokens={"text_encoder": TEXT_TOKENS},
        notes=(
            "the transformer attends to the prompt's own tokens (its mask's valid ones), counted as all 256: an upper "
            "bound",
        ),
    ),
    denoiser_probes={"MochiTransformer3DModel": lazy("videogen.video.families.mochi.cost_probe:denoiser_call")},
    # FLOPs: causal convolutions, per latent frame and pixel (F·S, exactly: the causal padding replicates frames in
    # front, S); the decoder has no attention. Peak: the working set grows with F·S, but its convolutions
    # (CogVideoXSafeConv3d) split any input over 2 GiB into frame chunks, and above that the split and re-joined
    # copies add about a third. The law is fitted where a plain decode of the default size is (6 and 15 latent frames
    # at 60x106: split), within 2 % there; below the split (small tiles, short clips) it errs high, by up to 40 %.
    vae_laws={
        "AutoencoderKLMochi": VaeLaw(
            flop_terms=(term(s=1), term(f=1, s=1)),
            flop_points=((6, 0), (15, 0)),
            peak_terms=(term(s=1), term(f=1, s=1)),
            peak_points=((6, 0), (15, 0)),
        )
    },
)

__all__ = ["COST", "TEXT_TOKENS"]
