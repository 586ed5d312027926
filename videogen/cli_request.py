"""The request flags ``videogen generate`` and ``videogen estimate`` share, and the request they make.

Kept apart from ``videogen.cli`` so the command modules (``cli_estimate``) import it without
importing the CLI that dispatches to them.
"""

from __future__ import annotations

import argparse

from videogen.cli_loras import loras_from_args
from videogen.errors import VideoGenError
from videogen.video.registry import FAMILY_IDS
from videogen.video.spec import TASK_INPUTS, TASKS

EXIT_BAD_INPUT = 2
# The request's plain values a command line sets (each a flag of ``generate``, ``estimate`` and ``submit``).
REQUEST_VALUES = (
    "num_frames",
    "height",
    "width",
    "num_inference_steps",
    "guidance_scale",
    "guidance_scale_2",
    "seed",
    "fps",
    "strength",
    "conditioning_scale",
    "latent_upscale",
    "with_audio",
    "ar_step",
    "causal_block_size",
    "overlap_history",
    "recipe",
)


def add_request_flags(parser: argparse.ArgumentParser, prompt_required: bool = True) -> None:
    parser.add_argument("--family", required=True, choices=FAMILY_IDS)
    parser.add_argument("--task", default="text-to-video", choices=TASKS)
    parser.add_argument("--prompt", required=prompt_required, default="a video")
    parser.add_argument("--negative-prompt")
    parser.add_argument("--image", help="first frame for image-to-video / first-last-frame (PNG/JPEG/WebP path)")
    parser.add_argument("--last-image", help="last frame for first-last-frame (PNG/JPEG/WebP path)")
    parser.add_argument("--video", help="input video for video-to-video (MP4/MOV/WebM path)")
    parser.add_argument("--strength", type=float, help="video-to-video: how far the input video is changed, 0..1")
    add_media_flags(parser)
    parser.add_argument("--model", help="tiny | arch:PRESET | DIR | HF_ID (default: the family's real default model)")
    parser.add_argument("--frames", type=int, dest="num_frames")
    parser.add_argument("--height", type=int)
    parser.add_argument("--width", type=int)
    parser.add_argument("--steps", type=int, dest="num_inference_steps")
    parser.add_argument("--guidance", type=float, dest="guidance_scale")
    parser.add_argument(
        "--guidance-2", type=float, dest="guidance_scale_2", help="two-expert models: the low-noise expert's guidance"
    )
    parser.add_argument("--seed", type=int)
    parser.add_argument("--fps", type=int)


def add_media_flags(parser: argparse.ArgumentParser) -> None:
    """The media flags beyond --image / --video, shared by ``generate``, ``estimate`` and ``submit``."""
    parser.add_argument(
        "--mask",
        nargs="+",
        metavar="PATH",
        help="video-inpaint: white = regenerate: an MP4/MOV/WebM clip, one PNG/JPEG/WebP for every frame, or an "
        "image sequence (several images, or a directory of them in name order: one per output frame)",
    )
    parser.add_argument(
        "--reference-image",
        dest="reference_images",
        action="append",
        help="reference-to-video (repeatable, up to 4): an image of a subject or style to keep",
    )
    parser.add_argument(
        "--keyframe",
        dest="keyframes",
        action="append",
        metavar="INDEX=PATH[@STRENGTH]",
        help="keyframes (repeatable): an image or clip placed at output frame INDEX",
    )
    parser.add_argument("--conditioning-scale", type=float, help="VACE tasks: how strongly the inputs steer, 0..2")
    parser.add_argument(
        "--latent-upscale",
        action="store_true",
        default=None,  # left out of the request unless given
        help="LTX-Video with a latent upsampler: generate at half the size, upscale 2x in latent space and refine",
    )
    parser.add_argument(
        "--no-audio",
        dest="with_audio",
        action="store_false",
        default=None,  # left out of the request unless given: a family with sound keeps it
        help="a family with sound (LTX-2): leave the audio track out of the MP4",
    )
    # diffusion forcing (SkyReels-V2's DF models): long videos in windows, extended videos
    parser.add_argument("--ar-step", type=int, help="diffusion forcing: steps each causal block lags the one before")
    parser.add_argument("--causal-block-size", type=int, help="diffusion forcing: latent frames per causal block")
    parser.add_argument("--overlap-history", type=int, help="diffusion forcing: frames shared between windows")


