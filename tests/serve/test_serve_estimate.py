"""Estimates and admission over HTTP, on the hardware the workers reported (tiny models on this CPU)."""

from __future__ import annotations

import pytest
from serve_helpers import wait_job

pytestmark = pytest.mark.serve


def _total(client) -> int:
    return client.get("/api/video/jobs", params={"limit": 1}).json()["total"]


def test_estimate_prices_a_job_body_on_the_reported_hardware_and_queues_nothing(client):
    before = _total(client)
    r = client.post("/api/video/estimate", json={"family": "wan", "prompt": "a red fox", "num_frames": 17})
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["refused"] is None and body["hardware"]["backend"] == "cpu" and body["reported_by"]
    est = body["estimate"]
    assert est["params"]["num_frames"] == 17 and est["flops_per_step"] > 0
    assert set(est["parameters"]) >= {"transformer", "vae", "text_encoder"}
    assert body["admission"]["rung"] == "cpu"
    # the worker measured its own throughput at warm-up: the expected time is known
    assert est["throughput"]["source"] == "measured" and est["expected_seconds"] > 0
    assert _total(client) == before


def test_a_request_that_would_outlast_the_job_timeout_is_refused_at_submission(client, served_app):
    before = _total(client)
    body = {"family": "ltx-video", "prompt": "waves", "num_frames": 161, "height": 224, "width": 864}
    r = client.post("/api/video/jobs", json=body)
    assert r.status_code == 422, r.text
    err = r.json()["error"]
    assert err["code"] == "exceeds_capacity" and err["field"] == "num_frames"
    timeout = served_app.args["job_timeout_s"]
    assert err["allowed"]["job_timeout_s"] == timeout and err["allowed"]["expected_seconds"] > timeout
    assert _total(client) == before  # refused, never admitted
    refused = client.post("/api/video/estimate", json=body).json()["refused"]
    assert refused["code"] == "exceeds_capacity"


def test_a_finished_job_carries_its_estimate_and_the_measured_figures(client):
    job = client.post("/api/video/jobs", json={"family": "cogvideox", "prompt": "a cat", "seed": 3}).json()
    assert job["estimate"]["admission"]["rung"] == "cpu" and job["estimate"]["flops"]["total"] > 0
    done = wait_job(client, job["id"])
    assert done["status"] == "succeeded", done
    measured = done["result"]["measured"]
    assert measured["pipeline_seconds"] > 0 and measured["achieved_flops_per_s"] > 0


def test_estimate_refuses_bad_input_naming_the_field(client):
    r = client.post("/api/video/estimate", json={"family": "sora", "prompt": "x"})
    assert r.status_code == 422 and r.json()["error"]["field"] == "family"
