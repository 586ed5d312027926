"""What the ingress does, without Ray: auth, validation, submit/dispatch, cancel, wait, SSE, the reaper.

A fake worker handle stands in for the worker deployment: it claims and
finishes jobs through the store, as ``VideoWorker.run_job`` does.
"""

from __future__ import annotations

import asyncio
import json

import pytest
from testkit import queue_job

from videogen.errors import InvalidRequestError, JobStateError, UnauthorizedError, UnknownFamilyError
from videogen.serve.config import VideoGenAppConfig
from videogen.serve.protocol import Job, RunOutcome
from videogen.serve.service.videogen_service import VideoGenService
from videogen.serve.store.records import JobStatus
from videogen.serve.store.replicas import ModelsReport, ReplicaState
from videogen.video.families import get_spec
from videogen.video.progress import Progress
from videogen.video.request import VideoRequest
from videogen.video.spec import TASKS, TEXT_TO_VIDEO


def _service(tmp_path, workers=None, **config) -> VideoGenService:
    cfg = VideoGenAppConfig(families=["wan", "animatediff"], state_dir=str(tmp_path), **config)
    return VideoGenService(cfg, workers=workers or {})


class _Response:
    def __init__(self, coro):
        self._task = asyncio.ensure_future(coro)

    def __await__(self):
        return self._task.__await__()

    def cancel(self):
        self._task.cancel()


class FakeWorker:
    """``handle.run_job.remote(job_id)``: claims the job and ends it (or holds it until released)."""

    def __init__(self, store, hold: bool = False):
        self.store, self.hold, self.calls = store, hold, []
        self.run_job = self
        self.release = asyncio.Event()

    def remote(self, job_id: str) -> _Response:
        self.calls.append(job_id)
        return _Response(self._run(job_id))

    async def _run(self, job_id: str) -> dict:
        if self.hold:
            await self.release.wait()
        rec = self.store.jobs.claim(job_id, {"replica_id": "fake"})
        if rec is None:
            return {"job_id": job_id, "outcome": str(RunOutcome.NOT_CLAIMED)}
        self.store.jobs.update_progress(job_id, rec.claim_token, Progress(stage="denoising", step=1, total_steps=2))
        self.store.jobs.finish(
            job_id,
            rec.claim_token,
            JobStatus.SUCCEEDED,
            progress=Progress(stage="done", percent=100),
            result={"frames": 9, "width": 32, "height": 32, "fps": 8, "bytes": 3},
        )
        return {"job_id": job_id, "outcome": str(JobStatus.SUCCEEDED)}


def test_api_key(tmp_path, monkeypatch):
    monkeypatch.delenv("VIDEOGEN_API_KEY", raising=False)
    monkeypatch.delenv("VIDEOGEN_API_KEYS", raising=False)
    assert _service(tmp_path).keys.identify(None).is_admin  # no key, loopback: the local admin
    svc = _service(tmp_path, api_key="s3cret")
    assert svc.keys.identify("Bearer s3cret").name == "admin"
    for bad in (None, "Bearer nope", "s3cret", "Basic s3cret", "Bearer "):
        with pytest.raises(UnauthorizedError):
            svc.keys.identify(bad)
    monkeypatch.setenv("VIDEOGEN_API_KEY", "from-env")
    assert _service(tmp_path).keys.identify("Bearer from-env").is_admin


def test_validation_without_torch(tmp_path, png_b64):
    svc = _service(tmp_path)
    with pytest.raises(UnknownFamilyError) as info:
        svc.jobs.validate(VideoRequest(family="ltx-video", prompt="x"))
    assert info.value.allowed == ["wan", "animatediff"]
    with pytest.raises(InvalidRequestError) as info:
        svc.jobs.validate(VideoRequest(family="animatediff", task="image-to-video", prompt="x", image=png_b64))
    assert info.value.field == "task" and info.value.allowed == ["text-to-video", "video-to-video", "control-to-video"]
    prepared = svc.jobs.validate(VideoRequest(family="wan", prompt="x", num_frames=10))
    assert prepared.params["num_frames"] == 9 and prepared.params["height"] == 32  # tiny defaults
    assert [a.field for a in prepared.adjustments] == ["num_frames"]
    small = _service(tmp_path, max_image_bytes=1024)
    with pytest.raises(InvalidRequestError) as info:
        small.jobs.validate(VideoRequest(family="wan", task="image-to-video", prompt="x", image="A" * 4000))
    assert info.value.field == "image"


