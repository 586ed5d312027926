"""HTTP end to end on a real local Ray: every family and task on tiny models, SSE, cancel, bad input."""

from __future__ import annotations

import time

import pytest
from serve_helpers import NAMED_MODEL, SCALE_FROM_ZERO, TERMINAL, read_sse, wait_job
from testkit import blank_png_b64, png_data_url

from videogen.video.encode import read_mp4
from videogen.video.families import get_adapter
from videogen.video.registry import SPECS
from videogen.video.request import VideoRequest
from videogen.video.tiny.cache import tiny_meta
from videogen.video.worker import STAGES

pytestmark = pytest.mark.serve

CASES = [(family, task) for family, spec in SPECS.items() for task in spec.tasks]


def _body(family, task, **kw):
    body = {"family": family, "task": task, "prompt": "a cat running on the beach", "seed": 3}
    if task in ("image-to-video", "first-last-frame"):
        body["image"] = png_data_url(40)
    if task == "first-last-frame":
        body["last_image"] = png_data_url(40, seed=1)
    if task in ("video-to-video", "video-inpaint", "control-to-video"):  # 9 frames of 32x32 at the jobs' 10 fps:
        from videogen.video.video_to_video import grey_clip_b64  # the job follows the clip as it is

        body["video"] = grey_clip_b64(9, 10, size=32)
    if task == "video-inpaint":  # one image for every frame (the PNG's pixels, binarised: white = regenerate)
        body["mask"] = png_data_url(32)
    if task == "reference-to-video":
        body["reference_images"] = [png_data_url(40)]
    if task == "keyframes":  # the image as the first frame
        body["conditions"] = [{"image": png_data_url(40), "frame_index": 0}]
    body.update(kw)
    return body


def test_runtime_reports_without_waking_a_scaled_to_zero_family(client, served_app):
    health = client.get("/healthz").json()
    assert health["status"] == "ok" and set(health["served_families"]) == set(SPECS)

    rt = client.get("/api/video/runtime")
    assert rt.status_code == 200
    rt = rt.json()
    assert rt["hardware_profile"]["backend"] == "cpu"
    assert rt["load_policy"]["device"] == "cpu"
    assert "rocm_env" in rt["runtime"] and rt["runtime"]["rocm_env"]["MIOPEN_FIND_MODE"] == "FAST"
    assert set(rt["families"]) == set(SPECS)
    for family, info in rt["families"].items():
        assert info["deployment"] == f"VideoWorker_{family}"
        assert info["status"] in ("HEALTHY", "UPSCALING", "DOWNSCALING", "UPDATING")
        if family != SCALE_FROM_ZERO:
            assert info["replica_states"].get("RUNNING") == 1
            assert info["replicas"] and info["replicas"][0]["diagnostics"]["hardware_profile"]["backend"] == "cpu"
    ltx_policy = rt["families"]["ltx-video"]["replicas"][0]["diagnostics"]["load_policy"]
    assert ltx_policy["vae_slicing"] is True and ltx_policy["overrides"] == {"vae_slicing": True}
    zero = rt["families"][SCALE_FROM_ZERO]
    if not zero["jobs"]:  # nothing has asked for it yet: it must still be at zero replicas
        assert zero["replica_states"].get("RUNNING", 0) == 0 and zero["replicas"] == []
        client.get("/api/video/models")
        time.sleep(1.0)
        again = client.get("/api/video/runtime").json()["families"][SCALE_FROM_ZERO]
        assert again["replica_states"].get("RUNNING", 0) == 0 and again["replica_states"].get("STARTING", 0) == 0


def test_models_resolved_by_the_workers(client):
    models = {m["id"]: m for m in client.get("/api/video/models").json()["models"]}
    assert set(models) == set(SPECS)
    for family, spec in SPECS.items():
        m = models[family]
        assert m["served"] is True
        if m.get("reported_by"):
            assert m["effective_support_level"] == "ready"
            assert m["model"]["source"] == "tiny"
            for task in ("text-to-video", "image-to-video"):
                assert m["task_support"][task] == ("ready" if task in spec.tasks else "not_supported")
        else:  # a family at zero replicas that never started
            assert family == SCALE_FROM_ZERO and m["effective_support_level"] == "unknown"


