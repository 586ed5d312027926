"""HunyuanVideo's cost facts (``HunyuanVideoPipeline`` / ``HunyuanVideoImageToVideoPipeline`` /
``HunyuanVideoFramepackPipeline``, diffusers 0.42)."""

from videogen.video.cost.facts import CostFacts, SectionFacts, TextFacts
from videogen.video.families.hunyuan_video import framepack
from videogen.video.families.hunyuan_video.spec import FRAMEPACK
from videogen.video.spec import FIRST_LAST_FRAME, IMAGE_TO_VIDEO

# The prompt templates: tokens of the template prefix the pipeline crops away.
_T2V_CROP = 95
_I2V_CROP = 103
_IMAGE_TOKENS = 576  # LLaVA's CLIP-L/336 image tokens spliced into the Llama input
_PROMPT = 256  # max_sequence_length
_CLIP = 77  # text_encoder_2 (CLIP-L)

# Image-to-video: Llama sees template + image tokens + prompt; the transformer gets every 2nd
# image token (latent_concat; every 4th for token_replace) and the prompt less the template
# and the 4 assistant-header tokens.
_I2V_LLAMA = _PROMPT + _I2V_CROP + _IMAGE_TOKENS - 1
_I2V_TEXT = _I2V_LLAMA - (_I2V_CROP - 1 + _IMAGE_TOKENS) - 4

COST = CostFacts(
    vae_spatial="module_ratio",
    vae_temporal="module_ratio",
    # The guidance is an input of the transformer (embedded guidance): one forward per step.
    # Its true CFG needs true_cfg_scale > 1 and a negative prompt, which the service never sets.
    cfg="none",
    text=TextFacts(tokens=_PROMPT, encoder_tokens={"text_encoder": _PROMPT + _T2V_CROP, "text_encoder_2": _CLIP}),
    text_by_task={
        IMAGE_TO_VIDEO: TextFacts(
            tokens=_I2V_TEXT,
            encoder_tokens={"text_encoder": _I2V_LLAMA, "text_encoder_2": _CLIP},
            spliced_image_tokens=_IMAGE_TOKENS,
            splice_stride=2,
            splice_config_key="image_condition_type",
            splice_strides={"token_replace": 4},
            notes=("the i2v text encoder also runs its CLIP-L/336 vision tower on the image",),
        ),
    },
    i2v_vae_encode="image",
    # the first frame; first-last-frame (FramePack) embeds and encodes the last one too
    image_tasks={IMAGE_TO_VIDEO: 1, FIRST_LAST_FRAME: 2},
    # FramePack (first-last-frame, and image-to-video on a FramePack checkpoint): the text as in text-to-video (the
    # same template, LlamaModel + CLIP-L); per section a window of 9 latent frames beside packed context (2 clean
    # latent frames patched 1x2x2 like the window, 2 at 2x4x4, 16 at 4x8x8), the SigLIP image tokens prepended to
    # the text. Each image is SigLIP-embedded and VAE-encoded.
    text_by_pipeline={
        FRAMEPACK: TextFacts(
            tokens=_PROMPT,
            encoder_tokens={"text_encoder": _PROMPT + _T2V_CROP, "text_encoder_2": _CLIP},
            notes=(
                "FramePack's transformer drops the prompt's padding at batch 1: its text is at most "
                f"{_PROMPT} tokens (counted in full here, an upper bound)",
            ),
        )
    },
    sections={
        FRAMEPACK: SectionFacts(
            window=framepack.LATENT_WINDOW_SIZE,
            frames_per_section=framepack.frames_per_section(),
            history=framepack.HISTORY,
        )
    },
)

__all__ = ["COST"]
