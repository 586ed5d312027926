"""LTX-2's image-to-video conditioning image, compressed as the model was trained on it.

``LTX2ImageToVideoPipeline`` re-encodes the first frame as one H.264 frame at the text encoder's generation's CRF
(33 for the Gemma-3 models, 18 for LTX-2.5's Gemma-4: ``resolve_default_image_crf``) before it VAE-encodes it
(``apply_image_conditioning_crf``, a port of ltx-pipelines' ``media_io.preprocess``). It does so with PyAV, which
VideoGen does not install; the same round trip runs here through the ffmpeg VideoGen already has (imageio-ffmpeg's:
libx264, preset veryfast, yuv420p, even sides), and the pipeline gets the result with ``image_crf=0`` (no second pass).
"""

from __future__ import annotations

import os
import subprocess

import numpy as np

_ENV = {**os.environ, "LC_ALL": "C"}


def _ffmpeg(args: list[str], data: bytes) -> bytes:
    import imageio_ffmpeg

    done = subprocess.run(
        [imageio_ffmpeg.get_ffmpeg_exe(), "-v", "error", "-nostats", *args],
        input=data,
        capture_output=True,
        env=_ENV,
        check=False,
    )
    if done.returncode != 0:
        raise RuntimeError(f"ffmpeg could not compress the conditioning image: {done.stderr.decode()[-300:]}")
    return done.stdout


def compress(image, crf: int):
    """``image`` (PIL, RGB) through one H.264 frame at ``crf`` and back; unchanged at ``crf`` 0."""
    from PIL import Image

    if crf == 0:
        return image
    rgb = np.asarray(image.convert("RGB"))
    height, width = rgb.shape[0] // 2 * 2, rgb.shape[1] // 2 * 2  # yuv420p needs even sides, as the port crops
    raw = np.ascontiguousarray(rgb[:height, :width]).tobytes()
    size = ["-s", f"{width}x{height}", "-pix_fmt", "rgb24"]
    stream = _ffmpeg(
        ["-f", "rawvideo", *size, "-r", "1", "-i", "-", "-c:v", "libx264", "-preset", "veryfast", "-crf", str(crf)]
        + ["-pix_fmt", "yuv420p", "-f", "h264", "-"],
        raw,
    )
    decoded = _ffmpeg(["-f", "h264", "-i", "-", "-frames:v", "1", "-f", "rawvideo", "-pix_fmt", "rgb24", "-"], stream)
    return Image.fromarray(np.frombuffer(decoded, dtype=np.uint8).reshape(height, width, 3))
