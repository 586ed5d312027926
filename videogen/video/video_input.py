"""An input video (video-to-video, inpainting, control): decoded safely, then conformed to the job.

``decode_video``: base64 / data URL -> bytes (bounded) -> the container told from the bytes (MP4/MOV or
WebM, nothing else) -> the headers read (``video_container``: whole file, declared sizes and duration) ->
probed by ffmpeg (streams, codec, size, fps, duration) -> every limit checked -> decoded by ffmpeg in a
subprocess (the demuxer forced to the sniffed one, a pixel cap on the decoder, a frame cap and a timeout).
Every refusal is an ``InvalidRequestError`` naming the field and what is allowed.

ffmpeg is the one bundled with imageio-ffmpeg (already a dependency; it writes the outputs too), run as a
subprocess: a hostile file that upsets the decoder ends that process, never the worker, and a hang is killed.

``conform_video``: the decoded clip resampled to the job's fps, cut or padded to its frame count and
resized (aspect kept, centre crop) to its size, with an ``Adjustment`` for every change.
"""

from __future__ import annotations

import base64
import binascii
import math
import os
import re
import subprocess
import tempfile
import threading
from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal

import numpy as np

from videogen.errors import InvalidRequestError
from videogen.video.request import MAX_VIDEO_BYTES, Adjustment
from videogen.video.video_container import CONTAINERS_TEXT, MP4, ContainerError, read_facts

if TYPE_CHECKING:
    from PIL import Image

# Video codecs an input may carry (ffmpeg's names); any other stream is refused before it is decoded.
VIDEO_CODECS = ("h264", "hevc", "vp8", "vp9", "av1", "mpeg4", "prores")
_DEMUXERS = {MP4: "mov", "webm": "matroska"}
_STDERR_KEPT = 400


@dataclass(frozen=True)
class VideoLimits:
    """What an input video may be; checked on the declared headers before decoding and again while decoding."""

    max_bytes: int = MAX_VIDEO_BYTES
    max_duration_s: float = 60.0
    max_frames: int = 1024
    max_pixels_per_frame: int = 1920 * 1088
    # The decoded RGB frames together (frames x width x height x 3): a long 1080p clip is refused, not held.
    max_decoded_bytes: int = 2 * 1024**3
    max_streams: int = 8
    probe_timeout_s: float = 15.0
    decode_timeout_s: float = 120.0


DEFAULT_VIDEO_LIMITS = VideoLimits()


@dataclass
class DecodedVideo:
    """uint8 ``[F, H, W, 3]`` RGB frames and the rate they were meant to play at."""

    frames: np.ndarray
    fps: float

    @property
    def duration_s(self) -> float:
        return len(self.frames) / self.fps if self.fps > 0 else 0.0


@dataclass
class _Probe:
    codec: str
    width: int
    height: int
    fps: float
    duration_s: float | None
    streams: int


def _allowed(limits: VideoLimits) -> str:
    return (
        f"an {CONTAINERS_TEXT} video ({', '.join(VIDEO_CODECS)}) as base64 or a data: URL, <= {limits.max_bytes} "
        f"bytes, <= {limits.max_duration_s:g} s, <= {limits.max_frames} frames, "
        f"<= {limits.max_pixels_per_frame} pixels per frame"
    )


def decode_video(value: str, field: str = "video", limits: VideoLimits = DEFAULT_VIDEO_LIMITS) -> DecodedVideo:
    """base64 / data URL of an MP4/MOV/WebM -> its frames, or InvalidRequestError naming ``field``."""
    allowed = _allowed(limits)

    def refuse(message: str) -> InvalidRequestError:
        return InvalidRequestError(field, message, allowed=allowed)

    raw = _payload_bytes(value, limits, refuse)
    try:
        facts = read_facts(raw)
    except ContainerError as exc:
        raise refuse(str(exc)) from None
    for width, height in facts.sizes:
        _check_size(width, height, limits, refuse, "declares")
    if facts.duration_s is not None:
        _check_duration(facts.duration_s, limits, refuse, "declares")
    for count in facts.sample_counts:
        if count > limits.max_frames:
            raise refuse(f"declares {count} frames; at most {limits.max_frames} allowed")
    with tempfile.TemporaryDirectory(prefix="videogen-input-") as tmp:
        path = os.path.join(tmp, f"input.{facts.kind}")
        with open(path, "wb") as fh:
            fh.write(raw)
        del raw
        probe = _probe(path, facts.kind, limits, refuse)
        frames = _decode(path, facts.kind, probe, limits, refuse)
    return DecodedVideo(frames=frames, fps=probe.fps)