def test_a_named_model_runs_on_its_own_deployment_and_an_unknown_one_is_refused(client):
    r = client.post("/api/video/jobs", json=_body("wan", "text-to-video", model=NAMED_MODEL, num_inference_steps=2))
    assert r.status_code == 202, r.text
    assert r.json()["model_name"] == NAMED_MODEL
    job = wait_job(client, r.json()["id"], timeout=90)
    assert job["status"] == "succeeded", job["error"]
    assert job["model_name"] == NAMED_MODEL and job["model"]["name"] == NAMED_MODEL
    assert job["worker"]["replica_id"].split("#")[1] == f"VideoWorker_{NAMED_MODEL}"  # app#deployment#replica
    for family, allowed in (("wan", ["wan", NAMED_MODEL]), ("ltx-video", ["ltx-video"])):
        bad = client.post("/api/video/jobs", json=_body(family, "text-to-video", model="wan-nope"))
        assert bad.status_code == 422 and bad.json()["error"]["field"] == "model", bad.text
        assert bad.json()["error"]["allowed"] == allowed
    served = {m["name"]: m for m in client.get("/api/video/models").json()["served_models"]}
    named = served[NAMED_MODEL]
    assert (named["family"], named["default"], named["deployment"]) == ("wan", False, f"VideoWorker_{NAMED_MODEL}")
    assert served["wan"]["default"] and named["task_support"]["text-to-video"] == "ready"  # reported by its replica
    runtime = client.get("/api/video/runtime").json()["families"]["wan"]
    assert runtime["models"][NAMED_MODEL]["replica_states"].get("RUNNING") == 1
    # its sampling recipe: listed, run with its values (the request's own still win), unknown ones refused
    assert named["recipes"]["fast"]["num_inference_steps"] == 1 and served["wan"]["recipes"] == {}
    r = client.post("/api/video/jobs", json=_body("wan", "text-to-video", model=NAMED_MODEL, recipe="fast"))
    assert r.status_code == 202, r.text
    job = wait_job(client, r.json()["id"], timeout=90)
    assert job["status"] == "succeeded", job["error"]
    used = {k: job["params"][k] for k in ("recipe", "num_inference_steps", "guidance_scale", "scheduler", "flow_shift")}
    assert used == {
        "recipe": "fast",
        "num_inference_steps": 1,
        "guidance_scale": 1.0,
        "scheduler": "UniPCMultistepScheduler",
        "flow_shift": 5.0,
    }
    for model, allowed in ((NAMED_MODEL, ["fast"]), (None, [])):  # the family's default model declares none
        bad = client.post("/api/video/jobs", json=_body("wan", "text-to-video", model=model, recipe="turbo"))
        assert bad.status_code == 422 and bad.json()["error"]["field"] == "recipe", bad.text
        assert bad.json()["error"]["allowed"] == allowed


@pytest.mark.parametrize(("family", "task"), CASES, ids=[f"{f}-{t}" for f, t in CASES])
def test_every_family_and_task_end_to_end(client, family, task, tmp_path):
    r = client.post("/api/video/jobs", json=_body(family, task, fps=10))
    assert r.status_code == 202, r.text
    job = r.json()
    assert job["status"] == "queued" and job["family"] == family and job["task"] == task
    assert job["request"]["seed"] == 3 and (task != "image-to-video" or job["request"]["image"].startswith("<"))
    timeout = 90 if family == SCALE_FROM_ZERO else 60
    job = wait_job(client, job["id"], timeout=timeout)
    assert job["status"] == "succeeded", job["error"]
    # what the family makes of 9 frames (FramePack: whole sections, 37), settled here without the service
    body = _body(family, task, fps=10)
    expected = get_adapter(family).resolve_params(VideoRequest(**body), tiny_meta(family, task)).expected_frames
    assert job["result"]["frames"] == expected and job["result"]["width"] == job["result"]["height"] == 32
    assert job["result"]["fps"] == 10 and job["result"]["video_url"] == f"/api/video/jobs/{job['id']}/video"
    assert [s["name"] for s in job["stages"]] == list(STAGES)
    assert all(s["seconds"] is not None for s in job["stages"])
    diag = job["stages"][0]["detail"]
    assert set(diag) >= {"hardware_profile", "load_policy", "runtime"}
    assert job["progress"]["percent"] == 100.0
    assert job["model"]["pipeline_class"] == SPECS[family].pipeline_classes[task]
    assert job["started_at"] >= job["created_at"] and job["finished_at"] >= job["started_at"]

    video = client.get(job["result"]["video_url"])
    assert video.status_code == 200 and video.headers["content-type"] == "video/mp4"
    assert len(video.content) == job["result"]["bytes"]
    path = tmp_path / "v.mp4"
    path.write_bytes(video.content)
    frames, fps = read_mp4(path)
    assert frames.shape == (expected, 32, 32, 3) and fps == 10


