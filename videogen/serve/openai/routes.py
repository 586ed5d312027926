"""The ``/v1/videos`` routes: a router of the per-replica app, thin like the ``/api`` routes.

The caller was identified by ``AuthGate`` before the body was read (the same
keys, owners and roles as ``/api``), and ``OpenAIVideos`` does the work. ``POST /v1/videos`` takes multipart/form-data
(what the openai SDK sends) or JSON. A job still running is answered with an
``openai-poll-after-ms`` header. Each route documents every error status it answers (OpenAI's error
body; a refused value is 400 here, never FastAPI's 422) and the content route its media types.
"""

from __future__ import annotations

from typing import Any, Literal

from fastapi import APIRouter, Depends, Query, Request, Response
from fastapi.responses import FileResponse

from videogen.errors import InvalidRequestError
from videogen.serve.dependencies import Principal, principal, videogen
from videogen.serve.errors import documented
from videogen.serve.openai.protocol import (
    OPENAI_PREFIX,
    POLL_AFTER_MS,
    POLL_HEADER,
    OpenAIErrorResponse,
    Video,
    VideoDeleted,
    VideoList,
)
from videogen.serve.openai.serving import VARIANTS, OpenAIVideos
from videogen.serve.service.videogen_service import VideoGenService
from videogen.video.outputs import VARIANTS as MEDIA, media_type

router = APIRouter(prefix=OPENAI_PREFIX, tags=["OpenAI Videos API"])

# What a status means on /v1 where it differs from /api: a refused value is 400 here (422 there).
_V1_MEANING = {
    400: "a field is invalid, names an unknown model, or the job would not fit the hardware (OpenAI answers "
         "these with 400; /api with 422); or malformed request framing",
    404: "no such video",
    409: "the video is not in a state that allows this (its content before it completed; remixing an "
         "image-to-video)",
}


def _v1(*statuses: int) -> dict[int, dict[str, Any]]:
    """``responses=`` of a /v1 route: its error statuses, with OpenAI's error body."""
    return documented(*statuses, model=OpenAIErrorResponse, meaning=_V1_MEANING)


_CREATE = _v1(400, 401, 413, 429, 500, 503, 507)
_ONE_VIDEO = _v1(400, 401, 404, 500, 503)
_LIST = _v1(400, 401, 404, 500, 503)  # 404: an unknown ``after`` cursor
_VARIANT_PATTERN = "^(" + "|".join(VARIANTS) + ")$"
# The content route answers the file itself: the MP4, or a picture (JPEG thumbnail/spritesheet, WebP preview).
_CONTENT_TYPES = {MEDIA[v][1]: {} for v in VARIANTS}


async def read_create_body(request: Request) -> dict[str, Any]:
    """The fields of a create call, multipart or JSON; an uploaded ``input_reference`` as bytes."""
    kind = request.headers.get("content-type", "")
    if kind.startswith("multipart/form-data") or kind.startswith("application/x-www-form-urlencoded"):
        form = await request.form()
        fields: dict[str, Any] = {}
        for key, value in form.multi_items():
            if key.startswith("input_reference[") and key.endswith("]"):  # {"image_url": ...} sent as a form
                fields.setdefault("input_reference", {})[key[len("input_reference["):-1]] = value
            elif hasattr(value, "read"):
                fields[key] = await value.read()
            else:
                fields[key] = value
        return fields
    try:
        body = await request.json()
    except ValueError:
        raise InvalidRequestError("body", "is not valid JSON or multipart/form-data", allowed="a JSON object") from None
    if not isinstance(body, dict):
        raise InvalidRequestError("body", "must be an object", allowed="a JSON object")
    return body


def document_v1_errors(app) -> None:
    """Drop FastAPI's own 422 from the ``/v1`` operations: ``OpenAIErrorShape`` answers a refused value there
    with 400 (documented per route), so the 422 FastAPI adds to every route with parameters never comes."""
    build = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            for path, operations in build()["paths"].items():
                if path.startswith(OPENAI_PREFIX + "/"):
                    for operation in operations.values():
                        operation.get("responses", {}).pop("422", None)
        return app.openapi_schema

    app.openapi = openapi


def _poll_hint(response: Response, video: Video) -> Video:
    if video.status in ("queued", "in_progress"):
        response.headers[POLL_HEADER] = str(POLL_AFTER_MS)
    return video


async def openai_videos(svc: VideoGenService = Depends(videogen)) -> OpenAIVideos:
    """The /v1 serving logic over this replica's service (one per replica, made on first use)."""
    videos = getattr(svc, "openai_videos", None)
    if videos is None:
        videos = svc.openai_videos = OpenAIVideos(svc)
    return videos


Videos = Depends(openai_videos)
Caller = Depends(principal)


@router.post("/videos", response_model=Video, responses=_CREATE)
async def v1_create_video(request: Request, response: Response, videos: OpenAIVideos = Videos,
                          who: Principal = Caller):
    """OpenAI ``videos.create``: prompt, model, seconds, size, input_reference (+ VideoGen's own fields)."""
    return _poll_hint(response, await videos.create(await read_create_body(request), who))


@router.get("/videos", response_model=VideoList, responses=_LIST)
async def v1_list_videos(
    after: str | None = Query(default=None),
    limit: int = Query(default=20, ge=1, le=100),
    order: Literal["asc", "desc"] = Query(default="desc"),
    videos: OpenAIVideos = Videos,
    who: Principal = Caller,
):
    return await videos.list(after, limit, order, who)


@router.get("/videos/{video_id}", response_model=Video, responses=_ONE_VIDEO)
async def v1_retrieve_video(video_id: str, response: Response, videos: OpenAIVideos = Videos, who: Principal = Caller):
    return _poll_hint(response, await videos.retrieve(video_id, who))


@router.delete("/videos/{video_id}", response_model=VideoDeleted, responses=_v1(400, 401, 404, 409, 500, 503))
async def v1_delete_video(video_id: str, videos: OpenAIVideos = Videos, who: Principal = Caller):
    return await videos.delete(video_id, who)


@router.get("/videos/{video_id}/content",
            responses={200: {"content": _CONTENT_TYPES}, **_v1(400, 401, 404, 409, 500, 503)})
async def v1_video_content(video_id: str,
                           variant: str = Query(default="video", pattern=_VARIANT_PATTERN, description=" | ".join(VARIANTS)),
                           videos: OpenAIVideos = Videos, who: Principal = Caller):
    path = await videos.content(video_id, variant, who)
    return FileResponse(path, media_type=media_type(variant), filename=path.name)


@router.post("/videos/{video_id}/remix", response_model=Video, responses=_v1(400, 401, 404, 409, 413, 429, 500, 503, 507))
async def v1_remix_video(video_id: str, request: Request, response: Response, videos: OpenAIVideos = Videos,
                         who: Principal = Caller):
    body = await read_create_body(request)
    prompt = body.get("prompt")
    if not isinstance(prompt, str) or not prompt:
        raise InvalidRequestError("prompt", "is required", allowed="a non-empty string")
    return _poll_hint(response, await videos.remix(video_id, prompt, who))
