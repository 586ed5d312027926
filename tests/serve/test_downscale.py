"""A scale-down never kills a running job (issue 18).

Serve picks the replicas a scale-down stops without looking at their load (on one node: the newest first) and
force-kills them after ``graceful_shutdown_timeout_s``. VideoGen sets that to as long as a job may run
(``job_timeout_s`` + 60 s unless ``shutdown_timeout_s`` says otherwise), so the stopped replica finishes its job.

One small app on the session's cluster: tiny Wan on two worker replicas, both running a long job, then scaled
to one through Serve's external scaling API (what an external autoscaler calls; ``external_scaler_enabled``).
Both replicas are busy, so the replica Serve stops is running a job: both jobs must succeed on their first
attempt, with no retry, and one of the two replicas must be gone afterwards. (With `shutdown_timeout_s: 1` the
same test fails: the stopped replica's job is killed and runs a second attempt.)
"""

from __future__ import annotations

import time

import pytest
from serve_helpers import wait_job, wait_until

pytestmark = pytest.mark.serve  # a real local Ray: never beside another Ray run (make test runs these serially)

NAME, PREFIX = "videogen-downscale", "/downscale"
# Long enough that the scale-down lands mid-job on this CPU (the stop and its wait take a few seconds), short
# enough to keep the test small.
LONG = {"num_inference_steps": 200, "num_frames": 25, "width": 64, "height": 64}


def _replica_alive(replica_id: str) -> bool:
    import ray

    names = {a["name"] for a in ray.util.list_named_actors(all_namespaces=True)}
    return f"SERVE_REPLICA::{replica_id}" in names


def test_scaling_down_lets_the_running_job_finish_once(ray_session, tmp_path):
    import httpx
    import ray
    from ray import serve
    from ray.serve._private.common import DeploymentID

    from videogen.serve.builder import build_app

    args = {
        "families": {"wan": {"model": "tiny", "deployment": {"num_replicas": 2}}},
        "num_gpus": 0,
        "state_dir": str(tmp_path / "state"),
        "job_timeout_s": 240,  # no shutdown_timeout_s: a stopping replica waits for its job (up to 300 s)
        "worker_defaults": {"ray_actor_options": {"num_cpus": 0.1}},
    }
    serve.run(build_app(args), name=NAME, route_prefix=PREFIX, external_scaler_enabled=True)
    try:
        with httpx.Client(base_url=f"http://127.0.0.1:{ray_session['port']}{PREFIX}", timeout=60) as c:
            ids = []
            for seed in (1, 2):
                r = c.post(
                    "/api/video/jobs",
                    json={"family": "wan", "prompt": "a long walk", "seed": seed, **LONG},
                )
                assert r.status_code == 202, r.text
                ids.append(r.json()["id"])

            def both_running():
                jobs = [c.get(f"/api/video/jobs/{i}").json() for i in ids]
                if all(j["status"] == "running" and ((j.get("progress") or {}).get("step") or 0) >= 1 for j in jobs):
                    return jobs
                return None

            running = wait_until(both_running, timeout=120, poll=0.2)
            replicas = {j["worker"]["replica_id"] for j in running}
            assert len(replicas) == 2, running  # one job per replica: whichever Serve stops is busy

            controller = ray.get_actor("SERVE_CONTROLLER_ACTOR", namespace="serve")
            ray.get(
                controller.update_deployment_replicas.remote(DeploymentID(name="VideoWorker_wan", app_name=NAME), 1)
            )
            scaled_at = time.monotonic()
            steps_then = [c.get(f"/api/video/jobs/{i}").json()["progress"]["step"] for i in ids]

            done = [wait_job(c, i, timeout=240) for i in ids]
            for job in done:
                assert job["status"] == "succeeded", job
                assert job["attempts"] == 1 and job["history"] == [], job  # ran once: never killed, never retried
            # The scale-down happened: one of the two busy replicas is gone once its job ended.
            wait_until(lambda: sum(_replica_alive(r) for r in replicas) == 1, timeout=120)
            print(
                f"[downscale] scaled to one at steps {steps_then} of {LONG['num_inference_steps']}; both jobs done "
                f"{time.monotonic() - scaled_at:.1f}s later"
            )
            assert max(steps_then) < LONG["num_inference_steps"]  # the scale-down came while both were running
    finally:
        serve.delete(NAME)
