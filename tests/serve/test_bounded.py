"""Bounded resources without Ray: open SSE streams per key and per replica, and how long a job may stay queued."""

from __future__ import annotations

import asyncio
import gc
import json
import time

import pytest
from fastapi.testclient import TestClient
from testkit import queue_job

from videogen.errors import ErrorCode, JobNotFoundError, RateLimitedError
from videogen.serve.config import VideoGenAppConfig
from videogen.serve.errors import error_headers, http_status
from videogen.serve.http_app import build_http_app
from videogen.serve.service.auth import Principal
from videogen.serve.service.videogen_service import VideoGenService
from videogen.serve.store.job_store import JobStore
from videogen.serve.store.records import JobStatus
from videogen.video.progress import Progress

ALICE = Principal("alice", "user", 16, 60)
BOB = Principal("bob", "user", 16, 60)
SAFETY_S = 10.0


def _service(tmp_path, **config) -> VideoGenService:
    svc = VideoGenService(VideoGenAppConfig(families=["wan"], state_dir=str(tmp_path), **config), workers={})
    svc.jobs.sse_fallback_s = 0.05
    return svc


def _create(store: JobStore, owner: str | None = None, dispatcher: str | None = None):
    return queue_job(
        store,
        params={"num_inference_steps": 3},
        progress=Progress.queued(total_steps=3),
        dispatcher=dispatcher,
        lease_s=60,
        owner=owner,
    )


def _open_streams(svc) -> tuple[int, dict[str, int]]:
    return svc.jobs.streams.total, dict(svc.jobs.streams.per_key)


# -- SSE stream caps -------------------------------------------------------------------------------
def test_streams_beyond_a_keys_cap_or_the_replicas_cap_are_429_until_one_closes(tmp_path):
    async def main():
        svc = _service(tmp_path, max_sse_streams=3, max_sse_streams_per_key=2)
        job = _create(svc.store, owner="alice")
        bobs = _create(svc.store, owner="bob")
        a1 = await svc.jobs.sse_stream(job.id, who=ALICE)
        a2 = await svc.jobs.sse_stream(job.id, who=ALICE)
        with pytest.raises(RateLimitedError) as err:
            await svc.jobs.sse_stream(job.id, who=ALICE)
        assert http_status(err.value) == 429 and err.value.code == ErrorCode.RATE_LIMITED
        assert (
            "max_sse_streams_per_key=2" in err.value.message and err.value.details["limit"] == "max_sse_streams_per_key"
        )
        assert error_headers(err.value) == {"Retry-After": "5"}
        b1 = await svc.jobs.sse_stream(bobs.id, who=BOB)  # another key: its own 2, but the replica's 3 are taken
        with pytest.raises(RateLimitedError) as err:
            await svc.jobs.sse_stream(bobs.id, who=BOB)
        assert "max_sse_streams=3" in err.value.message and err.value.details["limit"] == "max_sse_streams"
        assert _open_streams(svc) == (3, {"alice": 2, "bob": 1})

        assert (await a1.__anext__()).startswith("id: ")  # read, then closed by the client
        await a1.aclose()
        assert _open_streams(svc) == (2, {"alice": 1, "bob": 1})
        b2 = await svc.jobs.sse_stream(bobs.id, who=BOB)  # the freed slot is taken
        assert _open_streams(svc) == (3, {"alice": 1, "bob": 2})
        for body in (a2, b1, b2):
            await body.aclose()
        assert _open_streams(svc) == (0, {})

    asyncio.run(main())


def test_a_client_that_leaves_a_stream_nobody_reads_and_an_unknown_job_free_their_slots(tmp_path):
    async def main():
        svc = _service(tmp_path, max_sse_streams=2, max_sse_streams_per_key=2)
        job = _create(svc.store, owner="alice")
        with pytest.raises(JobNotFoundError):  # refused before the stream starts: no slot kept
            await svc.jobs.sse_stream("job_nope", who=ALICE)
        assert _open_streams(svc) == (0, {})

        body = await svc.jobs.sse_stream(job.id, who=ALICE)

        async def read():
            async for _ in body:
                pass

        reader = asyncio.ensure_future(read())  # a client reading along ...
        await asyncio.sleep(0.2)
        assert not reader.done() and _open_streams(svc)[0] == 1
        reader.cancel()  # ... disconnects: the server cancels the task that streams to it
        with pytest.raises(asyncio.CancelledError):
            await reader
        assert _open_streams(svc) == (0, {})

        never_read = await svc.jobs.sse_stream(job.id, who=ALICE)  # the response was dropped before it started
        assert _open_streams(svc)[0] == 1
        del never_read
        gc.collect()
        assert _open_streams(svc) == (0, {})
        await asyncio.sleep(0.05)  # the loop closes what the dropped stream had started reading
        assert not svc.jobs.feed.watched()  # and no subscription outlives its stream

        ended = _create(svc.store, owner="alice")
        svc.store.jobs.request_cancel(ended.id)
        assert len([c async for c in await svc.jobs.sse_stream(ended.id, who=ALICE)]) == 1  # ends with its job
        assert _open_streams(svc) == (0, {})

    asyncio.run(main())


