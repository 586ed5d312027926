"""The app served through Ray Serve's direct ingress (deploy/README.md, "Direct ingress"): no proxy, the ingress
replica answers HTTP itself, with its code and its handles' router on the replica's own event loop.

The rest of the suite serves through Serve's proxy. Direct ingress is read from the environment Ray starts with, so
this runs the submission benchmark's own local app (``bench_submit.py --direct-ingress``: its own Ray, its own temp
dir) in a child process (it sends every request to the one port listening in Serve's direct-ingress range, and
fails when none does), a small load on one family: jobs submitted by concurrent clients all run, streams held
before their job runs read its events to the end, and a job alone goes POST -> terminal SSE event.
"""

from __future__ import annotations

import json
import subprocess
import sys

import pytest
from serve_helpers import ROOT

pytestmark = pytest.mark.serve


def test_the_app_served_through_direct_ingress_takes_runs_and_streams_jobs(tmp_path):
    command = [sys.executable, str(ROOT / "benchmarks" / "bench_submit.py"), "--backends", "sqlite"]
    command += ["--direct-ingress", "--families", "wan", "--clients", "3", "--jobs", "6", "--rounds", "1"]
    command += ["--streams", "4", "--stream-steps", "2", "--fixed-jobs", "1", "--out", str(tmp_path), "--label", "di"]
    out = subprocess.run(command, capture_output=True, text=True, timeout=600, cwd=ROOT)
    assert out.returncode == 0, out.stdout[-3000:] + out.stderr[-3000:]
    result = json.loads((tmp_path / "submit-di.json").read_text())
    assert result["config"]["direct_ingress"] is True and result["config"]["worker_cpu_niceness"] == "idle"
    run = result["runs"]["sqlite"]
    assert run["submit"]["status_codes"] == {"202": 6} and run["submit"]["ended"] == {"succeeded": 6}
    assert run["paced"]["status_codes"] == {"202": 6} and run["paced"]["ended"] == {"succeeded": 6}  # at 200/s
    streams = run["streams"]
    assert streams["held_at_once"] == 4 and streams["refused"] == 0
    assert streams["events_timed"] == streams["events"] - 4 > 0  # each stream: the snapshot, then every event
    assert run["fixed"]["fixed_cost_ms"]["p50"] > 0
