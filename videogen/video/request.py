"""The one request shape every entry point speaks, and what came of it."""

from __future__ import annotations

import base64
import binascii
import io
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, PlainValidator, WithJsonSchema, model_validator
from pydantic_core import PydanticCustomError

from videogen.errors import InvalidRequestError
from videogen.video.spec import TEXT_TO_VIDEO, Task
from videogen.video.speed import StepCacheSetting

# An image is sent inline; this bounds the decoded bytes and the pixel count.
MAX_IMAGE_BYTES = 12 * 1024 * 1024
MAX_IMAGE_PIXELS = 4096 * 4096
# The only formats an input image is decoded as (Pillow's names), decided from its bytes: no other decoder
# ever sees a client's bytes (EPS/PS would reach Ghostscript where it is installed).
IMAGE_FORMATS = ("PNG", "JPEG", "WEBP")
IMAGE_FORMATS_TEXT = "PNG, JPEG or WebP"
# An input video (video-to-video, inpainting, control) is sent inline too; ``video_input`` decodes it.
MAX_VIDEO_BYTES = 16 * 1024 * 1024
# Lists of inline media: each item is bounded like its single kind; the body limit bounds them together.
MAX_REFERENCE_IMAGES = 4
MAX_CONDITIONS = 8
# LoRA adapters one request may name (each one the operator declared; ``videogen.video.lora_config``).
MAX_REQUEST_LORAS = 4
# A mask sent as an image sequence: one image per output frame, as many as a job may have (``num_frames`` <= 1024);
# together they are bounded like a mask clip (``MAX_VIDEO_BYTES``).
MAX_MASK_FRAMES = 1024
_IMAGE_CHARS = MAX_IMAGE_BYTES * 4 // 3 + 1024
_VIDEO_CHARS = MAX_VIDEO_BYTES * 4 // 3 + 1024


def _mask_value(value: Any) -> Any:
    """``mask``: a clip or one image (a string), or an image sequence (a list of strings); an uploaded file (bytes
    from a multipart part) is taken as its base64. Only sizes are checked here; ``mask_input`` decodes them."""

    def base64_of(item: Any, who: str, max_bytes: int) -> str:  # who: "" (the mask) or "mask[i] " (an item)
        if isinstance(item, (bytes, bytearray)):
            if len(item) > max_bytes:
                raise PydanticCustomError("mask_too_long", f"{who}is {len(item)} bytes; at most {max_bytes} allowed")
            return base64.b64encode(item).decode("ascii")
        if not isinstance(item, str):
            raise PydanticCustomError("mask_type", f"{who}must be a base64 string or a data: URL")
        if len(item) > max_bytes * 4 // 3 + 1024:
            raise PydanticCustomError(
                "mask_too_long", f"{who}is {len(item)} characters; at most {max_bytes} bytes allowed"
            )
        return item

    if value is None:
        return None
    if not isinstance(value, list):
        return base64_of(value, "", MAX_VIDEO_BYTES)
    if not 1 <= len(value) <= MAX_MASK_FRAMES:
        raise PydanticCustomError(
            "mask_frames", f"an image sequence has 1..{MAX_MASK_FRAMES} images; this one has {len(value)}"
        )
    items = [base64_of(item, f"mask[{i}] ", MAX_IMAGE_BYTES) for i, item in enumerate(value)]
    total = sum(len(item) for item in items)
    if total > _VIDEO_CHARS:
        raise PydanticCustomError(
            "mask_too_long",
            f"an image sequence of {len(items)} images is {total} characters; at most {MAX_VIDEO_BYTES} bytes "
            "together (as for a mask clip)",
        )
    return items


MaskInput = Annotated[
    Any,
    PlainValidator(_mask_value),
    WithJsonSchema(
        {
            "anyOf": [
                {"type": "string", "maxLength": _VIDEO_CHARS, "description": "a clip or one image"},
                {
                    "type": "array",
                    "items": {"type": "string", "maxLength": _IMAGE_CHARS},
                    "minItems": 1,
                    "maxItems": MAX_MASK_FRAMES,
                    "description": "an image sequence, one image per output frame",
                },
                {"type": "null"},
            ],
        }
    ),
]


class ConditionInput(BaseModel):
    """keyframes: one image or clip placed at a frame of the generated video (a clip at 0 extends it forwards,
    one ending at the last frame extends it backwards)."""

    model_config = ConfigDict(extra="forbid")

    image: str | None = Field(default=None, max_length=_IMAGE_CHARS, description="base64 / data URL of an image")
    video: str | None = Field(default=None, max_length=_VIDEO_CHARS, description="base64 / data URL of a clip")
    frame_index: int = Field(default=0, ge=0, le=1023, description="the output frame the condition starts at")
    strength: float = Field(default=1.0, ge=0.0, le=1.0, description="how strictly it holds (1: exactly)")

    @model_validator(mode="after")
    def _one_medium(self) -> ConditionInput:
        if bool(self.image) == bool(self.video):
            raise ValueError("a condition carries exactly one of image or video")
        return self


