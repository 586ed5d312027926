"""Tiny Wan: UMT5 text encoder, Wan 3D VAE, Wan transformer; i2v in the Wan 2.1 style
(a CLIP vision image encoder + image processor, transformer with ``image_dim``). Video-to-video
(``WanVideoToVideoPipeline``) gets exactly the text-to-video components (same order, same seed: same weights).

First-last-frame is the same ``WanImageToVideoPipeline`` with the i2v components, its transformer as in Wan 2.1
FLF2V: ``pos_embed_seq_len`` set to two images' CLIP tokens. The pipeline embeds ``[image, last_image]`` as a
batch of two and the transformer's image embedder folds them into one sequence of twice the tokens (plus that
position embedding, which tells the first frame's tokens from the last's); an i2v transformer has none.

``TINY_VARIANTS`` (``--model tiny:<name>``): ``wan2.2-a14b`` is Wan 2.2 A14B's layout, two tiny transformers of
the same shape, ``transformer`` for the high-noise steps and ``transformer_2`` for the low-noise ones, switched at
the published ``boundary_ratio`` (0.875 text-to-video, 0.9 image-to-video); its image-to-video has no CLIP image
encoder (the first frame reaches the transformer only through its 36 input channels). ``wan2.2-ti2v-5b`` is Wan 2.2
TI2V-5B's: one model for text- and image-to-video (the same weights in both tasks' directories) on Wan 2.2's VAE
(48 latent channels, a 2x2 patchify before its /8: /16 in space, so sizes are multiples of 32 with the transformer's
2x2 patches), built with ``expand_timesteps``: image-to-video writes the image's latents into the first latent frame
and gives its tokens timestep 0, with no image encoder."""

from __future__ import annotations

from videogen.video.adapter import diffusers_pipeline_class
from videogen.video.families.wan.spec import SPEC
from videogen.video.families.wan.tiny_vace import build_vace
from videogen.video.families.wan.vace import VACE_TASKS
from videogen.video.spec import FIRST_LAST_FRAME, IMAGE_TO_VIDEO, TEXT_TO_VIDEO
from videogen.video.tiny.text_encoders import T5_DIM, t5_encoder
from videogen.video.tiny.variants import TinyVariant

TINY_CALL_KWARGS: dict[str, dict] = {}

