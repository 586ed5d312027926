"""Tiny SkyReels-V2: Wan's tiny UMT5 text encoder, tokenizer and VAE (imported from the Wan family, not copied) with a
``SkyReelsV2Transformer3DModel`` of the tiny Wan transformer's shape.

The plain ``tiny`` model is a DF checkpoint in miniature, as ``SkyReels-V2-DF-1.3B-540P`` is laid out: its transformer
injects the frame rate (``inject_sample_info``), and it runs every task through the diffusion-forcing pipelines, in
windows of ``TINY_BASE_NUM_FRAMES`` (9 frames, 3 latent frames: a 13-frame request is already two windows). Its
scheduler is the checkpoints' UniPC with flow sigmas.

``TINY_VARIANTS``: ``tiny:t2v`` is a plain text-to-video checkpoint (``SkyReelsV2Pipeline``, one window, no frame-rate
embedding), ``tiny:i2v`` a plain image-to-video one (``SkyReelsV2ImageToVideoPipeline``: Wan 2.1's CLIP image encoder
and 36 input channels), as the ``SkyReels-V2-T2V`` / ``-I2V`` checkpoints are.
"""

from __future__ import annotations

from videogen.video.adapter import diffusers_pipeline_class
from videogen.video.families.skyreels_v2.spec import PLAIN_I2V, PLAIN_T2V, SPEC
from videogen.video.families.wan.tiny import _IMAGE_DIM, _image_encoder, _image_processor, _text_components, _vae
from videogen.video.spec import IMAGE_TO_VIDEO, TEXT_TO_VIDEO
from videogen.video.tiny.text_encoders import T5_DIM
from videogen.video.tiny.variants import TinyVariant

TINY_BASE_NUM_FRAMES = 9
# The window reaches the pipelines as a call kwarg (a real checkpoint's: 97 at 540P, 121 at 720P); the adapter reads
# it from there to settle a request's windows.
TINY_CALL_KWARGS: dict[str, dict] = {task: {"base_num_frames": TINY_BASE_NUM_FRAMES} for task in SPEC.tasks}
_FLOW_SHIFT = 8.0  # the model cards' text-to-video shift (image-to-video: 5.0)


def _transformer(*, in_channels: int = 16, image_dim: int | None = None, inject_sample_info: bool = False):
    from diffusers import SkyReelsV2Transformer3DModel

    # the tiny Wan transformer's shape (families/wan/tiny.py), as SkyReels-V2's DiT is Wan 2.1's
    return SkyReelsV2Transformer3DModel(
        patch_size=(1, 2, 2),
        num_attention_heads=2,
        attention_head_dim=12,
        in_channels=in_channels,
        out_channels=16,
        text_dim=T5_DIM,
        freq_dim=32,
        ffn_dim=32,
        num_layers=2,
        cross_attn_norm=True,
        qk_norm="rms_norm_across_heads",
        rope_max_seq_len=1024,
        image_dim=image_dim,
        added_kv_proj_dim=2 * 12 if image_dim else None,
        inject_sample_info=inject_sample_info,
    )


def _components() -> dict:
    from diffusers import UniPCMultistepScheduler

    components = _text_components()
    components["scheduler"] = UniPCMultistepScheduler(
        prediction_type="flow_prediction", use_flow_sigmas=True, flow_shift=_FLOW_SHIFT
    )
    return components


def build_pipeline(task: str):
    """A DF checkpoint in miniature, for ``task``'s diffusion-forcing pipeline (the same weights for every task)."""
    pipeline_class = diffusers_pipeline_class(SPEC, task)
    vae = _vae()
    transformer = _transformer(inject_sample_info=True)
    return pipeline_class(vae=vae, transformer=transformer, **_components())


def build_plain(task: str):
    """A plain (non-DF) checkpoint: text-to-video through SkyReelsV2Pipeline, image-to-video through
    SkyReelsV2ImageToVideoPipeline with a CLIP image encoder."""
    i2v = task == IMAGE_TO_VIDEO
    pipeline_class = diffusers_pipeline_class(SPEC, task, PLAIN_I2V if i2v else PLAIN_T2V)
    vae = _vae()
    # image-to-video: noise latents + first-frame latents + 4 mask channels, CLIP tokens in the cross-attention
    transformer = _transformer(in_channels=36 if i2v else 16, image_dim=_IMAGE_DIM if i2v else None)
    components = dict(vae=vae, transformer=transformer, **_components())
    if i2v:
        components.update(image_encoder=_image_encoder(), image_processor=_image_processor())
    return pipeline_class(**components)


TINY_VARIANTS: dict[str, TinyVariant] = {
    "t2v": TinyVariant(
        name="t2v",
        description="a plain SkyReels-V2 text-to-video checkpoint (SkyReelsV2Pipeline): the whole clip at once, no "
        "diffusion forcing",
        tasks=(TEXT_TO_VIDEO,),
        build=build_plain,
        checkpoint_class=PLAIN_T2V,
    ),
    "i2v": TinyVariant(
        name="i2v",
        description="a plain SkyReels-V2 image-to-video checkpoint (SkyReelsV2ImageToVideoPipeline): a CLIP image "
        "encoder and the image's latents beside the noise, no diffusion forcing",
        tasks=(IMAGE_TO_VIDEO,),
        build=build_plain,
        checkpoint_class=PLAIN_I2V,
    ),
}
