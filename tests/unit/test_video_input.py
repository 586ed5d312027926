"""Input videos: real MP4/MOV/WebM files decoded back, conformed to a job, and hostile files refused.

Every file here is made in the test by the ffmpeg imageio-ffmpeg ships (the one ``decode_video`` runs);
the hostile ones are real files with their header fields edited, cut short, or not videos at all.
"""

from __future__ import annotations

import argparse
import base64
import random
import struct
import subprocess
import time
from pathlib import Path

import imageio_ffmpeg
import numpy as np
import pytest

from videogen.cli_request import add_request_flags, request_from_args
from videogen.errors import InvalidRequestError, VideoGenError
from videogen.video.encode import write_mp4
from videogen.video.request import MAX_VIDEO_BYTES, VideoRequest
from videogen.video.video_input import DEFAULT_VIDEO_LIMITS, DecodedVideo, VideoLimits, conform_video, decode_video

COLOURS = [(255, 0, 0), (0, 255, 0), (0, 0, 255), (255, 255, 0), (0, 255, 255), (255, 0, 255), (255, 255, 255)]
HOSTILE_SECONDS = 5.0


def colour_frames(count: int, width: int = 64, height: int = 48) -> np.ndarray:
    """``count`` solid frames cycling through COLOURS (each still recognisable after lossy coding)."""
    return np.stack([np.full((height, width, 3), COLOURS[i % len(COLOURS)], np.uint8) for i in range(count)])


def write_with(path: Path, frames: np.ndarray, fps: int, codec: str) -> bytes:
    height, width = frames.shape[1:3]
    writer = imageio_ffmpeg.write_frames(
        str(path), (width, height), fps=fps, codec=codec, macro_block_size=1, ffmpeg_log_level="error"
    )
    writer.send(None)
    for frame in frames:
        writer.send(np.ascontiguousarray(frame))
    writer.close()
    return path.read_bytes()


def ffmpeg(*args: str) -> None:
    subprocess.run([imageio_ffmpeg.get_ffmpeg_exe(), "-v", "error", "-y", *args], check=True, timeout=60)


def b64(raw: bytes) -> str:
    return base64.b64encode(raw).decode("ascii")


@pytest.fixture(scope="module")
def mp4(tmp_path_factory) -> bytes:
    path = tmp_path_factory.mktemp("v") / "clip.mp4"
    write_mp4(colour_frames(14), path, fps=8)
    return path.read_bytes()


@pytest.fixture(scope="module")
def webm(tmp_path_factory) -> bytes:
    return write_with(tmp_path_factory.mktemp("v") / "clip.webm", colour_frames(10), 10, "libvpx")


def refused(value: str, field: str = "video", limits: VideoLimits = DEFAULT_VIDEO_LIMITS) -> InvalidRequestError:
    start = time.monotonic()
    with pytest.raises(InvalidRequestError) as info:
        decode_video(value, field=field, limits=limits)
    assert time.monotonic() - start < HOSTILE_SECONDS
    assert info.value.field == field and info.value.message.startswith(f"{field}: ")
    assert "MP4, MOV or WebM" in info.value.allowed
    return info.value


def assert_colours(frames: np.ndarray, first: int = 0) -> None:
    for i, frame in enumerate(frames):
        expected = np.array(COLOURS[(first + i) % len(COLOURS)], float)
        assert np.abs(frame.reshape(-1, 3).mean(0) - expected).max() < 20, (i, frame.reshape(-1, 3).mean(0))


# -- real files decoded back ----------------------------------------------------------------------------------


def test_an_mp4_decodes_to_its_frames_and_rate(mp4):
    video = decode_video(b64(mp4))
    assert video.frames.shape == (14, 48, 64, 3) and video.frames.dtype == np.uint8
    assert video.fps == 8.0 and video.duration_s == pytest.approx(14 / 8)
    assert_colours(video.frames)


