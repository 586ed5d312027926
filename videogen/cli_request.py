"""The request flags ``videogen generate`` and ``videogen estimate`` share, and the request they make.

Kept apart from ``videogen.cli`` so the command modules (``cli_estimate``) import it without
importing the CLI that dispatches to them.
"""

from __future__ import annotations

import argparse

from videogen.errors import VideoGenError
from videogen.video.registry import FAMILY_IDS
from videogen.video.spec import TASK_INPUTS, TASKS

EXIT_BAD_INPUT = 2


def add_request_flags(parser: argparse.ArgumentParser, prompt_required: bool = True) -> None:
    parser.add_argument("--family", required=True, choices=FAMILY_IDS)
    parser.add_argument("--task", default="text-to-video", choices=TASKS)
    parser.add_argument("--prompt", required=prompt_required, default="a video")
    parser.add_argument("--negative-prompt")
    parser.add_argument("--image", help="first frame for image-to-video / first-last-frame (PNG/JPEG/WebP path)")
    parser.add_argument("--last-image", help="last frame for first-last-frame (PNG/JPEG/WebP path)")
    parser.add_argument("--video", help="input video for video-to-video (MP4/MOV/WebM path)")
    parser.add_argument("--strength", type=float, help="video-to-video: how far the input video is changed, 0..1")
    parser.add_argument("--model", help="tiny | arch:PRESET | DIR | HF_ID (default: the family's real default model)")
    parser.add_argument("--frames", type=int, dest="num_frames")
    parser.add_argument("--height", type=int)
    parser.add_argument("--width", type=int)
    parser.add_argument("--steps", type=int, dest="num_inference_steps")
    parser.add_argument("--guidance", type=float, dest="guidance_scale")
    parser.add_argument("--seed", type=int)
    parser.add_argument("--fps", type=int)


def request_from_args(args, image_required: bool = True):
    from videogen.video.request import VideoRequest, encode_file

    media = {}
    for name in ("image", "last_image", "video"):
        path = getattr(args, name, None)
        flag = "--" + name.replace("_", "-")
        if path:
            try:
                media[name] = encode_file(path)
            except OSError as exc:
                raise VideoGenError(f"{flag}: cannot read {path}: {exc.strerror}") from None
        elif not image_required and name in ("image", "last_image") and name in TASK_INPUTS[args.task]:
            from videogen.video.request import grey_png_b64

            media[name] = grey_png_b64()  # the estimate does not depend on the image's content
        elif not image_required and name == "video" and name in TASK_INPUTS[args.task]:
            from videogen.video.families import get_spec
            from videogen.video.video_to_video import grey_clip_b64

            # Nor on the clip's content: a grey clip of the job's length stands in (its frames set the job's).
            defaults = get_spec(args.family).defaults
            fps = args.fps or defaults.fps
            media[name] = grey_clip_b64(min(args.num_frames or defaults.num_frames, 1024), fps)
    fields = {
        k: getattr(args, k, None)
        for k in ("num_frames", "height", "width", "num_inference_steps", "guidance_scale", "seed", "fps", "strength")
    }
    return VideoRequest(
        family=args.family,
        task=args.task,
        prompt=args.prompt,
        negative_prompt=args.negative_prompt,
        **media,
        **{k: v for k, v in fields.items() if v is not None},
    )
