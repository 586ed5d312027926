"""Video-to-video: the input clip and ``strength`` settled for one job, before any pipeline exists.

Every family's video-to-video pipeline (``VideoToVideoSDPipeline``, ``WanVideoToVideoPipeline``,
``CogVideoXVideoToVideoPipeline``, ``AnimateDiffVideoToVideoPipeline``) takes the clip as a list of PIL
frames, encodes it with its VAE, noises it to the timestep ``strength`` picks and denoises from there:
``int(num_inference_steps * strength)`` steps run, and the video it returns has the input's frame count
(for the 3D VAEs, when that count follows the family's frame rule) at the input's size.

So the clip is decoded once (``video_input.decode_video``), conformed once to the job's frame count, fps
and size (``video_input.conform_video``, every change an ``Adjustment``), and carried to the pipeline in
``PreparedInputs.video``; without ``num_frames`` in the request the job follows the clip's own length
(at the job's fps, down to the frame rule).
"""

from __future__ import annotations

import base64
import math
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from videogen.errors import InvalidRequestError
from videogen.video.request import Adjustment
from videogen.video.spec import FrameRule

if TYPE_CHECKING:
    import numpy as np
    from PIL import Image

    from videogen.video.video_input import DecodedVideo

VIDEO_FIELD = "video"
DEFAULT_STRENGTH = 0.8  # diffusers' default in the Wan, CogVideoX and AnimateDiff video-to-video pipelines


@dataclass
class SettledClip:
    """The input clip as the pipeline gets it, and the strength it runs at."""

    frames: list[Image.Image]
    strength: float
    denoising_steps: int  # the steps that really run: int(num_inference_steps * strength)
    adjustments: list[Adjustment] = field(default_factory=list)


def decode_clip(value: str | None, task: str) -> DecodedVideo:
    """The request's ``video``, decoded (once), or an InvalidRequestError naming ``video``."""
    from videogen.video.video_input import decode_video

    if not value:
        raise InvalidRequestError(
            VIDEO_FIELD, f"is required for {task}", allowed="base64 or a data: URL of an MP4, MOV or WebM"
        )
    return decode_video(value, field=VIDEO_FIELD)


def clip_frames(decoded: DecodedVideo, fps: int, rule: FrameRule) -> int:
    """The frame count a job follows when the request names none: the clip's length at the job's ``fps``,
    down to the nearest count the family's frame rule allows (up to its minimum for a very short clip)."""
    if len(decoded.frames) == 0 or decoded.fps <= 0:
        return rule.min_frames
    ratio = float(decoded.fps) / fps
    at_job_rate = math.floor((len(decoded.frames) - 1) / ratio + 1e-6) + 1
    value = min(at_job_rate, rule.max_frames)
    value = rule.multiple * ((value - rule.remainder) // rule.multiple) + rule.remainder
    return max(rule.nearest(rule.min_frames), value)


def settle_clip(
    decoded: DecodedVideo,
    *,
    num_frames: int,
    fps: int,
    width: int,
    height: int,
    strength: float,
    num_inference_steps: int,
    family: str,
) -> SettledClip:
    """Conform the clip to the job and settle ``strength`` so that at least one denoising step runs."""
    from videogen.video.video_input import conform_video

    frames, adjustments = conform_video(
        decoded, num_frames=num_frames, fps=fps, width=width, height=height, field=VIDEO_FIELD
    )
    used = float(strength)
    if not 0.0 <= used <= 1.0:
        raise InvalidRequestError("strength", f"{strength} is outside 0..1", allowed={"min": 0.0, "max": 1.0})
    # The pipelines run int(steps * strength) steps (the same expression); none would leave them nothing to
    # start from, so the smallest strength that runs one step is used instead.
    if steps_at_strength(num_inference_steps, used) < 1:
        used = 1.0 / num_inference_steps
        while steps_at_strength(num_inference_steps, used) < 1:
            used = math.nextafter(used, 2.0)
        adjustments.append(
            Adjustment(
                field="strength",
                requested=strength,
                used=used,
                reason=f"{family} runs int(num_inference_steps x strength) denoising steps; "
                f"{strength} of {num_inference_steps} steps runs none, so one step runs",
            )
        )
    return SettledClip(
        frames=frames,
        strength=used,
        denoising_steps=steps_at_strength(num_inference_steps, used),
        adjustments=adjustments,
    )


def steps_at_strength(num_inference_steps: int, strength: float) -> int:
    """The steps a pipeline that starts its schedule part-way runs (diffusers' ``get_timesteps``)."""
    return min(int(num_inference_steps * strength), num_inference_steps)


def clip_b64(frames: np.ndarray, fps: int) -> str:
    """uint8 ``[F, H, W, 3]`` frames as the base64 MP4 a request carries (warm-up jobs, tests)."""
    from videogen.video.encode import write_mp4

    with tempfile.TemporaryDirectory(prefix="videogen-clip-") as tmp:
        path = Path(tmp) / "clip.mp4"
        write_mp4(frames, path, fps)
        return base64.b64encode(path.read_bytes()).decode("ascii")


def grey_clip_b64(num_frames: int, fps: int, size: int = 64) -> str:
    """A plain grey clip of ``num_frames`` frames (the video of a warm-up call)."""
    import numpy as np

    return clip_b64(np.full((num_frames, size, size, 3), 128, np.uint8), fps)


__all__ = [
    "DEFAULT_STRENGTH",
    "VIDEO_FIELD",
    "SettledClip",
    "clip_b64",
    "clip_frames",
    "decode_clip",
    "grey_clip_b64",
    "settle_clip",
    "steps_at_strength",
]
