"""`serve run deploy/cpu-tiny.yaml` and `serve run serve_app:...` through the real Serve CLI.

Each starts its own local Ray (``--address local``: never another cluster on the
machine) in a subprocess and stops it with SIGINT.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest
import yaml
from serve_helpers import ROOT, free_port, wait_job

pytestmark = pytest.mark.serve

SERVE = str(Path(sys.executable).with_name("serve"))


def _env(tmp_path) -> dict:
    env = {k: v for k, v in os.environ.items() if k != "RAY_ADDRESS"}
    env["VIDEOGEN_STATE_DIR"] = str(tmp_path / "state")
    return env


def _serve(cmd, env, cwd, base_url, log):
    proc = subprocess.Popen(cmd, env=env, cwd=cwd, stdout=log, stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + 150
        with httpx.Client(base_url=base_url, timeout=10) as client:
            while time.monotonic() < deadline:
                assert proc.poll() is None, "serve run exited early"
                try:
                    rt = client.get("/api/video/runtime").json()
                    if all(f["replica_states"].get("RUNNING") for f in rt["families"].values()):
                        break
                except (httpx.HTTPError, ValueError, KeyError):
                    pass
                time.sleep(1)
            else:
                raise AssertionError("not ready in 150 s")
            job = client.post("/api/video/jobs", json={"family": rt["served_families"][0], "prompt": "a boat"}).json()
            job = wait_job(client, job["id"], timeout=60)
            assert job["status"] == "succeeded", job
            assert client.get(job["result"]["video_url"]).status_code == 200
            return rt
    finally:
        proc.send_signal(signal.SIGINT)
        try:
            proc.wait(timeout=40)
        except subprocess.TimeoutExpired:
            proc.terminate()
            proc.wait(timeout=20)


def test_serve_run_the_cpu_tiny_yaml(tmp_path):
    config = yaml.safe_load((ROOT / "deploy" / "cpu-tiny.yaml").read_text())
    port = free_port()
    config["http_options"] = {"host": "127.0.0.1", "port": port}
    families = config["applications"][0]["args"]["families"]
    config["applications"][0]["args"]["families"] = {k: families[k] for k in ("wan", "ltx-video")}  # keep it quick
    path = tmp_path / "cpu-tiny.yaml"
    path.write_text(yaml.safe_dump(config))
    with open(tmp_path / "serve.log", "wb") as log:
        rt = _serve([SERVE, "run", "--address", "local", str(path)], _env(tmp_path), tmp_path, f"http://127.0.0.1:{port}", log)
    assert sorted(rt["served_families"]) == ["ltx-video", "wan"]
    assert rt["state_dir"] == str(tmp_path / "state")


def _port_free(port: int) -> bool:
    with socket.socket() as s:
        try:
            s.bind(("0.0.0.0", port))
            return True
        except OSError:
            return False


@pytest.mark.skipif(not _port_free(8000), reason="serve run <import path> always listens on 8000, which is taken")
def test_serve_run_the_builder_by_import_path(tmp_path):
    with open(tmp_path / "serve.log", "wb") as log:
        rt = _serve(
            [SERVE, "run", "--address", "local", "--name", "videogen", "serve_app:build_app", "families=cogvideox", "num_gpus=0"],
            _env(tmp_path), ROOT, "http://127.0.0.1:8000", log,
        )
    assert rt["served_families"] == ["cogvideox"]
