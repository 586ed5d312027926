"""The pictures beside a video: thumbnail, spritesheet, animated preview, decoded back."""

from __future__ import annotations

import io

import numpy as np
import pytest
from PIL import Image

from videogen.video.outputs import PICTURE_VARIANTS, output_paths, remove_outputs, thumbnail_index, write_outputs
from videogen.video.request import VideoRequest
from videogen.video.worker import STAGES, GenerationWorker


def _frames(count=9, height=32, width=48):
    frames = np.zeros((count, height, width, 3), np.uint8)
    for i in range(count):
        frames[i, :, :, 0] = (20 * i) % 256  # each frame its own red level: which frame was picked shows
        frames[i, :, :, 2] = 200
    return frames


def test_paths_sit_beside_the_video(tmp_path):
    paths = output_paths(tmp_path / "abc.mp4")
    assert paths["video"] == tmp_path / "abc.mp4"
    assert {p.name for p in paths.values()} == {
        "abc.mp4",
        "abc.thumbnail.jpg",
        "abc.spritesheet.jpg",
        "abc.preview.webp",
    }


def test_pictures_decode(tmp_path):
    frames = _frames()
    info = write_outputs(frames, tmp_path / "job.mp4", fps=8)
    paths = output_paths(tmp_path / "job.mp4")
    assert set(info) == set(PICTURE_VARIANTS)

    thumb = Image.open(paths["thumbnail"])
    assert thumb.format == "JPEG" and thumb.size == (48, 32)
    red = np.asarray(thumb.convert("RGB"))[..., 0].mean()
    assert abs(red - 20 * thumbnail_index(9)) < 6  # the middle frame
    assert info["thumbnail"]["bytes"] == paths["thumbnail"].stat().st_size

    sheet = Image.open(paths["spritesheet"])
    layout = info["spritesheet"]
    assert sheet.format == "JPEG" and layout["tiles"] == 9 and layout["columns"] == 4 and layout["rows"] == 3
    assert sheet.size == (4 * 48, 3 * 32)
    tile = np.asarray(sheet.convert("RGB"))[32:64, 48:96, 0].mean()  # tile 5 = frame 5
    assert abs(tile - 20 * layout["frames"][5]) < 6

    preview = Image.open(paths["preview"])
    assert preview.format == "WEBP" and getattr(preview, "is_animated", False) and preview.n_frames == 9
    assert preview.size == (48, 32) and info["preview"]["frames"] == 9

    removed = remove_outputs(tmp_path / "job.mp4")
    assert len(removed) == 3 and not any(p.exists() for p in paths.values())


def test_large_videos_get_a_small_preview_and_a_bounded_sheet(tmp_path):
    info = write_outputs(_frames(count=60, height=320, width=512), tmp_path / "big.mp4", fps=24)
    assert info["spritesheet"]["tiles"] == 16
    preview = Image.open(output_paths(tmp_path / "big.mp4")["preview"])
    assert max(preview.size) == 256 and preview.n_frames == 48


def test_bad_frames_are_refused(tmp_path):
    with pytest.raises(ValueError):
        write_outputs(np.zeros((0, 8, 8, 3), np.uint8), tmp_path / "x.mp4", fps=8)


def test_the_worker_writes_them_as_a_timed_stage(tmp_path):
    result = GenerationWorker(default_model="tiny").generate(
        VideoRequest(family="ltx-video", prompt="waves", seed=1, num_inference_steps=2), tmp_path / "w.mp4"
    )
    assert [s.name for s in result.stages] == list(STAGES) and STAGES[-1] == "outputs"
    outputs_stage = result.stages[-1]
    assert outputs_stage.seconds is not None and outputs_stage.seconds >= 0
    assert set(result.outputs) == set(PICTURE_VARIANTS)
    for variant, path in output_paths(tmp_path / "w.mp4").items():
        assert path.is_file(), variant
        if variant != "video":
            Image.open(io.BytesIO(path.read_bytes())).load()
