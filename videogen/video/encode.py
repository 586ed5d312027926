"""MP4 writing (H.264, yuv420p) through the ffmpeg that imageio-ffmpeg ships."""

from __future__ import annotations

from pathlib import Path

import numpy as np


def write_mp4(frames: np.ndarray, path: str | Path, fps: int) -> int:
    """Write uint8 ``[F, H, W, 3]`` frames; returns the file size in bytes."""
    import imageio_ffmpeg

    if frames.dtype != np.uint8 or frames.ndim != 4 or frames.shape[-1] != 3:
        raise ValueError(f"expected uint8 [F, H, W, 3] frames, got {frames.dtype} {frames.shape}")
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    height, width = frames.shape[1:3]
    tmp = path.with_name(path.name + ".partial.mp4")
    writer = imageio_ffmpeg.write_frames(
        str(tmp),
        (width, height),
        fps=fps,
        codec="libx264",
        pix_fmt_out="yuv420p",
        macro_block_size=2,  # sizes are multiples of 8 already; yuv420p needs even sides
        output_params=["-preset", "fast", "-movflags", "+faststart"],
        ffmpeg_log_level="error",
    )
    writer.send(None)
    for frame in frames:
        writer.send(np.ascontiguousarray(frame))
    writer.close()
    tmp.replace(path)  # readers never see a half-written video
    return path.stat().st_size


def read_mp4(path: str | Path) -> tuple[np.ndarray, float]:
    """Decode an MP4 back to uint8 frames and its fps (used by tests and checks)."""
    import imageio_ffmpeg

    reader = imageio_ffmpeg.read_frames(str(path))
    meta = reader.__next__()
    width, height = meta["size"]
    frames = [np.frombuffer(buf, dtype=np.uint8).reshape(height, width, 3) for buf in reader]
    return np.stack(frames) if frames else np.zeros((0, height, width, 3), np.uint8), float(meta["fps"])


def mp4_info(path: str | Path) -> dict:
    """What ffmpeg reports for a video: codec, pix_fmt, fps, size, duration."""
    import imageio_ffmpeg

    reader = imageio_ffmpeg.read_frames(str(path))
    try:
        return reader.__next__()
    finally:
        reader.close()