def _payload_bytes(value: str, limits: VideoLimits, refuse) -> bytes:
    if not isinstance(value, str):
        raise refuse("must be a base64 string or a data: URL")
    payload = value.strip()
    if payload.startswith("data:"):
        header, _, payload = payload.partition(",")
        if ";base64" not in header:
            raise refuse("data URL must be base64-encoded (data:video/mp4;base64,...)")
    if len(payload) > (limits.max_bytes + 2) // 3 * 4 + 4:  # refused before a byte is decoded
        raise refuse(f"is about {len(payload) * 3 // 4} bytes; at most {limits.max_bytes} allowed")
    try:
        raw = base64.b64decode(payload, validate=True)
    except (binascii.Error, ValueError):
        raise refuse("is not valid base64") from None
    if len(raw) > limits.max_bytes:
        raise refuse(f"is {len(raw)} bytes; at most {limits.max_bytes} allowed")
    if not raw:
        raise refuse("is empty")
    return raw


def _check_size(width: int, height: int, limits: VideoLimits, refuse, verb: str) -> None:
    if width * height > limits.max_pixels_per_frame:
        raise refuse(f"{verb} {width}x{height} frames; at most {limits.max_pixels_per_frame} pixels per frame allowed")


def _check_duration(duration_s: float, limits: VideoLimits, refuse, verb: str) -> None:
    if not math.isfinite(duration_s) or duration_s < 0:
        raise refuse(f"{verb} an invalid duration ({duration_s})")
    if duration_s > limits.max_duration_s:
        raise refuse(f"{verb} a duration of {duration_s:.1f} s; at most {limits.max_duration_s:g} s allowed")


def _ffmpeg_input(path: str, kind: str, limits: VideoLimits) -> list[str]:
    import imageio_ffmpeg

    # The demuxer is forced to the one the bytes were sniffed as; -max_pixels caps every decoded frame
    # whatever the headers said; only local files are opened.
    limits_args = f"-protocol_whitelist file -max_pixels {limits.max_pixels_per_frame} -f {_DEMUXERS[kind]}"
    return [imageio_ffmpeg.get_ffmpeg_exe(), "-hide_banner", "-nostdin", *limits_args.split(), "-i", path]


def _run(cmd: list[str], timeout_s: float, refuse) -> subprocess.CompletedProcess:
    try:
        return subprocess.run(
            cmd, stdin=subprocess.DEVNULL, capture_output=True, timeout=timeout_s, env={**os.environ, "LC_ALL": "C"}
        )
    except subprocess.TimeoutExpired:
        raise refuse(f"could not be read within {timeout_s:g} s") from None


_DURATION = re.compile(r"Duration: (\d+):(\d\d):(\d\d(?:\.\d+)?)")
_STREAM = re.compile(r"^\s*Stream #\d+:\d+\S*: (\w+): (.*)$", re.MULTILINE)
_SIZE = re.compile(r"[ ,](\d+)x(\d+)[ ,\[]")
_RATE = re.compile(r"([\d.]+)(k?) (fps|tbr)\b")
_ROTATION = re.compile(r"rotation of (-?[\d.]+) degrees")