def test_sse_progress_in_stage_order(client):
    job = client.post("/api/video/jobs", json=_body("wan", "text-to-video", num_inference_steps=12)).json()
    with client.stream("GET", f"/api/video/jobs/{job['id']}/events", headers={"Last-Event-ID": "0"}) as r:
        assert r.status_code == 200 and r.headers["content-type"].startswith("text/event-stream")
        events = read_sse(r)
    data = [e["data"] for e in events]
    assert all(e["event"] == "job" for e in events)
    ids = [int(e["id"]) for e in events]
    assert ids == sorted(ids) and len(set(ids)) == len(ids)
    assert [d["id"] for d in data] == [job["id"]] * len(data)
    statuses = [d["status"] for d in data]
    assert statuses[0] == "queued" and statuses[-1] == "succeeded" and "running" in statuses
    order = ["queued", *STAGES, "done"]
    stages = [d["progress"]["stage"] for d in data]
    assert all(s in order for s in stages)
    idx = [order.index(s) for s in stages]
    assert idx == sorted(idx), stages
    assert set(STAGES) <= set(stages)  # stage changes are never dropped
    steps = [d["progress"]["step"] for d in data if d["progress"]["stage"] == "denoising" and d["progress"]["step"]]
    assert steps == sorted(steps) and steps[-1] == 12
    percents = [d["progress"]["percent"] for d in data]
    assert percents == sorted(percents)

    # A client that connects after the end gets the final job and the stream closes.
    with client.stream("GET", f"/api/video/jobs/{job['id']}/events") as r:
        late = read_sse(r)
    assert len(late) == 1 and late[0]["data"]["status"] == "succeeded"


def test_cancel_mid_denoise_then_the_worker_takes_the_next_job(client):
    job = client.post("/api/video/jobs", json=_body("ltx-video", "text-to-video", num_inference_steps=200)).json()
    cancelled_at = None
    with client.stream("GET", f"/api/video/jobs/{job['id']}/events", headers={"Last-Event-ID": "0"}) as r:
        for line in r.iter_lines():
            if line.startswith("data: ") and '"stage": "denoising"' in line and cancelled_at is None:
                d = client.delete(f"/api/video/jobs/{job['id']}")
                assert d.status_code == 200 and d.json()["cancel_requested"] is True
                cancelled_at = time.monotonic()
    final = wait_job(client, job["id"], timeout=30)
    assert cancelled_at is not None
    assert final["status"] == "cancelled" and final["error"]["code"] == "cancelled"
    assert final["progress"]["step"] is None or final["progress"]["step"] < 200
    assert client.get(f"/api/video/jobs/{job['id']}/video").status_code == 409
    # The same worker goes on with the next job.
    nxt = wait_job(client, client.post("/api/video/jobs", json=_body("ltx-video", "text-to-video")).json()["id"])
    assert nxt["status"] == "succeeded"
    assert nxt["worker"]["replica_id"] == final["worker"]["replica_id"]


def test_cancel_a_queued_job(client):
    long = client.post("/api/video/jobs", json=_body("cogvideox", "text-to-video", num_inference_steps=150)).json()
    queued = client.post("/api/video/jobs", json=_body("cogvideox", "text-to-video")).json()
    d = client.delete(f"/api/video/jobs/{queued['id']}").json()
    assert d["status"] == "cancelled" and d["started_at"] is None
    client.delete(f"/api/video/jobs/{long['id']}")
    assert wait_job(client, long["id"])["status"] == "cancelled"
    assert client.get(f"/api/video/jobs/{queued['id']}").json()["status"] == "cancelled"