def test_a_data_url_webm_decodes(webm):
    video = decode_video("data:video/webm;base64," + b64(webm), field="control_video")
    assert video.frames.shape == (10, 48, 64, 3) and video.fps == 10.0
    assert_colours(video.frames)


@pytest.mark.parametrize(("name", "codec"), [("clip.webm", "libvpx-vp9"), ("clip.mov", "libx264")])
def test_vp9_webm_and_mov_decode(tmp_path, name, codec):
    raw = write_with(tmp_path / name, colour_frames(6, 32, 32), 12, codec)
    video = decode_video(b64(raw))
    assert video.frames.shape == (6, 32, 32, 3) and video.fps == 12.0
    assert_colours(video.frames)


def test_an_audio_track_is_ignored(tmp_path, mp4):
    src = tmp_path / "in.mp4"
    src.write_bytes(mp4)
    out = tmp_path / "with_audio.mp4"
    ffmpeg("-i", str(src), "-f", "lavfi", "-i", "sine=duration=2", "-c:v", "copy", "-c:a", "aac", "-shortest", str(out))
    video = decode_video(b64(out.read_bytes()))
    assert video.frames.shape[1:] == (48, 64, 3) and 1 <= len(video.frames) <= 14
    assert_colours(video.frames)


def test_a_rotated_phone_clip_comes_out_upright(tmp_path, mp4):
    src, out = tmp_path / "in.mp4", tmp_path / "rotated.mp4"
    src.write_bytes(mp4)
    ffmpeg("-display_rotation", "90", "-i", str(src), "-c", "copy", str(out))
    video = decode_video(b64(out.read_bytes()))
    assert video.frames.shape == (14, 64, 48, 3)  # turned by ffmpeg, and not squashed back to 64x48
    assert_colours(video.frames)


# -- hostile or wrong inputs: always InvalidRequestError naming the field, quickly ------------------------------


def _png() -> bytes:
    import io

    from PIL import Image

    buffer = io.BytesIO()
    Image.new("RGB", (8, 8)).save(buffer, format="PNG")
    return buffer.getvalue()


def _gif() -> bytes:
    import io

    from PIL import Image

    buffer = io.BytesIO()
    Image.new("RGB", (8, 8)).save(buffer, format="GIF")
    return buffer.getvalue()


@pytest.mark.parametrize(
    "raw",
    [_png(), _gif(), random.Random(1).randbytes(4096), b"just some text, not a video\n" * 20, b"\x00" * 64],
    ids=["png", "gif", "random", "text", "zeros"],
)
def test_not_a_video_container_is_refused(raw):
    err = refused(b64(raw), field="video")
    assert "is not an MP4, MOV or WebM video" in err.message


@pytest.mark.parametrize("fraction", [0.2, 0.5, 0.9, 0.99])
def test_a_truncated_mp4_or_webm_is_refused(mp4, webm, fraction):
    for raw in (mp4, webm):
        err = refused(b64(raw[: int(len(raw) * fraction)]))
        assert "truncated" in err.message


def test_an_mp4_with_no_frames_is_refused(tmp_path):
    for name in ("empty.mp4", "empty.webm"):
        out = tmp_path / name
        ffmpeg("-f", "lavfi", "-i", "testsrc=size=64x48:rate=8", "-frames:v", "0", str(out))
        err = refused(b64(out.read_bytes()))
        assert "no readable video stream" in err.message or "no frames" in err.message


def test_an_mp4_whose_frame_data_is_garbage_is_refused(mp4):
    raw = bytearray(mp4)
    start = raw.index(b"mdat") + 4
    length = struct.unpack(">I", raw[start - 8 : start - 4])[0]
    raw[start : start + length - 8] = random.Random(2).randbytes(length - 8)
    err = refused(b64(bytes(raw)))
    assert "could not be decoded" in err.message or "no frames" in err.message


def _box(raw: bytearray, kind: bytes, after: int = 0) -> int:
    """The offset of the payload of the first ``kind`` box (by its type bytes) after ``after``."""
    return raw.index(kind, after) + 4


