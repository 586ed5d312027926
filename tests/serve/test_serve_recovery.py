"""Jobs are never lost: an ingress restart, a killed worker, both at once."""

from __future__ import annotations

import asyncio
import time

import pytest
import ray
from serve_helpers import ingress_replica_ids, replica_actor, wait_job, wait_job_tolerant, wait_until

from videogen.serve.service.dispatch import _replica_gone

pytestmark = pytest.mark.serve

# TextToVideoSD's tiny UNet3D is the slowest tiny model: ~60 ms a step at 32x32.
SLOW = "text-to-video-sd"


def _post(client, steps: int = 2, family: str = SLOW) -> dict:
    r = client.post(
        "/api/video/jobs", json={"family": family, "prompt": "a slow boat", "seed": 5, "num_inference_steps": steps}
    )
    assert r.status_code == 202, r.text
    return r.json()


def _running(client, job_id: str) -> dict | None:
    job = client.get(f"/api/video/jobs/{job_id}").json()
    return job if job["status"] == "running" and job["progress"]["stage"] == "denoising" else None


def _kill_ingress(client) -> str:
    old = client.get("/api/video/runtime").json()["ingress"]["dispatcher"]
    for replica_id in ingress_replica_ids():
        ray.kill(replica_actor(replica_id), no_restart=True)
    return old


def _new_ingress(client, old_dispatcher: str) -> dict:
    return wait_until(
        lambda: (rt := client.get("/api/video/runtime").json())["ingress"]["dispatcher"] != old_dispatcher and rt,
        timeout=60,
        poll=0.5,
    )


def test_jobs_survive_an_ingress_restart(client):
    done = wait_job(client, _post(client)["id"])
    assert done["status"] == "succeeded"
    long = _post(client, steps=80)
    waiting = _post(client)  # queued behind it: only the dead ingress was dispatching it
    wait_until(lambda: _running(client, long["id"]), timeout=30)

    old = _kill_ingress(client)
    started = time.monotonic()
    _new_ingress(client, old)

    again = client.get(f"/api/video/jobs/{done['id']}").json()
    assert again["status"] == "succeeded" and again["stages"] == done["stages"]
    assert client.get(done["result"]["video_url"]).content[4:8] == b"ftyp"
    listed = [j["id"] for j in client.get("/api/video/jobs", params={"limit": 200}).json()["jobs"]]
    assert {done["id"], long["id"], waiting["id"]} <= set(listed)

    long_final = wait_job_tolerant(client, long["id"], timeout=60)
    assert long_final["status"] == "succeeded" and long_final["attempts"] == 1  # its worker kept going
    waiting_final = wait_job_tolerant(client, waiting["id"], timeout=60)
    assert waiting_final["status"] == "succeeded", waiting_final
    assert time.monotonic() - started < 60


def test_a_killed_worker_job_is_retried_within_60s(client):
    job = _post(client, steps=60)
    running = wait_until(lambda: _running(client, job["id"]), timeout=30)
    victim = running["worker"]["replica_id"]
    # Jobs go to workers over Serve's gRPC transport, which reports a dead replica as merely unavailable: the
    # dispatcher asks Ray about the replica's actor (alive now, dead once killed).
    assert not asyncio.run(_replica_gone(running["worker"], 10))
    ray.kill(replica_actor(victim), no_restart=True)
    started = time.monotonic()
    assert asyncio.run(_replica_gone(running["worker"], 10))
    final = wait_job_tolerant(client, job["id"], timeout=60)
    elapsed = time.monotonic() - started
    assert final["status"] == "succeeded", final
    assert final["attempts"] == 2 and elapsed < 60
    # Found dead on the call's failure, not left to the heartbeat reaper.
    assert final["history"][0]["worker"]["replica_id"] == victim and "died" in final["history"][0]["reason"]
    assert final["worker"]["replica_id"] != victim
    # The replacement replica serves the next job too.
    assert wait_job(client, _post(client)["id"])["status"] == "succeeded"


