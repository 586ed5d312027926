"""The ``/v1/videos`` routes: a router of the per-replica app, thin like the ``/api`` routes.

The caller was identified by ``AuthGate`` before the body was read (the same
keys, owners and roles as ``/api``), and ``OpenAIVideos`` does the work. ``POST /v1/videos`` and its remix take
multipart/form-data (what the openai SDK sends) or JSON, read by ``read_body`` against the protocol models
(declared in the OpenAPI document as both media types: ``document_v1``). A job still running is answered with an
``openai-poll-after-ms`` header. Each route documents every error status it answers (OpenAI's error
body, rendered by the app's handlers for /v1 paths; a refused value is 400 here, never FastAPI's 422) and the
content route its media types.
"""

from __future__ import annotations

import re
from typing import Any, Literal

from fastapi import APIRouter, Depends, Query, Request, Response
from pydantic import BaseModel, ValidationError

from videogen.errors import InvalidRequestError
from videogen.serve.dependencies import Principal, principal, videogen
from videogen.serve.downloads import DOWNLOAD_ANSWERS, download_response
from videogen.serve.errors import documented, request_validation_error
from videogen.serve.openai.protocol import (
    OPENAI_PREFIX,
    POLL_AFTER_MS,
    POLL_HEADER,
    CreateVideoRequest,
    OpenAIErrorResponse,
    RemixVideoRequest,
    Video,
    VideoDeleted,
    VideoList,
    body_schemas,
)
from videogen.serve.openai.serving import VARIANTS, OpenAIVideos
from videogen.serve.service.videogen_service import VideoGenService
from videogen.video.outputs import VARIANTS as MEDIA
from videogen.video.outputs import media_type

router = APIRouter(prefix=OPENAI_PREFIX, tags=["OpenAI Videos API"])

