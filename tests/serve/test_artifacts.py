"""The artifact store (``videogen.serve.artifacts``): the same contract on the local disk and on a real S3 server
(SeaweedFS, started by ``tests/s3_server.py``), downloads with byte ranges over real HTTP, presigned redirects,
a worker's upload before its result is committed, and what a failed upload leaves (nothing)."""

from __future__ import annotations

import asyncio
import contextlib
import os
import threading
import time

import httpx
import pytest
from fastapi.testclient import TestClient
from testkit import queue_job

from videogen.errors import ArtifactUploadError
from videogen.serve.artifacts.config import ArtifactsConfig
from videogen.serve.artifacts.stores import open_artifacts
from videogen.serve.config import VideoGenAppConfig
from videogen.serve.http_app import build_http_app
from videogen.serve.service.videogen_service import VideoGenService
from videogen.serve.store.records import JobStatus
from videogen.video.outputs import VARIANTS, output_paths


@pytest.fixture(params=["local", "s3"])
def artifacts(request, tmp_path) -> dict:
    """An ``artifacts:`` config: the local default, or the session's SeaweedFS under a prefix of this test's own."""
    if request.param == "local":
        return {}
    return request.getfixturevalue("s3_server").artifacts(prefix=f"tests/{tmp_path.name}")


def _service(tmp_path, artifacts: dict, **settings) -> VideoGenService:
    cfg = VideoGenAppConfig(families=["wan"], state_dir=str(tmp_path), artifacts=artifacts, **settings)
    return VideoGenService(cfg, workers={})


def _rendered(video_path, video: bytes) -> None:
    """The files a worker renders for a job: the MP4 and its three pictures, on this node's disk."""
    for variant, path in output_paths(video_path).items():
        path.write_bytes(video if variant == "video" else variant.encode())


_RESULT = {"frames": 1, "width": 8, "height": 8, "fps": 8}


def _succeeded(svc, size: int = 300_000) -> tuple[str, bytes]:
    """A succeeded job whose files went through the worker's path: rendered, committed, then finished."""
    store = svc.store
    job = queue_job(store, max_attempts=1, lease_s=0)
    claim = store.jobs.claim(job.id, {})
    video = os.urandom(size)
    _rendered(store.video_path(job.id), video)
    store.artifacts.commit_outputs(job.id)
    assert store.jobs.finish(job.id, claim.claim_token, JobStatus.SUCCEEDED, result=_RESULT | {"bytes": size})
    return job.id, video


async def _collect(chunks) -> bytes:
    return b"".join([c async for c in await chunks])


@contextlib.contextmanager
def serve_http(app):
    """The app behind a real HTTP server (uvicorn on a free loopback port), for a real client."""
    import uvicorn

    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=0, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started:
        assert thread.is_alive() and time.monotonic() < deadline, "uvicorn did not start"
        time.sleep(0.01)
    try:
        yield f"http://127.0.0.1:{server.servers[0].sockets[0].getsockname()[1]}"
    finally:
        server.should_exit = True
        thread.join(30)


def _closed_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]  # nothing listens once it is closed


# -- one contract, two stores -------------------------------------------------------------------------
def test_put_get_range_open_list_delete(artifacts, tmp_path):
    store = open_artifacts(ArtifactsConfig(**artifacts), tmp_path)
    data = os.urandom(300_000)
    source = tmp_path / "render.bin"
    source.write_bytes(data)
    store.put_file("videos/a.mp4", source, "video/mp4")
    store.put_bytes("inputs/a.json", b'{"image": "x"}', "application/json")
    assert store.get_bytes("videos/a.mp4") == data and store.get_bytes("inputs/a.json") == b'{"image": "x"}'
    assert store.get_range("videos/a.mp4", 100, 200) == data[100:200]
    assert store.list("videos") == ["videos/a.mp4"] and store.list("inputs") == ["inputs/a.json"]
    opened = store.open("videos/a.mp4")
    assert opened.size == len(data) and opened.etag and opened.presigned_url is None
    assert asyncio.run(_collect(opened.read(7, len(data)))) == data[7:]
    store.delete(["videos/a.mp4", "videos/never-written.mp4"])  # an absent key is no error
    assert store.list("videos") == [] and store.list("inputs") == ["inputs/a.json"]
    for missing in (store.get_bytes, store.open):
        with pytest.raises(FileNotFoundError):
            missing("videos/a.mp4")