def test_validation_uses_what_the_workers_reported(tmp_path):
    svc = _service(tmp_path)
    meta = {"tiny": True, "request_defaults": {"num_frames": 17, "height": 48, "width": 48, "num_inference_steps": 3}}
    svc.store.replicas.report(
        {"replica_id": "r1"},
        family="wan",
        state=ReplicaState.IDLE,
        diagnostics={},
        models=ModelsReport(describe={}, model_meta={"text-to-video": meta}),
    )
    assert svc.status.model_meta("wan", "text-to-video").request_defaults["num_frames"] == 17
    prepared = svc.jobs.validate(VideoRequest(family="wan", prompt="x"))
    assert prepared.params["num_frames"] == 17 and prepared.params["num_inference_steps"] == 3


def test_a_handle_callers_dict_is_refused_like_http(tmp_path):
    svc = _service(tmp_path)
    with pytest.raises(InvalidRequestError) as info:
        svc.jobs.parse({"family": "wan", "prompt": "x", "num_frames": 100000})
    assert info.value.field == "num_frames" and info.value.message.startswith("num_frames: ")
    with pytest.raises(InvalidRequestError) as info:
        svc.jobs.parse({"family": "wan"})
    assert info.value.to_dict()["message"] == "prompt: is required"


def test_submit_dispatch_wait_and_the_sse_stream(tmp_path):
    async def main():
        svc = _service(tmp_path)
        worker = FakeWorker(svc.store)
        svc.dispatcher.workers["wan"] = worker
        job = await svc.jobs.submit({"family": "wan", "prompt": "a fox", "seed": 3})
        assert isinstance(job, Job) and job.status == JobStatus.QUEUED and job.request["seed"] == 3
        assert job.progress.stage == "queued" and job.progress.total_steps == job.params["num_inference_steps"]
        done = await svc.jobs.wait(job.id, timeout_s=10)
        assert done.status == JobStatus.SUCCEEDED and done.result.video_url.endswith(f"/{job.id}/video")
        assert worker.calls == [job.id]
        events = [chunk async for chunk in await svc.jobs.sse_stream(job.id, 0)]
        data = [json.loads(e.split("data: ", 1)[1]) for e in events]
        # A replay from 0 gives every change in order (the log is compacted only a grace period after the end).
        assert [d["status"] for d in data] == ["queued", "running", "running", "succeeded"]
        assert [d["progress"]["stage"] for d in data] == ["queued", "runtime_diagnostics", "denoising", "done"]
        assert '"stage": "denoising"' in events[2]  # json.dumps' separators, as always
        assert data[-1]["result"]["video_url"] == done.result.video_url
        late = [chunk async for chunk in await svc.jobs.sse_stream(job.id)]
        assert len(late) == 1 and json.loads(late[0].split("data: ", 1)[1])["status"] == "succeeded"
        page = await svc.jobs.list(20, 0, "succeeded", "wan")
        assert page.total == 1 and page.jobs[0].id == job.id
        with pytest.raises(JobStateError):  # succeeded, but the fake wrote no MP4
            await svc.jobs.open_output(job.id)

    asyncio.run(main())


def test_cancel_a_waiting_job_takes_its_request_back(tmp_path):
    async def main():
        svc = _service(tmp_path)
        worker = FakeWorker(svc.store, hold=True)
        svc.dispatcher.workers["wan"] = worker
        job = await svc.jobs.submit(VideoRequest(family="wan", prompt="x"))
        await asyncio.sleep(0.1)
        cancelled = await svc.jobs.cancel(job.id)
        assert cancelled.status == JobStatus.CANCELLED and cancelled.error.code == "cancelled"
        with pytest.raises(JobStateError):
            await svc.jobs.open_output(job.id)
        await asyncio.sleep(0.1)
        assert svc.dispatcher._tasks == {}  # the dispatch task ended with its withdrawn request

    asyncio.run(main())


