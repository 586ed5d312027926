"""MP4 writing (H.264, yuv420p; a soundtrack as AAC) through the ffmpeg that imageio-ffmpeg ships.

ffmpeg runs as our own child process (``imageio_ffmpeg.write_frames`` hides its
exit status and lets its stderr go to ours): frames go in through its stdin (a
soundtrack as a 16-bit WAV beside the target, removed after), its stderr is kept,
and the video is written under ``<name>.partial`` and renamed
into place only when ffmpeg exited 0 and the file is a whole MP4 (its top-level
boxes ``ftyp`` ... ``moov`` ... ``mdat`` cover the file exactly). On any failure
the temporary file is removed and a typed error is raised:

- ``StorageFullError`` (``storage_full``) when the target's storage refused the
  bytes. Decided from what ffmpeg reports, not from free space: ffmpeg prints the
  errno its write got (run with ``LC_ALL=C``, so the text is strerror's English:
  "No space left on device", "Disk quota exceeded", "File too large"), or it was
  killed by ``SIGXFSZ`` (a file-size limit). Free space measured after the
  failure is a guess: other writers move it, the temporary file still counts,
  quotas and reserved blocks do not show in it, and a failure with another cause
  on a nearly full disk would be misreported. It is reported as ``free_bytes``.
- ``EncodeFailedError`` (``generation_failed``) otherwise, with ffmpeg's exit
  status and the end of its stderr.
"""

from __future__ import annotations

import errno
import logging
import os
import shutil
import signal
import subprocess
import threading
from pathlib import Path

import numpy as np

from videogen.errors import ErrorCode, StorageFullError, VideoGenError
from videogen.video.soundtrack import Soundtrack, aac_arguments, write_wav

# The errnos that mean "the storage refused these bytes"; a write failing with one is a full disk, not a bug.
STORAGE_ERRNOS = frozenset({errno.ENOSPC, errno.EDQUOT, errno.EFBIG})
_STORAGE_TEXTS = ("No space left on device", "Disk quota exceeded", "File too large")
_CRF = 25  # what imageio-ffmpeg's default quality (5) gave: the same videos as before
_STDERR_KEPT = 4000

logger = logging.getLogger(__name__)


class EncodeFailedError(VideoGenError):
    """ffmpeg failed for a reason other than full storage; ``details`` hold its exit status and stderr."""

    code = ErrorCode.GENERATION_FAILED


def storage_full_error(path: Path, reason: str, **details) -> StorageFullError:
    """The one ``StorageFullError`` for a file that could not be written at ``path``."""
    try:
        details["free_bytes"] = shutil.disk_usage(path.parent).free
    except OSError:
        pass
    return StorageFullError(
        f"no room to write {path.name} in {path.parent} ({reason}); free space on that disk and run the job again",
        path=str(path),
        file=path.name,
        reason=reason,
        **details,
    )


def is_storage_error(exc: BaseException) -> bool:
    return isinstance(exc, OSError) and exc.errno in STORAGE_ERRNOS


def discard(path: Path) -> None:
    """Remove a file of a failed write; a failure to remove it is logged, never raised over the write's error."""
    try:
        path.unlink(missing_ok=True)
    except OSError as exc:
        logger.warning("could not remove %s after a failed write: %s", path, exc)


def write_mp4(frames: np.ndarray, path: str | Path, fps: int, audio: Soundtrack | None = None) -> int:
    """Write uint8 ``[F, H, W, 3]`` frames (and ``audio`` as an AAC track); returns the file size in bytes."""
    if frames.dtype != np.uint8 or frames.ndim != 4 or frames.shape[-1] != 3:
        raise ValueError(f"expected uint8 [F, H, W, 3] frames, got {frames.dtype} {frames.shape}")
    path = Path(path)
    tmp = path.with_name(path.name + ".partial")
    wav = path.with_name(path.name + ".wav.partial") if audio is not None else None
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        if audio is not None:
            write_wav(audio, wav)
        _run_ffmpeg(frames, tmp, path, fps, audio, wav)
        _check_mp4(tmp)
        tmp.replace(path)  # readers never see a half-written video
        return path.stat().st_size
    except BaseException as exc:
        discard(tmp)
        if is_storage_error(exc):  # our own mkdir / WAV / rename / stat on a full disk
            raise storage_full_error(path, exc.strerror or str(exc)) from exc
        raise
    finally:
        if wav is not None:
            discard(wav)


