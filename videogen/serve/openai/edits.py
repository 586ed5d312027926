"""``POST /v1/videos/edits`` and ``POST /v1/videos/extensions``: the openai SDK's ``videos.edit`` and
``videos.extend`` over the same jobs as ``/v1/videos``.

``video`` is an uploaded MP4/MOV/WebM (multipart, what the SDK sends), a data URL (JSON), or ``{"id": ...}``: a
completed video of the caller's own, read from the store through the download path (``JobService.read_output``:
the owner's check, never a path the client chooses). An edit is video-to-video on the model the request names
(default: the source video's model, else the first served family's); an extension is the ``keyframes`` task with
the source clip as the condition at frame 0 and ``seconds`` more frames after it (the frame count moved to the
family's frame rule is an adjustment on the job). Both go through ``OpenAIVideos.create``: one validation, one
admission, one error shape.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import math
from copy import copy
from typing import TYPE_CHECKING, Annotated, Any

from fastapi import APIRouter, Request, Response
from pydantic import ConfigDict, Field, PlainValidator, WithJsonSchema, create_model
from pydantic_core import PydanticCustomError
from starlette.exceptions import HTTPException

from videogen.errors import InvalidRequestError
from videogen.serve.dependencies import Principal
from videogen.serve.errors import documented
from videogen.serve.openai.protocol import (
    EXTRA_FIELDS,
    OPENAI_PREFIX,
    POLL_AFTER_MS,
    POLL_HEADER,
    SIZE_PATTERN,
    CreateVideoRequest,
    OpenAIErrorResponse,
    Video,
    request_body_schemas,
)
from videogen.serve.openai.routes import Caller, Videos, read_body
from videogen.serve.openai.serving import OpenAIVideos
from videogen.video.registry import get_spec
from videogen.video.request import MAX_VIDEO_BYTES, VideoRequest
from videogen.video.spec import KEYFRAMES, TASK_OPTIONAL_INPUTS, VIDEO_TO_VIDEO
from videogen.video.task_media import TASK_FIELDS
from videogen.video.video_container import ContainerError, sniff

if TYPE_CHECKING:
    from videogen.serve.store.records import JobRecord

router = APIRouter(prefix=OPENAI_PREFIX, tags=["OpenAI Videos API"])

_SOURCE_TEXT = "an uploaded MP4/MOV/WebM file, a data: URL of one, or {'id': 'the id of a completed video of yours'}"
_MIME = {"mp4": "video/mp4", "webm": "video/webm"}
# VideoGen's own fields each call takes besides OpenAI's: the generation knobs every task shares, and what the
# task itself takes (an extension's frame count is the source's plus ``seconds``).
_COMMON = tuple(f for f in EXTRA_FIELDS if f not in TASK_FIELDS and f != "task")
EDIT_FIELDS = (*_COMMON, *TASK_OPTIONAL_INPUTS.get(VIDEO_TO_VIDEO, ()))
EXTEND_FIELDS = tuple(f for f in (*_COMMON, *TASK_OPTIONAL_INPUTS.get(KEYFRAMES, ())) if f != "num_frames")


def _source_value(value: Any) -> Any:
    if isinstance(value, (str, bytes)):  # bytes only from a multipart upload
        return value
    if isinstance(value, dict) and set(value) == {"id"} and isinstance(value["id"], str):
        return value
    raise PydanticCustomError("video_type", f"must be {_SOURCE_TEXT}")


def _seconds_value(value: Any) -> Any:
    if isinstance(value, str) or (isinstance(value, (int, float)) and not isinstance(value, bool)):
        return value
    raise PydanticCustomError("seconds_type", "must be a string or a number of seconds")


SourceVideo = Annotated[
    Any,
    PlainValidator(_source_value),
    WithJsonSchema(
        {
            "anyOf": [
                {"type": "string", "description": "a data: URL (or base64) of an MP4, MOV or WebM"},
                {
                    "type": "object",
                    "properties": {"id": {"type": "string", "description": "a completed video of yours"}},
                    "required": ["id"],
                    "additionalProperties": False,
                },
            ],
            "description": f"the source video: {_SOURCE_TEXT}",
        }
    ),
]
ExtensionSeconds = Annotated[
    Any,
    PlainValidator(_seconds_value),
    WithJsonSchema(
        {
            "anyOf": [{"type": "string"}, {"type": "number"}],
            "description": "how many seconds of new video follow the source (moved to the family's frame rule)",
        }
    ),
]


def _extras(names: tuple[str, ...]) -> dict[str, Any]:
    return {name: (VideoRequest.model_fields[name].annotation, copy(VideoRequest.model_fields[name])) for name in names}


_STRICT = ConfigDict(extra="forbid")
EditVideoRequest = create_model(
    "EditVideoRequest",
    __config__=_STRICT,
    __doc__="The body of ``POST /v1/videos/edits`` (JSON or multipart/form-data): video-to-video.",
    prompt=(str, Field(min_length=1, max_length=4000)),
    model=(str | None, copy(CreateVideoRequest.model_fields["model"])),
    size=(str | None, Field(default=None, pattern=SIZE_PATTERN, description="WIDTHxHEIGHT of the new video")),
    video=(SourceVideo, ...),
    **_extras(EDIT_FIELDS),
)
ExtendVideoRequest = create_model(
    "ExtendVideoRequest",
    __config__=_STRICT,
    __doc__="The body of ``POST /v1/videos/extensions`` (JSON or multipart/form-data): keyframes, the source at 0.",
    prompt=(str, Field(min_length=1, max_length=4000)),
    model=(str | None, copy(CreateVideoRequest.model_fields["model"])),
    size=(str | None, Field(default=None, pattern=SIZE_PATTERN, description="WIDTHxHEIGHT of the new video")),
    seconds=(ExtensionSeconds, ...),
    video=(SourceVideo, ...),
    **_extras(EXTEND_FIELDS),
)


def _source_video_form(form: dict[str, Any]) -> None:
    """A form carries the source video as an uploaded file, or as a finished job's id (``video[id]``)."""
    form["properties"]["video"] = {"type": "string", "format": "binary", "description": "the source video file"}
    form["properties"]["video[id]"] = {"type": "string", "description": "or: a completed video of yours, by id"}
    form["required"] = [r for r in form["required"] if r != "video"]