def test_downloads_stream_ranges_over_http_and_delete_removes_every_file(artifacts, tmp_path):
    svc = _service(tmp_path, artifacts)
    job_id, video = _succeeded(svc)
    size = len(video)
    with serve_http(build_http_app(svc)) as base, httpx.Client(base_url=base) as client:
        for url in (f"/api/video/jobs/{job_id}/video", f"/v1/videos/{job_id}/content"):
            r = client.get(url)
            assert r.status_code == 200 and r.content == video and r.headers["content-length"] == str(size)
            r = client.get(url, headers={"Range": "bytes=0-99"})
            assert r.status_code == 206 and r.content == video[:100]
            assert r.headers["content-range"] == f"bytes 0-99/{size}"
            r = client.get(url, headers={"Range": "bytes=-100"})
            assert r.status_code == 206 and r.content == video[-100:]
            r = client.get(url, headers={"Range": f"bytes={size}-"})
            assert r.status_code == 416 and r.headers["content-range"] == f"bytes */{size}"
            assert r.json()["error"]["code"] == "range_not_satisfiable"
            r = client.get(url, params={"variant": "spritesheet"})
            assert r.status_code == 200 and r.content == b"spritesheet" and r.headers["content-type"] == "image/jpeg"
        if artifacts:  # s3: the node's own copies went once uploaded; every byte above came from the bucket
            assert not any(p.exists() for p in output_paths(svc.store.video_path(job_id)).values())
        assert client.delete(f"/v1/videos/{job_id}").status_code == 200
        assert client.get(f"/api/video/jobs/{job_id}/video").status_code == 404
    assert svc.store.artifacts.list("videos") == []


def test_a_presigned_download_redirects_and_the_client_gets_the_same_bytes(s3_server, tmp_path):
    svc = _service(tmp_path, s3_server.artifacts(prefix=f"tests/{tmp_path.name}", presign_downloads=True))
    job_id, video = _succeeded(svc)
    with serve_http(build_http_app(svc)) as base, httpx.Client(base_url=base, follow_redirects=True) as client:
        r = client.get(f"/api/video/jobs/{job_id}/video", follow_redirects=False)
        assert r.status_code == 307 and r.headers["location"].startswith(s3_server.endpoint + "/")
        assert "X-Amz-Signature=" in r.headers["location"]
        r = client.get(f"/api/video/jobs/{job_id}/video")  # followed to SeaweedFS
        assert r.status_code == 200 and r.content == video and str(r.url).startswith(s3_server.endpoint)
        r = client.get(f"/v1/videos/{job_id}/content", headers={"Range": "bytes=0-99"})
        assert r.status_code == 206 and r.content == video[:100]


def test_an_upload_failing_midway_leaves_no_object_and_no_local_file(s3_server, tmp_path, monkeypatch):
    store = open_artifacts(ArtifactsConfig(**s3_server.artifacts(prefix=f"tests/{tmp_path.name}")), tmp_path)
    _rendered(store.render_path("job_midway"), os.urandom(10_000))
    stored, calls = store.put_file, []

    def connection_lost_on_the_second(key, path, content_type):
        calls.append(key)
        if len(calls) == 2:  # the video is in (the real PUT): the first picture's fails
            raise ConnectionResetError("connection reset by peer")
        stored(key, path, content_type)

    monkeypatch.setattr(store, "put_file", connection_lost_on_the_second)
    with pytest.raises(ArtifactUploadError) as failed:
        store.commit_outputs("job_midway")
    assert failed.value.code == "artifact_upload_failed" and "connection reset by peer" in failed.value.message
    assert failed.value.details["key"] == "videos/job_midway.thumbnail.jpg"
    assert store.list("videos") == []  # the video already uploaded was removed again
    assert not any(p.exists() for p in output_paths(store.render_path("job_midway")).values())


def test_uploaded_inputs_are_kept_in_the_bucket_for_any_node(s3_server, tmp_path, png_b64):
    svc = _service(tmp_path, s3_server.artifacts(prefix=f"tests/{tmp_path.name}"))
    with TestClient(build_http_app(svc)) as client:
        r = client.post(
            "/api/video/jobs", json={"family": "wan", "task": "image-to-video", "prompt": "x", "image": png_b64}
        )
        assert r.status_code == 202, r.text
    job_id, artifacts = r.json()["id"], svc.store.artifacts
    # The row names the object (no worker here: the job has ended since, and its row no longer holds it).
    assert artifacts.list("inputs") == [f"inputs/{job_id}.json"]
    ref = {"artifact": f"inputs/{job_id}.json"}
    assert artifacts.load_inputs(ref) == {"image": png_b64}  # what a worker on any node reads back
    svc.store.remove_outputs(job_id)
    assert artifacts.list("inputs") == []


# -- a worker rendering into the bucket ------------------------------------------------------------------
@pytest.fixture(scope="module")
def s3_worker(s3_server, tmp_path_factory):
    from videogen.serve.deployment_options import worker_settings
    from videogen.serve.worker_deployment import VideoWorker

    state_dir = tmp_path_factory.mktemp("s3-worker")
    cfg = VideoGenAppConfig(
        families={"wan": {"model": "tiny", "warm": []}},
        state_dir=str(state_dir),
        artifacts=s3_server.artifacts(prefix="tests/worker"),
    )
    vw = VideoWorker(worker_settings("wan", cfg))
    yield vw, VideoGenService(cfg, workers={})
    vw._stop.set()


