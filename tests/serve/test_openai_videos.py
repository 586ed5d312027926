"""/v1/videos through the real openai SDK (3.x), against the served tiny app; and every job's pictures."""

from __future__ import annotations

import base64
import io
import warnings

import numpy as np
import openai
import pytest
from PIL import Image
from serve_helpers import wait_job
from testkit import png_bytes

from videogen.video.encode import read_mp4

pytestmark = [pytest.mark.serve, pytest.mark.filterwarnings("ignore::DeprecationWarning")]

TINY = {"num_inference_steps": 2, "num_frames": 9, "seed": 5}


@pytest.fixture(scope="module")
def sdk(served_app):
    warnings.simplefilter("ignore", DeprecationWarning)  # the SDK marks the Videos API deprecated
    return openai.OpenAI(base_url=served_app.base_url + "/v1", api_key="unused", max_retries=0, timeout=60)


def test_create_and_poll_then_download(sdk, tmp_path):
    video = sdk.videos.create_and_poll(
        prompt="a red fox in snow",
        model="ltx-video",
        seconds="1",
        size="64x32",
        poll_interval_ms=100,
        extra_body={"num_inference_steps": 2, "seed": 5},
    )
    assert video.status == "completed", video.error
    assert video.progress == 100 and video.object == "video"
    assert video.model == "ltx-video" and video.prompt == "a red fox in snow" and video.completed_at >= video.created_at
    assert video.size == "64x32"
    # 1 s at the tiny default fps, moved to LTX's 8k+1 frames: reported as an adjustment when it moved.
    assert float(video.seconds) > 0
    content = sdk.videos.download_content(video.id)
    (tmp_path / "v.mp4").write_bytes(content.content)
    frames, _fps = read_mp4(tmp_path / "v.mp4")
    assert frames.shape[1:] == (32, 64, 3)
    thumb = Image.open(io.BytesIO(sdk.videos.download_content(video.id, variant="thumbnail").content))
    assert thumb.format == "JPEG" and thumb.size == (64, 32)
    sheet = Image.open(io.BytesIO(sdk.videos.download_content(video.id, variant="spritesheet").content))
    assert sheet.format == "JPEG" and sheet.size[0] >= 64


def test_poll_header_and_seconds_mapping(sdk, served_app):
    raw = sdk.videos.with_raw_response.create(
        prompt="waves",
        model="wan2.1-t2v-1.3b",
        seconds="1",
        size="50x40",
        extra_body={"num_inference_steps": 2, "seed": 5},
    )
    video = raw.parse()
    assert video.status in ("queued", "in_progress") and int(raw.headers["openai-poll-after-ms"]) > 0
    assert video.model == "wan2.1-t2v-1.3b" and video.model_extra["family"] == "wan"  # the operator's alias
    fields = {a["field"] for a in video.model_extra["adjustments"]}
    assert "size" in fields  # 50x40 -> Wan's multiples of 16
    done = sdk.videos.poll(video.id, poll_interval_ms=100)
    assert done.status == "completed"
    # What /v1 moved at submission is still listed once the worker has finished (it adds its own, never replaces).
    assert fields <= {a["field"] for a in done.model_extra["adjustments"]}
    width, height = (int(v) for v in done.size.split("x"))
    assert width % 16 == 0 and height % 16 == 0


