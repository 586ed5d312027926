"""The one place mapping errors to HTTP statuses and the JSON error shape.

Every error response is ``{"error": {"code", "message", "field"?, "allowed"?}}``.
FastAPI's request validation (422) is rewritten into the same shape with a
message naming the field and what is allowed.
"""

from __future__ import annotations

import logging
from typing import Any

from videogen.errors import (
    GenerationCancelled,
    InvalidRequestError,
    JobNotFoundError,
    ModelUnavailableError,
    UnsupportedTaskError,
    VideoGenError,
    WorkerUnavailableError,
)

logger = logging.getLogger("videogen.serve")

# Most specific first.
_STATUS: list[tuple[type[VideoGenError], int]] = [
    (JobNotFoundError, 404),
    (InvalidRequestError, 422),  # includes UnknownFamilyError
    (UnsupportedTaskError, 422),
    (GenerationCancelled, 409),
    (ModelUnavailableError, 503),
    (WorkerUnavailableError, 503),
]


class JobStateError(VideoGenError):
    """The job is not in a state that allows this (e.g. its video before it succeeded)."""

    code = "job_state"


class UnauthorizedError(VideoGenError):
    code = "unauthorized"


_STATUS += [(JobStateError, 409), (UnauthorizedError, 401)]


def status_for(exc: VideoGenError) -> int:
    for cls, status in _STATUS:
        if isinstance(exc, cls):
            return status
    return 500


def error_body(exc: VideoGenError) -> dict[str, Any]:
    err: dict[str, Any] = {"code": exc.code, "message": exc.message}
    field = getattr(exc, "field", None)
    if field:
        err["field"] = field
    allowed = getattr(exc, "allowed", None)
    if allowed is not None:
        err["allowed"] = allowed
    return {"error": err}


# -- pydantic / FastAPI validation --------------------------------------------------
_CONSTRAINTS = {"ge": ">=", "gt": ">", "le": "<=", "lt": "<", "min_length": "length >=", "max_length": "length <="}


def validation_error(errors: list[dict[str, Any]]) -> tuple[int, dict[str, Any]]:
    """FastAPI ``RequestValidationError.errors()`` -> (status, body) naming the field."""
    details = []
    for e in errors:
        if e.get("type") == "json_invalid":  # loc is ("body", <offset>): the body itself is broken
            details.append({"field": "body", "message": "body: is not valid JSON", "allowed": "a JSON object", "type": "json_invalid"})
            continue
        loc = [str(p) for p in e.get("loc", ()) if p not in ("body", "query", "path", "header")]
        field = ".".join(loc) or "body"
        ctx = e.get("ctx") or {}
        allowed: Any = None
        if "expected" in ctx:
            allowed = ctx["expected"]
        else:
            bounds = {k: ctx[k] for k in _CONSTRAINTS if k in ctx}
            if bounds:
                allowed = {k: (v if isinstance(v, (int, float, str)) else str(v)) for k, v in bounds.items()}
        msg = e.get("msg", "is invalid")
        if e.get("type") == "extra_forbidden":
            msg = "is not a known field"
        elif e.get("type") == "missing":
            msg = "is required"
        text = f"{field}: {msg}"
        if field == "image" and e.get("type") == "string_too_long":
            text = f"image: is too large ({msg.lower()}); send a smaller image"
        details.append({"field": field, "message": text, "allowed": allowed, "type": e.get("type")})
    first = details[0] if details else {"field": "body", "message": "invalid request", "allowed": None}
    body: dict[str, Any] = {"code": "invalid_request", "message": "; ".join(d["message"] for d in details) or first["message"], "field": first["field"]}
    if first.get("allowed") is not None:
        body["allowed"] = first["allowed"]
    if len(details) > 1:
        body["details"] = details
    status = 413 if first["field"] == "image" and first.get("type") == "string_too_long" else 422
    return status, {"error": body}


def install_handlers(app) -> None:
    """Register the handlers on a FastAPI app."""
    from fastapi import Request
    from fastapi.exceptions import RequestValidationError
    from fastapi.responses import JSONResponse
    from starlette.exceptions import HTTPException as StarletteHTTPException

    @app.exception_handler(VideoGenError)
    async def _videogen_error(_request: Request, exc: VideoGenError):
        status = status_for(exc)
        if status >= 500:
            logger.exception("request failed", exc_info=exc)
        return JSONResponse(error_body(exc), status_code=status)

    @app.exception_handler(RequestValidationError)
    async def _validation_error(_request: Request, exc: RequestValidationError):
        status, body = validation_error(exc.errors())
        return JSONResponse(_jsonable(body), status_code=status)

    @app.exception_handler(StarletteHTTPException)
    async def _http_error(_request: Request, exc: StarletteHTTPException):
        code = {404: "not_found", 405: "method_not_allowed", 401: "unauthorized", 413: "too_large"}.get(exc.status_code, "http_error")
        return JSONResponse({"error": {"code": code, "message": str(exc.detail)}}, status_code=exc.status_code,
                            headers=getattr(exc, "headers", None))

    @app.exception_handler(Exception)
    async def _unexpected(_request: Request, exc: Exception):
        logger.exception("unexpected error", exc_info=exc)
        return JSONResponse({"error": {"code": "internal_error", "message": f"{type(exc).__name__}: {exc}"}}, status_code=500)


def _jsonable(value: Any) -> Any:
    import json

    return json.loads(json.dumps(value, default=str))


# -- errors that cross a Ray handle ---------------------------------------------------
class VideoGenHandleError(Exception):
    """Raised to handle callers. Pickles cleanly (the core's typed errors do not survive Ray).

    ``error`` is the same dict as the HTTP error body's ``error``; ``status`` the HTTP status;
    ``job`` the finished job for :class:`JobFailedError`.
    """

    def __init__(self, error: dict[str, Any], status: int = 500, job: dict[str, Any] | None = None):
        super().__init__(error, status, job)
        self.error = error
        self.status = status
        self.job = job

    def __str__(self) -> str:
        return f"{self.error.get('code')}: {self.error.get('message')}"


class JobRejectedError(VideoGenHandleError):
    """The request was refused (bad input, unknown family or job)."""


class JobFailedError(VideoGenHandleError):
    """The job ended failed or cancelled; ``job`` holds it, with ``error``."""


def to_handle_error(exc: VideoGenError) -> JobRejectedError:
    return JobRejectedError(error_body(exc)["error"], status_for(exc))
