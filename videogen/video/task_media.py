"""The media a request carries, settled for one job per task, before any pipeline exists.

A task takes the inputs ``spec.TASK_INPUTS`` names and may take those ``spec.TASK_OPTIONAL_INPUTS`` names (or, where a
family's pipeline takes fewer, those its ``VideoModelSpec.task_optional_inputs`` names); any other task-specific
field that is set is refused (``refuse_unused``), never silently ignored. Each medium is decoded once (images with
Pillow through ``request.decode_image``, clips with ffmpeg through ``video_input``, masks, a clip, an image or an
image sequence, through ``mask_input``) and conformed to the job: frames, fps and size, every change an
``Adjustment`` naming the field (``video.frames``, ``conditions[1].video.size``, ...). The family adapter then turns
``SettledMedia`` into its pipeline's arguments (``VideoPipelineAdapter.media_kwargs``). The shapes the cost model
prices (how many reference images, each keyframe's start and length) join the job's params (``record_conditioning``).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal

from videogen.errors import InvalidRequestError
from videogen.video.mask_input import decode_mask
from videogen.video.request import INLINE_FIELDS, Adjustment, VideoRequest, decode_image, grey_png_b64
from videogen.video.spec import TASK_INPUTS, TASK_OPTIONAL_INPUTS, TASKS, VIDEO_TO_VIDEO, FrameRule, VideoModelSpec
from videogen.video.video_to_video import DEFAULT_STRENGTH, clip_frames, decode_clip, grey_clip_b64, settle_clip

if TYPE_CHECKING:
    from PIL import Image

    from videogen.video.video_input import DecodedVideo

# The request fields only some tasks take (media and their knobs).
TASK_FIELDS = (*INLINE_FIELDS, "strength", "conditioning_scale")
DEFAULT_CONDITIONING_SCALE = 1.0  # WanVACEPipeline's default: the control as strong as trained


@dataclass
class SettledCondition:
    """One keyframe condition: its frames at the job's size (one for an image), where it starts, how strict."""

    kind: Literal["image", "video"]
    frames: list[Image.Image]
    frame_index: int
    strength: float


@dataclass
class SettledMedia:
    """Every medium a job runs with, decoded and conformed once; ``params`` holds the knobs they settled."""

    image: Any = None  # image-to-video, first-last-frame: the first frame (PIL)
    last_image: Any = None  # first-last-frame: the last frame (PIL)
    video: list[Image.Image] | None = None  # video-to-video, video-inpaint, control-to-video
    mask: list[Image.Image] | None = None  # video-inpaint: white = regenerate, one frame per video frame
    reference_images: list[Image.Image] | None = None
    conditions: list[SettledCondition] | None = None
    params: dict[str, Any] = field(default_factory=dict)
    adjustments: list[Adjustment] = field(default_factory=list)


def takes(task: str, name: str, spec: VideoModelSpec | None = None) -> bool:
    """Whether ``task`` takes the request field ``name`` (on ``spec``'s family, which may take fewer optional inputs
    than the task does elsewhere; None: on any family)."""
    optional = spec.optional_inputs_for(task) if spec is not None else TASK_OPTIONAL_INPUTS.get(task, ())
    return name in TASK_INPUTS[task] or name in optional


def refuse_unused(request: VideoRequest, task: str, spec: VideoModelSpec | None = None) -> None:
    """Refuse a task-specific field that ``task`` (on ``spec``'s family) does not take, naming the tasks that do."""
    for name in TASK_FIELDS:
        value = getattr(request, name)
        if value is None or value == [] or takes(task, name, spec):
            continue
        if spec is not None and takes(task, name):  # the task takes it elsewhere, not on this family's pipeline
            raise InvalidRequestError(
                name, f"is not used by {task} on {spec.id}: {spec.pipeline_classes[task]} has no such input"
            )
        takers = [t for t in TASKS if takes(t, name)]
        raise InvalidRequestError(name, f"is not used by {task}; tasks that take it: {', '.join(takers)}")
    for name in TASK_INPUTS[task]:
        if name != "prompt" and not getattr(request, name):
            raise InvalidRequestError(name, f"is required for {task}", allowed=_ALLOWED[name])


_ALLOWED = {
    "image": "base64 or a data: URL of a PNG/JPEG/WebP",
    "last_image": "base64 or a data: URL of a PNG/JPEG/WebP",
    "video": "base64 or a data: URL of an MP4, MOV or WebM",
    "mask": "an MP4/MOV/WebM clip, one PNG/JPEG/WebP image, or a list of them (one per frame), base64 or data: URLs",
    "reference_images": "a list of 1..4 PNG/JPEG/WebP images",
    "conditions": "a list of {image or video, frame_index, strength}",
}


def decode_request_clip(request: VideoRequest, task: str) -> DecodedVideo | None:
    """The request's input clip, decoded once (after the cheap checks), for the tasks that take one."""
    return decode_clip(request.video, task) if "video" in TASK_INPUTS[task] else None