def _queue(store) -> str:
    request = {"family": "wan", "prompt": "a fox", "num_inference_steps": 2, "seed": 1}
    return queue_job(store, request=request, max_attempts=1, lease_s=0).id


def test_a_worker_uploads_before_it_commits_and_the_video_is_served_from_s3(s3_worker):
    vw, svc = s3_worker
    job_id = _queue(svc.store)
    assert vw._claim_and_run(job_id) == JobStatus.SUCCEEDED
    assert sorted(svc.store.artifacts.list("videos")) == sorted(f"videos/{job_id}{s}" for s, _ in VARIANTS.values())
    assert not list(svc.store.videos_dir.glob(f"{job_id}*"))  # nothing of it stays on the worker's disk
    stored = svc.store.artifacts.get_bytes(f"videos/{job_id}.mp4")
    assert stored[4:8] == b"ftyp" and len(stored) == svc.store.jobs.get(job_id).result["bytes"]
    with TestClient(build_http_app(svc)) as client:
        r = client.get(f"/api/video/jobs/{job_id}/video", headers={"Range": "bytes=0-99"})
        assert r.status_code == 206 and r.content == stored[:100]
        assert client.delete(f"/v1/videos/{job_id}").status_code == 200
    assert svc.store.artifacts.list("videos") == []


def test_an_unreachable_store_fails_the_job_with_the_reason_and_commits_no_result(s3_worker, s3_server):
    vw, svc = s3_worker
    closed = f"127.0.0.1:{_closed_port()}"
    unreachable = ArtifactsConfig(**s3_server.artifacts(endpoint_url=f"http://{closed}"))
    reachable = vw.store.artifacts
    vw.store.artifacts = open_artifacts(unreachable, vw.store.state_dir)
    try:
        job_id = _queue(svc.store)
        assert vw._claim_and_run(job_id) == JobStatus.FAILED
    finally:
        vw.store.artifacts = reachable
    rec = svc.store.jobs.get(job_id)
    assert rec.status == JobStatus.FAILED and rec.result is None
    assert rec.error["code"] == "artifact_upload_failed"
    assert f"the video of job {job_id} could not be uploaded" in rec.error["message"]
    assert rec.error["details"]["key"] == f"videos/{job_id}.mp4" and closed in rec.error["message"]
    assert not list(svc.store.videos_dir.glob(f"{job_id}*")) and reachable.list("videos") == []
    with TestClient(build_http_app(svc)) as client:
        assert client.get(f"/api/video/jobs/{job_id}/video").status_code == 409


def test_the_config_names_the_field_it_refuses():
    for bad, field in (
        ({"backend": "s3"}, "artifacts.bucket"),
        ({"backend": "s3", "bucket": "vg-b", "endpoint_url": "http://10.0.0.1:8333"}, "artifacts.allow_http"),
        ({"presign_downloads": True}, "artifacts.presign_downloads"),
        ({"backend": "s3", "bucket": "Not_A_Bucket"}, "artifacts.bucket"),
        ({"prefix": "a/../b"}, "artifacts.prefix"),
    ):
        with pytest.raises(ValueError, match=field):
            VideoGenAppConfig(families=["wan"], artifacts=bad)


def test_a_per_node_state_dir_needs_a_shared_store_and_a_bucket(s3_server, postgres_url, tmp_path, monkeypatch):
    """``state_dir: $VIDEOGEN_STATE_DIR`` (each node's own disk) with SQLite or local videos would split the jobs
    between nodes: the replica refuses to start, naming what to set; with PostgreSQL and a bucket it opens."""
    from videogen.serve.store.job_store import open_replica_store

    monkeypatch.delenv("VIDEOGEN_DATABASE_URL", raising=False)
    monkeypatch.setenv("VG_NODE_DIR", str(tmp_path / "node"))
    bucket = ArtifactsConfig(**s3_server.artifacts(prefix="tests/per-node"))
    with pytest.raises(ValueError, match="set database_url"):
        open_replica_store("$VG_NODE_DIR", "WAL", bucket, None)
    with pytest.raises(ValueError, match="artifacts.backend to s3"):
        open_replica_store("$VG_NODE_DIR", "WAL", None, postgres_url)
    monkeypatch.setenv("VIDEOGEN_DATABASE_URL", postgres_url)  # the URL as a secret in each replica's environment
    store = open_replica_store("$VG_NODE_DIR", "WAL", bucket, None)
    try:
        assert store.state_dir == tmp_path / "node" and store.db.dialect == "postgres"
    finally:
        store.close()
    # One node, one disk: SQLite under a plain state_dir stays the default.
    monkeypatch.delenv("VIDEOGEN_DATABASE_URL")
    local = open_replica_store(str(tmp_path / "one"), "WAL", None, None)
    assert local.db.dialect == "sqlite"
    local.close()