_IMAGE_DIM = 8
_IMAGE_SIZE, _PATCH = 32, 8
_IMAGE_TOKENS = (_IMAGE_SIZE // _PATCH) ** 2 + 1  # CLIP's patches and its class token
_WAN22_CHANNELS, _WAN22_SPATIAL = 48, 16  # Wan 2.2's VAE: latent channels, spatial compression
_TRANSFORMER_PATCH = 2  # every Wan transformer's spatial patch (1, 2, 2)


def _image_encoder():
    from transformers import CLIPVisionConfig, CLIPVisionModel

    config = CLIPVisionConfig(
        hidden_size=_IMAGE_DIM,
        intermediate_size=16,
        num_hidden_layers=1,
        num_attention_heads=2,
        image_size=_IMAGE_SIZE,
        patch_size=_PATCH,
        projection_dim=8,
    )
    return CLIPVisionModel(config).eval()


def _image_processor():
    from transformers import CLIPImageProcessor

    return CLIPImageProcessor(size={"shortest_edge": 32}, crop_size={"height": 32, "width": 32})


def _vae():
    from diffusers import AutoencoderKLWan

    return AutoencoderKLWan(
        base_dim=3, z_dim=16, dim_mult=[1, 1, 1, 1], num_res_blocks=1, temperal_downsample=[False, True, True]
    )


def _wan22_vae():
    """Wan 2.2's VAE in miniature (diffusers' own TI2V-5B test config): residual blocks, 48 latent channels and a
    2x2 patchify of its 3 input channels (12) ahead of the /8 downsampling."""
    from diffusers import AutoencoderKLWan

    return AutoencoderKLWan(
        base_dim=3,
        z_dim=_WAN22_CHANNELS,
        in_channels=12,
        out_channels=12,
        is_residual=True,
        patch_size=2,
        latents_mean=[0.0] * _WAN22_CHANNELS,
        latents_std=[1.0] * _WAN22_CHANNELS,
        dim_mult=[1, 1, 1, 1],
        num_res_blocks=1,
        scale_factor_spatial=_WAN22_SPATIAL,
        scale_factor_temporal=4,
        temperal_downsample=[False, True, True],
    )


def _transformer(
    *, in_channels: int, out_channels: int = 16, image_dim: int | None = None, pos_embed_seq_len: int | None = None
):
    from diffusers import WanTransformer3DModel

    return WanTransformer3DModel(
        patch_size=(1, _TRANSFORMER_PATCH, _TRANSFORMER_PATCH),
        num_attention_heads=2,
        attention_head_dim=12,
        in_channels=in_channels,
        out_channels=out_channels,
        text_dim=T5_DIM,
        freq_dim=32,
        ffn_dim=32,
        num_layers=2,  # First-Block Cache needs a head and a tail block
        cross_attn_norm=True,
        qk_norm="rms_norm_across_heads",
        rope_max_seq_len=1024,  # positions per axis: enough for the family's largest request (Wan: 161 frames)
        image_dim=image_dim,
        pos_embed_seq_len=pos_embed_seq_len,
    )


def _text_components() -> dict:
    from diffusers import FlowMatchEulerDiscreteScheduler

    from videogen.video.tiny.tokenizers import t5_tokenizer

    return dict(
        tokenizer=t5_tokenizer(),
        text_encoder=t5_encoder(umt5=True),
        scheduler=FlowMatchEulerDiscreteScheduler(shift=3.0),
    )


def build_pipeline(task: str):
    if task in VACE_TASKS:  # WanVACEPipeline: a VACE transformer beside these VAE and text components
        return build_vace(task, vae=_vae(), **_text_components())
    pipeline_class = diffusers_pipeline_class(SPEC, task)
    flf = task == FIRST_LAST_FRAME
    i2v = task == IMAGE_TO_VIDEO or flf
    # Built in this order (VAE, transformer, text encoder, image encoder) from the caller's seed: the same weights
    # as every earlier tiny Wan of this TINY_VERSION.
    vae = _vae()
    transformer = _transformer(
        # i2v: noise latents + first-frame (first-last-frame: first- and last-frame) latents + 4 mask channels
        in_channels=36 if i2v else 16,
        image_dim=_IMAGE_DIM if i2v else None,
        pos_embed_seq_len=2 * _IMAGE_TOKENS if flf else None,
    )
    if flf:  # diffusers starts it at zeros (trained in the real checkpoint): random, like every other weight
        transformer.condition_embedder.image_embedder.pos_embed.data.normal_(std=0.5)
    components = dict(vae=vae, transformer=transformer, **_text_components())
    if i2v:
        components.update(image_encoder=_image_encoder(), image_processor=_image_processor())
    return pipeline_class(**components)


# Wan 2.2 A14B's published boundary_ratio per task (its model_index.json): the high-noise expert runs the steps whose
# timestep >= boundary_ratio * num_train_timesteps.
A14B_BOUNDARY_RATIO = {TEXT_TO_VIDEO: 0.875, IMAGE_TO_VIDEO: 0.9}


def build_a14b(task: str):
    """Wan 2.2 A14B in miniature: two transformers of one shape (independent random weights), no image encoder."""
    if task not in A14B_BOUNDARY_RATIO:
        raise ValueError(f"tiny:wan2.2-a14b offers {', '.join(A14B_BOUNDARY_RATIO)}, not {task}")
    pipeline_class = diffusers_pipeline_class(SPEC, task)
    in_channels = 36 if task == IMAGE_TO_VIDEO else 16  # i2v: noise + first-frame latents + 4 mask channels
    vae = _vae()
    high_noise, low_noise = _transformer(in_channels=in_channels), _transformer(in_channels=in_channels)
    return pipeline_class(
        vae=vae,
        transformer=high_noise,
        transformer_2=low_noise,
        boundary_ratio=A14B_BOUNDARY_RATIO[task],
        **_text_components(),
    )


TI2V_TASKS = (TEXT_TO_VIDEO, IMAGE_TO_VIDEO)


def build_ti2v(task: str):
    """Wan 2.2 TI2V-5B in miniature: one transformer over the 48-channel latents for both tasks (built in the same order
    from the same seed: the same weights); image-to-video conditions through the first latent frame only."""
    if task not in TI2V_TASKS:
        raise ValueError(f"tiny:wan2.2-ti2v-5b offers {', '.join(TI2V_TASKS)}, not {task}")
    pipeline_class = diffusers_pipeline_class(SPEC, task)
    vae = _wan22_vae()
    transformer = _transformer(in_channels=_WAN22_CHANNELS, out_channels=_WAN22_CHANNELS)
    return pipeline_class(vae=vae, transformer=transformer, expand_timesteps=True, **_text_components())


TINY_VARIANTS: dict[str, TinyVariant] = {
    "wan2.2-a14b": TinyVariant(
        name="wan2.2-a14b",
        description="Wan 2.2 A14B's layout: a high-noise transformer and a low-noise transformer_2 switched at "
        "boundary_ratio 0.875 (text-to-video) / 0.9 (image-to-video); image-to-video without a CLIP image encoder",
        tasks=tuple(A14B_BOUNDARY_RATIO),
        build=build_a14b,
        experts=2,
    ),
    "wan2.2-ti2v-5b": TinyVariant(
        name="wan2.2-ti2v-5b",
        description="Wan 2.2 TI2V-5B's layout: one model for text- and image-to-video (expand_timesteps: the image's "
        "latents written into the first latent frame, no CLIP image encoder) on Wan 2.2's 48-channel VAE, /16 in "
        f"space: sizes are multiples of {_WAN22_SPATIAL * _TRANSFORMER_PATCH}",
        tasks=TI2V_TASKS,
        build=build_ti2v,
        resolution_multiple=_WAN22_SPATIAL * _TRANSFORMER_PATCH,
    ),
}
