"""The Python handle API from a second driver process joining the cluster."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from serve_helpers import NAMED_MODEL, wait_job

from videogen.video.encode import read_mp4

pytestmark = pytest.mark.serve


def test_generate_and_submit_from_another_driver(served_app, client, tmp_path):
    # Token auth (Ray 2.60's default): the child inherits RAY_AUTH_MODE=token, which
    # ray.init() put in this process's environment, and reads ~/.ray/auth_token.
    env = dict(os.environ, RAY_ADDRESS=served_app.gcs_address)
    proc = subprocess.run(
        [sys.executable, str(Path(__file__).with_name("handle_client.py")), str(tmp_path), NAMED_MODEL],
        env=env,
        capture_output=True,
        text=True,
        timeout=180,
    )
    assert proc.returncode == 0, proc.stderr[-4000:]
    report = json.loads((tmp_path / "report.json").read_text())

    submitted = report["submitted"]
    assert submitted["status"] in ("queued", "running", "succeeded") and submitted["family"] == "wan"
    assert report["fetched"] == submitted["id"]
    assert wait_job(client, submitted["id"])["status"] == "succeeded"  # the same job over HTTP

    job = report["generated"]
    assert job["status"] == "succeeded" and job["result"]["fps"] == 12
    frames, fps = read_mp4(tmp_path / "handle.mp4")
    assert frames.shape == (job["result"]["frames"], 32, 32, 3) and fps == 12
    assert (tmp_path / "handle.mp4").stat().st_size == job["result"]["bytes"]

    # The core's typed errors crossed Ray (pickled), with the body HTTP would send.
    rejected = report["rejected"]
    assert "UnknownFamilyError" in rejected["type"] and rejected["is_invalid_request"]
    assert rejected["error"]["code"] == "unknown_family" and rejected["error"]["field"] == "family"
    assert "wan" in rejected["error"]["allowed"]
    invalid = report["invalid"]
    assert invalid["error"]["code"] == "invalid_request" and invalid["error"]["field"] == "num_frames"
    assert invalid["error"]["message"].startswith("num_frames: ")
    assert "JobNotFoundError" in report["not_found"]["type"] and report["not_found"]["error"]["code"] == "job_not_found"
    # A handle caller names a model as HTTP does: the job remembers it; an unknown one is refused naming it.
    assert report["named"]["model_name"] == NAMED_MODEL and report["named"]["model"]["name"] == NAMED_MODEL
    unknown = report["unknown_model"]["error"]
    assert unknown["field"] == "model" and unknown["allowed"] == ["wan", NAMED_MODEL]
    listed = report["listed"]
    assert listed["limit"] == 1 and len(listed["jobs"]) == 1 and listed["total"] >= 2