def test_list_jobs_newest_first_and_paged(client):
    ids = [client.post("/api/video/jobs", json=_body("hunyuan-video", "text-to-video")).json()["id"] for _ in range(3)]
    page = client.get("/api/video/jobs", params={"limit": 2, "family": "hunyuan-video"}).json()
    assert page["limit"] == 2 and page["total"] >= 3 and len(page["jobs"]) == 2
    assert [j["id"] for j in page["jobs"]] == ids[::-1][:2]
    nxt = client.get(
        "/api/video/jobs", params={"limit": 2, "offset": page["next_offset"], "family": "hunyuan-video"}
    ).json()
    assert nxt["jobs"][0]["id"] == ids[0]
    created = [j["created_at"] for j in client.get("/api/video/jobs", params={"limit": 200}).json()["jobs"]]
    assert created == sorted(created, reverse=True)
    for job_id in ids:
        wait_job(client, job_id)


def _error(r, status, field=None):
    assert r.status_code == status, r.text
    err = r.json()["error"]
    assert err["code"] and err["message"]
    if field:
        assert err["field"] == field and field in err["message"]
    return err


BAD = {
    "unknown-family": ({"family": "sora", "prompt": "x"}, 422, "family"),
    "task-the-family-lacks": (
        {"family": "animatediff", "task": "image-to-video", "prompt": "x", "image": "AAAA"},
        422,
        "task",
    ),
    "i2v-without-image": ({"family": "wan", "task": "image-to-video", "prompt": "x"}, 422, "image"),
    "t2v-with-image": ({"family": "wan", "prompt": "x", "image": "AAAA"}, 422, "image"),
    "undecodable-image": (
        {"family": "wan", "task": "image-to-video", "prompt": "x", "image": "bm90IGFuIGltYWdl"},
        422,
        "image",
    ),
    "not-base64": ({"family": "wan", "task": "image-to-video", "prompt": "x", "image": "%%%"}, 422, "image"),
    "frames-beyond-family-limit": ({"family": "ltx-video", "prompt": "x", "num_frames": 300}, 422, "num_frames"),
    "frames-beyond-hard-limit": ({"family": "wan", "prompt": "x", "num_frames": 5000}, 422, "num_frames"),
    "height-beyond-limit": ({"family": "wan", "prompt": "x", "height": 4000}, 422, "height"),
    "width-too-small": ({"family": "wan", "prompt": "x", "width": 4}, 422, "width"),
    "steps-beyond-limit": ({"family": "wan", "prompt": "x", "num_inference_steps": 1000}, 422, "num_inference_steps"),
    "empty-prompt": ({"family": "wan", "prompt": ""}, 422, "prompt"),
    "prompt-over-4000-characters": ({"family": "wan", "prompt": "x" * 4001}, 422, "prompt"),
    "image-over-the-pixel-cap": (
        {"family": "wan", "task": "image-to-video", "prompt": "x", "image": blank_png_b64(4097, 4096)},
        422,
        "image",
    ),
    "missing-prompt": ({"family": "wan"}, 422, "prompt"),
    "unknown-field": ({"family": "wan", "prompt": "x", "model": "/etc/passwd"}, 422, "model"),
    "bad-task": ({"family": "wan", "prompt": "x", "task": "keyframes"}, 422, "task"),  # LTX-Video's, not Wan's
    "no-mask-for-inpaint": (_body("wan", "video-inpaint", mask=None), 422, "mask"),
    "not-a-mask": (_body("wan", "video-inpaint", mask="bm90IGEgdmlkZW8gbm9yIGFuIGltYWdl"), 422, "mask"),
    "not-a-mask-image": (_body("wan", "video-inpaint", mask=[png_data_url(32), "bm90IGFuIGltYWdl"]), 422, "mask[1]"),
    "mask-sequence-too-long": (_body("wan", "video-inpaint", mask=["AAAA"] * 1025), 422, "mask"),
    "reference-for-v2v": (_body("wan", "video-to-video", reference_images=[png_data_url(40)]), 422, "reference_images"),
    "no-video-for-v2v": ({"family": "wan", "prompt": "x", "task": "video-to-video"}, 422, "video"),
    "no-last-image-for-flf": (
        {"family": "wan", "task": "first-last-frame", "prompt": "x", "image": png_data_url(40)},
        422,
        "last_image",
    ),
    "undecodable-last-image": (
        {"family": "wan", "task": "first-last-frame", "prompt": "x", "image": png_data_url(40), "last_image": "bm9w"},
        422,
        "last_image",
    ),
}