def test_image_to_video_upload_list_remix_delete(sdk, served_app):
    video = sdk.videos.create_and_poll(
        prompt="the sun sets",
        model="ltx-video",
        poll_interval_ms=100,
        input_reference=("first.png", png_bytes(48), "image/png"),
        extra_body=TINY,
    )
    assert video.status == "completed", video.error
    assert video.model_extra["task"] == "image-to-video"

    t2v = sdk.videos.create_and_poll(prompt="a dog", model="wan", poll_interval_ms=100, extra_body=TINY)
    remix = sdk.videos.remix(t2v.id, prompt="a cat")
    assert remix.remixed_from_video_id == t2v.id and remix.prompt == "a cat"
    remix = sdk.videos.poll(remix.id, poll_interval_ms=100)
    assert remix.status == "completed" and remix.size == t2v.size and remix.seconds == t2v.seconds

    raw = sdk.videos.with_raw_response.list(limit=2)
    assert raw.http_response.json()["object"] == "list"  # OpenAI's list shape (the SDK's page type drops it)
    page = raw.parse()
    ids = [v.id for v in page.data]
    assert ids == [remix.id, t2v.id] and page.has_more and page.last_id == t2v.id
    older = sdk.videos.list(limit=1, after=t2v.id)
    assert [v.id for v in older.data] == [video.id]
    # Oldest first, every page followed (the SDK's auto-paging): the newest of all comes last.
    assert [v.id for v in sdk.videos.list(limit=100, order="asc")][-1] == remix.id

    deleted = sdk.videos.delete(video.id)
    assert deleted.id == video.id and deleted.deleted and deleted.object == "video.deleted"
    with pytest.raises(openai.NotFoundError):
        sdk.videos.retrieve(video.id)
    with pytest.raises(openai.NotFoundError):
        sdk.videos.download_content(video.id)


def test_delete_cancels_a_running_job(sdk, served_app):
    video = sdk.videos.create(prompt="slow", model="cogvideox", extra_body={"num_inference_steps": 200, "seed": 1})
    assert sdk.videos.delete(video.id).deleted
    with pytest.raises(openai.NotFoundError):
        sdk.videos.retrieve(video.id)


def test_errors_arrive_as_the_sdk_exception_types(sdk, served_app):
    with pytest.raises(openai.BadRequestError) as err:
        sdk.videos.create(prompt="x", model="sora-2")
    assert err.value.code == "unknown_family" and err.value.param == "model"
    with pytest.raises(openai.BadRequestError) as err:
        sdk.videos.create(prompt="x", model="wan", extra_body={"num_inference_steps": 9999})
    assert err.value.param == "num_inference_steps"
    with pytest.raises(openai.BadRequestError) as err:
        sdk.videos.create(prompt="x", model="wan", size="big")
    assert err.value.param == "size"
    with pytest.raises(openai.NotFoundError):
        sdk.videos.retrieve("job_doesnotexist")
    running = sdk.videos.create(prompt="slow", model="cogvideox", extra_body={"num_inference_steps": 200, "seed": 1})
    with pytest.raises(openai.ConflictError):
        sdk.videos.download_content(running.id)
    sdk.videos.delete(running.id)


def test_json_body_and_alias(served_app):
    with served_app.client() as c:
        r = c.post("/v1/videos", json={"prompt": "rain", "model": "ltx-video", **TINY})
        assert r.status_code == 200, r.text
        job = wait_job(c, r.json()["id"])
        assert job["status"] == "succeeded"
        # The same job on both APIs, with its pictures.
        outputs = job["result"]["outputs"]
        assert set(outputs) == {"thumbnail", "spritesheet", "preview"}
        preview = Image.open(io.BytesIO(c.get(outputs["preview"]["url"]).content))
        assert preview.format == "WEBP" and preview.n_frames >= 2
        assert c.get(f"/api/video/jobs/{job['id']}/video?variant=thumbnail").headers["content-type"] == "image/jpeg"
        assert any(s["name"] == "outputs" and s["seconds"] is not None for s in job["stages"])
        bad = c.get(f"/api/video/jobs/{job['id']}/video?variant=nope")
        assert bad.status_code == 422 and bad.json()["error"]["field"] == "variant"


