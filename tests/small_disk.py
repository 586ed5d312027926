"""A small disk the tests really fill: a tmpfs mount, or a file-size limit where mounting is refused.

``small_disk(path)`` (a context manager) mounts a 1 MiB tmpfs at ``path`` and
unmounts it on the way out, whatever happened. ``fill(leave)`` writes a filler
file until the kernel answers ENOSPC, then gives back ``leave`` bytes (rounded
up to whole 4 KiB pages): the next writes into the disk fail for real, by
ffmpeg's hand or by Pillow's. ``free()`` deletes the filler.

Where ``mount`` is refused (not root, no CAP_SYS_ADMIN in a container), the
same calls work on a plain directory with RLIMIT_FSIZE instead; the mode says
which ran (``tmpfs`` or ``rlimit``), and ``VIDEOGEN_TEST_SMALL_DISK=rlimit``
forces the fallback where mounting works (to test it). ``fill(leave)`` then:

- points ``IMAGEIO_FFMPEG_EXE`` (which ``imageio_ffmpeg.get_ffmpeg_exe`` reads at
  every call) at a wrapper that sets the limit to ``leave`` bytes, restores
  SIGXFSZ's default action and execs the real ffmpeg: the encoder is killed by
  SIGXFSZ at the limit, a real failure of the real encoder;
- with ``this_process=True``, also lowers this process's soft limit (Python
  ignores SIGXFSZ, so Pillow's writes fail with EFBIG) until ``free()``. Keep that
  window short: every file this process writes in it is limited.

The limit is per file, not a total: it is what makes a file not fit, as a full
disk does, but two files of ``leave`` bytes each still fit where tmpfs would
refuse the second.
"""

from __future__ import annotations

import contextlib
import errno
import os
import resource
import shutil
import stat
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path

PAGE = 4096
FILLER = ".filler"


class SmallDisk:
    def __init__(self, path: Path, mode: str, why: str = ""):
        self.path, self.mode, self.why = path, mode, why
        self._env_before: str | None = None
        self._limit_before: tuple[int, int] | None = None
        self._wrapper_dir: str | None = None

    # -- what the tests call ----------------------------------------------------------------
    def fill(self, leave: int = 0, *, this_process: bool = False) -> None:
        self.free()
        if self.mode == "tmpfs":
            self._fill_tmpfs(leave)
        else:
            self._limit_ffmpeg(leave)
            if this_process:
                self._limit_before = resource.getrlimit(resource.RLIMIT_FSIZE)
                resource.setrlimit(resource.RLIMIT_FSIZE, (leave, self._limit_before[1]))

    def free(self) -> None:
        (self.path / FILLER).unlink(missing_ok=True)
        if self._limit_before is not None:
            resource.setrlimit(resource.RLIMIT_FSIZE, self._limit_before)
            self._limit_before = None
        if self._wrapper_dir is not None:
            if self._env_before is None:
                os.environ.pop("IMAGEIO_FFMPEG_EXE", None)
            else:
                os.environ["IMAGEIO_FFMPEG_EXE"] = self._env_before
            shutil.rmtree(self._wrapper_dir, ignore_errors=True)
            self._wrapper_dir = None

    def free_bytes(self) -> int:
        return shutil.disk_usage(self.path).free

    def files(self) -> list[str]:
        """Every file on the disk but the filler."""
        return sorted(p.name for p in self.path.iterdir() if p.name != FILLER)

    # -- how ---------------------------------------------------------------------------------
    def _fill_tmpfs(self, leave: int) -> None:
        filler = self.path / FILLER
        block = b"\0" * PAGE
        with open(filler, "wb", buffering=0) as f:
            while True:
                try:
                    f.write(block)
                except OSError as exc:
                    if exc.errno != errno.ENOSPC:
                        raise
                    break
        pages = -(-leave // PAGE)
        size = filler.stat().st_size
        assert size >= pages * PAGE, f"the disk holds {size} bytes, {leave} asked to be left"
        os.truncate(filler, size - pages * PAGE)
        assert shutil.disk_usage(self.path).free == pages * PAGE, "the tmpfs is not as full as asked"

    def _limit_ffmpeg(self, leave: int) -> None:
        import imageio_ffmpeg

        real = imageio_ffmpeg.get_ffmpeg_exe()
        self._env_before = os.environ.get("IMAGEIO_FFMPEG_EXE")
        self._wrapper_dir = tempfile.mkdtemp(prefix="videogen-ffmpeg-limit-")
        wrapper = Path(self._wrapper_dir) / "ffmpeg"
        wrapper.write_text(
            f"#!{sys.executable}\n"
            "import os, resource, signal, sys\n"
            f"resource.setrlimit(resource.RLIMIT_FSIZE, ({leave}, resource.getrlimit(resource.RLIMIT_FSIZE)[1]))\n"
            "signal.signal(signal.SIGXFSZ, signal.SIG_DFL)\n"
            f"os.execv({real!r}, [{real!r}, *sys.argv[1:]])\n"
        )
        wrapper.chmod(wrapper.stat().st_mode | stat.S_IXUSR)
        os.environ["IMAGEIO_FFMPEG_EXE"] = str(wrapper)


def _mount(path: Path) -> str | None:
    """Mount a 1 MiB tmpfs at ``path``; ``None`` when done, else why not."""
    if os.environ.get("VIDEOGEN_TEST_SMALL_DISK") == "rlimit":
        return "VIDEOGEN_TEST_SMALL_DISK=rlimit"
    try:
        done = subprocess.run(
            ["mount", "-t", "tmpfs", "-o", "size=1m", "tmpfs", str(path)], capture_output=True, text=True, timeout=30
        )
    except (OSError, subprocess.TimeoutExpired) as exc:
        return f"mount: {exc}"
    return None if done.returncode == 0 else "mount refused: " + " ".join((done.stderr or done.stdout).split())


@contextlib.contextmanager
def small_disk(path: Path) -> Iterator[SmallDisk]:
    path.mkdir(parents=True, exist_ok=True)
    why = _mount(path)
    disk = SmallDisk(path, "rlimit" if why else "tmpfs", why or "")
    print(f"small disk at {path}: {disk.mode} {disk.why}".rstrip())
    try:
        if disk.mode == "tmpfs":
            assert os.path.ismount(path), "mount said yes but nothing is mounted"
        yield disk
    finally:
        disk.free()
        if disk.mode == "tmpfs":
            if subprocess.run(["umount", str(path)], capture_output=True).returncode != 0:
                subprocess.run(["umount", "-l", str(path)], check=True)