def settle_media(
    request: VideoRequest,
    clip: DecodedVideo | None,
    params: dict[str, Any],
    *,
    family: str,
    frame_rule: FrameRule,
    default_strength: float = DEFAULT_STRENGTH,
    spec: VideoModelSpec | None = None,
) -> SettledMedia:
    """Decode and conform every medium ``request.task`` takes (on ``spec``'s family) to the job ``params`` describe."""
    task = request.task
    media = SettledMedia()
    frames, fps = params["num_frames"], params["fps"]
    size = {"width": params["width"], "height": params["height"]}
    if takes(task, "image"):
        media.image = decode_image(request.image)
    if takes(task, "last_image"):
        media.last_image = decode_image(request.last_image, field="last_image")
    if clip is not None and task == VIDEO_TO_VIDEO and takes(task, "strength", spec):  # noised to the strength's step
        strength = default_strength if request.strength is None else request.strength
        settled = settle_clip(
            clip,
            num_frames=frames,
            fps=fps,
            strength=strength,
            num_inference_steps=params["num_inference_steps"],
            family=family,
            **size,
        )
        media.video = settled.frames
        media.params.update(strength=settled.strength, denoising_steps=settled.denoising_steps)
        media.adjustments.extend(settled.adjustments)
    elif clip is not None:  # inpaint, control, an edit (no strength): the clip is kept or followed, frame for frame
        from videogen.video.video_input import conform_video

        keep = "end" if spec is not None and spec.continues_clip else "start"
        media.video, moved = conform_video(clip, num_frames=frames, fps=fps, field="video", keep=keep, **size)
        media.adjustments.extend(moved)
    if takes(task, "mask") and request.mask:
        media.mask, moved = decode_mask(request.mask, num_frames=frames, fps=fps, **size)
        media.adjustments.extend(moved)
    if takes(task, "reference_images", spec) and request.reference_images:
        media.reference_images = [
            decode_image(value, field=f"reference_images[{i}]") for i, value in enumerate(request.reference_images)
        ]
    if takes(task, "conditioning_scale", spec):
        scale = request.conditioning_scale
        media.params["conditioning_scale"] = DEFAULT_CONDITIONING_SCALE if scale is None else float(scale)
    if takes(task, "conditions"):
        media.conditions = settle_conditions(request, params, frame_rule, media.adjustments)
    record_conditioning(media, media.params)
    return media


def record_conditioning(media: SettledMedia, params: dict[str, Any]) -> None:
    """The reference images and keyframe conditions ``media`` holds, as the cost model prices them
    (``cost.conditioning``), in ``params``; a family that moves a condition afterwards records it again."""
    from videogen.video.cost.conditioning import PARAMS_KEY, Conditioning

    recorded = Conditioning(
        reference_images=len(media.reference_images or ()),
        keyframes=tuple((c.frame_index, len(c.frames)) for c in media.conditions or ()),
    ).to_params()
    if recorded:
        params[PARAMS_KEY] = recorded
    else:
        params.pop(PARAMS_KEY, None)


def settle_conditions(
    request: VideoRequest, params: dict[str, Any], rule: FrameRule, adjustments: list[Adjustment]
) -> list[SettledCondition]:
    """Each keyframe condition decoded and placed: an image at its frame, a clip from its frame on, cut to what
    fits before the job's end and to the family's frame rule (a clip of ``multiple * k + remainder`` frames)."""
    from videogen.video.video_input import conform_video, decode_video

    frames, fps = params["num_frames"], params["fps"]
    size = (params["width"], params["height"])
    settled = []
    for i, condition in enumerate(request.conditions or ()):
        where = f"conditions[{i}]"
        if condition.frame_index >= frames:
            raise InvalidRequestError(
                f"{where}.frame_index",
                f"{condition.frame_index} is past the job's last frame ({frames} frames: 0..{frames - 1})",
                allowed={"min": 0, "max": frames - 1},
            )
        if condition.image:
            image = decode_image(condition.image, field=f"{where}.image").resize(size)
            settled.append(SettledCondition("image", [image], condition.frame_index, condition.strength))
            continue
        clip = decode_video(condition.video, field=f"{where}.video")
        # the clip's own length at the job's fps, down to the frame rule, within the room before the job's end
        room = rule.model_copy(update={"min_frames": 1, "max_frames": frames - condition.frame_index})
        count = clip_frames(clip, fps, room)
        conformed, moved = conform_video(
            clip, num_frames=count, fps=fps, width=size[0], height=size[1], field=f"{where}.video"
        )
        adjustments.extend(moved)
        settled.append(SettledCondition("video", conformed, condition.frame_index, condition.strength))
    return settled


def warm_up_media(task: str, num_frames: int, fps: int) -> dict[str, Any]:
    """Plain stand-ins for every input ``task`` needs (a warm-up job; an estimate that has no files): grey images
    and clips of the job's length; a mask that regenerates everything; one keyframe at the start."""
    media: dict[str, Any] = {}
    for name in TASK_INPUTS[task]:
        if name in ("image", "last_image"):
            media[name] = grey_png_b64()
        elif name in ("video", "mask"):
            media[name] = grey_clip_b64(num_frames, fps)  # grey 128 is white once the mask is binarised
        elif name == "reference_images":
            media[name] = [grey_png_b64()]
        elif name == "conditions":
            media[name] = [{"image": grey_png_b64(), "frame_index": 0}]
    return media


__all__ = [
    "DEFAULT_CONDITIONING_SCALE",
    "TASK_FIELDS",
    "SettledCondition",
    "SettledMedia",
    "decode_request_clip",
    "record_conditioning",
    "refuse_unused",
    "settle_conditions",
    "settle_media",
    "takes",
    "warm_up_media",
]
