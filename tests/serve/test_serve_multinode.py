"""Multi-node: a Cluster whose two worker nodes each declare one GPU; jobs served from both."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.serve


def test_jobs_run_on_both_gpu_nodes(tmp_path):
    # Its own cluster in its own process: the session's local Ray stays untouched.
    env = {k: v for k, v in os.environ.items() if k != "RAY_ADDRESS"}
    proc = subprocess.run(
        [sys.executable, str(Path(__file__).with_name("multinode_app.py")), str(tmp_path)],
        env=env,
        capture_output=True,
        text=True,
        timeout=400,
    )
    report_file = tmp_path / "report.json"
    assert proc.returncode == 0 and report_file.exists(), proc.stderr[-5000:]
    report = json.loads(report_file.read_text())
    print({k: report[k] for k in ("deploy_s", "total_s")})

    assert report["cluster_resources"]["GPU"] == 2
    gpu_nodes = set(report["gpu_node_ids"])
    # One replica per GPU node, each holding one GPU that Ray assigned.
    assert {r["node_id"] for r in report["replicas"]} == gpu_nodes
    for r in report["replicas"]:
        assert r["accelerator_ids"].get("GPU") and len(r["accelerator_ids"]["GPU"]) == 1
    jobs = report["jobs"]
    assert all(j["status"] == "succeeded" and j["video_bytes"] > 0 for j in jobs), jobs
    used = {j["node_id"] for j in jobs}
    assert used == gpu_nodes and report["head_node_id"] not in used
