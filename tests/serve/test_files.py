"""Files in and out without Ray: an input image's format, downloads racing the retention sweep, and a /v1 delete
racing the worker that writes the job's files."""

from __future__ import annotations

import asyncio
import base64
import io
import os
import threading

import pytest
from fastapi.testclient import TestClient
from PIL import Image
from testkit import queue_job

from videogen.serve.config import VideoGenAppConfig
from videogen.serve.http_app import build_http_app
from videogen.serve.openai import serving
from videogen.serve.openai.serving import OpenAIVideos
from videogen.serve.protocol import RunOutcome
from videogen.serve.service.auth import HANDLE
from videogen.serve.service.videogen_service import VideoGenService
from videogen.serve.store.records import JobStatus
from videogen.video.outputs import output_paths

DAY = 86400.0


@pytest.fixture()
def app(tmp_path, monkeypatch):
    monkeypatch.delenv("VIDEOGEN_API_KEY", raising=False)
    monkeypatch.delenv("VIDEOGEN_API_KEYS", raising=False)
    svc = VideoGenService(VideoGenAppConfig(families=["wan"], state_dir=str(tmp_path), retention_days=1), workers={})
    with TestClient(build_http_app(svc)) as client:
        yield svc, client


def _succeeded(svc, size: int = 700_000) -> tuple[str, bytes]:
    """A succeeded job with its MP4 (``size`` bytes: several chunks) and pictures on disk."""
    store = svc.store
    job = queue_job(store, max_attempts=1, lease_s=0)
    claim = store.jobs.claim(job.id, {})
    video = os.urandom(size)
    for variant, path in output_paths(store.video_path(job.id)).items():
        path.write_bytes(video if variant == "video" else variant.encode())
    assert store.jobs.finish(job.id, claim.claim_token, JobStatus.SUCCEEDED, result={"frames": 1, "bytes": size})
    return job.id, video


def _sweep_everything(svc) -> None:
    """The retention sweep, run as if the job's retention had passed: its row, events and files go."""
    assert svc.limits.sweep(now=svc.store.jobs.list()[0][0].finished_at + 2 * DAY)


def _urls(job_id: str) -> list[str]:
    return [f"/api/video/jobs/{job_id}/video", f"/v1/videos/{job_id}/content"]


# -- downloads ---------------------------------------------------------------------------------------
def test_a_download_is_the_whole_file_and_one_byte_range_is_206(app):
    svc, client = app
    job_id, video = _succeeded(svc)
    for url in _urls(job_id):
        r = client.get(url)
        assert r.status_code == 200 and r.content == video and r.headers["content-type"] == "video/mp4"
        assert r.headers["content-length"] == str(len(video)) and r.headers["accept-ranges"] == "bytes"
        assert f'filename="{job_id}.mp4"' in r.headers["content-disposition"]
        r = client.get(url, headers={"Range": "bytes=10-19"})
        assert r.status_code == 206 and r.content == video[10:20]
        assert r.headers["content-range"] == f"bytes 10-19/{len(video)}"
        assert client.get(url, headers={"Range": "bytes=-5"}).content == video[-5:]
        assert client.get(url, headers={"Range": f"bytes={len(video) - 3}-"}).content == video[-3:]
        for ignored in ("bytes=abc", "bytes=5-1", "bytes=0-1,4-5", "items=0-1"):
            r = client.get(url, headers={"Range": ignored})
            assert r.status_code == 200 and r.content == video, ignored
        for unsatisfiable in (f"bytes={len(video)}-", "bytes=-0"):  # valid ranges that select no byte: 416
            r = client.get(url, headers={"Range": unsatisfiable})
            assert r.status_code == 416 and r.headers["content-range"] == f"bytes */{len(video)}", unsatisfiable
        r = client.get(url, params={"variant": "thumbnail"})
        assert r.status_code == 200 and r.content == b"thumbnail" and r.headers["content-type"] == "image/jpeg"


def test_the_sweep_deleting_the_file_after_it_was_opened_still_sends_it_whole(app, monkeypatch):
    svc, client = app
    opened = svc.jobs.open_output

    async def open_then_sweep(job_id, variant="video", who=HANDLE):
        file = await opened(job_id, variant, who)
        _sweep_everything(svc)  # between the check and the answer: the row and every file go
        assert not svc.store.video_path(job_id).exists()
        return file

    monkeypatch.setattr(svc.jobs, "open_output", open_then_sweep)
    for url in ("/api/video/jobs/{}/video", "/v1/videos/{}/content"):
        job_id, video = _succeeded(svc)
        r = client.get(url.format(job_id))
        assert r.status_code == 200 and r.content == video
        assert not svc.store.jobs.exists(job_id)


def test_the_sweep_deleting_the_file_before_it_opened_is_a_clean_404(app, monkeypatch):
    svc, client = app
    opening = svc.store.artifacts.open

    def sweep_then_open(key):
        _sweep_everything(svc)  # between the job's check and the open
        return opening(key)

    monkeypatch.setattr(svc.store.artifacts, "open", sweep_then_open)
    for url in ("/api/video/jobs/{}/video", "/v1/videos/{}/content"):
        job_id, _ = _succeeded(svc)
        r = client.get(url.format(job_id))
        assert r.status_code == 404, (url, r.status_code, r.text)
        assert r.json()["error"]["code"] in ("job_not_found", "not_found")  # /v1 speaks OpenAI's codes


