"""Who may do what, on the real per-replica FastAPI app without Ray (issue 13 items 2 and 3).

Every route but the public ones answers 401 without a valid key, before any body is read; a user key
sees, downloads, streams, cancels and deletes only its own jobs (others' are 404), an admin all; per-key
limits answer 429 with Retry-After; runtime details only for admins; no key beyond loopback refuses
to start unless allowed.
"""

from __future__ import annotations

import asyncio
import json
import logging

import pytest
from fastapi.testclient import TestClient

from videogen.serve.config import VideoGenAppConfig
from videogen.serve.http_app import build_http_app
from videogen.serve.service.auth import PUBLIC_PATHS, KeyRing, is_loopback
from videogen.serve.service.videogen_service import VideoGenService
from videogen.serve.store.records import JobStatus

ALICE, BOB, ROOT = "alice-key-0123456789", "bob-key-0123456789ab", "root-key-0123456789ab"
KEYS = {
    ALICE: {"name": "alice"},
    BOB: {"name": "bob", "max_queued_jobs": 2, "submissions_per_minute": 3},
    ROOT: {"name": "ops", "role": "admin"},
}


def _auth(key: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {key}"}


class _Held:
    """A worker's answer that never comes: its job stays queued (these tests look at the ingress only)."""

    def __await__(self):
        return asyncio.sleep(3600).__await__()

    def cancel(self):
        pass


class HeldWorker:
    def __init__(self):
        self.run_job = self

    def remote(self, job_id: str) -> _Held:
        return _Held()


def _app(tmp_path, **config) -> tuple[TestClient, VideoGenService]:
    cfg = VideoGenAppConfig(families=["wan", "animatediff"], state_dir=str(tmp_path), **{"api_keys": KEYS, **config})
    svc = VideoGenService(cfg, workers={"wan": HeldWorker(), "animatediff": HeldWorker()})
    return TestClient(build_http_app(svc), raise_server_exceptions=False), svc


def _submit(client, key, family="wan", **extra):
    return client.post(
        "/api/video/jobs", headers=_auth(key), json={"family": family, "prompt": "x", "num_inference_steps": 2, **extra}
    )


def _concrete(path: str) -> str:
    return path.replace("{job_id}", "job_x").replace("{video_id}", "job_x")


def test_every_route_but_the_public_ones_needs_a_key(tmp_path):
    client, _ = _app(tmp_path)
    # Every operation the app documents (routers included); the page shell and /ui files are not in it.
    paths = client.app.openapi()["paths"]
    private = [(m.upper(), p) for p, ops in paths.items() for m in ops if p not in PUBLIC_PATHS]
    # /api and /v1, jobs, videos, events, estimate, runtime, models: every one of them.
    assert {p for _, p in private} >= {
        "/api/video/jobs",
        "/api/video/jobs/{job_id}/video",
        "/api/video/jobs/{job_id}/events",
        "/api/video/runtime",
        "/api/video/models",
        "/api/video/estimate",
        "/v1/videos",
        "/v1/videos/{video_id}/remix",
        "/v1/videos/{video_id}/content",
    }
    for method, path in private:
        assert "401" in paths[path][method.lower()]["responses"], (method, path)  # and documented as such
        for headers in (
            {},
            {"Authorization": "Bearer wrong-key-0123456789"},
            {"Authorization": ALICE},
            {"Authorization": f"Basic {ALICE}"},
        ):
            r = client.request(method, _concrete(path), headers=headers)
            assert r.status_code == 401, (method, path, headers, r.text)
            assert r.headers["www-authenticate"].startswith("Bearer")
        assert client.request(method, _concrete(path), headers=_auth(ALICE)).status_code != 401, (method, path)
    assert client.get("/healthz").status_code == 200
    assert client.get("/openapi.json").json()["components"]["securitySchemes"]["HTTPBearer"]["scheme"] == "bearer"


def test_a_refused_request_has_no_byte_of_its_body_read(tmp_path):
    """The gate answers before FastAPI reads or validates the body (a 24 MiB upload costs nothing)."""
    client, _ = _app(tmp_path)
    app = client.app
    for path in ("/api/video/jobs", "/v1/videos", "/v1/videos/job_x/remix", "/api/video/estimate"):
        reads, sent = [], []

        async def receive(reads=reads):
            reads.append(1)
            return {"type": "http.request", "body": b"{" * 1024, "more_body": True}

        async def send(message, sent=sent):
            sent.append(message)

        scope = {
            "type": "http",
            "method": "POST",
            "path": path,
            "raw_path": path.encode(),
            "query_string": b"",
            "headers": [(b"content-type", b"application/json"), (b"content-length", b"1000000")],
            "http_version": "1.1",
            "scheme": "http",
            "server": ("test", 80),
            "client": ("c", 1),
            "root_path": "",
        }
        asyncio.run(app(scope, receive, send))
        assert sent[0]["status"] == 401 and reads == [], path


def test_a_user_key_sees_only_its_own_jobs_and_an_admin_sees_all(tmp_path):
    client, svc = _app(tmp_path)
    mine = _submit(client, ALICE).json()["id"]
    theirs = _submit(client, BOB).json()["id"]
    assert svc.store.jobs.get(mine).owner == "alice"
    listed = client.get("/api/video/jobs", headers=_auth(ALICE)).json()
    assert [j["id"] for j in listed["jobs"]] == [mine] and listed["total"] == 1
    assert {v["id"] for v in client.get("/v1/videos", headers=_auth(ALICE)).json()["data"]} == {mine}
    for method, path in (
        ("GET", f"/api/video/jobs/{theirs}"),
        ("GET", f"/api/video/jobs/{theirs}/video"),
        ("GET", f"/api/video/jobs/{theirs}/events"),
        ("DELETE", f"/api/video/jobs/{theirs}"),
        ("GET", f"/v1/videos/{theirs}"),
        ("GET", f"/v1/videos/{theirs}/content"),
        ("DELETE", f"/v1/videos/{theirs}"),
        ("GET", f"/v1/videos?after={theirs}"),
    ):
        r = client.request(method, path, headers=_auth(ALICE))
        assert r.status_code == 404, (method, path, r.text)
    r = client.post(f"/v1/videos/{theirs}/remix", headers=_auth(ALICE), json={"prompt": "mine now"})
    assert r.status_code == 404
    untouched = svc.store.jobs.get(theirs)  # alice's tries left it as it was: not cancelled, not deleted
    assert not untouched.cancel_requested and untouched.status != JobStatus.CANCELLED
    # The admin sees both and may cancel either.
    assert client.get("/api/video/jobs", headers=_auth(ROOT)).json()["total"] == 2
    assert client.get(f"/api/video/jobs/{mine}", headers=_auth(ROOT)).status_code == 200
    assert client.delete(f"/api/video/jobs/{theirs}", headers=_auth(ROOT)).status_code == 200
    assert client.get(f"/api/video/jobs/{theirs}", headers=_auth(BOB)).json()["id"] == theirs  # still his


def test_per_key_limits_answer_429_with_retry_after(tmp_path):
    client, svc = _app(tmp_path)
    for _ in range(2):
        assert _submit(client, BOB).status_code == 202
    r = _submit(client, BOB)  # his third queued job: over max_queued_jobs=2
    assert r.status_code == 429 and r.json()["error"]["code"] == "rate_limited", r.text
    assert "max_queued_jobs=2" in r.json()["error"]["message"] and int(r.headers["Retry-After"]) >= 1
    for job in svc.store.jobs.list(owner="bob")[0]:
        client.delete(f"/api/video/jobs/{job.id}", headers=_auth(BOB))
    assert _submit(client, BOB).status_code == 202  # room again: 3 submitted within the minute
    r = _submit(client, BOB)
    assert r.status_code == 429 and "submissions_per_minute=3" in r.json()["error"]["message"]
    assert 1 <= int(r.headers["Retry-After"]) <= 60
    assert svc.store.jobs.list(owner="bob")[1] == 3  # the refused ones wrote nothing
    assert _submit(client, ALICE).status_code == 202  # bob's limits are his own
    v1 = client.post("/v1/videos", headers=_auth(BOB), json={"prompt": "x", "model": "wan"})
    assert v1.status_code == 429 and v1.json()["error"]["type"]  # OpenAI's error shape on /v1


def test_runtime_details_only_for_an_admin(tmp_path):
    client, _ = _app(tmp_path)
    admin = client.get("/api/video/runtime", headers=_auth(ROOT)).json()
    user = client.get("/api/video/runtime", headers=_auth(ALICE)).json()
    assert admin["state_dir"] == str(tmp_path) and admin["ingress"]["runtime"]["pid"] > 0
    assert admin["auth"] == {"enabled": True, "allow_unauthenticated": False, "open_on_network": False, "keys": 3}
    text = json.dumps(user)
    for secret in (str(tmp_path), '"pid"', '"hostname"', '"node_ip"', '"state_dir"', "rocm_env", ALICE):
        assert secret not in text, secret
    assert set(user["families"]) == {"wan", "animatediff"} and user["runtime"]["videogen"]


def test_keys_come_from_the_config_a_file_and_the_environment(tmp_path):
    keyfile = tmp_path / "keys.yaml"
    keyfile.write_text("file-key-0123456789ab: {name: carol, role: admin}\n")
    cfg = VideoGenAppConfig(families=["wan"], api_keys={ALICE: {"name": "alice"}}, api_keys_file=str(keyfile))
    env = {
        "VIDEOGEN_API_KEYS": json.dumps({"env-key-0123456789abc": {"name": "dave"}}),
        "VIDEOGEN_API_KEY": "single-admin-key-0123",
    }
    keys = KeyRing(cfg, environ=env)
    assert keys.names == ["admin", "alice", "carol", "dave"]
    assert keys.identify("Bearer file-key-0123456789ab").is_admin
    assert not keys.identify("bearer env-key-0123456789abc").is_admin  # the scheme is case-insensitive
    with pytest.raises(ValueError, match="at least 16 characters"):
        VideoGenAppConfig(families=["wan"], api_keys={"short": {"name": "x"}})
    with pytest.raises(ValueError, match="16 characters"):
        KeyRing(VideoGenAppConfig(families=["wan"]), environ={"VIDEOGEN_API_KEYS": '{"short": {"name": "x"}}'})


def test_no_key_beyond_loopback_refuses_to_start_unless_allowed(tmp_path, caplog):
    open_cfg = VideoGenAppConfig(families=["wan"], state_dir=str(tmp_path))
    for host in ("127.0.0.1", "::1", "localhost", None):
        KeyRing(open_cfg, environ={}).check_exposure(host)  # loopback: a local developer's box
    for host in ("0.0.0.0", "10.1.2.3", "::", "videogen.example"):
        with pytest.raises(RuntimeError, match="will not serve without an API key"):
            KeyRing(open_cfg, environ={}).check_exposure(host)
    KeyRing(open_cfg, environ={"VIDEOGEN_API_KEY": ROOT}).check_exposure("0.0.0.0")  # a key: fine
    allowed = VideoGenAppConfig(families=["wan"], state_dir=str(tmp_path), allow_unauthenticated=True)
    keys = KeyRing(allowed, environ={})
    with caplog.at_level(logging.WARNING, logger="videogen.serve"):
        keys.check_exposure("0.0.0.0")
    assert "WITHOUT authentication" in caplog.text
    assert keys.describe()["open_on_network"] is True
    who = keys.identify(None)  # open on a network: everyone is the same plain user, never an admin
    assert who.name == "anonymous" and not who.is_admin
    assert is_loopback("127.0.0.2") and not is_loopback("0.0.0.0")


def test_a_clients_family_string_never_becomes_a_metrics_label(tmp_path, monkeypatch):
    from videogen.serve import metrics

    labels = []
    monkeypatch.setattr(metrics, "refused", lambda family, code: labels.append((family, code)))
    client, _ = _app(tmp_path)
    for family in ("x" * 5000, "wan\nfake_metric 1", "ltx-video"):  # unbounded, hostile, known but not served
        assert _submit(client, ALICE, family=family).status_code == 422
    # A served family's refusal keeps its label.
    assert _submit(client, ALICE, family="animatediff", task="image-to-video").status_code == 422
    assert labels[:3] == [("unknown", "unknown_family")] * 3 and labels[3][0] == "animatediff"
