"""Limits and faults without Ray (issue 9): queue bound, disk cap, retention, store busy, body size, 405, CORS,
a full disk while a video is written, and the shutdown bound (the real shutdown path: test_serve_recovery.py)."""

from __future__ import annotations

import sqlite3
import time
from pathlib import Path

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from testkit import queue_job

from videogen.errors import ErrorCode, ServiceBusyError, StorageFullError
from videogen.serve.config import VideoGenAppConfig
from videogen.serve.deployment_options import worker_deployment_options, worker_settings
from videogen.serve.errors import error_headers, http_status, install_handlers, store_error
from videogen.serve.http_guards import RequestGuards, add_cors
from videogen.serve.openai.protocol import video_from_job
from videogen.serve.protocol import Job
from videogen.serve.service.limits import Limits
from videogen.serve.store.bounds import QueueBounds
from videogen.serve.store.job_store import JobStore
from videogen.serve.store.records import JobStatus


def _settings(tmp_path, **config):
    cfg = VideoGenAppConfig(
        families={"wan": {"model": "tiny", "max_queued_jobs": 2}, "animatediff": "tiny"},
        state_dir=str(tmp_path),
        **config,
    )
    return cfg


def _queue(store: JobStore, family: str = "wan", estimate: dict | None = None, bounds=None, owner=None) -> str:
    return queue_job(store, family=family, estimate=estimate, bounds=bounds, owner=owner).id


def test_a_full_queue_answers_503_with_retry_after_from_its_drain_time(tmp_path):
    settings = _settings(tmp_path, default_job_seconds=30)
    store = JobStore(settings.state_dir)

    def bounds(family):
        return QueueBounds(family_max_queued=settings.queue_bound(family), default_job_seconds=30)

    _queue(store, estimate={"expected_seconds": 10.0}, bounds=bounds("wan"))
    _queue(store, bounds=bounds("wan"))  # 2 of 2
    with pytest.raises(ServiceBusyError) as err:
        _queue(store, bounds=bounds("wan"))
    assert err.value.code == ErrorCode.OVERLOADED and http_status(err.value) == 503
    assert error_headers(err.value) == {"Retry-After": "40"}  # 10 s estimated + 30 s default
    assert "max_queued_jobs=2" in err.value.message
    assert store.jobs.counts()["wan"] == {"queued": 2}  # the refused one wrote nothing
    _queue(store, family="animatediff", bounds=bounds("animatediff"))  # the app-wide bound (64) for the other family


def test_the_disk_cap_and_the_free_space_floor_refuse_new_jobs_with_507(tmp_path):
    store = JobStore(tmp_path)
    (store.videos_dir / "big.mp4").write_bytes(b"x" * 4096)
    with pytest.raises(StorageFullError) as err:
        Limits(_settings(tmp_path, max_state_dir_gb=1e-6), store).check_disk()
    assert http_status(err.value) == 507 and "max_state_dir_gb" in err.value.message
    with pytest.raises(StorageFullError) as err:
        Limits(_settings(tmp_path, min_free_disk_gb=10**9), store).check_disk()
    assert "min_free_disk_gb" in err.value.message
    Limits(_settings(tmp_path), store).check_disk()  # the defaults pass on this machine


