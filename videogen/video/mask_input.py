"""A video-inpaint mask, decoded and conformed to the job: white = regenerate, black = keep.

``mask`` arrives in one of three forms (``VideoRequest.mask``; ``MaskInput`` bounds counts and sizes first):

- a clip (MP4/MOV/WebM): decoded by ``video_input`` and conformed like the input video (fps, frames, size);
- one PNG/JPEG/WebP image: every frame's mask (resized to the job's size);
- an image sequence (a list of images): one image per output frame at the job's fps, so it follows the job the
  way a clip does: a shorter sequence has its last image repeated, a longer one is cut, and a size other than the
  job's is scaled and centre-cropped like the video's frames (``video_input.cover_crop``), each change an
  ``Adjustment`` (``mask.frames``, ``mask.size``). Every image is a video frame: within ``VideoLimits``'s pixels
  per frame (checked on its header, before its pixels are decoded), all of one size; a refusal names ``mask[i]``.

Whatever the form, the frames are binarised: a compressed clip's (or a resized image's) grey fringes would
half-regenerate the border.
"""

from __future__ import annotations

import base64
import binascii
from typing import TYPE_CHECKING

from videogen.errors import InvalidRequestError
from videogen.video.request import IMAGE_FORMATS_TEXT, Adjustment, decode_image

if TYPE_CHECKING:
    from PIL import Image

_IMAGE_MAGIC = (b"\x89PNG", b"\xff\xd8\xff", b"RIFF")  # PNG, JPEG, WebP (RIFF....WEBP)


def decode_mask(
    value: str | list[str], *, num_frames: int, fps: int, width: int, height: int
) -> tuple[list[Image.Image], list[Adjustment]]:
    """The mask as ``num_frames`` black-and-white RGB frames of the job's size, and what was changed."""
    from PIL import Image

    from videogen.video.video_input import conform_video, decode_video

    adjustments: list[Adjustment] = []
    if isinstance(value, list):
        frames, adjustments = _sequence(value, num_frames=num_frames, width=width, height=height)
    elif _is_image(value):
        image = decode_image(value, field="mask")
        if image.size != (width, height):
            adjustments.append(
                Adjustment(
                    field="mask.size",
                    requested=f"{image.width}x{image.height}",
                    used=f"{width}x{height}",
                    reason="resized to the job's size",
                )
            )
            image = image.resize((width, height), Image.Resampling.NEAREST)
        frames = [image] * num_frames
    else:
        frames, adjustments = conform_video(
            decode_video(value, field="mask"), num_frames=num_frames, fps=fps, width=width, height=height, field="mask"
        )
    binary: dict[int, Image.Image] = {}
    out = []
    for frame in frames:
        if id(frame) not in binary:  # repeated frames (one image, a clip's held last frame) are binarised once
            binary = {id(frame): frame.convert("L").point(lambda v: 255 if v >= 128 else 0).convert("RGB")}
        out.append(binary[id(frame)])
    return out, adjustments


def _sequence(
    values: list[str], *, num_frames: int, width: int, height: int
) -> tuple[list[Image.Image], list[Adjustment]]:
    """An image sequence as the job's frames (not yet binarised): every image decoded and checked (a bad one past
    the job's end is refused too), the first ``num_frames`` kept at the job's size (one grey frame each)."""
    from videogen.video.video_input import DEFAULT_VIDEO_LIMITS, cover_crop

    max_pixels = DEFAULT_VIDEO_LIMITS.max_pixels_per_frame
    kept: list[Image.Image] = []
    first: tuple[int, int] | None = None
    for i, value in enumerate(values):
        field = f"mask[{i}]"
        image = decode_image(value, field=field, max_pixels=max_pixels)  # a clip in the list: not an image, refused
        if first is None:
            first = image.size
        elif image.size != first:
            raise InvalidRequestError(
                field,
                f"is {image.width}x{image.height} but mask[0] is {first[0]}x{first[1]}: the images of a mask "
                "sequence are frames of one video, all of one size",
                allowed=f"{first[0]}x{first[1]}",
            )
        if i < num_frames:
            grey = image.convert("L")  # a third of the memory until it is binarised
            kept.append(grey if grey.size == (width, height) else cover_crop(grey, width, height))
    if first is None:  # MaskInput refuses an empty list before it gets here
        raise InvalidRequestError(
            "mask", "is an empty image sequence", allowed=f"1 or more {IMAGE_FORMATS_TEXT} images"
        )
    adjustments: list[Adjustment] = []
    count = len(values)
    if count != num_frames:
        held = f"its last image is repeated {num_frames - count} times to fill {num_frames}"
        cut = f"only its first {num_frames} are used"
        adjustments.append(
            Adjustment(
                field="mask.frames",
                requested=count,
                used=num_frames,
                reason=f"the mask sequence has {count} images, one per output frame; "
                + (held if count < num_frames else cut),
            )
        )
    if first != (width, height):
        adjustments.append(
            Adjustment(
                field="mask.size",
                requested=f"{first[0]}x{first[1]}",
                used=f"{width}x{height}",
                reason="scaled with its aspect ratio kept, then centre-cropped (as a clip's frames are)",
            )
        )
    kept += [kept[-1]] * (num_frames - len(kept))  # the held last image: one image, binarised once
    return kept, adjustments


def _is_image(value: str) -> bool:
    """The value's bytes start as a PNG, JPEG or WebP (told from its first bytes, not from a name or a type)."""
    payload = value.strip()
    if payload.startswith("data:"):
        payload = payload.partition(",")[2]
    try:
        head = base64.b64decode(payload[:24], validate=True)
    except (binascii.Error, ValueError):
        return False  # the decoder that runs next names the field and why
    return head.startswith(_IMAGE_MAGIC) and (not head.startswith(b"RIFF") or head[8:12] == b"WEBP")


__all__ = ["decode_mask"]
