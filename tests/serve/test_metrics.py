"""VideoGen's metrics reach Ray's Prometheus endpoint (ray.serve.metrics), and the Grafana dashboard uses them."""

from __future__ import annotations

import json
import time

import httpx
import pytest
from serve_helpers import ROOT, wait_job

from videogen.serve.metrics import METRICS

pytestmark = pytest.mark.serve


def _scrape(port: int) -> str:
    return httpx.get(f"http://127.0.0.1:{port}/metrics", timeout=10).text


def test_metrics_on_rays_prometheus_endpoint(client, ray_session):
    job = client.post(
        "/api/video/jobs", json={"family": "wan", "prompt": "a fox", "seed": 1, "num_inference_steps": 2}
    ).json()
    assert wait_job(client, job["id"])["status"] == "succeeded"
    refused = client.post("/api/video/jobs", json={"family": "no-such-family", "prompt": "x"})
    assert refused.status_code == 422

    wanted = {
        "ray_videogen_jobs_submitted_total{": 'family="wan"',
        "ray_videogen_jobs_finished_total{": 'status="succeeded"',
        "ray_videogen_queue_depth{": 'family="wan"',
        "ray_videogen_job_duration_seconds_bucket{": 'family="wan"',
        "ray_videogen_stage_duration_seconds_bucket{": 'stage="outputs"',
        "ray_videogen_denoising_step_seconds_bucket{": 'family="wan"',
        "ray_videogen_refusals_total{": 'code="unknown_family"',  # the request above, refused at submission
    }
    deadline, text, missing = time.monotonic() + 90, "", list(wanted)
    while time.monotonic() < deadline:
        text = _scrape(ray_session["metrics_port"])
        lines = text.splitlines()
        missing = [m for m, tag in wanted.items() if not any(line.startswith(m) and tag in line for line in lines)]
        if not missing:
            break
        time.sleep(2)
    assert not missing, (
        f"not exported: {missing}\n" + "\n".join(line for line in text.splitlines() if "videogen" in line)[:3000]
    )


def test_grafana_dashboard_uses_the_exported_names():
    dashboard = json.loads((ROOT / "deploy" / "grafana-dashboard.json").read_text())
    exprs = " ".join(t["expr"] for p in dashboard["panels"] for t in p.get("targets", []))
    for name in METRICS:
        assert f"ray_{name}" in exprs, name
