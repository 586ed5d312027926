"""/v1's multipart bodies as the real openai SDK writes them: lists of objects (``loras``, ``conditions``) and of
strings (``reference_images``) go out as ``name[][key]`` / ``name[]`` parts and come back as the lists sent.

No Ray: ``read_body`` (the route's own reader) behind a one-route FastAPI app, reached through the SDK with
a Starlette test client as its HTTP client. The answer is a ``Video`` carrying what was read, so the SDK
parses it as it would a real one.
"""

from __future__ import annotations

import io

import openai
import pytest
from fastapi import FastAPI, Request
from fastapi.testclient import TestClient

from videogen.serve.errors import install_handlers
from videogen.serve.openai.protocol import CreateVideoRequest
from videogen.serve.openai.routes import read_body


def _echo_app() -> FastAPI:
    app = FastAPI()
    install_handlers(app)  # the service's own error answers (OpenAI's shape on /v1)

    @app.post("/v1/videos")
    async def create(request: Request):
        body = await read_body(request, CreateVideoRequest)
        body.pop("input_reference", None)  # bytes: not JSON
        return {"id": "video_1", "object": "video", "status": "queued", "model": "wan", "read": body}

    return app


@pytest.fixture(scope="module")
def sdk():
    with TestClient(_echo_app(), base_url="http://testserver") as http:
        yield openai.OpenAI(api_key="k", base_url="http://testserver/v1", http_client=http, max_retries=0)


PNG = (
    b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x02\x00\x00\x00\x90wS\xde\x00\x00\x00"
    b"\x0cIDATx\x9cc\xf8\xcf\xc0\x00\x00\x03\x01\x01\x00\xc9\xfe\x92\xef\x00\x00\x00\x00IEND\xaeB`\x82"
)


def test_lists_of_objects_and_strings_survive_the_sdks_multipart_form(sdk):
    loras = [{"name": "style-a", "scale": 0.5}, {"name": "style-b", "scale": 1.25}]
    video = sdk.videos.create(
        prompt="a fox",
        model="wan",
        input_reference=("first.png", io.BytesIO(PNG), "image/png"),  # a file: the SDK sends multipart
        extra_body={
            "loras": loras,
            "reference_images": ["data:image/png;base64,AAAA", "data:image/png;base64,BBBB"],
            "conditions": [{"image": "data:image/png;base64,CCCC", "frame_index": 8}],
            "num_inference_steps": 2,
        },
    )
    read = video.model_extra["read"]
    assert read["loras"] == loras
    assert read["reference_images"] == ["data:image/png;base64,AAAA", "data:image/png;base64,BBBB"]
    assert read["conditions"] == [{"image": "data:image/png;base64,CCCC", "frame_index": 8}]
    assert read["num_inference_steps"] == 2


def test_by_index_and_a_bad_item_named(sdk):
    http = sdk._client
    ok = http.post(
        "/v1/videos",
        data={"prompt": "x", "loras[1][name]": "b", "loras[0][name]": "a", "loras[0][scale]": "2"},
        files={"input_reference": ("f.png", PNG, "image/png")},
    )
    assert ok.json()["read"]["loras"] == [{"name": "a", "scale": 2.0}, {"name": "b"}]
    bad = http.post(
        "/v1/videos",
        data={"prompt": "x", "loras[][name]": "a", "loras[][scale]": "99"},
        files={"input_reference": ("f.png", PNG, "image/png")},
    )
    assert bad.status_code == 400 and bad.json()["error"]["param"] == "loras.0.scale", bad.text
    twice = http.post(
        "/v1/videos",
        data={"prompt": "x", "loras[0][name]": ["a", "b"]},
        files={"input_reference": ("f.png", PNG, "image/png")},
    )
    assert twice.status_code == 400 and twice.json()["error"]["param"] == "loras", twice.text


def test_bracket_items_with_different_keys_are_refused_not_paired_wrong(sdk):
    """The SDK writes [{"name": "a"}, {"name": "b", "scale": 2}] as name=a, name=b, scale=2: the scale could be
    either item's, so the form is refused naming the field (JSON, or every key on every item, says it plainly)."""
    with pytest.raises(openai.BadRequestError) as refused:
        sdk.videos.create(
            prompt="a fox",
            model="wan",
            input_reference=("first.png", io.BytesIO(PNG), "image/png"),
            extra_body={"loras": [{"name": "a"}, {"name": "b", "scale": 2.0}]},
        )
    assert refused.value.body["param"] == "loras"