def test_an_mp4_declaring_a_ten_hour_duration_is_refused(mp4):
    raw = bytearray(mp4)
    mvhd = _box(raw, b"mvhd")
    assert raw[mvhd] == 0  # version 0: timescale and duration are 32-bit at +12 and +16
    timescale = struct.unpack(">I", raw[mvhd + 12 : mvhd + 16])[0]
    raw[mvhd + 16 : mvhd + 20] = struct.pack(">I", timescale * 36000)
    err = refused(b64(bytes(raw)))
    assert "declares a duration of 36000.0 s" in err.message and "at most 60 s" in err.message


def test_an_mp4_declaring_huge_frames_is_refused(mp4):
    tkhd = bytearray(mp4)
    start = _box(tkhd, b"tkhd") - 8
    end = start + struct.unpack(">I", tkhd[start : start + 4])[0]  # width, height: the box's last 8 bytes
    tkhd[end - 8 : end] = struct.pack(">II", 65535 << 16, 65535 << 16)
    assert "declares 65535x65535 frames" in refused(b64(bytes(tkhd))).message
    avc1 = bytearray(mp4)
    entry = _box(avc1, b"avc1", after=avc1.index(b"stsd"))  # the sample entry, not the ftyp brand
    avc1[entry + 24 : entry + 28] = struct.pack(">HH", 60000, 50000)
    assert "declares 60000x50000 frames" in refused(b64(bytes(avc1))).message


def test_a_webm_declaring_a_ten_hour_duration_is_refused(webm):
    raw = bytearray(webm)
    at = raw.index(b"\x44\x89")  # the Info Duration element: id, a one-byte size, then a float
    size = raw[at + 2] & 0x7F
    raw[at + 3 : at + 3 + size] = struct.pack(">d" if size == 8 else ">f", 36_000_000.0)  # ms at the default scale
    assert "declares a duration of 36000.0 s" in refused(b64(bytes(raw))).message


def test_limits_hold_on_what_ffmpeg_probes_and_decodes(mp4, webm):
    # Declared sizes and durations agree with the limits here; what ffmpeg reports, and what it decodes, is checked.
    small = VideoLimits(max_pixels_per_frame=1000)
    assert "declares 64x48 frames" in refused(b64(mp4), limits=small).message
    assert "declares 64x48 frames" in refused(b64(webm), limits=small).message
    stripped = bytearray(mp4)  # no size in tkhd or avc1: only ffmpeg's probe (the H.264 SPS) tells it
    start = stripped.index(b"tkhd") - 4
    end = start + struct.unpack(">I", stripped[start : start + 4])[0]
    stripped[end - 8 : end] = bytes(8)
    entry = _box(stripped, b"avc1", after=stripped.index(b"stsd"))
    stripped[entry + 24 : entry + 28] = bytes(4)
    assert decode_video(b64(bytes(stripped))).frames.shape == (14, 48, 64, 3)
    assert "has 64x48 frames" in refused(b64(bytes(stripped)), limits=small).message
    assert "declares 14 frames" in refused(b64(mp4), limits=VideoLimits(max_frames=5)).message
    assert "has about 10 frames" in refused(b64(webm), limits=VideoLimits(max_frames=5)).message
    # A WebM whose header says 0.4 s (4 frames) but holds 10: caught while decoding, never more than max_frames+1 read.
    raw = bytearray(webm)
    at = raw.index(b"\x44\x89")
    size = raw[at + 2] & 0x7F
    raw[at + 3 : at + 3 + size] = struct.pack(">d" if size == 8 else ">f", 400.0)
    assert "more than 6 frames" in refused(b64(bytes(raw)), limits=VideoLimits(max_frames=6)).message
    assert decode_video(b64(bytes(raw))).frames.shape[0] == 10  # within the default limits it decodes whole
    err = refused(b64(mp4), limits=VideoLimits(max_decoded_bytes=64 * 48 * 3 * 4))
    assert "shorter or smaller clip" in err.message


