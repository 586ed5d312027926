"""The MP4 writer a worker job uses in the GPU check.

VideoGen writes H.264 through the ffmpeg that imageio-ffmpeg ships (``videogen.video.encode.write_mp4``). The GPU
machine has no imageio-ffmpeg (its wheel is 68 MB; 64 MiB travel per call in all), so there the check falls back:

- ``h264``: VideoGen's own writer, when ``imageio_ffmpeg`` imports (any CPU box with VideoGen installed);
- ``opencv``: OpenCV's MPEG-4 Part 2 writer (``mp4v``), which opencv-python-headless carries (the GPU machine has
  it): a real file of the same frames, so the job still pays an encode, though not H.264's;
- ``skip``: no video file (the pictures beside it are still written with Pillow).

The fallback replaces ``videogen.video.encode.write_mp4`` for the run (the worker imports it at each job); the
report names the writer, and its ``mp4_s`` figures are that writer's, not H.264's.
"""

from __future__ import annotations

import contextlib
import importlib.util
from collections.abc import Iterator
from pathlib import Path

import numpy as np

WRITERS = ("auto", "h264", "opencv", "skip")


def choose(requested: str) -> str:
    if requested != "auto":
        return requested
    if importlib.util.find_spec("imageio_ffmpeg") is not None:
        return "h264"
    return "opencv" if importlib.util.find_spec("cv2") is not None else "skip"


def _opencv_mp4(frames: np.ndarray, path: str | Path, fps: int, audio=None) -> int:
    """The frames only: OpenCV writes no audio (a soundtrack, LTX-2's, is dropped on this fallback)."""
    import cv2

    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    height, width = frames.shape[1:3]
    tmp = path.with_name(path.name + ".partial.mp4")
    writer = cv2.VideoWriter(str(tmp), cv2.VideoWriter_fourcc(*"mp4v"), float(fps), (width, height))
    if not writer.isOpened():
        raise RuntimeError("OpenCV could not open an mp4v writer")
    try:
        for frame in frames:
            writer.write(np.ascontiguousarray(frame[:, :, ::-1]))  # OpenCV takes BGR
    finally:
        writer.release()
    tmp.replace(path)
    return path.stat().st_size


def _skip(frames: np.ndarray, path: str | Path, fps: int, audio=None) -> int:
    return 0


@contextlib.contextmanager
def mp4_writer(name: str) -> Iterator[str]:
    """VideoGen's writer as it is (``h264``) or replaced by a fallback for the ``with`` block."""
    from videogen.video import encode

    if name == "h264":
        yield name
        return
    saved = encode.write_mp4
    encode.write_mp4 = _opencv_mp4 if name == "opencv" else _skip
    try:
        yield name
    finally:
        encode.write_mp4 = saved