def _probe(path: str, kind: str, limits: VideoLimits, refuse) -> _Probe:
    done = _run(_ffmpeg_input(path, kind, limits), limits.probe_timeout_s, refuse)
    text = done.stderr.decode("utf-8", "replace")
    streams = _STREAM.findall(text)
    video = [desc for kind_, desc in streams if kind_ == "Video" and "(attached pic)" not in desc]
    if not video:
        said = [line for line in text.strip().splitlines() if "output file must be specified" not in line]
        why = f" (ffmpeg: {said[-1].strip()[-_STDERR_KEPT:]})" if said and not streams else ""
        raise refuse(f"has no readable video stream{why}")
    if len(streams) > limits.max_streams:
        raise refuse(f"has {len(streams)} streams; at most {limits.max_streams} allowed")
    desc = video[0]
    codec = desc.split(",", 1)[0].split()[0]
    if codec not in VIDEO_CODECS:
        raise refuse(f"is coded as {codec}; accepted codecs: {', '.join(VIDEO_CODECS)}")
    size = _SIZE.search(desc)
    if size is None:
        raise refuse("has a video stream of unknown size")
    width, height = int(size.group(1)), int(size.group(2))
    if width <= 0 or height <= 0:
        raise refuse(f"has {width}x{height} frames")
    rotation = _ROTATION.search(text)
    if rotation and round(abs(float(rotation.group(1)))) % 180 == 90:
        width, height = height, width  # ffmpeg turns the frames upright
    _check_size(width, height, limits, refuse, "has")
    rates = {unit: float(num) * (1000 if k else 1) for num, k, unit in _RATE.findall(desc)}
    fps = rates.get("fps") or rates.get("tbr") or 0.0
    if not (0 < fps <= 240):
        raise refuse(f"has no usable frame rate ({fps:g} fps); 0 < fps <= 240 accepted")
    match = _DURATION.search(text)
    duration = None
    if match:
        duration = int(match.group(1)) * 3600 + int(match.group(2)) * 60 + float(match.group(3))
        _check_duration(duration, limits, refuse, "has")
        if duration * fps > limits.max_frames + 1:
            raise refuse(
                f"has about {duration * fps:.0f} frames ({duration:.1f} s at {fps:g} fps); "
                f"at most {limits.max_frames} allowed"
            )
    # Known length: a clip too big to hold decoded is refused now; unknown (a live-written WebM): while decoding.
    if duration is not None and width * height * 3 * math.ceil(duration * fps) > limits.max_decoded_bytes:
        raise refuse(
            f"would decode to about {duration * fps:.0f} frames of {width}x{height} (more than "
            f"{limits.max_decoded_bytes} bytes); send a shorter or smaller clip"
        )
    return _Probe(codec=codec, width=width, height=height, fps=fps, duration_s=duration, streams=len(streams))