def test_the_decoder_itself_caps_the_frame_size(mp4, tmp_path):
    # Were the probe fooled into a small size, ffmpeg's own -max_pixels still refuses to decode a bigger frame.
    from videogen.video.video_input import _decode, _Probe

    path = tmp_path / "in.mp4"
    path.write_bytes(mp4)
    probe = _Probe(codec="h264", width=64, height=48, fps=8.0, duration_s=1.75, streams=1)
    refuse = lambda message: InvalidRequestError("video", message)  # noqa: E731
    assert _decode(str(path), "mp4", probe, DEFAULT_VIDEO_LIMITS, refuse).shape == (14, 48, 64, 3)
    with pytest.raises(InvalidRequestError, match="could not be decoded"):
        _decode(str(path), "mp4", probe, VideoLimits(max_pixels_per_frame=1000), refuse)


def test_ffmpeg_runs_under_a_timeout(mp4):
    assert "could not be read within" in refused(b64(mp4), limits=VideoLimits(probe_timeout_s=0.001)).message
    err = refused(b64(mp4), limits=VideoLimits(decode_timeout_s=0.001))
    assert "could not be decoded within 0.001 s" in err.message


def test_a_live_written_webm_without_a_duration_is_bounded_while_decoding(tmp_path):
    # Written to a pipe (as a browser's MediaRecorder does): no Duration, a Segment of unknown size.
    path = tmp_path / "live.webm"
    with path.open("wb") as out:
        subprocess.run(
            [imageio_ffmpeg.get_ffmpeg_exe(), "-v", "error", "-f", "lavfi", "-i", "testsrc=size=64x48:rate=10"]
            + ["-frames:v", "20", "-c:v", "libvpx", "-f", "webm", "pipe:1"],
            stdout=out,
            check=True,
            timeout=60,
        )
    raw = path.read_bytes()
    assert b"\x44\x89" not in raw[:200]  # really no Duration element in the header
    assert decode_video(b64(raw)).frames.shape == (20, 48, 64, 3)
    err = refused(b64(raw), limits=VideoLimits(max_decoded_bytes=64 * 48 * 3 * 12))
    assert "decodes to more than" in err.message
    assert "lasts 2.0 s; at most 1.5 s" in refused(b64(raw), limits=VideoLimits(max_duration_s=1.5)).message


