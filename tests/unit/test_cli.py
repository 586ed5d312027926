"""The ``videogen`` command line, on the built-in tiny models.

The first test runs the installed console script as a subprocess, like a user (the entry point, the exit status,
the JSON on stdout); the others call the same ``main`` in this process (``testkit.run_cli``), as do the
families' CLI tests: a subprocess each would start Python and import torch again.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from testkit import run_cli

from videogen.video.encode import read_mp4
from videogen.video.registry import SPECS
from videogen.video.worker import STAGES


def _cli(*args, timeout=300):
    """The ``videogen`` console script pyproject.toml installs beside this Python."""
    return subprocess.run(
        [str(Path(sys.executable).with_name("videogen")), *args], capture_output=True, text=True, timeout=timeout
    )


def test_cli_generate_json_i2v(tmp_path, png_b64):
    import base64

    image = tmp_path / "first.png"
    image.write_bytes(base64.b64decode(png_b64))
    out = tmp_path / "v.mp4"
    proc = _cli(
        "generate",
        "--family",
        "ltx-video",
        "--task",
        "image-to-video",
        "--image",
        str(image),
        "--model",
        "tiny",
        "--prompt",
        "waves",
        "--frames",
        "12",
        "--fps",
        "12",
        "--seed",
        "5",
        "-o",
        str(out),
        "--json",
    )
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
def test_cli_bad_input_is_one_line_and_exit_2(args, needle, tmp_path, capsys):
    code, _out, err = run_cli(
        capsys, "generate", "--model", "tiny", "--prompt", "x", "-o", str(tmp_path / "x.mp4"), *args
    )
    assert code == 2
    lines = err.strip().splitlines()
    assert len(lines) == 1 and needle in lines[0], err
    assert "Traceback" not in err


def test_cli_models_tiny_all_ready(capsys):
    code, out, err = run_cli(capsys, "models", "--model", "tiny", "--json")
    assert code == 0, err
    models = json.loads(out)["models"]
    assert [m["id"] for m in models] == list(SPECS)
    for m in models:
        for task in SPECS[m["id"]].tasks:
            assert m["task_support"][task] == "ready"
        for key in (
            "display_name",
            "task_kind",
            "required_inputs",
            "recommended_dtype",
            "rocm_notes",
            "support_level",
            "effective_support_level",
        ):
            assert key in m


def test_cli_models_real_says_why_not_ready(capsys):
    code, out, err = run_cli(capsys, "models", "--json")
    assert code == 0, err
    models = json.loads(out)["models"]
    for m in models:
        assert m["effective_support_level"] != "ready"
        assert any("GPU" in r for reasons in m["support_reasons"].values() for r in reasons)


def test_cli_runtime_json(capsys):
    code, out, err = run_cli(capsys, "runtime", "--json")
    assert code == 0, err
    data = json.loads(out)
    assert data["hardware_profile"]["backend"] == "cpu"
    assert data["load_policy"]["placement"] == "cpu"
    assert data["runtime"]["rocm_env"]["MIOPEN_FIND_MODE"] == "FAST"
