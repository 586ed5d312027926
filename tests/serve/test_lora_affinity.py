"""LoRA adapters through the service, and Serve's model multiplexing sending a job to the replica holding them.

One small app of its own on the session's Ray cluster (the shared app has one replica per model): tiny Wan
with two declared tiny LoRAs and two worker replicas. Serve routes a job by its adapter set (the dispatcher's
``multiplexed_model_id``): a set no replica holds goes to the replica holding the fewest sets, and later jobs
with a set go to the replica that already holds it, where the adapter is not loaded again.
"""

from __future__ import annotations

import time

import pytest
from serve_helpers import wait_job

from videogen.video.tiny.cache import ensure_tiny_model
from videogen.video.tiny.loras import make_tiny_lora

pytestmark = pytest.mark.serve  # a real local Ray: never beside another Ray run (make test runs these serially)

NAME, PREFIX = "videogen-loras", "/loras"


def _submit(c, loras=None) -> dict:
    body = {"family": "wan", "prompt": "a cat", "seed": 1, **({"loras": loras} if loras else {})}
    r = c.post("/api/video/jobs", json=body)
    assert r.status_code == 202, r.text
    job = wait_job(c, r.json()["id"], timeout=90)
    assert job["status"] == "succeeded", job
    return job


def _loras_stage(job: dict) -> dict:
    return next(s for s in job["stages"] if s["name"] == "loading")["detail"].get("loras") or {}


def test_a_job_goes_to_the_replica_already_holding_its_adapters(ray_session, tmp_path):
    import httpx
    from ray import serve

    from videogen.serve.builder import build_app

    started = time.monotonic()
    model_dir = ensure_tiny_model("wan", "text-to-video")
    loras = {
        "style-a": {"path": str(make_tiny_lora(model_dir, tmp_path / "a", seed=1)), "description": "tiny style A"},
        "style-b": {"path": str(make_tiny_lora(model_dir, tmp_path / "b", seed=2))},
    }
    args = {
        "families": {"wan": {"model": "tiny", "warm": [], "loras": loras, "deployment": {"num_replicas": 2}}},
        "num_gpus": 0,
        "state_dir": str(tmp_path / "state"),
        "worker_defaults": {"ray_actor_options": {"num_cpus": 0.1}},
    }
    serve.run(build_app(args), name=NAME, route_prefix=PREFIX)
    try:
        with httpx.Client(base_url=f"http://127.0.0.1:{ray_session['port']}{PREFIX}", timeout=60) as c:
            models = c.get("/api/video/models")
            (wan,) = [m for m in models.json()["served_models"] if m["name"] == "wan"]
            assert wan["loras"]["style-a"] == {
                "scale_range": [0.0, 2.0],
                "experts": "both",
                "description": "tiny style A",
            }
            assert str(tmp_path) not in models.text  # names, scales and experts; never a path

            refused = c.post("/api/video/jobs", json={"family": "wan", "prompt": "x", "loras": [{"name": "anime"}]})
            assert refused.status_code == 422 and refused.json()["error"]["field"] == "loras[0].name"
            assert refused.json()["error"]["allowed"] == ["style-a", "style-b"]
            v1 = c.post("/v1/videos", json={"model": "wan", "prompt": "x", "loras": [{"name": "style-a", "scale": 9}]})
            assert v1.status_code == 400 and v1.json()["error"]["param"] == "loras[0].scale", v1.text

            first = _submit(c, [{"name": "style-a", "scale": 1.0}])
            holder_a = first["worker"]["replica_id"]
            second = _submit(c, [{"name": "style-b", "scale": 0.5}])  # held nowhere: the replica with fewest sets
            holder_b = second["worker"]["replica_id"]
            assert holder_b != holder_a
            for loras_ in ([{"name": "style-a", "scale": 2.0}], [{"name": "style-b", "scale": 1.0}]) * 2:
                job = _submit(c, loras_)
                want = holder_a if loras_[0]["name"] == "style-a" else holder_b
                assert job["worker"]["replica_id"] == want
                assert _loras_stage(job)["loaded"] == []  # held there already: nothing loaded for it
                assert job["params"]["loras"] == loras_
    finally:
        serve.delete(NAME)
    print(f"[lora affinity] {time.monotonic() - started:.1f}s")