def _decode(path: str, kind: str, probe: _Probe, limits: VideoLimits, refuse) -> np.ndarray:
    cap = limits.max_frames + 1  # one more than allowed: a file whose headers understated its length is seen
    output = f"-v error -map 0:V:0 -an -sn -dn -frames:v {cap} -fps_mode passthrough"
    cmd = [
        *_ffmpeg_input(path, kind, limits),
        *output.split(),
        "-vf",  # a mid-stream size change never changes the frame layout
        f"scale={probe.width}:{probe.height}",
        *"-pix_fmt rgb24 -f rawvideo pipe:1".split(),
    ]
    frame_bytes = probe.width * probe.height * 3
    max_frames = min(cap, max(1, limits.max_decoded_bytes // frame_bytes))
    proc = subprocess.Popen(
        cmd,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env={**os.environ, "LC_ALL": "C"},
    )
    timed_out = threading.Event()

    def kill() -> None:
        if proc.poll() is None:  # still running at the deadline (not one that just ended)
            timed_out.set()
            proc.kill()

    timer = threading.Timer(limits.decode_timeout_s, kill)
    stderr: list[bytes] = []
    drain = threading.Thread(target=lambda: stderr.append(proc.stderr.read()), daemon=True)
    timer.start()
    drain.start()
    try:
        frames = _read_frames(proc.stdout, probe, max_frames)
        if len(frames) < max_frames:  # its output ended: ffmpeg finishes on its own (the timer bounds the wait)
            proc.wait()
    finally:
        if proc.poll() is None:
            proc.kill()
        proc.wait()
        timer.cancel()
        drain.join(10)
    if timed_out.is_set():
        raise refuse(f"could not be decoded within {limits.decode_timeout_s:g} s")
    text = b"".join(stderr).decode("utf-8", "replace").strip()
    if len(frames) > limits.max_frames:
        raise refuse(f"has more than {limits.max_frames} frames; at most {limits.max_frames} allowed")
    if len(frames) >= max_frames and max_frames < cap:
        raise refuse(f"decodes to more than {limits.max_decoded_bytes} bytes of frames; send a shorter or smaller clip")
    if len(frames) > limits.max_duration_s * probe.fps:
        raise refuse(f"lasts {len(frames) / probe.fps:.1f} s; at most {limits.max_duration_s:g} s allowed")
    if proc.returncode != 0 or not len(frames):
        last = text.splitlines()[-1][-_STDERR_KEPT:] if text else f"exit status {proc.returncode}"
        what = "could not be decoded" if proc.returncode != 0 else "has no frames"
        raise refuse(f"{what} (ffmpeg: {last})")
    return frames


def _read_frames(stream, probe: _Probe, max_frames: int) -> np.ndarray:
    """Up to ``max_frames`` whole frames from ffmpeg's raw output (a partial last frame is dropped)."""
    shape = (probe.height, probe.width, 3)
    frame_bytes = probe.width * probe.height * 3
    capacity = min(max_frames, 16)
    buffer = np.empty((capacity, *shape), np.uint8)
    count = 0
    while count < max_frames:
        if count == capacity:
            capacity = min(max_frames, capacity * 2)
            grown = np.empty((capacity, *shape), np.uint8)
            grown[:count] = buffer[:count]
            buffer = grown
        view = memoryview(buffer[count]).cast("B")
        got = 0
        while got < frame_bytes:
            n = stream.readinto(view[got:])
            if not n:
                return buffer[:count]
            got += n
        count += 1
    return buffer[:count]


def conform_video(
    video: DecodedVideo,
    *,
    num_frames: int,
    fps: int,
    width: int,
    height: int,
    field: str = "video",
    keep: Literal["start", "end"] = "start",
) -> tuple[list[Image.Image], list[Adjustment]]:
    """The clip as the job's ``num_frames`` frames of ``width`` x ``height`` at ``fps``, and what was changed.

    Time: frame ``i`` of the output shows the source at ``i / fps`` s (nearest earlier source frame). A clip longer
    than the job is cut after its first ``num_frames / fps`` s (``keep="end"``: before its last, for a clip the job
    continues); a shorter one has its last frame repeated to fill the job (said in an Adjustment, like every other
    change). Space: scaled to cover the target with the aspect ratio kept, then centre-cropped.
    """
    from PIL import Image

    if num_frames < 1 or fps <= 0 or width < 1 or height < 1:
        raise ValueError(f"conform_video: bad target {num_frames} frames {width}x{height} at {fps} fps")
    source = video.frames
    if len(source) == 0:
        raise InvalidRequestError(field, "has no frames", allowed="a video with at least one frame")
    src_fps = float(video.fps)
    adjustments: list[Adjustment] = []
    if abs(src_fps - fps) > 1e-3:
        adjustments.append(
            Adjustment(
                field=f"{field}.fps",
                requested=round(src_fps, 3),
                used=fps,
                reason=f"resampled from {src_fps:g} to the job's {fps} fps",
            )
        )
    ratio, available = src_fps / fps, len(source)
    at_job_rate = math.floor((available - 1) / ratio + 1e-6) + 1  # output frames the clip itself covers
    skipped = max(0, at_job_rate - num_frames) if keep == "end" else 0  # output frames cut from the front
    wanted = [math.floor((i + skipped) * ratio + 1e-6) for i in range(num_frames)]
    if at_job_rate < num_frames:
        adjustments.append(
            Adjustment(
                field=f"{field}.frames",
                requested=at_job_rate,
                used=num_frames,
                reason=f"the clip gives {at_job_rate} frames at {fps} fps; its last frame is repeated "
                f"{num_frames - at_job_rate} times to fill {num_frames}",
            )
        )
    elif at_job_rate > num_frames:
        adjustments.append(
            Adjustment(
                field=f"{field}.frames",
                requested=at_job_rate,
                used=num_frames,
                reason=f"the clip gives {at_job_rate} frames at {fps} fps; only its {'last' if keep == 'end' else 'first'} "
                f"{num_frames} ({num_frames / fps:.2f} s) are used",
            )
        )
    indices = [min(i, available - 1) for i in wanted]
    src_h, src_w = source.shape[1:3]
    resize = (src_w, src_h) != (width, height)
    if resize:
        adjustments.append(
            Adjustment(
                field=f"{field}.size",
                requested=f"{src_w}x{src_h}",
                used=f"{width}x{height}",
                reason="scaled with its aspect ratio kept, then centre-cropped",
            )
        )
    images: list[Image.Image] = []
    cache: dict[int, Image.Image] = {}
    for index in indices:
        if index not in cache:
            image = Image.fromarray(source[index])
            cache = {index: cover_crop(image, width, height) if resize else image}  # repeats share one image
        images.append(cache[index])
    return images, adjustments


def cover_crop(image: Image.Image, width: int, height: int) -> Image.Image:
    """``image`` scaled to cover ``width`` x ``height`` with its aspect ratio kept, then centre-cropped to it."""
    from PIL import Image

    scale = max(width / image.width, height / image.height)
    scaled = (max(width, round(image.width * scale)), max(height, round(image.height * scale)))
    left, top = (scaled[0] - width) // 2, (scaled[1] - height) // 2
    return image.resize(scaled, Image.Resampling.BICUBIC).crop((left, top, left + width, top + height))


__all__ = ["DEFAULT_VIDEO_LIMITS", "VIDEO_CODECS", "DecodedVideo", "VideoLimits", "conform_video", "decode_video"]
__all__ += ["cover_crop"]  # scaled to cover, centre-cropped: a clip's frames and a mask sequence's images
