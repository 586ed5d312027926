"""End to end through the shared worker and the CLI, on the built-in tiny models.

Every family x task it offers: a real diffusers pipeline is built, saved, loaded
back through the loader, run, and the MP4 is decoded and checked.
"""

from __future__ import annotations

import json
import subprocess
import sys

import numpy as np
import pytest

from videogen.errors import GenerationCancelled, InvalidRequestError
from videogen.video.encode import mp4_info, read_mp4
from videogen.video.registry import SPECS
from videogen.video.request import VideoRequest
from videogen.video.worker import STAGES, GenerationWorker

CASES = [(family, task) for family, spec in SPECS.items() for task in spec.tasks]


@pytest.fixture(scope="module")
def worker():
    return GenerationWorker(default_model="tiny")


def _request(family, task, png_b64, **kw):
    image = png_b64 if task == "image-to-video" else None
    return VideoRequest(family=family, task=task, prompt="a cat running on the beach", image=image, seed=7, **kw)


@pytest.mark.parametrize(("family", "task"), CASES, ids=[f"{f}-{t}" for f, t in CASES])
def test_every_family_and_task_writes_a_decodable_mp4(worker, family, task, png_b64, tmp_path):
    events = []
    out = tmp_path / "out.mp4"
    result = worker.generate(_request(family, task, png_b64, fps=10), out, on_progress=events.append)
    frames, fps = read_mp4(out)
    expected = 9 - SPECS[family].frames_dropped.get(task, 0)
    assert frames.shape == (expected, 32, 32, 3)
    assert result.num_frames == expected and (result.width, result.height) == (32, 32)
    assert fps == 10 and result.bytes == out.stat().st_size
    info = mp4_info(out)
    assert info["codec"] == "h264" and info["pix_fmt"].startswith("yuv420p")
    assert [s.name for s in result.stages] == list(STAGES)
    assert all(s.seconds is not None and s.seconds >= 0 for s in result.stages)
    assert result.stages[0].detail["hardware_profile"]["backend"] == "cpu"
    steps = [e.step for e in events if e.stage == "denoising" and e.step]
    assert steps == [1, 2]
    percents = [e.percent for e in events]
    assert percents == sorted(percents) and percents[-1] == 100.0
    assert result.model["pipeline_class"] == SPECS[family].pipeline_classes[task]


@pytest.mark.parametrize("family", ["wan", "animatediff"])
def test_same_seed_same_frames_other_seed_differs(worker, family, tmp_path):
    a = worker.generate(VideoRequest(family=family, prompt="a dog", seed=3), tmp_path / "a.mp4").frames
    b = worker.generate(VideoRequest(family=family, prompt="a dog", seed=3), tmp_path / "b.mp4").frames
    c = worker.generate(VideoRequest(family=family, prompt="a dog", seed=4), tmp_path / "c.mp4").frames
    assert np.array_equal(a, b)
    assert not np.array_equal(a, c)


def test_pipeline_loads_once_and_stays_warm(worker, tmp_path):
    worker.generate(VideoRequest(family="ltx-video", prompt="x", seed=1), tmp_path / "a.mp4")
    second = worker.generate(VideoRequest(family="ltx-video", prompt="x", seed=1), tmp_path / "b.mp4")
    loading = next(s for s in second.stages if s.name == "loading")
    assert loading.detail["cached"] is True


def test_adjustments_are_recorded(worker, tmp_path):
    result = worker.generate(VideoRequest(family="wan", prompt="x", num_frames=10, height=40, seed=1), tmp_path / "a.mp4")
    moved = {a.field: (a.requested, a.used) for a in result.adjustments}
    assert moved == {"num_frames": (10, 9), "height": (40, 48)}
    frames, _ = read_mp4(tmp_path / "a.mp4")
    assert frames.shape[:3] == (9, 48, 32)


def test_cancel_stops_denoising(worker, tmp_path):
    seen = []
    with pytest.raises(GenerationCancelled):
        worker.generate(
            VideoRequest(family="cogvideox", prompt="x", num_inference_steps=50, seed=1),
            tmp_path / "a.mp4",
            on_progress=seen.append,
            should_cancel=lambda: any(e.step == 2 for e in seen),
        )
    assert max(e.step or 0 for e in seen) < 50
    assert not (tmp_path / "a.mp4").exists()


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"family": "wan", "num_frames": 400}, "num_frames"),
        ({"family": "ltx-video", "width": 4000}, "width"),
        ({"family": "wan", "task": "image-to-video"}, "image"),
        ({"family": "animatediff", "task": "image-to-video"}, "task"),
        ({"family": "wan", "image": "bm90IGFuIGltYWdl"}, "image"),
        ({"family": "wan", "task": "image-to-video", "image": "%%%"}, "image"),
    ],
)
def test_bad_input_names_the_field(worker, kwargs, field, tmp_path):
    with pytest.raises(InvalidRequestError) as info:
        worker.generate(VideoRequest(prompt="x", **kwargs), tmp_path / "a.mp4")
    assert info.value.field == field