def test_malformed_json_fields_are_400_naming_the_field_never_500(served_app):
    """A non-string model or task, a non-numeric fps beside seconds: refused values, not crashes."""
    cases = [
        ({"model": ["wan"]}, "model"),
        ({"model": {"a": 1}}, "model"),
        ({"model": "wan", "task": ["x"]}, "task"),
        ({"model": "wan", "task": "upscale"}, "task"),
        ({"model": "wan", "seconds": "1", "fps": "fast"}, "fps"),
        ({"model": "wan", "seconds": "1", "fps": [8]}, "fps"),
    ]
    with served_app.client() as c:
        for fields, param in cases:
            r = c.post("/v1/videos", json={"prompt": "x", **fields})
            assert r.status_code == 400, (fields, r.text)
            assert r.json()["error"]["param"] == param, (fields, r.text)


def test_input_reference_sent_twice_in_a_form_is_400_naming_it_never_500(served_app):
    """input_reference as a value and as input_reference[image_url] parts (either order), or twice: a refusal
    naming the field (it used to be a TypeError: a 500)."""
    image = ("first.png", png_bytes(48), "image/png")
    url = "data:image/png;base64," + base64.b64encode(png_bytes(48)).decode()
    forms = [
        {"data": {"prompt": "x", "input_reference": "a", "input_reference[image_url]": "b"}},  # urlencoded
        {"data": {"prompt": "x", "input_reference[image_url]": "b", "input_reference": "a"}},
        {
            "files": [
                ("prompt", (None, "x")),
                ("input_reference", (None, url)),
                ("input_reference[image_url]", (None, url)),
            ]
        },
        {"files": [("prompt", (None, "x")), ("input_reference[image_url]", (None, url)), ("input_reference", image)]},
        {"files": [("prompt", (None, "x")), ("input_reference", image), ("input_reference[image_url]", (None, url))]},
        {"files": [("prompt", (None, "x")), ("input_reference", image), ("input_reference", image)]},
        {
            "files": [
                ("prompt", (None, "x")),
                ("input_reference[image_url]", (None, url)),
                ("input_reference[image_url]", (None, url)),
            ]
        },
    ]
    with served_app.client() as c:
        for form in forms:
            for path in ("/v1/videos", "/v1/videos/job_missing/remix"):  # the form is read before the lookup
                r = c.post(path, **form)
                assert r.status_code == 400, (path, form, r.text)
                error = r.json()["error"]
                assert error["param"] == "input_reference" and error["type"] == "invalid_request_error", r.text
                assert "more than once" in error["message"], r.text


def test_the_sdk_sends_input_reference_as_an_image_url_form_part(sdk):
    """``{"image_url": ...}`` goes out as an ``input_reference[image_url]`` form part (this SDK refuses a dict
    in ``input_reference=`` itself, so it rides in ``extra_body``, flattened the same way)."""
    url = "data:image/png;base64," + base64.b64encode(png_bytes(48)).decode()
    video = sdk.videos.create_and_poll(
        prompt="a tide", model="wan", poll_interval_ms=100, extra_body={"input_reference": {"image_url": url}, **TINY}
    )
    assert video.status == "completed", video.error
    assert video.model_extra["task"] == "image-to-video"
    with pytest.raises(openai.BadRequestError) as err:  # an unknown extra field, sent the same way
        sdk.videos.create(prompt="x", model="wan", extra_body={"nope": {"a": "1"}})
    assert err.value.param == "nope"