def test_retention_sweeps_ended_jobs_records_events_and_files_and_jobs_say_when(tmp_path):
    settings = _settings(tmp_path, retention_days=1)
    store = JobStore(settings.state_dir)
    limits = Limits(settings, store)
    old, recent, queued = _queue(store), _queue(store), _queue(store, family="animatediff")
    for job_id in (old, recent):
        store.jobs.fail(job_id, {"code": "timeout", "message": "x"})
        store.video_path(job_id).write_bytes(b"mp4")
    with store.db.tx() as conn:
        conn.execute("UPDATE jobs SET finished_at=? WHERE id=?", (time.time() - 2 * 86400, old))
    days = settings.retention_days
    rec = store.jobs.get(recent)
    assert Job.from_record(rec, days).expires_at == pytest.approx(rec.finished_at + 86400)
    assert Job.from_record(rec).expires_at is None  # no retention: never expires
    assert Job.from_record(store.jobs.get(queued), days).expires_at is None  # still going
    # /v1/videos says the same (whole seconds, as OpenAI's Video does).
    assert video_from_job(Job.from_record(rec, days).wire()).expires_at == int(rec.finished_at + 86400)
    assert video_from_job(Job.from_record(store.jobs.get(queued), days).wire()).expires_at is None
    assert limits.sweep() == [old]
    assert not store.video_path(old).exists() and store.video_path(recent).exists()
    assert store.db.conn().execute("SELECT COUNT(*) FROM events WHERE job_id=?", (old,)).fetchone()[0] == 0
    assert {j.id for j in store.jobs.list(limit=10)[0]} == {recent, queued}
    assert Limits(_settings(tmp_path, retention_days=None), store).sweep() == []


def _app(max_body_bytes: int = 1000, cors_origins: list[str] | None = None, db_path=None) -> TestClient:
    api = FastAPI()
    install_handlers(api)
    api.add_middleware(RequestGuards, max_body_bytes=max_body_bytes)
    add_cors(api, cors_origins or [])

    @api.get("/jobs/{job_id}")
    async def get_job(job_id: str):
        return {"id": job_id}

    @api.delete("/jobs/{job_id}")
    async def cancel_job(job_id: str):
        return {"id": job_id}

    @api.post("/jobs")
    async def create(body: dict):
        return {"n": len(body)}

    @api.post("/write")
    def write():
        conn = sqlite3.connect(db_path, timeout=0.1, isolation_level=None)
        conn.execute("BEGIN IMMEDIATE")  # another writer holds the lock past this timeout
        return {}

    return TestClient(api, raise_server_exceptions=False)


def test_the_store_busy_past_its_timeout_is_503_with_retry_after_not_500(tmp_path):
    db_path = tmp_path / "busy.sqlite3"
    holder = sqlite3.connect(db_path, isolation_level=None)
    holder.execute("CREATE TABLE t(x)")
    holder.execute("BEGIN IMMEDIATE")
    try:
        r = _app(db_path=db_path).post("/write")
    finally:
        holder.execute("ROLLBACK")
    assert r.status_code == 503, r.text
    assert r.json()["error"]["code"] == "store_busy" and int(r.headers["Retry-After"]) >= 1
    full = store_error(sqlite3.OperationalError("database or disk is full"))
    assert http_status(full) == 507
    assert store_error(sqlite3.OperationalError("no such table: x")) is None  # a bug stays a 500


def test_bodies_over_the_limit_get_413_before_they_are_read_whole():
    client = _app(max_body_bytes=1000)
    assert client.post("/jobs", json={"a": "x" * 10}).status_code == 200
    r = client.post("/jobs", content=b'{"a": "' + b"x" * 5000 + b'"}', headers={"content-type": "application/json"})
    assert r.status_code == 413 and r.json()["error"]["code"] == "too_large"

    def chunks():  # no Content-Length: counted as it streams
        for _ in range(10):
            yield b"x" * 500

    r = client.post("/jobs", content=chunks(), headers={"content-type": "application/json"})
    assert r.status_code == 413


def test_a_wrong_method_is_405_naming_every_method_of_the_path():
    client = _app()
    for method in ("OPTIONS", "PATCH", "PUT", "POST"):
        r = client.request(method, "/jobs/abc")
        assert r.status_code == 405, method
        assert set(r.headers["Allow"].split(", ")) == {"GET", "DELETE"}
        assert r.json()["error"]["code"] == "method_not_allowed"
    assert client.get("/nowhere").status_code == 404


def test_cors_is_off_by_default_and_configurable():
    preflight = {"Origin": "https://ui.example", "Access-Control-Request-Method": "GET"}
    r = _app().options("/jobs/abc", headers=preflight)
    assert "access-control-allow-origin" not in r.headers
    r = _app(cors_origins=["https://ui.example"]).options("/jobs/abc", headers=preflight)
    assert r.status_code == 200 and r.headers["access-control-allow-origin"] == "https://ui.example"


