"""The OpenAI Videos API wire shapes, as the openai SDK (3.x) reads them.

A VideoGen job is shown as a ``Video``; errors on ``/v1`` routes answer
``{"error": {"message", "type", "param", "code"}}`` so the SDK raises its
typed exceptions (``BadRequestError``, ``NotFoundError``, ...).
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, Field

OPENAI_PREFIX = "/v1"
# How often a client polling a running job should look again (the SDK's poll helper reads it).
POLL_AFTER_MS = 250
POLL_HEADER = "openai-poll-after-ms"

# VideoGen job status -> OpenAI video status (a cancelled job has failed, with code "cancelled").
STATUS = {"queued": "queued", "running": "in_progress", "succeeded": "completed", "failed": "failed",
          "cancelled": "failed"}
# OpenAI's error "type" per HTTP status; the SDK picks its exception class from the status.
_ERROR_TYPES = {400: "invalid_request_error", 401: "authentication_error", 403: "permission_error",
                404: "not_found_error", 409: "conflict_error", 413: "invalid_request_error",
                429: "rate_limit_error"}


class OpenAIErrorBody(BaseModel):
    message: str
    type: str
    param: str | None = None
    code: str | None = None
    allowed: Any = Field(default=None, description="what ``param`` accepts (VideoGen's own; absent when unknown)")


class OpenAIErrorResponse(BaseModel):
    """Every error answer on ``/v1``: ``{"error": {"message", "type", "param", "code", "allowed"?}}``."""

    error: OpenAIErrorBody


class VideoError(BaseModel):
    code: str
    message: str


class Video(BaseModel):
    """OpenAI's ``Video`` object, plus VideoGen's own facts (extra keys the SDK keeps)."""

    id: str
    object: Literal["video"] = "video"
    model: str
    status: Literal["queued", "in_progress", "completed", "failed"]
    progress: int = 0
    created_at: int
    completed_at: int | None = None
    expires_at: int | None = Field(default=None, description="when the video and its record are deleted "
                                   "(completed_at + retention_days); null while it runs or when retention is off")
    seconds: str
    size: str
    prompt: str | None = None
    remixed_from_video_id: str | None = None
    error: VideoError | None = None
    # VideoGen's own
    family: str
    task: str
    stage: str | None = None
    adjustments: list[dict[str, Any]] = Field(default_factory=list)


class VideoList(BaseModel):
    object: Literal["list"] = "list"
    data: list[Video]
    first_id: str | None = None
    last_id: str | None = None
    has_more: bool = False


class VideoDeleted(BaseModel):
    id: str
    object: Literal["video.deleted"] = "video.deleted"
    deleted: bool = True


def seconds_text(num_frames: int, fps: int) -> str:
    """A clip's length as OpenAI writes it (a string): "4", or "1.12" when it is not whole."""
    seconds = round(num_frames / max(fps, 1), 2)
    return f"{seconds:g}"


def video_from_job(job: dict[str, Any]) -> Video:
    """The ``Video`` of a job (``Job.wire()``)."""
    request, params = job.get("request") or {}, job.get("params") or {}
    client = request.get("client") or {}
    result = job.get("result") or {}
    frames = result.get("frames") or params.get("num_frames") or 0
    fps = result.get("fps") or params.get("fps") or 1
    width, height = result.get("width") or params.get("width"), result.get("height") or params.get("height")
    progress = job.get("progress") or {}
    status = STATUS[job["status"]]
    error = job.get("error")
    ended = job["status"] in ("succeeded", "failed", "cancelled")
    return Video(
        id=job["id"],
        model=client.get("model") or job["family"],
        status=status,
        progress=100 if status == "completed" else int(progress.get("percent") or 0),
        created_at=int(job["created_at"]),
        completed_at=int(job["finished_at"]) if ended and job.get("finished_at") else None,
        expires_at=int(job["expires_at"]) if job.get("expires_at") is not None else None,
        seconds=seconds_text(frames, fps),
        size=f"{width}x{height}" if width and height else "",
        prompt=request.get("prompt"),
        remixed_from_video_id=client.get("remixed_from_video_id"),
        error=VideoError(code=error["code"], message=error["message"]) if error and status == "failed" else None,
        family=job["family"],
        task=job["task"],
        stage=progress.get("stage"),
        adjustments=job.get("adjustments") or [],
    )


def openai_status(status: int) -> int:
    """VideoGen answers a refused value with 422; OpenAI (and so the SDK's BadRequestError) with 400."""
    return 400 if status == 422 else status


def openai_error(body: dict[str, Any], status: int) -> dict[str, Any]:
    """VideoGen's ``{"error": {code, message, field?, allowed?}}`` in OpenAI's shape."""
    err = body.get("error") or {}
    message = err.get("message") or "error"
    if err.get("field") and not message.startswith(err["field"]):
        message = f"{err['field']}: {message}"
    out = {"message": message, "type": _ERROR_TYPES.get(status, "server_error" if status >= 500 else "invalid_request_error"),
           "param": err.get("field"), "code": err.get("code")}
    if err.get("allowed") is not None:
        out["allowed"] = err["allowed"]
    return {"error": out}