def test_json_bodies_are_read_strictly_by_their_schema(served_app):
    """The declared JSON body is the validator: a number for a string, a string for a number, an unknown
    key or a malformed size is 400 naming it; the declared shapes are accepted."""
    cases = [
        ({"prompt": 5}, "prompt"),
        ({"seconds": True}, "seconds"),
        ({"num_frames": "9"}, "num_frames"),
        ({"size": "²x2"}, "size"),
        ({"size": "64 x 32"}, "size"),
        ({"input_reference": {"url": "x"}}, "input_reference"),
        ({"input_reference": 7}, "input_reference"),
        ({"step_cache": {"kind": "nope"}}, "step_cache.kind"),
        ({"extra": 1}, "extra"),
        ({"model": 0}, "model"),
    ]
    with served_app.client() as c:
        for fields, param in cases:
            r = c.post("/v1/videos", json={"prompt": "x", "model": "wan", **fields})
            assert r.status_code == 400, (fields, r.text)
            assert r.json()["error"]["param"] == param, (fields, r.text)
        for body in ([1], "x", None):  # not an object; None: no body at all
            r = c.post("/v1/videos", json=body)
            assert r.status_code == 400 and r.json()["error"]["param"] == "body", (body, r.text)
        r = c.post("/v1/videos/job_missing/remix", json={"prompt": "x", "seed": 1})
        assert r.status_code == 400 and r.json()["error"]["param"] == "seed", r.text
        ok = c.post("/v1/videos", json={"prompt": "rain", "model": "wan", "seconds": 1, "size": "64X32", **TINY})
        assert ok.status_code == 200, ok.text
        assert wait_job(c, ok.json()["id"])["status"] == "succeeded"


# -- /v1 errors answered before any route runs, in OpenAI's shape (the real app and SDK, no Ray) --------------
KEY = "v1-errors-key-0123456789"


def _keyed_app(tmp_path):
    from videogen.serve.config import VideoGenAppConfig
    from videogen.serve.http_app import build_http_app
    from videogen.serve.service.videogen_service import VideoGenService

    cfg = VideoGenAppConfig(
        families=["wan"],
        state_dir=str(tmp_path),
        max_body_bytes=4096,
        api_keys={KEY: {"name": "alice", "role": "user"}},
    )
    return build_http_app(VideoGenService(cfg, {}))


def test_v1_errors_from_the_guards_and_the_framework_arrive_as_sdk_exceptions(tmp_path):
    from fastapi.testclient import TestClient

    client = TestClient(_keyed_app(tmp_path), raise_server_exceptions=False)

    def sdk(key: str) -> openai.OpenAI:
        return openai.OpenAI(base_url="http://testserver/v1", api_key=key, max_retries=0, http_client=client)

    with pytest.raises(openai.AuthenticationError) as err:  # AuthGate, before any body is read
        sdk("wrong-key-0123456789").videos.list()
    assert err.value.code == "unauthorized" and err.value.type == "authentication_error"
    with pytest.raises(openai.BadRequestError) as err:  # FastAPI's own validation: 400 on /v1, never 422
        sdk(KEY).videos.list(limit=0)
    assert err.value.param == "limit" and err.value.code == "invalid_request"
    with pytest.raises(openai.APIStatusError) as err:  # the body limit (4096 bytes here)
        sdk(KEY).videos.create(prompt="x" * 8000, model="wan")
    assert err.value.status_code == 413 and err.value.code == "too_large"
    with pytest.raises(openai.NotFoundError) as err:
        sdk(KEY).videos.retrieve("job_missing")
    assert err.value.code == "job_not_found"
    auth = {"Authorization": f"Bearer {KEY}"}
    for method, path, headers, status, code in (
        ("PUT", "/v1/videos", auth, 405, "method_not_allowed"),
        ("POST", "/v1/videos", {**auth, "content-length": "many"}, 400, "invalid_request"),
        ("GET", "/v1/nowhere", auth, 404, "not_found"),
        ("GET", "/v1/videos", {}, 401, "unauthorized"),
    ):
        r = client.request(method, path, headers=headers)
        assert r.status_code == status, (method, path, r.text)
        assert set(r.json()["error"]) >= {"message", "type", "param", "code"} and r.json()["error"]["code"] == code
        # The same refusal on /api keeps VideoGen's shape.
        api = client.request(
            method, path.replace("/v1/videos", "/api/video/jobs").replace("/v1/", "/api/"), headers=headers
        )
        assert api.status_code == status and "type" not in api.json()["error"], api.text