# -- the worker replica ----------------------------------------------------------------------
@pytest.fixture()
def worker(tmp_path):
    from videogen.serve.worker_deployment import VideoWorker

    cfg = VideoGenAppConfig(families={"wan": {"model": "tiny", "warm": []}}, state_dir=str(tmp_path))
    vw = VideoWorker(worker_settings("wan", cfg))
    yield vw
    vw._stop.set()


def test_a_full_disk_while_the_video_is_written_fails_the_job_with_a_reason_and_the_replica_serves_on(worker):
    """The real path: the videos directory is a small tmpfs (or a file-size limit on ffmpeg where mounting is
    refused, see tests/small_disk.py), filled; the tiny model's real encode fails there."""
    from small_disk import small_disk

    from videogen.video.encode import read_mp4

    with small_disk(worker.store.videos_dir) as disk:
        disk.fill(leave=0)
        job_id = _queue(worker.store)
        assert worker._claim_and_run(job_id) == JobStatus.FAILED
        job = worker.store.jobs.get(job_id)
        assert job.error["code"] == "storage_full" and "disk is full" in job.error["message"]
        assert f"{job_id}.mp4 could not be written" in job.error["message"]
        assert job.error["details"]["ffmpeg_exit"] != 0 and job.error["details"]["file"] == f"{job_id}.mp4"
        # The job (which its caller reads) names neither the server's paths nor ffmpeg's log.
        assert str(worker.store.state_dir) not in str(job.error)
        assert "path" not in job.error["details"] and "ffmpeg_stderr" not in job.error["details"]
        assert disk.files() == []  # no partial video, no empty MP4, no pictures
        worker.check_health()  # the replica stays healthy and takes the next job
        disk.free()
        next_id = _queue(worker.store)
        assert worker._claim_and_run(next_id) == JobStatus.SUCCEEDED
        frames, _ = read_mp4(worker.store.video_path(next_id))
        assert len(frames) == worker.store.jobs.get(next_id).result["frames"] > 0
        assert not list(worker.store.videos_dir.glob(f"{job_id}*"))


def test_the_shutdown_bound_follows_the_job_bound_unless_set():
    """A stopping worker waits for its running job as long as the job may run (issue 18: a scale-down never
    kills a running job); an operator's shutdown_timeout_s bounds it instead."""
    cfg = VideoGenAppConfig(families=["wan"], job_timeout_s=1200)
    assert worker_deployment_options("wan", cfg)["graceful_shutdown_timeout_s"] == 1260
    # deploy/README states the default the code has.
    doc = (Path(__file__).resolve().parents[2] / "deploy" / "README.md").read_text()
    assert "`graceful_shutdown_timeout_s` = `shutdown_timeout_s`, by default `job_timeout_s` + 60 s" in doc
    cfg = VideoGenAppConfig(families=["wan"], shutdown_timeout_s=5)
    assert worker_deployment_options("wan", cfg)["graceful_shutdown_timeout_s"] == 5


def test_a_wrong_method_on_the_real_app_names_every_method_of_the_path(tmp_path):
    """The per-replica app (routers included) answers 405 with every method of the path, on /api and /v1."""
    from videogen.serve.http_app import build_http_app
    from videogen.serve.service.videogen_service import VideoGenService

    svc = VideoGenService(VideoGenAppConfig(families=["wan"], state_dir=str(tmp_path)), workers={})
    client = TestClient(build_http_app(svc), raise_server_exceptions=False)
    for method, path, allowed in (
        ("PUT", "/v1/videos", {"GET", "POST"}),
        ("PATCH", "/v1/videos/job_x", {"GET", "DELETE"}),
        ("PATCH", "/api/video/jobs/job_x", {"GET", "DELETE"}),
        ("PUT", "/api/video/jobs", {"GET", "POST"}),
    ):
        r = client.request(method, path)
        assert r.status_code == 405 and set(r.headers["Allow"].split(", ")) == allowed, (method, path, r.headers)