def test_a_family_without_workers_fails_its_jobs(tmp_path):
    async def main():
        svc = _service(tmp_path)  # no worker handles at all
        job = await svc.jobs.submit(VideoRequest(family="wan", prompt="x"))
        final = await svc.jobs.wait(job.id, timeout_s=5)
        assert final.status == JobStatus.FAILED and final.error.code == "family_not_served"

    asyncio.run(main())


def test_the_reaper_redispatches_orphans_and_retries_silent_workers(tmp_path):
    async def main():
        svc = _service(tmp_path, heartbeat_timeout_s=3)
        jobs = svc.store.jobs
        worker = FakeWorker(svc.store)
        svc.dispatcher.workers["wan"] = worker
        common = dict(params={"num_inference_steps": 2})
        orphan = queue_job(svc.store, **common, dispatcher="dead-ingress", lease_s=-1)  # its lease already ran out
        silent = queue_job(svc.store, **common, lease_s=0)
        claim = jobs.claim(silent.id, {"replica_id": "gone"})
        svc.store.db.conn().execute("UPDATE jobs SET heartbeat_at=0 WHERE id=?", (silent.id,))
        await svc.dispatcher.reap_once()
        for job_id in (orphan.id, silent.id):
            assert (await svc.jobs.wait(job_id, timeout_s=5)).status == JobStatus.SUCCEEDED
        retried = jobs.get(silent.id)
        assert retried.attempts == 2 and "heartbeat" in retried.history[0]["reason"]
        assert retried.history[0]["worker"] == {"replica_id": "gone"} and claim.claim_token != retried.claim_token

    asyncio.run(main())


def test_views_before_any_worker_reported(tmp_path):
    svc = _service(tmp_path)
    models = {m["id"]: m for m in svc.status.models()["models"]}
    assert models["wan"]["served"] and models["wan"]["effective_support_level"] == "unknown"
    assert models["ltx-video"]["served"] is False
    offered = get_spec("animatediff").tasks
    assert TEXT_TO_VIDEO in offered and len(offered) < len(TASKS)
    assert models["animatediff"]["task_support"] == {t: "unknown" if t in offered else "not_supported" for t in TASKS}
    runtime = svc.status.runtime()
    assert runtime["served_families"] == ["wan", "animatediff"] and runtime["reported_by"] is None
    assert runtime["families"]["wan"]["deployment"] == "VideoWorker_wan"


def test_a_v1_request_is_resolved_once_at_the_ingress(tmp_path, monkeypatch):
    from videogen.serve.openai.serving import OpenAIVideos
    from videogen.serve.service.auth import HANDLE
    from videogen.video.adapter import VideoPipelineAdapter

    calls = {"model_meta": 0, "resolve": 0}

    def counting(name, real):
        def call(*args, **kwargs):
            calls[name] += 1
            return real(*args, **kwargs)

        return call

    async def main():
        svc = _service(tmp_path)
        svc.dispatcher.workers["wan"] = FakeWorker(svc.store)
        monkeypatch.setattr(svc.status, "model_meta", counting("model_meta", svc.status.model_meta))
        monkeypatch.setattr(
            VideoPipelineAdapter, "resolve_params", counting("resolve", VideoPipelineAdapter.resolve_params)
        )
        video = await OpenAIVideos(svc).create(
            {"model": "wan", "prompt": "a fox", "seconds": "1", "size": "50x40"}, HANDLE
        )
        assert calls == {"model_meta": 1, "resolve": 1}  # before: the served model's meta 3 times, resolved twice
        rec = svc.store.jobs.get(video.id)
        assert [a["field"] for a in rec.adjustments][:2] == ["seconds", "size"]  # /v1's own, listed first
        assert (rec.params["width"], rec.params["height"]) == (48, 48) and rec.request["seed"] == rec.params["seed"]

    asyncio.run(main())
