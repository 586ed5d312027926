"""The CLI as a client: videogen submit / status / wait / download --server URL, against the served app."""

from __future__ import annotations

import json

import pytest
from PIL import Image
from serve_helpers import NAMED_MODEL

from videogen.cli import main
from videogen.video.encode import read_mp4

pytestmark = pytest.mark.serve


def test_submit_wait_status_download(served_app, tmp_path, capsys):
    server = ["--server", served_app.base_url]
    out = tmp_path / "fox.mp4"
    rc = main(
        [
            "submit",
            *server,
            "--family",
            "wan",
            "--prompt",
            "a fox",
            "--steps",
            "2",
            "--seed",
            "3",
            "--wait",
            "-o",
            str(out),
            "--json",
        ]
    )
    captured = capsys.readouterr()
    assert rc == 0, captured.err
    job = json.loads(captured.out)
    assert job["status"] == "succeeded"
    assert "denoising 2/2" in captured.err and "100%" in captured.err  # the SSE progress bar
    frames, _ = read_mp4(out)
    assert frames.shape[0] == job["result"]["frames"]

    assert main(["status", *server, job["id"]]) == 0
    assert "succeeded" in capsys.readouterr().out
    assert main(["wait", *server, job["id"]]) == 0  # an ended job: the stream replays to its end at once
    thumb = tmp_path / "t.jpg"
    assert main(["download", *server, job["id"], "-o", str(thumb), "--variant", "thumbnail"]) == 0
    assert Image.open(thumb).format == "JPEG"


def test_client_errors_are_one_line_and_an_exit_code(served_app, capsys):
    server = ["--server", served_app.base_url]
    assert main(["status", *server, "job_nope"]) == 2
    assert "404" in capsys.readouterr().err
    assert main(["submit", *server, "--family", "wan", "--prompt", "x", "--steps", "9999"]) == 2
    assert "num_inference_steps" in capsys.readouterr().err


def test_submit_names_a_model_of_the_family(served_app, capsys):
    server = ["--server", served_app.base_url]
    argv = ["submit", *server, "--family", "wan", "--prompt", "a fox", "--steps", "2", "--json"]
    assert main([*argv, "--model-name", NAMED_MODEL]) == 0
    assert json.loads(capsys.readouterr().out)["model_name"] == NAMED_MODEL
    assert main([*argv, "--model-name", "wan-nope"]) == 2
    assert "model" in capsys.readouterr().err