class LoraChoice(BaseModel):
    """One LoRA adapter a request runs with: a name the server declares (it lists them), never a path."""

    model_config = ConfigDict(extra="forbid")

    name: str = Field(min_length=1, max_length=64, description="an adapter the served model declares")
    scale: float = Field(default=1.0, ge=-10.0, le=10.0, description="its strength, within its declared scale_range")


class VideoRequest(BaseModel):
    """One generation request. ``None`` means "the family's default"."""

    model_config = ConfigDict(extra="forbid")

    family: str = Field(description="a served family id, e.g. 'wan'")
    model: str | None = Field(
        default=None,
        max_length=64,
        description="a served model of the family by its configured name (the server lists them); "
        "default: the family's default model",
    )
    task: Task = TEXT_TO_VIDEO
    prompt: str = Field(min_length=1, max_length=4000)
    negative_prompt: str | None = Field(default=None, max_length=4000)
    image: str | None = Field(
        default=None,
        max_length=_IMAGE_CHARS,
        description="the first frame for image-to-video (and first-last-frame): base64 or a data: URL",
    )
    last_image: str | None = Field(
        default=None,
        max_length=_IMAGE_CHARS,
        description="the last frame for first-last-frame: base64 or a data: URL of a PNG/JPEG/WebP",
    )
    video: str | None = Field(
        default=None,
        max_length=_VIDEO_CHARS,
        description="the input video for video-to-video, video-inpaint and control-to-video: base64 or a data: URL "
        "of an MP4, MOV or WebM",
    )
    mask: MaskInput = Field(
        default=None,
        description="video-inpaint: white where the video is regenerated, black where it is kept; a clip like "
        "`video` (MP4, MOV or WebM), one PNG/JPEG/WebP image for every frame, or a list of such images, one per "
        f"output frame (at most {MAX_MASK_FRAMES}, {MAX_VIDEO_BYTES} bytes together; a shorter list has its last "
        "image repeated, a longer one is cut: both said as adjustments), each base64 or a data: URL",
    )
    reference_images: list[str] | None = Field(
        default=None,
        min_length=1,
        max_length=MAX_REFERENCE_IMAGES,
        description="reference-to-video (and optionally video-inpaint, control-to-video): images of the subjects "
        "or style to keep, base64 or data: URLs of PNG/JPEG/WebP",
    )
    conditions: list[ConditionInput] | None = Field(
        default=None,
        min_length=1,
        max_length=MAX_CONDITIONS,
        description="keyframes: images or clips placed at frame indices of the output",
    )
    conditioning_scale: float | None = Field(
        default=None,
        ge=0.0,
        le=2.0,
        description="reference-to-video, video-inpaint, control-to-video: how strongly the inputs steer the "
        "video (1: as trained); default: the family's",
    )
    strength: float | None = Field(
        default=None,
        ge=0.0,
        le=1.0,
        description="video-to-video: how far the input video is changed (0 keeps it, 1 ignores it); "
        "default: the family's",
    )
    latent_upscale: bool = Field(
        default=False,
        description="LTX-Video with a latent upsampler: generate at half the size, upscale the latents 2x and refine "
        "them in a few steps at the full size (height and width then multiples of 64)",
    )
    with_audio: bool | None = Field(
        default=None,
        description="a family that generates sound (LTX-2): whether the MP4 carries it as an audio track (AAC); "
        "default: it does. A family without sound refuses true",
    )
    # Diffusion forcing (SkyReels-V2's DF models): a family whose spec lists them in ``request_fields`` takes them.
    ar_step: int | None = Field(
        default=None,
        ge=0,
        le=50,
        description="diffusion forcing: steps each causal block of frames lags the one before (0: all together; the "
        "model card's asynchronous mode is 5, with causal_block_size 5: more transformer calls, slower); default 0",
    )
    causal_block_size: int | None = Field(
        default=None,
        ge=1,
        le=32,
        description="diffusion forcing: latent frames per causal block; it must divide every window's latent frames "
        "(a refusal lists the values that do); default: the model's own (1)",
    )
    overlap_history: int | None = Field(
        default=None,
        ge=1,
        le=1021,
        description="diffusion forcing: frames each window of a long video shares with the one before, and that "
        "video-to-video continues the clip from (17 or 37 recommended); default 17, within the model's window",
    )
    num_frames: int | None = Field(default=None, ge=1, le=1024)
    height: int | None = Field(default=None, ge=16, le=4096)
    width: int | None = Field(default=None, ge=16, le=4096)
    num_inference_steps: int | None = Field(default=None, ge=1, le=200)
    guidance_scale: float | None = Field(default=None, ge=0.0, le=50.0)
    guidance_scale_2: float | None = Field(
        default=None,
        ge=0.0,
        le=50.0,
        description="the low-noise expert's guidance (a two-expert model, e.g. Wan 2.2 A14B); default: guidance_scale",
    )
    seed: int | None = Field(default=None, ge=0, le=2**32 - 1)
    fps: int | None = Field(default=None, ge=1, le=120)
    recipe: str | None = Field(
        default=None,
        max_length=32,
        description="a sampling recipe of the model by name (e.g. a few-step distilled setting; the server lists "
        "them): its steps, guidance and scheduler replace the defaults, values set in the request still win",
    )
    loras: list[LoraChoice] | None = Field(
        default=None,
        max_length=MAX_REQUEST_LORAS,
        description="LoRA adapters to run with, by the names the served model declares (the server lists them with "
        "their scale ranges), each with its scale; combined with a recipe's own adapters",
    )
    step_cache: StepCacheSetting | None = Field(
        default=None,
        description="a step cache for this job (trades quality for time), within what the operator allows; "
        "default: the operator's policy (off unless configured)",
    )

    def summary(self) -> dict[str, Any]:
        """The request without the (large) inline media, for job records and logs."""
        data = self.model_dump()
        for name in INLINE_FIELDS:
            if data.get(name):
                data[name] = _summarised(data[name])
        return data

    def inline_inputs(self) -> dict[str, Any]:
        """The inline media the request carries, JSON-ready (``summary``'s complement: stored with the job)."""
        data = self.model_dump(include=set(INLINE_FIELDS), exclude_none=True)
        return {k: v for k, v in data.items() if v}