def test_v1_errors_keep_openai_shape_under_a_serve_route_prefix(tmp_path):
    """Serve keeps its route prefix in ``root_path`` and in ``path``: /prefix/v1 is still /v1, and the public
    paths stay public."""
    import asyncio

    import httpx

    async def calls():
        transport = httpx.ASGITransport(app=_keyed_app(tmp_path), root_path="/secured")
        async with httpx.AsyncClient(transport=transport, base_url="http://serve/secured") as c:
            return [await c.get(p) for p in ("/healthz", "/openapi.json", "/v1/videos", "/api/video/jobs")]

    health, schema, v1, api = asyncio.run(calls())
    assert health.status_code == 200 and schema.status_code == 200
    assert v1.status_code == 401 and v1.json()["error"]["type"] == "authentication_error"
    assert (
        api.status_code == 401 and api.json()["error"]["code"] == "unauthorized" and "type" not in api.json()["error"]
    )


# -- videos.edit and videos.extend (POST /v1/videos/edits, /v1/videos/extensions) ------------------------------
def _served_view(served_app) -> list[dict]:
    with served_app.client() as c:
        return [m for m in c.get("/api/video/models").json()["models"] if m.get("served")]


def _clip(tmp_path, fps: int, frames: int = 9):
    from videogen.video.encode import write_mp4

    path = tmp_path / f"clip{frames}.mp4"
    write_mp4(np.random.default_rng(frames).integers(0, 255, (frames, 32, 32, 3), dtype=np.uint8), path, fps=fps)
    return path


def _frames(sdk, video_id: str, tmp_path) -> int:
    path = tmp_path / f"{video_id}.mp4"
    path.write_bytes(sdk.videos.download_content(video_id).content)
    return read_mp4(path)[0].shape[0]


def test_edit_an_uploaded_clip_and_a_finished_video(sdk, served_app, tmp_path):
    """An upload, then ``{"id"}`` of the finished edit (the SDK refuses a dict in ``video=``, so it rides in
    ``extra_body`` and goes out as the form part ``video[id]``): each a new video-to-video job with the
    input's frame count, on the model named (the source video's when none is)."""
    wan = next(m for m in _served_view(served_app) if m["id"] == "wan")
    fps = wan["request_defaults"]["video-to-video"]["fps"]
    clip = _clip(tmp_path, fps)
    knobs = {"num_inference_steps": 2, "seed": 5, "strength": 0.6}
    with clip.open("rb") as fh:
        edited = sdk.videos.edit(prompt="make it snow", video=fh, extra_body={"model": "wan", **knobs})
    assert edited.model_extra["task"] == "video-to-video" and edited.model == "wan"
    edited = sdk.videos.poll(edited.id, poll_interval_ms=100)
    assert edited.status == "completed", edited.error
    assert _frames(sdk, edited.id, tmp_path) == 9 == read_mp4(clip)[0].shape[0]

    again = sdk.videos.edit(prompt="and rain", video=openai.omit, extra_body={"video": {"id": edited.id}, **knobs})
    assert again.model == "wan" and again.model_extra["family"] == "wan"  # the source video's model
    again = sdk.videos.poll(again.id, poll_interval_ms=100)
    assert again.status == "completed", again.error
    assert _frames(sdk, again.id, tmp_path) == 9 and again.size == edited.size
    with pytest.raises(openai.NotFoundError):  # not a video of this caller's (here: none at all)
        sdk.videos.edit(prompt="x", video=openai.omit, extra_body={"video": {"id": "job_nosuchvideo"}})