def _schemas() -> tuple[dict[str, Any], dict[str, Any]]:
    return request_body_schemas(
        {"edit": EditVideoRequest, "extend": ExtendVideoRequest}, "#/components/schemas/", _source_video_form
    )


_COMPONENTS, _BODIES = _schemas()
_MEANING = {
    400: "a field is invalid (the source video names `video`), the model offers no such task, or the job would not "
    "fit the hardware",
    404: "no such source video (or not yours)",
    409: "the source video has not completed",
}
_OTHER_METHODS = ("GET", "HEAD", "PUT", "PATCH", "DELETE")
_RESPONSES = documented(400, 401, 404, 409, 413, 429, 500, 503, 507, model=OpenAIErrorResponse, meaning=_MEANING)


def _refuse(field: str, message: str, allowed: Any = None) -> InvalidRequestError:
    return InvalidRequestError(field, message, allowed=allowed)


def _data_url(raw: bytes) -> str:
    """Uploaded or stored bytes as the request's data URL, once they are told to be a video and small enough."""
    if len(raw) > MAX_VIDEO_BYTES:
        raise _refuse("video", f"is {len(raw)} bytes; at most {MAX_VIDEO_BYTES} allowed", f"<= {MAX_VIDEO_BYTES} bytes")
    try:
        kind = sniff(raw[:64])
    except ContainerError as exc:
        raise _refuse("video", str(exc), _SOURCE_TEXT) from None
    return f"data:{_MIME[kind]};base64," + base64.b64encode(raw).decode("ascii")


def _text_bytes(value: str) -> bytes:
    payload = value.strip()
    if payload.startswith("data:"):
        header, _, payload = payload.partition(",")
        if ";base64" not in header:
            raise _refuse("video", "data URL must be base64-encoded", "data:video/mp4;base64,...")
    if payload.startswith(("http://", "https://")):
        raise _refuse("video", "remote URLs are not fetched", _SOURCE_TEXT)
    try:
        return base64.b64decode(payload, validate=True)
    except (binascii.Error, ValueError):
        raise _refuse("video", "is not valid base64", _SOURCE_TEXT) from None


def _seconds(value: Any) -> float:
    try:
        seconds = float(value)
    except (TypeError, ValueError):
        seconds = math.nan
    if not 0 < seconds <= 600:  # NaN fails too
        raise _refuse("seconds", f"{value!r} is not a length in seconds", "a number in (0, 600]")
    return seconds


def _offering(videos: OpenAIVideos, task: str) -> list[str]:
    """The /v1 model names whose family offers ``task``."""
    return [name for name in videos.model_names() if task in get_spec(videos.served_model(name).family).tasks]