def test_a_file_missing_while_its_job_stays_is_409_not_500(app):
    svc, client = app
    job_id, _ = _succeeded(svc)
    svc.store.video_path(job_id).unlink()
    for url in _urls(job_id):
        assert client.get(url).status_code == 409


# -- input images ----------------------------------------------------------------------------------------
def test_an_image_in_another_format_is_refused_naming_image_on_both_apis(app):
    svc, client = app
    buffer = io.BytesIO()
    Image.new("RGB", (8, 8)).save(buffer, format="GIF")
    gif = buffer.getvalue()
    r = client.post(
        "/api/video/jobs",
        json={"family": "wan", "task": "image-to-video", "prompt": "x", "image": base64.b64encode(gif).decode()},
    )
    assert r.status_code == 422 and r.json()["error"]["field"] == "image"
    assert "PNG, JPEG or WebP" in r.json()["error"]["message"]
    r = client.post("/v1/videos", data={"model": "wan", "prompt": "x"}, files={"input_reference": ("a.png", gif)})
    assert r.status_code == 400 and "PNG, JPEG or WebP" in r.json()["error"]["message"]
    assert r.json()["error"]["param"] == "input_reference"  # the field the /v1 caller sent
    assert svc.store.jobs.list()[1] == 0  # nothing was queued


# -- /v1 delete of a running job ----------------------------------------------------------------------------
@pytest.fixture()
def worker(tmp_path):
    from videogen.serve.deployment_options import worker_settings
    from videogen.serve.worker_deployment import VideoWorker

    cfg = VideoGenAppConfig(families={"wan": {"model": "tiny", "warm": []}}, state_dir=str(tmp_path))
    vw = VideoWorker(worker_settings("wan", cfg))
    yield vw, VideoGenService(cfg, workers={})
    vw._stop.set()


def _queue(store) -> str:
    return queue_job(
        store, request={"family": "wan", "prompt": "a fox", "num_inference_steps": 2, "seed": 1}, lease_s=0
    ).id


def _rows(svc, job_id: str) -> int:
    return svc.store.db.conn().execute("SELECT COUNT(*) FROM jobs WHERE id=?", (job_id,)).fetchone()[0]


def _writes_late(vw, monkeypatch) -> tuple[threading.Event, threading.Event, list[list[str]]]:
    """The worker's generation waits (past its last cancel check) until ``go``, then writes every file."""
    started, go, written = threading.Event(), threading.Event(), []
    real = vw.worker.generate

    def late(request, path, **kw):
        started.set()
        assert go.wait(60)
        result = real(request, path)
        written.append(sorted(p.name for p in path.parent.glob(f"{path.stem}.*")))
        return result

    monkeypatch.setattr(vw.worker, "generate", late)
    return started, go, written


def test_a_v1_delete_while_the_worker_runs_leaves_no_file_once_it_writes(worker, monkeypatch):
    vw, svc = worker
    monkeypatch.setattr(serving, "DELETE_WAIT_S", 0.2)  # the worker outlasts the delete's wait
    started, go, written = _writes_late(vw, monkeypatch)
    job_id = _queue(svc.store)
    outcome: list = []
    runner = threading.Thread(target=lambda: outcome.append(vw._claim_and_run(job_id)))
    runner.start()
    try:
        assert started.wait(60)
        assert asyncio.run(OpenAIVideos(svc).delete(job_id, HANDLE)).id == job_id
        assert _rows(svc, job_id) == 0
    finally:
        go.set()
        runner.join(120)
    assert written == [
        [f"{job_id}.mp4", f"{job_id}.preview.webp", f"{job_id}.spritesheet.jpg", f"{job_id}.thumbnail.jpg"]
    ]  # it did write them, after the delete ...
    assert outcome == [RunOutcome.SUPERSEDED]
    assert sorted(svc.store.videos_dir.glob(f"{job_id}*")) == []  # ... and none of them stayed


def test_a_worker_whose_job_was_handed_over_keeps_the_files_it_shares(worker, monkeypatch):
    vw, svc = worker
    started, go, written = _writes_late(vw, monkeypatch)
    job_id = _queue(svc.store)
    runner = threading.Thread(target=vw._claim_and_run, args=(job_id,))
    runner.start()
    try:
        assert started.wait(60)
        token = svc.store.jobs.get(job_id).claim_token
        assert (
            svc.store.jobs.retry_or_fail(job_id, token, "stale heartbeat", dispatcher=None, lease_s=0)
            == JobStatus.QUEUED
        )
    finally:
        go.set()
        runner.join(120)
    assert written and _rows(svc, job_id) == 1
    # Not deleted, only taken over: its next attempt writes the same paths, so nothing is removed.
    assert sorted(p.name for p in svc.store.videos_dir.glob(f"{job_id}*")) == written[0]