def test_extend_with_keyframes_or_a_refusal_naming_the_model(sdk, served_app, tmp_path):
    """Extend = keyframes with the source at frame 0 and ``seconds`` more. A family without keyframes is refused
    naming ``model`` (or ``video`` when the source video's own model chose it), with the models that have it."""
    served = _served_view(served_app)
    offering = [m["id"] for m in served if m["task_support"].get("keyframes", "not_supported") != "not_supported"]
    lacking = next(m for m in served if m["id"] not in offering)
    clip = _clip(tmp_path, lacking["defaults"]["fps"])
    with pytest.raises(openai.BadRequestError) as err, clip.open("rb") as fh:
        sdk.videos.extend(prompt="on", seconds="1", video=fh, extra_body={"model": lacking["id"]})
    assert err.value.param == "model" and f"{lacking['id']} does not offer keyframes" in err.value.message
    assert set(err.value.body["allowed"]) >= set(offering)
    assert offering, "no served family offers keyframes (ltx-video's LTXConditionPipeline)"
    source = sdk.videos.create_and_poll(prompt="a dog", model=lacking["id"], poll_interval_ms=100, extra_body=TINY)
    with pytest.raises(openai.BadRequestError) as err:  # no model named: the source video's own, which has none
        sdk.videos.extend(prompt="on", seconds="1", video=openai.omit, extra_body={"video": {"id": source.id}})
    assert err.value.param == "video" and "the source video's model" in err.value.message, err.value.message
    family = next(m for m in served if m["id"] == offering[0])
    fps = family["request_defaults"]["keyframes"]["fps"]
    clip = _clip(tmp_path, fps)
    with clip.open("rb") as fh:
        longer = sdk.videos.extend(
            prompt="the waves roll on",
            seconds="1",
            video=fh,
            extra_body={"model": family["id"], "num_inference_steps": 2, "seed": 5},
        )
    assert longer.model_extra["task"] == "keyframes" and longer.model == family["id"]
    longer = sdk.videos.poll(longer.id, poll_interval_ms=100)
    assert longer.status == "completed", longer.error
    # 9 source frames and 1 s more, moved to the family's frame rule (8k+1 on LTX): reported when it moved
    rule = family["request_limits"]["keyframes"]["num_frames"]
    asked = 9 + round(1 * fps)
    frames = _frames(sdk, longer.id, tmp_path)
    assert (
        frames > 9 and (frames - rule["remainder"]) % rule["multiple"] == 0 and abs(frames - asked) <= rule["multiple"]
    )
    moved = [a for a in longer.model_extra["adjustments"] if a["field"] == "num_frames"]
    assert moved == ([] if frames == asked else [{**moved[0], "requested": asked, "used": frames}]), moved


