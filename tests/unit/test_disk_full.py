"""A full disk under the real writers: ffmpeg through its pipe, Pillow for the pictures, the worker around them.

The disk is a real 1 MiB tmpfs mounted for the test and filled with a filler file
(``tests/small_disk.py``); where mounting is refused, a file-size limit
(RLIMIT_FSIZE) on the real ffmpeg child, and on this process for the pictures,
stands in (SIGXFSZ kills the encoder, EFBIG fails Pillow's write). Nothing is
faked: the kernel refuses the bytes, the encoder fails as it does in production.
"""

from __future__ import annotations

import signal

import numpy as np
import pytest
from PIL import Image
from small_disk import small_disk

import videogen.video.encode as encode
import videogen.video.outputs as outputs
from videogen.errors import ErrorCode, StorageFullError
from videogen.video.encode import EncodeFailedError, read_mp4, write_mp4
from videogen.video.outputs import PICTURE_VARIANTS, output_paths, write_outputs
from videogen.video.request import VideoRequest
from videogen.video.soundtrack import Soundtrack, read_audio_track
from videogen.video.worker import GenerationWorker


@pytest.fixture()
def disk(tmp_path):
    with small_disk(tmp_path / "disk") as d:
        yield d


def _noise(frames: int, side: int) -> np.ndarray:
    return np.random.default_rng(0).integers(0, 255, (frames, side, side, 3), dtype=np.uint8)


def _assert_ffmpeg_said_why(err: StorageFullError, disk) -> None:
    details = err.details
    assert details["ffmpeg_exit"] != 0
    if disk.mode == "tmpfs":
        assert "No space left on device" in details["ffmpeg_stderr"]
    else:
        assert details["ffmpeg_exit"] == -signal.SIGXFSZ


# -- write_mp4 -------------------------------------------------------------------------------------
def test_an_mp4_that_outgrows_a_nearly_full_disk_is_storage_full_and_leaves_no_file(disk):
    disk.fill(leave=64 * 1024)  # 64 frames of 128x128 noise need far more than 64 KiB
    with pytest.raises(StorageFullError) as err:
        write_mp4(_noise(64, 128), disk.path / "job.mp4", fps=8)
    assert err.value.code == ErrorCode.STORAGE_FULL and err.value.to_dict()["code"] == "storage_full"
    assert "job.mp4" in err.value.message and str(disk.path) in err.value.message
    _assert_ffmpeg_said_why(err.value, disk)
    assert disk.files() == []  # neither job.mp4 nor job.mp4.partial


def test_a_failure_only_ffmpegs_exit_status_shows_is_never_renamed_into_place(disk):
    """9 frames of 32x32 (27 KiB) all fit the pipe's buffer: every write succeeds, and only
    ffmpeg's exit status says the file is empty or cut short."""
    disk.fill(leave=0)
    frames = _noise(9, 32)
    with pytest.raises(StorageFullError) as err:
        write_mp4(frames, disk.path / "job.mp4", fps=8)
    assert err.value.details["frames_piped"] == 9  # the pipe took every frame; the failure came at the end
    _assert_ffmpeg_said_why(err.value, disk)
    assert disk.files() == []
    disk.free()
    size = write_mp4(frames, disk.path / "job.mp4", fps=8)  # with room, the same call writes the video
    decoded, fps = read_mp4(disk.path / "job.mp4")
    assert decoded.shape == (9, 32, 32, 3) and fps == 8 and size == (disk.path / "job.mp4").stat().st_size
    assert disk.files() == ["job.mp4"]


def test_a_soundtrack_that_does_not_fit_is_storage_full_and_leaves_neither_wav_nor_mp4(disk):
    """LTX-2's soundtrack goes to ffmpeg as a WAV beside the target: a disk too full for it is the same
    ``storage_full``, and no file stays (the WAV is removed whatever happened)."""
    track = Soundtrack(np.zeros((2, 300_000), np.float32), 24000)  # 1.2 MB of PCM: more than the whole disk
    with pytest.raises(StorageFullError) as err:
        write_mp4(_noise(9, 32), disk.path / "job.mp4", fps=8, audio=track)
    assert "job.mp4" in err.value.message and disk.files() == []
    short = Soundtrack(np.zeros((2, 2400), np.float32), 24000)  # with room, the WAV is gone after the mux
    write_mp4(_noise(9, 32), disk.path / "job.mp4", fps=8, audio=short)
    assert disk.files() == ["job.mp4"] and read_audio_track(disk.path / "job.mp4").codec == "aac"


