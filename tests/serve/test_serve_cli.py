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
KEY = "cli-test-admin-key-0123456789"


def _env(tmp_path) -> dict:
    env = {k: v for k, v in os.environ.items() if k != "RAY_ADDRESS"}
    env["VIDEOGEN_STATE_DIR"] = str(tmp_path / "state")
    return env


def _stop(proc: subprocess.Popen) -> None:
    """``serve run`` stops cleanly on SIGINT; a stuck one is terminated."""
    proc.send_signal(signal.SIGINT)
    try:
        proc.wait(timeout=40)
    except subprocess.TimeoutExpired:
        proc.terminate()
        proc.wait(timeout=20)


def _serve(cmd, env, cwd, base_url, log, headers=None):
    proc = subprocess.Popen(cmd, env=env, cwd=cwd, stdout=log, stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + 150
        # 60 s a call: the first submission prices the job (a cost calibration on the meta device), slow on a busy box
        with httpx.Client(base_url=base_url, timeout=60, headers=headers) as client:
            while time.monotonic() < deadline:
                assert proc.poll() is None, "serve run exited early"
                try:
                    rt = client.get("/api/video/runtime").json()
                    if all(f["replica_states"].get("RUNNING") for f in rt["families"].values()):
                        break
                except (httpx.HTTPError, ValueError, KeyError):
                    pass
                time.sleep(0.25)
            else:
                raise AssertionError("not ready in 150 s")
            job = client.post("/api/video/jobs", json={"family": rt["served_families"][0], "prompt": "a boat"}).json()
            job = wait_job(client, job["id"], timeout=60)
            assert job["status"] == "succeeded", job
            assert client.get(job["result"]["video_url"]).status_code == 200
            return rt
    finally:
        _stop(proc)


def _cpu_tiny(tmp_path, host: str) -> tuple[Path, int]:
    config = yaml.safe_load((ROOT / "deploy" / "cpu-tiny.yaml").read_text())
    port = free_port()
    config["http_options"] = {"host": host, "port": port}
    families = config["applications"][0]["args"]["families"]
    # One family: what is checked is the YAML's own subset being served; each worker replica more is one more
    # process importing torch on the 2 cores while the app starts.
    config["applications"][0]["args"]["families"] = {k: families[k] for k in ("ltx-video",)}
    path = tmp_path / "cpu-tiny.yaml"
    path.write_text(yaml.safe_dump(config))
    return path, port


def test_serve_run_the_cpu_tiny_yaml_beyond_loopback_with_a_key_from_the_environment(tmp_path):
    """The way a cluster is deployed: the proxy on every interface, the key in the nodes' environment."""
    path, port = _cpu_tiny(tmp_path, "0.0.0.0")
    env = {**_env(tmp_path), "VIDEOGEN_API_KEY": KEY}
    with open(tmp_path / "serve.log", "wb") as log:
        rt = _serve(
            [SERVE, "run", "--address", "local", str(path)],
            env,
            tmp_path,
            f"http://127.0.0.1:{port}",
            log,
            headers={"Authorization": f"Bearer {KEY}"},
        )
    assert rt["served_families"] == ["ltx-video"]
    assert rt["state_dir"] == str(tmp_path / "state")  # the env key is an admin: it sees the details
    assert rt["auth"]["enabled"] is True


def test_serve_run_beyond_loopback_without_a_key_refuses_to_start(tmp_path):
    path, port = _cpu_tiny(tmp_path, "0.0.0.0")
    env = {k: v for k, v in _env(tmp_path).items() if k not in ("VIDEOGEN_API_KEY", "VIDEOGEN_API_KEYS")}
    log_path = tmp_path / "serve.log"
    with open(log_path, "wb") as log:
        proc = subprocess.Popen(
            [SERVE, "run", "--address", "local", str(path)], env=env, cwd=tmp_path, stdout=log, stderr=subprocess.STDOUT
        )
    try:
        deadline = time.monotonic() + 120
        while "will not serve without an API key" not in log_path.read_text(errors="replace"):
            assert time.monotonic() < deadline, log_path.read_text(errors="replace")[-3000:]
            time.sleep(0.25)
        # Nothing of the app answers: the build was refused before any deployment started.
        with httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=5) as client:
            try:
                status = client.get("/api/video/jobs").status_code
            except httpx.HTTPError:
                status = None
        assert status in (None, 404, 503), status
    finally:
        _stop(proc)


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
            [
                SERVE,
                "run",
                "--address",
                "local",
                "--name",
                "videogen",
                "serve_app:build_app",
                "families=cogvideox",
                "num_gpus=0",
            ],
            _env(tmp_path),
            ROOT,
            "http://127.0.0.1:8000",
            log,
        )
    assert rt["served_families"] == ["cogvideox"]