def _ffmpeg_command(
    tmp: Path, width: int, height: int, fps: int, audio: Soundtrack | None = None, wav: Path | None = None
) -> list[str]:
    import imageio_ffmpeg

    cmd = [
        imageio_ffmpeg.get_ffmpeg_exe(),
        "-y",
        "-nostats",
        "-f",
        "rawvideo",
        "-vcodec",
        "rawvideo",
        "-s",
        f"{width}x{height}",
        "-pix_fmt",
        "rgb24",
        "-r",
        str(fps),
        "-i",
        "-",
        *(["-i", str(wav), *aac_arguments(audio)] if audio is not None else ["-an"]),
        "-vcodec",
        "libx264",
        "-pix_fmt",
        "yuv420p",
        "-crf",
        str(_CRF),
    ]
    if width % 2 or height % 2:  # yuv420p needs even sides (the family sizes are multiples of 8 already)
        cmd += ["-vf", f"scale={width + width % 2}:{height + height % 2}"]
    return cmd + ["-v", "error", "-preset", "fast", "-movflags", "+faststart", "-f", "mp4", str(tmp)]


def _run_ffmpeg(
    frames: np.ndarray, tmp: Path, path: Path, fps: int, audio: Soundtrack | None = None, wav: Path | None = None
) -> None:
    height, width = frames.shape[1:3]
    proc = subprocess.Popen(
        _ffmpeg_command(tmp, width, height, fps, audio, wav),
        stdin=subprocess.PIPE,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        env={**os.environ, "LC_ALL": "C"},
    )
    stderr: list[bytes] = []
    drain = threading.Thread(target=lambda: stderr.append(proc.stderr.read()), daemon=True)
    drain.start()
    piped = 0
    try:
        try:
            for frame in frames:
                proc.stdin.write(memoryview(np.ascontiguousarray(frame)).cast("B"))
                piped += 1
        except BrokenPipeError:
            pass  # ffmpeg stopped reading: it has failed, and its exit status and stderr say why
        try:
            proc.stdin.close()
        except BrokenPipeError:
            pass
        returncode = proc.wait()
    except BaseException:
        proc.kill()  # interrupted: no ffmpeg is left writing after us
        proc.wait()
        raise
    finally:
        drain.join(10)
    if returncode == 0 and piped == len(frames):
        return
    text = b"".join(stderr).decode("utf-8", "replace").strip()[-_STDERR_KEPT:]
    details = {"ffmpeg_exit": returncode, "ffmpeg_stderr": text, "frames_piped": piped, "frames": len(frames)}
    if returncode == -signal.SIGXFSZ:
        raise storage_full_error(path, "ffmpeg was killed by SIGXFSZ: the file size limit", **details)
    storage = next((t for t in _STORAGE_TEXTS if t in text), None)
    if storage:
        raise storage_full_error(path, f"ffmpeg: {storage}", **details)
    last = text.splitlines()[-1] if text else "no message"
    raise EncodeFailedError(f"ffmpeg could not write {path.name} (exit status {returncode}): {last}", **details)


def _check_mp4(path: Path) -> None:
    """A whole MP4: top-level boxes that cover the file exactly, ``ftyp`` first, ``moov`` and ``mdat`` present."""
    size = path.stat().st_size
    seen, offset = [], 0
    with path.open("rb") as f:
        while offset < size:
            f.seek(offset)
            header = f.read(16)
            if len(header) < 8:
                break
            length, kind = int.from_bytes(header[:4], "big"), header[4:8]
            if length == 1 and len(header) == 16:
                length = int.from_bytes(header[8:16], "big")
            elif length == 0:
                length = size - offset
            if length < 8:
                break
            seen.append(kind)
            offset += length
    if size == 0 or offset != size or seen[:1] != [b"ftyp"] or not {b"moov", b"mdat"} <= set(seen):
        shown = [k.decode("latin-1") for k in seen]
        raise EncodeFailedError(
            f"ffmpeg exited 0 but {path.name} is not a whole MP4 ({size} bytes, boxes {shown})", bytes=size, boxes=shown
        )


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