def test_the_events_route_answers_429_with_retry_after_naming_the_limit(tmp_path, monkeypatch):
    monkeypatch.delenv("VIDEOGEN_API_KEY", raising=False)
    monkeypatch.delenv("VIDEOGEN_API_KEYS", raising=False)
    svc = _service(tmp_path, max_sse_streams_per_key=1)
    local = svc.keys.identify(None)  # no key on loopback: every HTTP caller is this one
    job = _create(svc.store, owner=local.name)
    svc.store.jobs.request_cancel(job.id)  # ended: a stream on it answers one event and closes
    held = asyncio.run(svc.jobs.sse_stream(job.id, who=local))  # opened, not yet read: it holds the one slot
    with TestClient(build_http_app(svc)) as client:
        r = client.get(f"/api/video/jobs/{job.id}/events")
        assert r.status_code == 429 and r.headers["retry-after"] == "5"
        assert (
            r.json()["error"]["code"] == "rate_limited" and "max_sse_streams_per_key=1" in r.json()["error"]["message"]
        )
        del held
        gc.collect()
        r = client.get(f"/api/video/jobs/{job.id}/events")
        assert r.status_code == 200 and json.loads(r.text.split("data: ", 1)[1])["status"] == "cancelled"
    assert _open_streams(svc) == (0, {})


# -- queue_timeout_s --------------------------------------------------------------------------------
class HoldingWorker:
    """``handle.run_job.remote(job_id)`` whose request waits in the handle's queue (never claims)."""

    def __init__(self):
        self.run_job = self
        self.responses: dict[str, asyncio.Future] = {}

    def remote(self, job_id: str):
        self.responses[job_id] = future = asyncio.get_running_loop().create_future()
        return future


def test_the_store_expires_only_jobs_queued_since_before_the_cutoff(tmp_path):
    store = JobStore(tmp_path)
    old, running = _create(store), _create(store)
    claim = store.jobs.claim(running.id, {})
    cutoff = time.time()
    fresh = _create(store)
    error = {"code": "timeout", "message": "waited"}
    assert store.jobs.expire_queued(cutoff, error) == [old.id]
    expired = store.jobs.get(old.id)
    assert expired.status == JobStatus.FAILED and expired.error == error and expired.finished_at is not None
    assert store.events.since(old.id, 0)[-1][1].status == JobStatus.FAILED  # logged: its streams see it
    assert store.jobs.get(fresh.id).status == JobStatus.QUEUED
    assert store.jobs.get(running.id).status == JobStatus.RUNNING and claim.claim_token
    assert store.jobs.expire_queued(cutoff, error) == []


def test_the_reaper_fails_jobs_queued_past_queue_timeout_s_and_takes_back_their_requests(tmp_path):
    async def main():
        svc = _service(tmp_path, queue_timeout_s=30)
        worker = HoldingWorker()
        svc.dispatcher.workers["wan"] = worker
        job = await svc.jobs.submit({"family": "wan", "prompt": "a fox", "num_inference_steps": 2})
        await asyncio.sleep(0)  # its dispatch sends the request, which waits in the handle's queue
        assert job.id in worker.responses
        await svc.dispatcher.reap_once()
        assert (await svc.jobs.get(job.id)).status == JobStatus.QUEUED  # not yet
        svc.store.db.conn().execute("UPDATE jobs SET created_at=created_at-31 WHERE id=?", (job.id,))  # 31 s later
        await svc.dispatcher.reap_once()
        failed = await svc.jobs.get(job.id)
        assert failed.status == JobStatus.FAILED and failed.error.code == "timeout"
        assert "queue_timeout_s=30s" in failed.error.message
        assert worker.responses[job.id].cancelled()  # the waiting request was withdrawn

    asyncio.run(main())


def test_without_queue_timeout_s_a_job_waits_as_long_as_it_takes(tmp_path):
    async def main():
        svc = _service(tmp_path, queue_timeout_s=None)
        job = _create(svc.store, dispatcher=svc.dispatcher.dispatcher_id)
        svc.store.db.conn().execute("UPDATE jobs SET created_at=created_at-1e7 WHERE id=?", (job.id,))  # 4 months
        assert await svc.dispatcher.expire_queued() == []
        assert svc.store.jobs.get(job.id).status == JobStatus.QUEUED
        default = _service(tmp_path / "default")
        aged = _create(default.store, dispatcher=default.dispatcher.dispatcher_id)
        default.store.db.conn().execute("UPDATE jobs SET created_at=created_at-86401 WHERE id=?", (aged.id,))
        assert await default.dispatcher.expire_queued() == [aged.id]  # the default: a day
        assert "queue_timeout_s=86400s" in default.store.jobs.get(aged.id).error["message"]

    asyncio.run(main())
