"""Wan 2.1 VACE (``WanVACEPipeline``): reference-to-video, video-inpaint and control-to-video on one checkpoint.

What the pipeline (diffusers 0.42) makes of its inputs, and so what each task hands it:

- ``video`` (one frame per output frame, at the job's size: ``task_media`` conforms it) with ``mask`` (white =
  regenerate, binarised): the VAE encodes ``video * (1 - mask)`` (kept) and ``video * mask`` (to be redone) as two
  latents, and the mask, folded 8x8 to the latent grid, joins them as the control stream (``vace_in_channels``
  = 16 + 16 + 64). video-inpaint passes both; outpainting is the same call with a white border in the mask.
- ``video`` without a mask: the pipeline's own mask is all ones (every pixel "to be redone"), so the whole clip is
  the control signal (a depth / pose / edge video): control-to-video passes the clip alone, which is exactly the
  all-white mask.
- no ``video``: a zero (grey) clip with an all-ones mask, so nothing is kept: reference-to-video generates from
  the reference images alone.
- ``reference_images``: each one is scaled to fit the video's size keeping its aspect, centred on a white canvas,
  VAE-encoded as one extra latent frame in front of the video's (dropped again before decoding). The pipeline
  would first round an image's own sides down to multiples of 8 (an image under 8 pixels becomes 0 wide and fails
  inside the call), so ``fit_references`` places them on the job's canvas here, at resolve time, the same way, and
  reports each change as an adjustment; the pipeline then takes them as they are.
- ``conditioning_scale``: a float is applied to every VACE layer (``len(transformer.config.vace_layers)``); a list
  must have exactly that length, which the request never sends (it carries one float).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from videogen.errors import UnsupportedTaskError
from videogen.video.families.wan.spec import SPEC
from videogen.video.request import Adjustment
from videogen.video.spec import CONTROL_TO_VIDEO, REFERENCE_TO_VIDEO, VIDEO_INPAINT

if TYPE_CHECKING:
    from PIL import Image

    from videogen.video.adapter import PreparedInputs

VACE_TASKS = (REFERENCE_TO_VIDEO, VIDEO_INPAINT, CONTROL_TO_VIDEO)
VACE_TRANSFORMER = "WanVACETransformer3DModel"
# WanVACEPipeline pads a reference image with ones in -1..1: white.
_PAD = (255, 255, 255)


def fit_reference(image: Image.Image, width: int, height: int) -> Image.Image:
    """``image`` scaled to fit ``width x height`` keeping its aspect (sides truncated like the pipeline's
    ``int(side * scale)``, at least one pixel), centred on a white canvas of that size."""
    from PIL import Image as PILImage

    if image.size == (width, height):
        return image
    scale = min(width / image.width, height / image.height)
    w, h = max(1, int(image.width * scale)), max(1, int(image.height * scale))
    canvas = PILImage.new("RGB", (width, height), _PAD)
    canvas.paste(image.resize((w, h), PILImage.Resampling.BILINEAR), ((width - w) // 2, (height - h) // 2))
    return canvas


def fit_references(prepared: PreparedInputs) -> None:
    """Place the request's reference images on the job's canvas, each change an adjustment naming the image."""
    media, params = prepared.media, prepared.params
    if not media.reference_images:
        return
    width, height = params["width"], params["height"]
    fitted = []
    for i, image in enumerate(media.reference_images):
        placed = fit_reference(image, width, height)
        if placed is not image:
            same_aspect = image.width * height == image.height * width
            prepared.adjustments.append(
                Adjustment(
                    field=f"reference_images[{i}].size",
                    requested=f"{image.width}x{image.height}",
                    used=f"{width}x{height}",
                    reason="scaled to the job's size"
                    if same_aspect
                    else "scaled to fit the job's size keeping its aspect, centred on white (as WanVACEPipeline "
                    "places a reference image)",
                )
            )
        fitted.append(placed)
    media.reference_images = fitted


def check_vace(pipe, task: str) -> None:
    """Refuse a checkpoint whose denoiser is not a VACE transformer before it runs: ``WanVACEPipeline`` reads
    ``transformer.config.vace_layers`` and feeds ``control_hidden_states``, which a plain Wan transformer (a
    text-to-video directory loaded for a VACE task) does not have, and would fail inside the call."""
    denoisers = [m for m in (getattr(pipe, "transformer", None), getattr(pipe, "transformer_2", None)) if m]
    wrong = [type(m).__name__ for m in denoisers if type(m).__name__ != VACE_TRANSFORMER]
    if wrong or not denoisers:
        found = ", ".join(wrong) or "no transformer"
        raise UnsupportedTaskError(
            f"{task} needs a Wan VACE checkpoint (a {VACE_TRANSFORMER} with vace_layers); this model's denoiser "
            f"is {found}. Use {SPEC.default_model_ids[task]} or Wan-AI/Wan2.1-VACE-14B-diffusers",
            field="model",
            family=SPEC.id,
            task=task,
        )


__all__ = ["VACE_TASKS", "VACE_TRANSFORMER", "check_vace", "fit_reference", "fit_references"]