# What a status means on /v1 where it differs from /api: a refused value is 400 here (422 there).
_V1_MEANING = {
    400: "a field is invalid, names an unknown model, or the job would not fit the hardware (OpenAI answers "
    "these with 400; /api with 422); or malformed request framing",
    404: "no such video",
    409: "the video is not in a state that allows this (its content before it completed; remixing an image-to-video)",
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


# The bodies of create and remix in the OpenAPI document (JSON and multipart), and the schemas they refer to.
_COMPONENTS, _BODIES = body_schemas("#/components/schemas/")
_FORMS = ("multipart/form-data", "application/x-www-form-urlencoded")


def _sent_twice(name: str) -> InvalidRequestError:
    return InvalidRequestError(
        name,
        "is sent more than once (or both as a value and as name[key] parts)",
        allowed=f"one {name} part"
        if name != "input_reference"
        else "one of: an image file, input_reference[image_url], a data: URL",
    )


# A form part's name: a field, then up to two bracketed parts: ``name``, ``name[key]``, ``name[0]``, ``name[]``,
# ``name[][key]``, ``name[0][key]``.
_PART_NAME = re.compile(r"^([A-Za-z_][A-Za-z0-9_]*)((?:\[[^\[\]]*\]){0,2})$")


def _place(fields: dict[str, Any], key: str, value: Any) -> None:
    """One form part into ``fields``: ``name[key]`` into a dict (the openai SDK sends ``input_reference=
    {"image_url": ...}`` as ``input_reference[image_url]``); ``name[]`` appended to a list and ``name[][key]`` into
    its last object, a new object when that key is already set (the SDK's "brackets" form of a list, e.g.
    ``loras=[{"name": ..., "scale": ...}, ...]`` as ``loras[][name]``, ``loras[][scale]``, ...); ``name[0]``,
    ``name[0][key]`` by index."""
    match = _PART_NAME.match(key)
    if match is None:  # not a field name the body declares: the model refuses it by name
        if key in fields:
            raise _sent_twice(key)
        fields[key] = value
        return
    name, path = match.group(1), re.findall(r"\[([^\[\]]*)\]", match.group(2))
    if not path:
        if name in fields:
            raise _sent_twice(name)
        fields[name] = value
        return
    first, rest = path[0], path[1:]
    if first == "":
        items = fields.setdefault(name, [])
        if not isinstance(items, list):
            raise _sent_twice(name)
        if not rest:
            items.append(value)
            return
        # The k-th name[][key] part belongs to the k-th object: httpx writes a list's parts key by key
        # (every name, then every scale), not object by object.
        index = sum(1 for item in items if isinstance(item, dict) and rest[0] in item)
        while len(items) <= index:
            items.append({})
        if not isinstance(items[index], dict):
            raise _sent_twice(name)
        items[index][rest[0]] = value
        return
    parts = fields.setdefault(name, {})
    if not isinstance(parts, dict):
        raise _sent_twice(name)
    if rest:
        parts = parts.setdefault(first, {})
        first = rest[0]
        if not isinstance(parts, dict):
            raise _sent_twice(name)
    if first in parts:
        raise _sent_twice(name)
    parts[first] = value


async def _form_fields(request: Request) -> dict[str, Any]:
    """A form's fields, each sent once (``_place``); an uploaded file as its bytes. ``name[0]``, ``name[1]``, ...
    parts become a list in that order (a mask's image sequence, a list of objects by index)."""
    fields: dict[str, Any] = {}
    for key, value in (await request.form()).multi_items():
        _place(fields, key, await value.read() if hasattr(value, "read") else value)
    for name, parts in fields.items():
        if isinstance(parts, dict) and parts and set(parts) == {str(i) for i in range(len(parts))}:
            fields[name] = [parts[str(i)] for i in range(len(parts))]
        elif isinstance(parts, list) and len({frozenset(p) for p in parts if isinstance(p, dict)}) > 1:
            # name[][key] parts pair up by position only: with a key left out of one object they would pair wrong.
            raise InvalidRequestError(
                name,
                "gives an object's key as name[][key] for some items only: the items cannot be told apart",
                allowed=f"every key for every item ({name}[][key]), or numbered items ({name}[0][key], ...)",
            )
    return fields


async def read_body(request: Request, model: type[BaseModel]) -> dict[str, Any]:
    """The fields of a create or remix call as ``model`` reads them: a form's text as the declared types, JSON
    strictly (a number is not a string); refused as 400 naming the field. What was not sent stays out."""
    try:
        if request.headers.get("content-type", "").startswith(_FORMS):
            parsed = model.model_validate(await _form_fields(request))
        else:
            parsed = model.model_validate_json(await request.body(), strict=True)
    except ValidationError as exc:
        errors = exc.errors()
        invalid = request_validation_error(errors)
        if errors[0]["type"] == "extra_forbidden" and len(errors[0]["loc"]) == 1:
            invalid.allowed = list(model.model_fields)
        raise invalid from None
    return parsed.model_dump(exclude_unset=True)


def document_v1(app) -> None:
    """The ``/v1`` operations in the OpenAPI document: the create and remix bodies (declared with
    ``openapi_extra``; their schemas added here), and no FastAPI 422: the app's handlers answer a refused
    value on /v1 with 400 (documented per route), so the 422 FastAPI adds to every route with parameters
    never comes."""
    build = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            schema = build()
            for path, operations in schema["paths"].items():
                if path.startswith(OPENAI_PREFIX + "/"):
                    for operation in operations.values():
                        operation.get("responses", {}).pop("422", None)
            known = schema.setdefault("components", {}).setdefault("schemas", {})
            for name, component in _COMPONENTS.items():
                known.setdefault(name, component)
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


@router.post("/videos", response_model=Video, responses=_CREATE, openapi_extra={"requestBody": _BODIES["create"]})
async def v1_create_video(request: Request, response: Response, videos: OpenAIVideos = Videos, who: Principal = Caller):
    """OpenAI ``videos.create``: prompt, model, seconds, size, input_reference (+ VideoGen's own fields)."""
    return _poll_hint(response, await videos.create(await read_body(request, CreateVideoRequest), who))


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


@router.get(
    "/videos/{video_id}/content",
    responses={200: {"content": _CONTENT_TYPES}, **DOWNLOAD_ANSWERS, **_v1(400, 401, 404, 409, 416, 500, 503)},
)
async def v1_video_content(
    video_id: str,
    request: Request,
    variant: str = Query(default="video", pattern=_VARIANT_PATTERN, description=" | ".join(VARIANTS)),
    videos: OpenAIVideos = Videos,
    who: Principal = Caller,
):
    opened = await videos.content(video_id, variant, who)  # opened now: see videogen.serve.downloads
    return await download_response(opened, media_type=media_type(variant), range_header=request.headers.get("range"))


@router.post(
    "/videos/{video_id}/remix",
    response_model=Video,
    responses=_v1(400, 401, 404, 409, 413, 429, 500, 503, 507),
    openapi_extra={"requestBody": _BODIES["remix"]},
)
async def v1_remix_video(
    video_id: str, request: Request, response: Response, videos: OpenAIVideos = Videos, who: Principal = Caller
):
    body = await read_body(request, RemixVideoRequest)
    return _poll_hint(response, await videos.remix(video_id, body["prompt"], who))
