"""The job store and the ingress logic that needs no Ray: claims, retries, leases, events, auth, validation."""

from __future__ import annotations

import json
import threading
import time

import pytest

from videogen.errors import InvalidRequestError, JobNotFoundError, UnknownFamilyError
from videogen.serve.errors import UnauthorizedError, validation_error
from videogen.serve.jobs import JobStore
from videogen.serve.serving import VideoGenService
from videogen.video.request import VideoRequest


@pytest.fixture()
def store(tmp_path):
    return JobStore(tmp_path)


def _create(store, dispatcher="d1", **kw):
    return store.create(
        family="wan", task="text-to-video", request={"prompt": "x"}, image=None, model={"source": "tiny"},
        params={"num_inference_steps": 2}, adjustments=[], progress={"stage": "queued", "percent": 0.0},
        max_attempts=kw.pop("max_attempts", 2), dispatcher=dispatcher, lease_s=kw.pop("lease_s", 15), **kw,
    )


def test_a_job_dispatched_twice_is_claimed_once(tmp_path):
    store = JobStore(tmp_path)
    job = _create(store)
    wins = []

    def claim(i):
        rec = JobStore(tmp_path).claim(job["id"], {"replica_id": f"r{i}"})
        if rec:
            wins.append(rec["claim_token"])

    threads = [threading.Thread(target=claim, args=(i,)) for i in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(wins) == 1
    rec = store.get_record(job["id"])
    assert rec["status"] == "running" and rec["attempts"] == 1 and rec["claim_token"] == wins[0]


def test_a_stale_worker_cannot_write_after_its_job_was_retried(store):
    job = _create(store)
    first = store.claim(job["id"], {"replica_id": "a"})
    assert store.retry_or_fail(job["id"], first["claim_token"], "worker died", dispatcher="d2", lease_s=15) == "queued"
    second = store.claim(job["id"], {"replica_id": "b"})
    assert second["attempts"] == 2
    assert not store.update_progress(job["id"], first["claim_token"], {"stage": "denoising", "percent": 50})
    assert not store.finish(job["id"], first["claim_token"], "succeeded", result={})
    assert store.should_stop(job["id"], first["claim_token"]) and not store.should_stop(job["id"], second["claim_token"])
    # The second death is the last: failed with a reason.
    assert store.retry_or_fail(job["id"], second["claim_token"], "worker died again", dispatcher="d2", lease_s=15) == "failed"
    final = store.get(job["id"])
    assert final["status"] == "failed" and final["error"]["code"] == "worker_died" and len(final["history"]) == 2
    assert final["finished_at"] is not None


def test_cancel_queued_and_running(store):
    queued = _create(store)
    assert store.request_cancel(queued["id"])["status"] == "cancelled"
    assert store.claim(queued["id"], {}) is None  # never runs
    running = _create(store)
    rec = store.claim(running["id"], {})
    job = store.request_cancel(running["id"])
    assert job["status"] == "running" and job["cancel_requested"]
    assert store.should_stop(running["id"], rec["claim_token"])
    with pytest.raises(JobNotFoundError):
        store.request_cancel("nope")


def test_leases_and_orphans(store):
    job = _create(store, dispatcher="dead", lease_s=0.05)
    assert store.orphaned_queued("alive") == []
    time.sleep(0.1)
    assert store.orphaned_queued("alive") == [job["id"]]
    assert store.acquire_lease(job["id"], "alive", 15)
    assert not store.acquire_lease(job["id"], "third", 15)
    assert store.orphaned_queued("third") == []


def test_stale_heartbeat_found(store):
    job = _create(store)
    rec = store.claim(job["id"], {})
    assert store.stale_running(5) == []
    assert store.heartbeat(job["id"], rec["claim_token"])
    time.sleep(0.05)
    assert store.stale_running(0.01) == [(job["id"], rec["claim_token"])]


def test_events_replay_every_change_in_order(store):
    job = _create(store)
    rec = store.claim(job["id"], {})
    for stage in ("loading", "denoising", "decoding"):
        store.update_progress(job["id"], rec["claim_token"], {"stage": stage, "percent": 10})
    store.finish(job["id"], rec["claim_token"], "succeeded", result={"frames": 1, "width": 8, "height": 8, "fps": 8, "bytes": 1})
    events = store.events_since(job["id"], 0)
    stages = [json.loads(d)["progress"]["stage"] for _, d in events]
    assert stages[0] == "queued" and stages[2:5] == ["loading", "denoising", "decoding"]
    assert json.loads(events[-1][1])["status"] == "succeeded"
    assert json.loads(events[-1][1])["result"]["video_url"].endswith(f"/{job['id']}/video")
    snap, seq = store.snapshot(job["id"])
    assert seq == events[-1][0] and snap["status"] == "succeeded"


def test_jobs_persist_across_store_instances(tmp_path):
    job = _create(JobStore(tmp_path))
    again = JobStore(tmp_path)
    assert again.get(job["id"])["id"] == job["id"]
    jobs, total = again.list(limit=5)
    assert total == 1 and jobs[0]["id"] == job["id"]


def _service(tmp_path, **settings):
    base = {"families": {"wan": {"model": "tiny", "deployment": "VideoWorker_wan"},
                         "animatediff": {"model": "tiny", "deployment": "VideoWorker_animatediff"}},
            "state_dir": str(tmp_path)}
    return VideoGenService({**base, **settings}, workers={})


def test_api_key(tmp_path, monkeypatch):
    monkeypatch.delenv("VIDEOGEN_API_KEY", raising=False)
    open_svc = _service(tmp_path)
    open_svc.check_auth(None)
    svc = _service(tmp_path, api_key="s3cret")
    svc.check_auth("Bearer s3cret")
    for bad in (None, "Bearer nope", "s3cret", "Basic s3cret"):
        with pytest.raises(UnauthorizedError):
            svc.check_auth(bad)
    monkeypatch.setenv("VIDEOGEN_API_KEY", "from-env")
    _service(tmp_path).check_auth("Bearer from-env")


def test_validation_without_torch(tmp_path, png_b64):
    svc = _service(tmp_path)
    with pytest.raises(UnknownFamilyError) as info:
        svc.validate(VideoRequest(family="ltx-video", prompt="x"))
    assert info.value.allowed == ["wan", "animatediff"]
    with pytest.raises(InvalidRequestError) as info:
        svc.validate(VideoRequest(family="animatediff", task="image-to-video", prompt="x", image=png_b64))
    assert info.value.field == "task" and info.value.allowed == ["text-to-video"]
    prepared = svc.validate(VideoRequest(family="wan", prompt="x", num_frames=10))
    assert prepared.params["num_frames"] == 9 and prepared.params["height"] == 32  # tiny defaults
    assert [a.field for a in prepared.adjustments] == ["num_frames"]
    small = _service(tmp_path, max_image_bytes=1024)
    with pytest.raises(InvalidRequestError) as info:
        small.validate(VideoRequest(family="wan", task="image-to-video", prompt="x", image="A" * 4000))
    assert info.value.field == "image"


def test_pydantic_errors_name_the_field_and_the_bound():
    status, body = validation_error(
        [{"type": "less_than_equal", "loc": ("body", "num_frames"), "msg": "Input should be less than or equal to 1024",
          "ctx": {"le": 1024}}]
    )
    assert status == 422
    assert body["error"] == {"code": "invalid_request", "message": "num_frames: Input should be less than or equal to 1024",
                             "field": "num_frames", "allowed": {"le": 1024}}


def test_overdue_jobs_fail_and_images_are_dropped_at_the_end(store):
    job = store.create(
        family="wan", task="image-to-video", request={"prompt": "x"}, image="QUJD", model=None, params=None,
        adjustments=[], progress={"stage": "queued", "percent": 0.0}, max_attempts=2, dispatcher="d", lease_s=15,
    )
    rec = store.claim(job["id"], {})
    assert rec["image"] == "QUJD"
    assert store.overdue_running(3600) == []
    time.sleep(0.02)
    assert store.overdue_running(0.01) == [(job["id"], rec["claim_token"])]
    assert store.fail_claim(job["id"], rec["claim_token"], "timeout", "too long")
    final = store.get_record(job["id"])
    assert final["status"] == "failed" and final["error"]["code"] == "timeout" and final["image"] is None
    assert not store.finish(job["id"], rec["claim_token"], "succeeded", result={})  # the hung worker cannot win