def _summarised(value: Any) -> Any:
    if isinstance(value, str):
        return f"<{len(value)} base64 chars>"
    if isinstance(value, list):
        return [_summarised(item) for item in value]
    if isinstance(value, dict):  # a condition: its medium summarised, its frame index and strength kept
        return {k: _summarised(v) if k in ("image", "video") and v else v for k, v in value.items()}
    return value


# The request fields only some families take (a family lists those it does in its spec's ``request_fields``).
FAMILY_FIELDS = ("ar_step", "causal_block_size", "overlap_history")
# The request fields that carry inline media (summarised, never logged whole).
INLINE_FIELDS = ("image", "last_image", "video", "mask", "reference_images", "conditions")


# Why a value was moved when the request itself was fine (absent: the request asked for a value not accepted).
AdjustmentCause = Literal["out_of_memory"]


class Adjustment(BaseModel):
    """A value moved to the nearest one the family accepts (or, with ``cause``, forced on the job by the device)."""

    field: str
    requested: Any
    used: Any
    reason: str
    cause: AdjustmentCause | None = Field(default=None, exclude_if=lambda cause: cause is None)


def encode_file(path: str) -> str:
    """Read an image or video file into the request's base64 form (CLI side: the operator's path)."""
    with open(path, "rb") as fh:
        return base64.b64encode(fh.read()).decode("ascii")


encode_image_file = encode_file


def grey_png_b64(size: int = 64) -> str:
    """A plain grey PNG in the request's base64 form (the image of a warm-up call)."""
    from PIL import Image

    buffer = io.BytesIO()
    Image.new("RGB", (size, size), (128, 128, 128)).save(buffer, format="PNG")
    return base64.b64encode(buffer.getvalue()).decode("ascii")


def decode_image(value: str, field: str = "image", max_pixels: int = MAX_IMAGE_PIXELS):
    """base64 / data URL -> RGB PIL image, or InvalidRequestError naming ``field`` (``image``, ``last_image``);
    ``max_pixels`` is checked on the header, before the pixels are decoded (a mask frame's is a video frame's)."""
    from PIL import Image, UnidentifiedImageError

    payload = value.strip()
    if payload.startswith("data:"):
        header, _, payload = payload.partition(",")
        if ";base64" not in header:
            raise InvalidRequestError(field, "data URL must be base64-encoded", allowed="data:image/...;base64,...")
    try:
        raw = base64.b64decode(payload, validate=True)
    except (binascii.Error, ValueError):
        raise InvalidRequestError(
            field, "is not valid base64", allowed="base64 or a data: URL of a PNG/JPEG/WebP"
        ) from None
    if len(raw) > MAX_IMAGE_BYTES:
        raise InvalidRequestError(
            field, f"is {len(raw)} bytes; at most {MAX_IMAGE_BYTES} allowed", allowed=f"<= {MAX_IMAGE_BYTES} bytes"
        )
    try:
        opened = Image.open(io.BytesIO(raw), formats=list(IMAGE_FORMATS))
    except UnidentifiedImageError:
        raise InvalidRequestError(
            field,
            f"is not a {IMAGE_FORMATS_TEXT} image (told from its bytes; no other format is decoded)",
            allowed=IMAGE_FORMATS_TEXT,
        ) from None
    except (OSError, Image.DecompressionBombError):
        raise InvalidRequestError(field, "could not be decoded as an image", allowed=IMAGE_FORMATS_TEXT) from None
    try:
        with opened as img:
            if img.width * img.height > max_pixels:
                raise InvalidRequestError(
                    field,
                    f"is {img.width}x{img.height}; at most {max_pixels} pixels allowed",
                    allowed=f"<= {max_pixels} pixels",
                )
            return img.convert("RGB")
    except (OSError, Image.DecompressionBombError):
        raise InvalidRequestError(field, "could not be decoded as an image", allowed=IMAGE_FORMATS_TEXT) from None