class VideoEdits:
    """Edit and extend over ``OpenAIVideos`` (its model mapping and ``create``)."""

    def __init__(self, videos: OpenAIVideos):
        self.videos = videos
        self.jobs = videos.jobs

    async def _source(self, video: Any, who: Principal) -> tuple[str, JobRecord | None]:
        """The source as a data URL, and its job when it was named by id (the caller's own, completed)."""
        if isinstance(video, dict):
            video_id = video["id"]
            rec = await asyncio.to_thread(self.jobs.jobs.get, video_id, who.owner_filter)  # 404 when not theirs
            raw = await self.jobs.read_output(video_id, "video", who, limit=MAX_VIDEO_BYTES + 1)  # 409 until done
            return _data_url(raw), rec
        raw = video if isinstance(video, bytes) else _text_bytes(video)
        return _data_url(raw), None

    def _model(self, fields: dict[str, Any], rec: JobRecord | None, task: str) -> str | None:
        """The model the job runs on, as the client names it (None: the first served family's default). Without
        ``model``, a source video's own model; a refusal then names ``video`` (the field that chose it)."""
        named = fields.get("model") or None
        if named is None and rec is not None:
            client = (rec.request or {}).get("client") or {}
            named = client.get("model") or self.videos.settings.model_of(rec.family, rec.model_name)
            field = "video"
        else:
            field = "model"
        served = self.videos.served_model(named)
        if task not in get_spec(served.family).tasks:
            offering = _offering(self.videos, task)
            whose = served.name if served.name == served.family else f"{served.name} ({served.family})"
            whose = f"the source video's model {whose}" if field == "video" else whose
            raise _refuse(
                field,
                f"{whose} does not offer {task}; models here that do: {', '.join(offering) or 'none'}",
                offering,
            )
        return named

    async def edit(self, fields: dict[str, Any], who: Principal) -> Video:
        source, rec = await self._source(fields.pop("video"), who)
        model = self._model(fields, rec, VIDEO_TO_VIDEO)
        fields.update(model=model, task=VIDEO_TO_VIDEO, input_reference=source)
        client = {"edited_from_video_id": rec.id} if rec is not None else {}
        return await self.videos.create(fields, who, client=client)

    async def extend(self, fields: dict[str, Any], who: Principal) -> Video:
        from videogen.video.video_input import decode_video

        seconds = _seconds(fields.pop("seconds"))
        source, rec = await self._source(fields.pop("video"), who)
        model = self._model(fields, rec, KEYFRAMES)
        served = self.videos.served_model(model)
        spec = get_spec(served.family)
        meta = await asyncio.to_thread(self.videos.service.status.model_meta, served.family, KEYFRAMES, served.name)
        fps = int(fields.get("fps") or {**spec.defaults.model_dump(), **meta.request_defaults}["fps"])
        clip = await asyncio.to_thread(decode_video, source, "video")
        # The source's length at the job's fps, then the new seconds after it.
        have = math.floor((len(clip.frames) - 1) * fps / clip.fps + 1e-6) + 1 if clip.fps > 0 else len(clip.frames)
        del clip
        total = have + max(1, round(seconds * fps))
        if total > spec.frame_rule.max_frames:
            room = max(0.0, (spec.frame_rule.max_frames - have) / fps)
            raise _refuse(
                "seconds",
                f"{seconds:g} s after a {have}-frame source is {total} frames; {served.family} makes at most "
                f"{spec.frame_rule.max_frames} at {fps} fps",
                {"max": round(room, 2)},
            )
        fields.update(
            model=model,
            task=KEYFRAMES,
            num_frames=total,
            conditions=[{"video": source, "frame_index": 0, "strength": 1.0}],
        )
        client = {"extension_seconds": f"{seconds:g}", "source_frames": have}
        if rec is not None:
            client["extended_from_video_id"] = rec.id
        try:
            return await self.videos.create(fields, who, client=client)
        except InvalidRequestError as exc:
            if exc.field and exc.field.startswith(("conditions[0]", "conditions.0")):
                exc.field = "video"  # the caller sent the source as `video`
            raise


def _poll_hint(response: Response, video: Video) -> Video:
    if video.status in ("queued", "in_progress"):
        response.headers[POLL_HEADER] = str(POLL_AFTER_MS)
    return video


@router.post(
    "/videos/edits", response_model=Video, responses=_RESPONSES, openapi_extra={"requestBody": _BODIES["edit"]}
)
async def v1_edit_video(request: Request, response: Response, videos: OpenAIVideos = Videos, who: Principal = Caller):
    """OpenAI ``videos.edit``: a new video from ``video`` (an upload or ``{"id"}``) and a prompt (video-to-video)."""
    body = await read_body(request, EditVideoRequest)
    return _poll_hint(response, await VideoEdits(videos).edit(body, who))


@router.post(
    "/videos/extensions", response_model=Video, responses=_RESPONSES, openapi_extra={"requestBody": _BODIES["extend"]}
)
async def v1_extend_video(request: Request, response: Response, videos: OpenAIVideos = Videos, who: Principal = Caller):
    """OpenAI ``videos.extend``: ``video`` and ``seconds`` more after it (keyframes, the source at frame 0)."""
    body = await read_body(request, ExtendVideoRequest)
    return _poll_hint(response, await VideoEdits(videos).extend(body, who))


@router.api_route("/videos/edits", methods=list(_OTHER_METHODS), include_in_schema=False)
@router.api_route("/videos/extensions", methods=list(_OTHER_METHODS), include_in_schema=False)
async def v1_post_only() -> None:
    """405 + ``Allow: POST`` (without it, GET or DELETE would reach ``/videos/{video_id}`` as a video named
    "edits"): this router is included before the one with ``/videos/{video_id}``."""
    raise HTTPException(405, detail="only POST is allowed here", headers={"Allow": "POST"})


def document_edits(app) -> None:
    """The edit and extension bodies' schemas in the OpenAPI document (the routes refer to them)."""
    build = app.openapi

    def openapi() -> dict[str, Any]:
        schema = build()
        known = schema.setdefault("components", {}).setdefault("schemas", {})
        for name, component in _COMPONENTS.items():
            known.setdefault(name, component)
        return schema

    app.openapi = openapi