@pytest.mark.parametrize("case", list(BAD))
def test_bad_input_is_a_4xx_naming_the_field(client, case):
    body, status, field = BAD[case]
    err = _error(client.post("/api/video/jobs", json=body), status, field)
    if case == "unknown-family":
        assert "wan" in err["message"] and set(err["allowed"]) == set(SPECS)
    if case == "frames-beyond-family-limit":
        assert err["allowed"] == {"min": 9, "max": 257}
    if case == "prompt-over-4000-characters":
        assert err["allowed"] == {"max_length": 4000}
    if case == "image-over-the-pixel-cap":
        assert err["allowed"] == f"<= {4096 * 4096} pixels" and "4097x4096" in err["message"]


def test_broken_json_body_names_the_body(client):
    r = client.post("/api/video/jobs", content=b"not json", headers={"content-type": "application/json"})
    err = _error(r, 422, "body")
    assert "not valid JSON" in err["message"]


def test_oversized_image_and_unknown_jobs(client):
    huge = "A" * (17 * 1024 * 1024)
    r = client.post("/api/video/jobs", json={"family": "wan", "task": "image-to-video", "prompt": "x", "image": huge})
    assert r.status_code in (413, 422) and r.json()["error"]["field"] == "image"
    for method, path in [
        ("GET", "/api/video/jobs/nope"),
        ("DELETE", "/api/video/jobs/nope"),
        ("GET", "/api/video/jobs/nope/video"),
        ("GET", "/api/video/jobs/nope/events"),
    ]:
        _error(client.request(method, path), 404)
    assert client.get("/api/video/jobs", params={"status": "weird"}).status_code == 422
    assert client.get("/healthz").json()["status"] == "ok"  # nothing above hurt a replica


def test_video_of_an_unfinished_job_is_409(client):
    job = client.post("/api/video/jobs", json=_body("sana-video", "text-to-video", num_inference_steps=100)).json()
    r = client.get(f"/api/video/jobs/{job['id']}/video")
    assert r.status_code == 409 and r.json()["error"]["code"] == "job_state"
    client.delete(f"/api/video/jobs/{job['id']}")
    assert wait_job(client, job["id"])["status"] in TERMINAL


def test_keys_with_owners_through_the_real_proxy(ray_session, tmp_path):
    """A second app on the same cluster with keys: 401 without one, a user sees only its own jobs."""
    import httpx
    from ray import serve

    from videogen.serve.builder import build_app

    alice, bob, ops = "alice-0123456789abcdef", "bob-0123456789abcdefgh", "ops-0123456789abcdefghi"
    # Its worker stays at zero replicas: the jobs stay queued, which is all this test needs.
    app = build_app(
        {
            "families": {"wan": {"deployment": {"autoscaling_config": {"min_replicas": 0, "max_replicas": 1}}}},
            "num_gpus": 0,
            "state_dir": str(tmp_path),
            "api_keys": {alice: {"name": "alice"}, bob: {"name": "bob"}, ops: {"name": "ops", "role": "admin"}},
        }
    )
    serve.run(app, name="videogen-secured", route_prefix="/secured")

    def auth(key):
        return {"Authorization": f"Bearer {key}"}

    try:
        with httpx.Client(base_url=f"http://127.0.0.1:{ray_session['port']}/secured", timeout=30) as c:
            assert c.get("/healthz").status_code == 200
            for headers in ({}, {"Authorization": "Bearer wrong-0123456789abcdef"}, {"Authorization": alice}):
                err = _error(c.get("/api/video/runtime", headers=headers), 401)
                assert err["code"] == "unauthorized"
            assert c.post("/api/video/jobs", json={"family": "wan", "prompt": "x"}).status_code == 401
            job = c.post("/api/video/jobs", json={"family": "wan", "prompt": "x"}, headers=auth(alice)).json()
            assert c.get(f"/api/video/jobs/{job['id']}", headers=auth(alice)).status_code == 200
            assert _error(c.get(f"/api/video/jobs/{job['id']}", headers=auth(bob)), 404)["code"] == "job_not_found"
            assert c.get("/api/video/jobs", headers=auth(bob)).json()["total"] == 0
            assert c.get("/api/video/jobs", headers=auth(ops)).json()["total"] == 1
            ok = c.get("/api/video/runtime", headers=auth(ops))
            assert ok.status_code == 200 and ok.json()["served_families"] == ["wan"]
            assert ok.json()["families"]["wan"]["replicas"] == []  # still at zero: nothing woke it
            assert "state_dir" not in c.get("/api/video/runtime", headers=auth(alice)).json()
    finally:
        serve.delete("videogen-secured")
