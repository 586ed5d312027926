"""Real-size SkyReels-V2 presets (``arch:<id>``), from diffusers' ``scripts/convert_skyreelsv2_to_diffusers.py`` and
Skywork's model cards.

Every checkpoint is a Wan 2.1 DiT (``SkyReelsV2Transformer3DModel``: Wan's layout, built here with the Wan presets'
own builder) on Wan 2.1's VAE and UMT5-XXL. The converter's configs: DF-1.3B-540P is Wan2.1-T2V-1.3B's shape (12
heads x 128, 30 layers, FFN 8960) with the frame-rate embedding (``inject_sample_info``); DF-14B-540P/720P and
T2V-14B are Wan2.1-14B's (40 x 128, 40 layers, FFN 13824) without it; the image-to-video checkpoints are Wan 2.1 I2V's
(36 input channels, CLIP-H/14 image tokens through extra K/V). 540P and 720P checkpoints of one size share the
architecture: they differ in their window (``base_num_frames`` 97 / 121, a DF pipeline call argument) and native size
(544x960 / 720x1280, the model zoo's). Schedulers: UniPC with flow sigmas, shift 8.0 for text-to-video and 5.0 for
image- and video-to-video (the docs' examples).
"""

from __future__ import annotations

from videogen.video.arch.preset import ArchPreset, ComponentArch, ProcessorArch, TokenizerArch
from videogen.video.arch.shared_components import (
    clip_image_processor_config,
    open_clip_vit_h14_vision,
    umt5_xxl_encoder,
    wan21_vae,
)
from videogen.video.families.skyreels_v2.spec import DF_I2V, DF_T2V, DF_V2V, PLAIN_I2V, PLAIN_T2V, SPEC
from videogen.video.families.wan.presets import _transformer as _wan_transformer
from videogen.video.families.wan.presets import _unipc
from videogen.video.spec import FIRST_LAST_FRAME, IMAGE_TO_VIDEO, TEXT_TO_VIDEO, VIDEO_TO_VIDEO

_FAMILY = SPEC.id
_TOKENIZER = TokenizerArch(name="tokenizer", kind="t5")
_DF_TASKS = {TEXT_TO_VIDEO: DF_T2V, IMAGE_TO_VIDEO: DF_I2V, VIDEO_TO_VIDEO: DF_V2V, FIRST_LAST_FRAME: DF_I2V}
_T2V_SHIFT, _I2V_SHIFT = 8.0, 5.0
_WINDOW = {"540P": 97, "720P": 121}  # base_num_frames: the model zoo's frames at each resolution
# Published sizes of the DiTs: "1.3B" by name is Wan2.1-T2V-1.3B's (1.42 B in its diffusers checkpoint, as the Wan
# preset cites); "14B" is Wan2.1-14B's 14.29 B (the released transformer); the image-to-video DiT adds the CLIP
# cross-attention (K/V per block and the image embedder: 0.14 B at 1.3B, 2.1 B at 14B, as Wan2.1-I2V-14B's 16.4 B).
_SIZES = {
    "1.3B": {"heads": 12, "layers": 30, "ffn": 8960, "published": 1_420_000_000, "i2v_published": 1_560_000_000},
    "14B": {"heads": 40, "layers": 40, "ffn": 13824, "published": 14_290_000_000, "i2v_published": 16_400_000_000},
}


def _transformer(size: str, *, i2v: bool = False, inject_sample_info: bool = False) -> ComponentArch:
    shape = _SIZES[size]
    wan = _wan_transformer(
        heads=shape["heads"],
        layers=shape["layers"],
        ffn=shape["ffn"],
        in_channels=36 if i2v else 16,
        image_dim=1280 if i2v else None,
    )
    config = {**wan.config, "inject_sample_info": inject_sample_info}
    return wan.model_copy(update={"class_name": "SkyReelsV2Transformer3DModel", "config": config})


def _df(size: str, resolution: str) -> ArchPreset:
    window = _WINDOW[resolution]
    return ArchPreset(
        id=f"skyreels-v2-df-{size.lower()}-{resolution.lower()}",
        family=_FAMILY,
        checkpoint=f"Skywork/SkyReels-V2-DF-{size}-{resolution}-Diffusers",
        tasks=list(_DF_TASKS),
        pipeline_classes=dict(_DF_TASKS),
        # only the 1.3B embeds the frame rate (the converter's inject_sample_info)
        components=[_transformer(size, inject_sample_info=size == "1.3B"), wan21_vae(), umt5_xxl_encoder()],
        denoiser="transformer",
        tokenizers=[_TOKENIZER],
        scheduler=_unipc(_T2V_SHIFT),
        task_schedulers={task: _unipc(_I2V_SHIFT) for task in (IMAGE_TO_VIDEO, VIDEO_TO_VIDEO, FIRST_LAST_FRAME)},
        call_kwargs={task: {"base_num_frames": window} for task in _DF_TASKS},
        published_params={"transformer": _SIZES[size]["published"]},
        notes=f"diffusion forcing: any length in windows of {window} frames (ar_step, causal_block_size, "
        "overlap_history); native size " + ("544x960" if resolution == "540P" else "720x1280"),
    )


def _plain(size: str, resolution: str, task: str) -> ArchPreset:
    i2v = task == IMAGE_TO_VIDEO
    kind = "I2V" if i2v else "T2V"
    return ArchPreset(
        id=f"skyreels-v2-{kind.lower()}-{size.lower()}-{resolution.lower()}",
        family=_FAMILY,
        checkpoint=f"Skywork/SkyReels-V2-{kind}-{size}-{resolution}-Diffusers",
        tasks=[task],
        pipeline_classes={task: PLAIN_I2V if i2v else PLAIN_T2V},
        components=[
            _transformer(size, i2v=i2v),
            wan21_vae(),
            umt5_xxl_encoder(),
            *([open_clip_vit_h14_vision()] if i2v else []),
        ],
        denoiser="transformer",
        tokenizers=[_TOKENIZER],
        processors=[ProcessorArch(name="image_processor", config=clip_image_processor_config(224))] if i2v else [],
        scheduler=_unipc(_I2V_SHIFT if i2v else _T2V_SHIFT),
        published_params={"transformer": _SIZES[size]["i2v_published" if i2v else "published"]},
        notes="one clip at once (no diffusion forcing)",
    )


PRESETS: list[ArchPreset] = [
    _df("1.3B", "540P"),
    _df("14B", "540P"),
    _df("14B", "720P"),
    _plain("14B", "540P", TEXT_TO_VIDEO),
    _plain("14B", "720P", TEXT_TO_VIDEO),
    _plain("1.3B", "540P", IMAGE_TO_VIDEO),
    _plain("14B", "540P", IMAGE_TO_VIDEO),
    _plain("14B", "720P", IMAGE_TO_VIDEO),
]