def _cli(*args, timeout=300):
    return subprocess.run([sys.executable, "-m", "videogen.cli", *args], capture_output=True, text=True, timeout=timeout)


def test_cli_generate_json_i2v(tmp_path, png_b64):
    import base64

    image = tmp_path / "first.png"
    image.write_bytes(base64.b64decode(png_b64))
    out = tmp_path / "v.mp4"
    proc = _cli("generate", "--family", "ltx-video", "--task", "image-to-video", "--image", str(image), "--model", "tiny",
                "--prompt", "waves", "--frames", "12", "--fps", "12", "--seed", "5", "-o", str(out), "--json")
    assert proc.returncode == 0, proc.stderr
    payload = json.loads(proc.stdout)
    assert payload["frames"] == 9 and payload["fps"] == 12 and payload["seed"] == 5
    assert payload["adjustments"][0]["field"] == "num_frames"
    assert set(payload["stages"]) == set(STAGES)
    frames, fps = read_mp4(out)
    assert frames.shape == (9, 32, 32, 3) and fps == 12


@pytest.mark.parametrize(
    ("args", "needle"),
    [
        (["--family", "wan", "--frames", "999"], "--frames: 999 is outside"),
        (["--family", "sora"], "--family"),
        (["--family", "animatediff", "--task", "image-to-video", "--image", "/nonexistent.png"], "--image"),
        (["--family", "wan", "--steps", "0"], "--steps"),
    ],
)
def test_cli_bad_input_is_one_line_and_exit_2(args, needle, tmp_path):
    proc = _cli("generate", "--model", "tiny", "--prompt", "x", "-o", str(tmp_path / "x.mp4"), *args)
    assert proc.returncode == 2
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and needle in lines[0], proc.stderr
    assert "Traceback" not in proc.stderr


def test_cli_models_tiny_all_ready():
    proc = _cli("models", "--model", "tiny", "--json")
    assert proc.returncode == 0, proc.stderr
    models = json.loads(proc.stdout)["models"]
    assert [m["id"] for m in models] == list(SPECS)
    for m in models:
        for task in SPECS[m["id"]].tasks:
            assert m["task_support"][task] == "ready"
        for key in ("display_name", "task_kind", "required_inputs", "recommended_dtype", "rocm_notes", "support_level", "effective_support_level"):
            assert key in m


def test_cli_models_real_says_why_not_ready():
    proc = _cli("models", "--json")
    models = json.loads(proc.stdout)["models"]
    for m in models:
        assert m["effective_support_level"] != "ready"
        assert any("GPU" in r for reasons in m["support_reasons"].values() for r in reasons)


def test_cli_runtime_json():
    proc = _cli("runtime", "--json")
    data = json.loads(proc.stdout)
    assert data["hardware_profile"]["backend"] == "cpu"
    assert data["load_policy"]["placement"] == "cpu"
    assert data["runtime"]["rocm_env"]["MIOPEN_FIND_MODE"] == "FAST"


def test_cancel_after_the_last_step_still_cancels(worker, tmp_path):
    seen = []
    with pytest.raises(GenerationCancelled, match="decoding"):
        worker.generate(
            VideoRequest(family="wan", prompt="x", num_inference_steps=2, seed=1),
            tmp_path / "a.mp4",
            on_progress=seen.append,
            should_cancel=lambda: any(e.stage == "decoding" for e in seen),
        )
    assert not (tmp_path / "a.mp4").exists()


def test_cpu_memory_cap_refuses_a_model_that_does_not_fit(tmp_path):
    from videogen.errors import ModelUnavailableError

    capped = GenerationWorker(default_model="tiny", policy_overrides={"cpu_memory_cap_gb": 1e-6})
    with pytest.raises(ModelUnavailableError, match="cpu_memory_cap_gb"):
        capped.generate(VideoRequest(family="wan", prompt="x", seed=1), tmp_path / "a.mp4")
    roomy = GenerationWorker(default_model="tiny", policy_overrides={"cpu_memory_cap_gb": 1.0})
    result = roomy.generate(VideoRequest(family="wan", prompt="x", seed=1), tmp_path / "b.mp4")
    assert 0 < result.model["weights_gb"] < 0.01