def test_bytes_over_the_limit_and_bad_base64_are_refused(mp4):
    limits = VideoLimits(max_bytes=len(mp4) - 1)
    assert f"at most {len(mp4) - 1} allowed" in refused(b64(mp4), limits=limits).message
    huge = "A" * ((MAX_VIDEO_BYTES // 3) * 4 + 4096)
    assert f"at most {MAX_VIDEO_BYTES} allowed" in refused(huge).message
    assert "not valid base64" in refused("not base64 at all!").message
    assert "base64-encoded" in refused("data:video/mp4,rawbytes").message
    assert "empty" in refused("").message


def test_corrupted_files_never_raise_anything_else(mp4, webm):
    rng = random.Random(3)
    for raw in (mp4, webm):
        for _ in range(15):
            corrupted = bytearray(raw)
            for _ in range(rng.randint(1, 8)):
                corrupted[rng.randrange(len(corrupted))] = rng.randrange(256)
            start = time.monotonic()
            try:
                video = decode_video(b64(bytes(corrupted)))
            except InvalidRequestError as exc:
                assert exc.field == "video"
            else:
                assert video.frames.ndim == 4 and video.frames.shape[-1] == 3 and len(video.frames) >= 1
            assert time.monotonic() - start < HOSTILE_SECONDS


def test_the_request_bounds_the_inline_video():
    ok = VideoRequest(family="wan", task="video-to-video", prompt="x", video="AAAA", strength=0.5, last_image="AAAA")
    assert ok.summary()["video"] == "<4 base64 chars>" and ok.summary()["last_image"] == "<4 base64 chars>"
    for bad in ({"strength": 1.5}, {"strength": -0.1}, {"video": "A" * (MAX_VIDEO_BYTES * 4 // 3 + 2048)}):
        with pytest.raises(ValueError):
            VideoRequest(family="wan", prompt="x", **bad)


# -- conform ----------------------------------------------------------------------------------------------------


def clip(count: int, fps: float, width: int = 16, height: int = 16) -> DecodedVideo:
    return DecodedVideo(frames=colour_frames(count, width, height), fps=fps)


def colour_index(image) -> int:
    return COLOURS.index(tuple(int(c) for c in np.asarray(image)[0, 0]))


def test_conform_unchanged_says_nothing():
    images, adjustments = conform_video(clip(9, 8), num_frames=9, fps=8, width=16, height=16)
    assert adjustments == [] and [colour_index(i) for i in images] == [i % len(COLOURS) for i in range(9)]
    assert all(i.size == (16, 16) and i.mode == "RGB" for i in images)


def test_conform_resamples_in_time_and_says_so():
    images, adjustments = conform_video(clip(7, 8), num_frames=6, fps=16, width=16, height=16)
    assert [colour_index(i) for i in images] == [0, 0, 1, 1, 2, 2]
    by_field = {a.field: a for a in adjustments}
    assert by_field["video.fps"].requested == 8 and by_field["video.fps"].used == 16
    assert by_field["video.frames"].requested == 13 and by_field["video.frames"].used == 6
    images, _ = conform_video(clip(7, 16), num_frames=4, fps=8, width=16, height=16)
    assert [colour_index(i) for i in images] == [0, 2, 4, 6]


def test_a_short_clip_repeats_its_last_frame_and_says_so():
    images, adjustments = conform_video(clip(3, 8), num_frames=5, fps=8, width=16, height=16, field="control_video")
    assert [colour_index(i) for i in images] == [0, 1, 2, 2, 2]
    (adj,) = adjustments
    assert adj.field == "control_video.frames" and (adj.requested, adj.used) == (3, 5) and "repeated 2" in adj.reason


def test_conform_keeps_the_aspect_and_crops_the_centre():
    frames = np.zeros((1, 20, 60, 3), np.uint8)
    frames[:, :, :20] = (255, 0, 0)
    frames[:, :, 20:40] = (0, 255, 0)
    frames[:, :, 40:] = (0, 0, 255)
    images, adjustments = conform_video(DecodedVideo(frames, 8.0), num_frames=1, fps=8, width=10, height=10)
    pixels = np.asarray(images[0]).reshape(-1, 3).astype(int)
    assert images[0].size == (10, 10) and np.abs(pixels - (0, 255, 0)).max() < 40  # the green middle, not squashed
    (adj,) = adjustments
    assert (adj.field, adj.requested, adj.used) == ("video.size", "60x20", "10x10")


# -- the CLI flags --------------------------------------------------------------------------------------------


def test_cli_flags_read_local_files_into_the_request(tmp_path, mp4):
    (tmp_path / "in.mp4").write_bytes(mp4)
    (tmp_path / "last.png").write_bytes(_png())
    parser = argparse.ArgumentParser()
    add_request_flags(parser)
    argv = ["--family", "wan", "--task", "video-to-video", "--prompt", "x", "--strength", "0.6"]
    args = parser.parse_args([*argv, "--video", str(tmp_path / "in.mp4"), "--last-image", str(tmp_path / "last.png")])
    request = request_from_args(args)
    assert request.task == "video-to-video" and request.strength == 0.6
    assert base64.b64decode(request.video) == mp4 and base64.b64decode(request.last_image) == _png()
    with pytest.raises(VideoGenError, match="--video: cannot read"):
        request_from_args(parser.parse_args([*argv, "--video", str(tmp_path / "missing.mp4")]))