def media_from_args(args) -> dict:
    """The media flags' files as the request's inline fields (the server never reads a path)."""
    from videogen.video.request import encode_file

    def read(path: str, flag: str) -> str:
        try:
            return encode_file(path)
        except OSError as exc:
            raise VideoGenError(f"{flag}: cannot read {path}: {exc.strerror}") from None

    media: dict = {}
    for name in ("image", "last_image", "video"):
        if getattr(args, name, None):
            media[name] = read(getattr(args, name), "--" + name.replace("_", "-"))
    if getattr(args, "mask", None):
        media["mask"] = _mask(args.mask, read)
    if getattr(args, "reference_images", None):
        media["reference_images"] = [read(path, "--reference-image") for path in args.reference_images]
    if getattr(args, "keyframes", None):
        media["conditions"] = [_keyframe(value, read) for value in args.keyframes]
    return media


def _mask(paths: list[str], read) -> str | list[str]:
    """One clip or image as itself; several images, or a directory's images in name order, as a sequence."""
    import os

    if len(paths) == 1 and os.path.isdir(paths[0]):
        folder = paths[0]
        names = sorted(n for n in os.listdir(folder) if os.path.isfile(os.path.join(folder, n)))
        paths = [os.path.join(folder, n) for n in names if _is_image_file(os.path.join(folder, n))]
        if not paths:
            raise VideoGenError(f"--mask: {folder} holds no PNG/JPEG/WebP images")
        return [read(path, "--mask") for path in paths]
    if len(paths) == 1:
        return read(paths[0], "--mask")
    return [read(path, "--mask") for path in paths]


def _keyframe(value: str, read) -> dict:
    index, sep, rest = value.partition("=")
    path, _, strength = rest.rpartition("@") if "@" in rest else (rest, "", "")
    if not sep or not index.strip().isdigit() or not path:
        raise VideoGenError(f"--keyframe: {value!r} is not INDEX=PATH[@STRENGTH] (e.g. 0=first.png, 40=clip.mp4@0.8)")
    raw = read(path, "--keyframe")
    kind = "image" if _is_image_file(path) else "video"
    condition: dict = {kind: raw, "frame_index": int(index)}
    if strength:
        try:
            condition["strength"] = float(strength)
        except ValueError:
            raise VideoGenError(f"--keyframe: strength {strength!r} is not a number in 0..1") from None
    return condition


def _is_image_file(path: str) -> bool:
    with open(path, "rb") as fh:
        head = fh.read(12)
    return head.startswith((b"\x89PNG", b"\xff\xd8\xff")) or (head[:4] == b"RIFF" and head[8:12] == b"WEBP")


def request_from_args(args, image_required: bool = True):
    from videogen.video.request import VideoRequest

    media = media_from_args(args)
    if not image_required:  # the estimate depends on the inputs' shapes, never their content: stand-ins
        from videogen.video.families import get_spec
        from videogen.video.task_media import warm_up_media

        defaults = get_spec(args.family).defaults
        stand_ins = warm_up_media(
            args.task, min(args.num_frames or defaults.num_frames, 1024), args.fps or defaults.fps
        )
        media = {**{k: v for k, v in stand_ins.items() if k in TASK_INPUTS[args.task]}, **media}
    fields = {k: getattr(args, k, None) for k in REQUEST_VALUES}
    return VideoRequest(
        family=args.family,
        task=args.task,
        prompt=args.prompt,
        negative_prompt=args.negative_prompt,
        **media,
        **{k: v for k, v in fields.items() if v is not None},
        loras=loras_from_args(args),  # --lora NAME[=SCALE] (videogen.cli_loras)
    )