def test_worker_and_ingress_dying_together_the_heartbeat_reaper_recovers(client):
    job = _post(client, steps=60)
    running = wait_until(lambda: _running(client, job["id"]), timeout=30)
    victim = running["worker"]["replica_id"]
    old = _kill_ingress(client)
    ray.kill(replica_actor(victim), no_restart=True)
    started = time.monotonic()
    _new_ingress(client, old)
    final = wait_job_tolerant(client, job["id"], timeout=60)
    elapsed = time.monotonic() - started
    assert final["status"] in ("succeeded", "failed"), final
    assert elapsed < 60
    assert final["history"] and final["history"][0]["worker"]["replica_id"] == victim
    assert "heartbeat" in final["history"][0]["reason"]  # nobody saw it die: the reaper found it
    if final["status"] == "succeeded":
        assert final["attempts"] == 2
    else:
        assert final["error"]["code"] == "worker_died"


def _alive(replica_id: str) -> bool:
    try:
        replica_actor(replica_id)
    except ValueError:
        return False
    return True


def test_an_app_shut_down_by_serve_mid_job_loses_nothing(ray_session, tmp_path):
    """Serve's own shutdown path, not a kill: ``serve.delete`` of an app whose worker replica runs a job.

    Ray 2.60 stops a replica with ``perform_graceful_shutdown``: it waits for the replica's ongoing requests (here
    the job's ``run_job`` call) and the controller force-kills the replica once ``graceful_shutdown_timeout_s``
    (our ``shutdown_timeout_s``) has passed; ``__del__`` only runs after that wait, so a job still running never
    reaches it. The job stays in the store, running under a claim nobody heart-beats, and the next ingress on the
    same state directory re-queues it with the reason and runs it again.
    """
    import httpx
    from ray import serve

    from videogen.serve.builder import build_app
    from videogen.serve.store.job_store import JobStore

    name, prefix = "videogen-shutdown", "/shutdown"
    args = {
        "families": {SLOW: {"model": "tiny", "warm": ["text-to-video"]}},  # the one task it runs, at each start
        "num_gpus": 0,
        "state_dir": str(tmp_path),
        "shutdown_timeout_s": 2,
        "heartbeat_timeout_s": 4,
        "worker_defaults": {"ray_actor_options": {"num_cpus": 0.1}},
    }
    base_url = f"http://127.0.0.1:{ray_session['port']}{prefix}"
    serve.run(build_app(args), name=name, route_prefix=prefix)
    try:
        with httpx.Client(base_url=base_url, timeout=30) as c:
            # Long enough (the most steps allowed, 4x the pixels) to be running still when the grace period ends.
            r = c.post(
                "/api/video/jobs",
                json={
                    "family": SLOW,
                    "prompt": "a slow boat",
                    "seed": 5,
                    "height": 64,
                    "width": 64,
                    "num_inference_steps": 200,
                },
            )
            assert r.status_code == 202, r.text
            job = r.json()
            victim = wait_until(lambda: _running(c, job["id"]), timeout=30)["worker"]["replica_id"]
        started = time.monotonic()
        serve.delete(name)  # Serve stops the ingress and the worker replica, each gracefully
        assert time.monotonic() - started < 2 + 20  # the worker's grace period, plus the controller's own pace
        assert not _alive(victim)
        left = JobStore(tmp_path).jobs.get(job["id"])
        # Not finished, and not lost either. Serve stops both replicas at once: an ingress that outlives the worker
        # by a moment sees its handle call fail with the replica's death and re-queues the job itself ("died");
        # else the job stays running under a claim nobody heart-beats, for the next ingress ("heartbeat").
        # (A job re-queued has a queued job's progress, no step yet: None.)
        assert left.status in ("running", "queued") and (left.progress.step or 0) < 200, left
        reason = "heartbeat" if left.status == "running" else "died while running it"

        serve.run(build_app(args), name=name, route_prefix=prefix)  # the app again, on the same state directory
        with httpx.Client(base_url=base_url, timeout=30) as c:
            again = wait_until(lambda: _running(c, job["id"]), timeout=60)
            (ended,) = again["history"]
            assert ended["worker"]["replica_id"] == victim and reason in ended["reason"], ended
            assert again["attempts"] == 2 and again["worker"]["replica_id"] != victim
            c.delete(f"/api/video/jobs/{job['id']}")  # a second long run proves nothing more
            assert wait_job(c, job["id"], timeout=30)["status"] == "cancelled"
    finally:
        serve.delete(name)