def test_a_bad_source_video_is_400_naming_video(sdk, served_app, tmp_path):
    mp4 = _clip(tmp_path, 16).read_bytes()
    cases = [
        ("notes.mp4", b"not a video at all", "not an MP4, MOV or WebM video"),
        ("cut.mp4", mp4[: len(mp4) // 3], ""),  # a container's start, cut short: refused when it is read
    ]
    for name, data, words in cases:
        with pytest.raises(openai.BadRequestError) as err:
            sdk.videos.edit(prompt="x", video=(name, data, "video/mp4"), extra_body={"model": "wan"})
        assert err.value.param == "video" and words in err.value.message, err.value.message
    with pytest.raises(openai.BadRequestError) as err:  # told from its bytes before anything else is looked at
        sdk.videos.extend(prompt="x", seconds="1", video=("notes.mp4", b"not a video at all", "video/mp4"))
    assert err.value.param == "video", err.value.message
    with served_app.client() as c:  # JSON: a source that is neither a clip nor {"id"}, and none at all
        for body in ({"prompt": "x", "video": {"id": 5}}, {"prompt": "x", "video": {"url": "x"}}, {"prompt": "x"}):
            r = c.post("/v1/videos/edits", json=body)
            assert r.status_code == 400 and r.json()["error"]["param"] == "video", r.text
        r = c.post("/v1/videos/extensions", json={"prompt": "x", "video": "data:video/mp4;base64,AAAA", "seconds": 0})
        assert r.status_code == 400 and r.json()["error"]["param"] == "seconds", r.text


def test_latent_upscale_through_v1_and_refused_for_a_family_without_one(sdk, served_app):
    video = sdk.videos.create_and_poll(
        prompt="a lighthouse at night",
        model="ltx-video",
        size="64x64",
        poll_interval_ms=100,
        extra_body={**TINY, "latent_upscale": True},  # a form field, as the SDK sends it
    )
    assert video.status == "completed", video.error
    assert video.size == "64x64"
    with served_app.client() as c:
        job = c.get(f"/api/video/jobs/{video.id}").json()
        assert job["request"]["latent_upscale"] is True
        assert (job["params"]["first_pass_height"], job["params"]["first_pass_width"]) == (32, 32)
        r = c.post("/api/video/jobs", json={"family": "wan", "prompt": "x", "latent_upscale": True})
        assert r.status_code == 422 and r.json()["error"]["field"] == "latent_upscale"


def test_ltx2_video_has_its_soundtrack_unless_with_audio_is_false(sdk, served_app, tmp_path):
    """LTX-2 through /v1: the downloaded MP4 carries an AAC track (decoded here), a form's with_audio=false leaves it
    out; a family without sound refuses with_audio=true naming the field."""
    from videogen.video.soundtrack import read_audio_track

    for with_audio in (True, False):
        video = sdk.videos.create_and_poll(
            prompt="a drummer on a beach",
            model="ltx2",
            size="32x32",
            poll_interval_ms=100,
            extra_body={**TINY, **({} if with_audio else {"with_audio": False})},  # as the SDK sends it: a form field
        )
        assert video.status == "completed", video.error
        path = tmp_path / f"{with_audio}.mp4"
        path.write_bytes(sdk.videos.download_content(video.id).content)
        track = read_audio_track(path)
        if with_audio:
            assert track.codec == "aac" and track.channels == 2 and track.seconds == pytest.approx(9 / 24, abs=0.06)
        else:
            assert track is None
        assert read_mp4(path)[0].shape == (9, 32, 32, 3)
        with served_app.client() as c:
            assert c.get(f"/api/video/jobs/{video.id}").json()["params"]["with_audio"] is with_audio
    with served_app.client() as c:
        r = c.post("/api/video/jobs", json={"family": "wan", "prompt": "x", "with_audio": True})
        assert r.status_code == 422 and r.json()["error"]["field"] == "with_audio", r.text
        models = {m["id"]: m for m in c.get("/api/video/models").json()["models"]}
        assert models["ltx2"]["audio"] is True and models["wan"]["audio"] is False


def test_skyreels_v2_long_video_runs_in_windows_and_its_forcing_fields_are_validated(sdk, served_app):
    """SkyReels-V2 through /v1: diffusion forcing's fields as form fields, a long video in two windows of the tiny
    model's 9 frames (its progress ends in the second); a causal block that does not divide the windows is a 422
    naming the field and the values allowed, and another family refuses the fields."""
    video = sdk.videos.create_and_poll(
        prompt="a fox running through snow",
        model="skyreels-v2",
        size="32x32",
        poll_interval_ms=100,
        extra_body={**TINY, "num_frames": 13, "ar_step": 1},
    )
    assert video.status == "completed", video.error
    with served_app.client() as c:
        job = c.get(f"/api/video/jobs/{video.id}").json()
        assert job["params"]["denoising_blocks"] == [4, 2] and job["params"]["forcing"]["ar_step"] == 1
        assert (job["progress"]["step"], job["progress"]["block"], job["progress"]["total_blocks"]) == (6, 2, 2)
        r = c.post(
            "/api/video/jobs",
            json={"family": "skyreels-v2", "prompt": "x", "num_frames": 13, "causal_block_size": 3},
        )
        assert r.status_code == 422 and r.json()["error"]["field"] == "causal_block_size", r.text
        assert r.json()["error"]["allowed"] == [1]
        r = c.post("/api/video/jobs", json={"family": "wan", "prompt": "x", "ar_step": 5})
        assert r.status_code == 422 and r.json()["error"]["field"] == "ar_step", r.text
        models = {m["id"]: m for m in c.get("/api/video/models").json()["models"]}
        assert models["skyreels-v2"]["request_fields"] == ["ar_step", "causal_block_size", "overlap_history"]