def test_an_encoder_failure_that_is_not_the_disk_is_a_clear_generation_failed_error(tmp_path):
    (tmp_path / "job.mp4.partial").mkdir()  # ffmpeg cannot open its output: a directory stands there
    with pytest.raises(EncodeFailedError) as err:
        write_mp4(_noise(3, 32), tmp_path / "job.mp4", fps=8)
    assert err.value.to_dict()["code"] == "generation_failed"
    assert "Is a directory" in err.value.message and err.value.details["ffmpeg_exit"] != 0
    assert not (tmp_path / "job.mp4").exists()


def test_a_cut_short_mp4_is_not_a_whole_one(tmp_path):
    write_mp4(_noise(9, 32), tmp_path / "whole.mp4", fps=8)
    data = (tmp_path / "whole.mp4").read_bytes()
    encode._check_mp4(tmp_path / "whole.mp4")  # the whole file passes
    for cut in (0, 7, len(data) // 2, len(data) - 1):
        (tmp_path / "cut.mp4").write_bytes(data[:cut])
        with pytest.raises(EncodeFailedError, match="not a whole MP4"):
            encode._check_mp4(tmp_path / "cut.mp4")


# -- the pictures ----------------------------------------------------------------------------------
def test_pictures_on_a_full_disk_are_storage_full_and_leave_no_file(disk):
    disk.fill(leave=0, this_process=True)
    try:
        with pytest.raises(StorageFullError) as err:
            write_outputs(_noise(9, 32), disk.path / "job.mp4", fps=8)
    finally:
        disk.free()
    assert err.value.to_dict()["code"] == "storage_full" and "job.thumbnail.jpg" in err.value.message
    assert disk.files() == []


def test_a_disk_that_fills_between_two_pictures_leaves_none_of_them(disk, monkeypatch):
    real_save = outputs._atomic_save

    def save_then_fill(image, path, **kw):  # another writer takes the last space once the thumbnail is in
        size = real_save(image, path, **kw)
        disk.fill(leave=0, this_process=True)
        return size

    monkeypatch.setattr(outputs, "_atomic_save", save_then_fill)
    try:
        with pytest.raises(StorageFullError) as err:
            write_outputs(_noise(9, 32), disk.path / "job.mp4", fps=8)
    finally:
        disk.free()
    assert "job.spritesheet.jpg" in err.value.message
    assert disk.files() == []  # the thumbnail that was in place went too


# -- the worker ------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def worker():
    return GenerationWorker(default_model="tiny")


def _request() -> VideoRequest:
    return VideoRequest(family="wan", prompt="a cat running on the beach", seed=7, num_inference_steps=2)


def _assert_job_written(worker_result, video) -> None:
    frames, _ = read_mp4(video)
    assert frames.shape == (worker_result.num_frames, 32, 32, 3)
    for variant, path in output_paths(video).items():
        assert path.stat().st_size > 0, variant
        if variant != "video":
            Image.open(path).load()


def test_a_job_on_a_full_disk_fails_storage_full_with_no_file_and_the_worker_serves_on(worker, disk, tmp_path):
    worker.warm("wan", "text-to-video")  # the tiny model is built and loaded before the disk fills
    video = disk.path / "job-1.mp4"
    disk.fill(leave=0)
    with pytest.raises(StorageFullError) as err:
        worker.generate(_request(), video)
    assert err.value.to_dict()["code"] == "storage_full"
    _assert_ffmpeg_said_why(err.value, disk)
    assert disk.files() == []  # no partial, no empty MP4, no pictures
    assert worker.fatal_error is None
    worker.check_health()

    disk.free()  # space is back: the same worker object runs the next job
    result = worker.generate(_request(), disk.path / "job-2.mp4")
    _assert_job_written(result, disk.path / "job-2.mp4")
    assert disk.files() == sorted(p.name for p in output_paths(disk.path / "job-2.mp4").values())


def test_a_disk_that_fills_after_the_mp4_landed_leaves_neither_the_mp4_nor_any_picture(worker, disk, monkeypatch):
    real_write_mp4 = encode.write_mp4
    landed = []

    def write_then_fill(frames, path, fps, audio=None):  # the MP4 is in place; then the disk is full for the pictures
        size = real_write_mp4(frames, path, fps, audio)
        landed.append(path.name)
        disk.fill(leave=0, this_process=True)
        return size

    monkeypatch.setattr(encode, "write_mp4", write_then_fill)
    try:
        with pytest.raises(StorageFullError) as err:
            worker.generate(_request(), disk.path / "job-1.mp4")
    finally:
        disk.free()
    assert landed == ["job-1.mp4"]  # the video had been renamed into place before the pictures failed
    assert "job-1.thumbnail.jpg" in err.value.message
    assert disk.files() == []
    monkeypatch.undo()
    result = worker.generate(_request(), disk.path / "job-2.mp4")
    _assert_job_written(result, disk.path / "job-2.mp4")
    assert set(result.outputs) == set(PICTURE_VARIANTS)
