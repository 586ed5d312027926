"""EasyAnimate's cost facts (``EasyAnimatePipeline`` / ``EasyAnimateInpaintPipeline``, diffusers 0.42).

Text: Qwen2-VL runs on the chat-formatted prompt padded to ``max_sequence_length`` 256 (the pipelines never pass
another), and the transformer attends to all 256 tokens (it takes no mask): exact, not a bound. Latents: the Magvit
VAE's module ratios (/8, /4 in time), patch 2. Guidance: above 1.0 both branches run as one batch of two
(``torch.cat([latents] * 2)``). Image-to-video and first-last-frame VAE-encode the whole masked clip once (the kept
frames, -1 elsewhere); the mask is resized, not encoded (``resize_inpaint_mask_directly``).
"""

from videogen.video.cost.facts import CostFacts, TextFacts, VaeLaw, lazy
from videogen.video.cost.fit import term
from videogen.video.spec import FIRST_LAST_FRAME, IMAGE_TO_VIDEO

TEXT_TOKENS = 256  # encode_prompt's max_sequence_length


COST = CostFacts(
    vae_spatial="module_ratio",
    vae_temporal="module_ratio",
    cfg="batched",
    text=TextFacts(tokens=TEXT_TOKENS, encoder_tokens={"text_encoder": TEXT_TOKENS}),
    i2v_vae_encode="clip",
    image_tasks={IMAGE_TO_VIDEO: 1, FIRST_LAST_FRAME: 2},
    denoiser_probes={
        "EasyAnimateTransformer3DModel": lazy("videogen.video.families.easyanimate.cost_probe:denoiser_call")
    },
    # The Magvit decoder runs one latent frame a call (the first alone, to 1 frame; each next one to 4) through causal
    # convolutions and no attention: FLOPs a·S + b·F·S exactly; the peak is one call's working set (S) and the frames
    # decoded so far (F·S).
    vae_laws={
        "AutoencoderKLMagvit": VaeLaw(
            flop_terms=(term(s=1), term(f=1, s=1)),
            flop_points=((2, 0), (5, 0)),
            peak_terms=(term(s=1), term(f=1, s=1)),
            peak_points=((2, 0), (5, 0)),
        )
    },
)

__all__ = ["COST", "TEXT_TOKENS"]
