"""Errors over HTTP: the one ``ErrorCode`` -> status map, the error body, the FastAPI handlers.

The errors themselves are the core's (``videogen.errors``): the service raises
them, handle callers receive them (they pickle across Ray), and here they
become ``{"error": exc.to_dict()}`` with a status chosen by code. FastAPI's
request validation is turned into an ``InvalidRequestError`` naming the field
and what is allowed, so it answers in the same shape.

On ``/v1`` paths every error is rendered straight into OpenAI's shape instead
(``{"error": {"message", "type", "param", "code"}}``, a refused value 400; see
``videogen.serve.openai.protocol``): by these handlers, and by the ASGI guards
that answer before any route (``AuthGate``'s 401, the body limit's 413, the 405)
through ``send_error``. One place picks the shape: ``render_error``.
"""

from __future__ import annotations

import json
import logging
from typing import Any

from starlette.responses import JSONResponse

from videogen.errors import (
    ErrorCode,
    InvalidRequestError,
    ServiceBusyError,
    StorageFullError,
    VideoGenError,
    error_dict,
)
from videogen.serve.openai.protocol import OPENAI_PREFIX, openai_error, openai_status

logger = logging.getLogger("videogen.serve")

HTTP_STATUS: dict[ErrorCode, int] = {
    ErrorCode.UNAUTHORIZED: 401,
    ErrorCode.JOB_NOT_FOUND: 404,
    ErrorCode.NOT_FOUND: 404,
    ErrorCode.METHOD_NOT_ALLOWED: 405,
    ErrorCode.CANCELLED: 409,
    ErrorCode.JOB_STATE: 409,
    ErrorCode.TOO_LARGE: 413,
    ErrorCode.RATE_LIMITED: 429,
    ErrorCode.INVALID_REQUEST: 422,
    ErrorCode.UNKNOWN_FAMILY: 422,
    ErrorCode.EXCEEDS_CAPACITY: 422,
    ErrorCode.UNSUPPORTED_TASK: 422,
    ErrorCode.MODEL_UNAVAILABLE: 503,
    ErrorCode.OVERLOADED: 503,
    ErrorCode.STORE_BUSY: 503,
    ErrorCode.STORE_UNAVAILABLE: 503,
    ErrorCode.STORAGE_FULL: 507,
    ErrorCode.RANGE_NOT_SATISFIABLE: 416,
    ErrorCode.ARTIFACTS_UNAVAILABLE: 503,
}
# Refusals Starlette raises itself (unknown route, wrong method, ...) get the code of their status.
_FRAMEWORK_CODES = (ErrorCode.NOT_FOUND, ErrorCode.METHOD_NOT_ALLOWED, ErrorCode.UNAUTHORIZED, ErrorCode.TOO_LARGE)


# What each documented status means, for the OpenAPI document (``documented``).
STATUS_MEANING = {
    400: "malformed request framing (e.g. a Content-Length that is not a number)",
    401: "missing or wrong API key",
    404: "no such job",
    409: "the job is not in a state that allows this (e.g. its video before it succeeded)",
    413: "the body (or its image) is larger than the service accepts",
    416: "the Range header asks for bytes past the end of the file (Content-Range: bytes */<size>)",
    429: "this API key is over its own limits (queued jobs, submissions per minute, open event streams); see Retry-After",
    422: "a field is invalid, names an unknown family or task, or the job would not fit the hardware",
    500: "an unexpected error (a bug: the fuzz test holds every route to none)",
    503: "overloaded (queue full), job store busy or unreachable, artifact store or model/worker unavailable; see Retry-After",
    507: "the state directory is at its disk-usage cap or its disk is nearly full",
}


def documented(*statuses: int, model: Any = None, meaning: dict[int, str] | None = None) -> dict[int, dict[str, Any]]:
    """``responses=`` for a route: each error status it can answer, with the error body and its meaning.

    ``model`` is the error body (``ErrorResponse`` unless given: the ``/v1`` routes answer OpenAI's
    shape); ``meaning`` overrides ``STATUS_MEANING`` where a status means more there.
    """
    from videogen.serve.protocol import ErrorResponse

    meanings = {**STATUS_MEANING, **(meaning or {})}
    return {s: {"model": model or ErrorResponse, "description": meanings[s]} for s in sorted(statuses)}


def http_status(exc: VideoGenError) -> int:
    return HTTP_STATUS.get(exc.code, 500)


def error_body(exc: VideoGenError) -> dict[str, Any]:
    return {"error": exc.to_dict()}


def error_headers(exc: VideoGenError) -> dict[str, str] | None:
    """``Retry-After`` (whole seconds) when the error says when to try again."""
    if exc.code == ErrorCode.RANGE_NOT_SATISFIABLE:  # RFC 9110: a 416 says the file's current length
        return {"Content-Range": f"bytes */{exc.details.get('size', '*')}"}
    retry = exc.details.get("retry_after_s") if exc.details else None
    return {"Retry-After": str(max(1, int(retry)))} if retry is not None else None


# -- pydantic / FastAPI validation --------------------------------------------------
_CONSTRAINTS = {"ge": ">=", "gt": ">", "le": "<=", "lt": "<", "min_length": "length >=", "max_length": "length <="}
_LOCATIONS = ("body", "query", "path", "header")


def _problem(e: dict[str, Any]) -> dict[str, Any]:
    """One pydantic error as {field, text, allowed, type}: ``text`` reads after ``<field>: ``."""
    kind = e.get("type")
    if kind == "json_invalid":  # loc is ("body", <offset>): the body itself is broken
        return {"field": "body", "text": "is not valid JSON", "allowed": "a JSON object", "type": kind}
    field = ".".join(str(p) for p in e.get("loc", ()) if p not in _LOCATIONS) or "body"
    ctx = e.get("ctx") or {}
    allowed: Any = None
    if "expected" in ctx:
        allowed = ctx["expected"]
    else:
        bounds = {k: ctx[k] for k in _CONSTRAINTS if k in ctx}
        if bounds:
            allowed = {k: (v if isinstance(v, (int, float, str)) else str(v)) for k, v in bounds.items()}
    text = e.get("msg", "is invalid")
    if kind == "extra_forbidden":
        text = "is not a known field"
    elif kind == "missing":
        text = "is required"
    elif field == "image" and kind == "string_too_long":
        text = f"is too large ({text.lower()}); send a smaller image"
    return {"field": field, "text": text, "allowed": allowed, "type": kind}


def request_validation_error(errors: list[dict[str, Any]]) -> InvalidRequestError:
    """Pydantic's ``errors()`` as one ``InvalidRequestError``: the first error names the field.

    The message lists every error; with more than one, ``details.errors`` has each.
    """
    problems = [_problem(e) for e in errors] or [
        {"field": "body", "text": "invalid request", "allowed": None, "type": None}
    ]
    first, rest = problems[0], problems[1:]
    text = "; ".join([first["text"], *(f"{p['field']}: {p['text']}" for p in rest)])
    details: dict[str, Any] = {}
    if rest:
        details["errors"] = [
            {"field": p["field"], "message": f"{p['field']}: {p['text']}", "allowed": p["allowed"], "type": p["type"]}
            for p in problems
        ]
    return InvalidRequestError(first["field"], text, allowed=first["allowed"], **details)


def _too_large(errors: list[dict[str, Any]]) -> bool:
    """An oversized image is 413 (the body is too large), not a plain 422."""
    first = _problem(errors[0]) if errors else {}
    return first.get("field") == "image" and first.get("type") == "string_too_long"


# How long a client is told to wait when the job store stayed locked past its busy timeout, or was unreachable.
STORE_RETRY_AFTER_S = 5


def store_error(exc: BaseException) -> VideoGenError | None:
    """The job store's database refusals as typed errors: locked past the busy timeout -> 503 ``store_busy``,
    unreachable -> 503 ``store_unavailable`` (both with Retry-After), disk full -> 507 ``storage_full``;
    anything else (a bug in a statement) is not a store condition."""
    import sqlite3

    if not isinstance(exc, sqlite3.OperationalError):
        return _postgres_error(exc)
    text = str(exc).lower()
    if "locked" in text or "busy" in text:
        return ServiceBusyError(
            f"the job store is busy ({exc}); try again shortly",
            retry_after_s=STORE_RETRY_AFTER_S,
            code=ErrorCode.STORE_BUSY,
        )
    if "disk is full" in text or "disk full" in text:
        return StorageFullError(f"the state directory's disk is full ({exc}); no new job can be recorded")
    return None


def store_unavailable(exc: BaseException) -> VideoGenError | None:
    """``exc`` as its typed error when it says the job store is away or busy for now (``store_unavailable``,
    ``store_busy``): what every replica sees at once, and replacing one would not cure."""
    typed = exc if isinstance(exc, VideoGenError) else store_error(exc)
    if typed is not None and typed.code in (ErrorCode.STORE_UNAVAILABLE, ErrorCode.STORE_BUSY):
        return typed
    return None


def _postgres_error(exc: BaseException) -> VideoGenError | None:
    """PostgreSQL's (psycopg's ``OperationalError``s): a lock or statement past its timeout, a deadlock or a
    serialization conflict -> ``store_busy``; the server gone, restarting, or no pooled connection in time ->
    ``store_unavailable``."""
    try:
        import psycopg
        from psycopg import errors as pg
    except ImportError:  # the SQLite-only install
        return None
    if not isinstance(exc, psycopg.OperationalError):
        return None
    if isinstance(exc, pg.DiskFull):
        return StorageFullError(f"the job store's database disk is full ({exc}); no new job can be recorded")
    busy = isinstance(exc, (pg.LockNotAvailable, pg.QueryCanceled, pg.TransactionRollback))
    return ServiceBusyError(
        f"the job store is {'busy' if busy else 'unavailable'} ({type(exc).__name__}: {exc}); try again shortly",
        retry_after_s=STORE_RETRY_AFTER_S,
        code=ErrorCode.STORE_BUSY if busy else ErrorCode.STORE_UNAVAILABLE,
    )


# -- rendering: one shape per API, chosen by path ------------------------------------------------
def route_path(scope: dict[str, Any]) -> str:
    """The path inside the app: Serve keeps its route prefix in ``root_path`` and in ``path`` too."""
    path, root = scope.get("path", ""), scope.get("root_path", "")
    return path[len(root) :] if root and path.startswith(root + "/") else path


def is_openai_path(scope: dict[str, Any]) -> bool:
    path = route_path(scope)
    return path == OPENAI_PREFIX or path.startswith(OPENAI_PREFIX + "/")


def render_error(scope: dict[str, Any], error: dict[str, Any], status: int) -> tuple[dict[str, Any], int]:
    """An error (``VideoGenError.to_dict()``) as the body and status its path's API answers: OpenAI's shape
    on /v1 (a refused value 400), ``{"error": error}`` everywhere else."""
    if is_openai_path(scope):
        return openai_error(error, status), openai_status(status)
    return {"error": error}, status


def _dumps(body: dict[str, Any]) -> bytes:
    # Pydantic's ctx may hold values json cannot encode (a Decimal, a pattern): written as text.
    return json.dumps(body, default=str, ensure_ascii=False, separators=(",", ":")).encode()


class ErrorJSONResponse(JSONResponse):
    def render(self, content: Any) -> bytes:
        return _dumps(content)


def error_response(
    scope: dict[str, Any], error: dict[str, Any], status: int, headers: dict[str, str] | None = None
) -> ErrorJSONResponse:
    body, status = render_error(scope, error, status)
    return ErrorJSONResponse(body, status_code=status, headers=headers)


async def send_error(
    scope: dict[str, Any], send: Any, error: dict[str, Any], status: int, headers: dict[str, str] | None = None
) -> None:
    """Answer an error from ASGI middleware (before any route ran), in the shape of the path's API."""
    body, status = render_error(scope, error, status)
    data = _dumps(body)
    raw = [(b"content-type", b"application/json"), (b"content-length", str(len(data)).encode())]
    raw += [(k.lower().encode("latin-1"), v.encode("latin-1")) for k, v in (headers or {}).items()]
    await send({"type": "http.response.start", "status": status, "headers": raw})
    await send({"type": "http.response.body", "body": data})


def install_handlers(app) -> None:
    """Register the handlers on a FastAPI app: every error answers ``{"error": {...}}`` (OpenAI's shape on /v1)."""
    from fastapi import Request
    from fastapi.exceptions import RequestValidationError
    from starlette.exceptions import HTTPException as StarletteHTTPException

    @app.exception_handler(VideoGenError)
    async def _videogen_error(request: Request, exc: VideoGenError):
        status = http_status(exc)
        # a full queue's 503 is the service working as designed (its cost must stay low under load): no traceback
        if status >= 500 and exc.code != ErrorCode.OVERLOADED:
            logger.exception("request failed", exc_info=exc)
        return error_response(request.scope, exc.to_dict(), status, error_headers(exc))

    @app.exception_handler(RequestValidationError)
    async def _validation_error(request: Request, exc: RequestValidationError):
        errors = list(exc.errors())
        invalid = request_validation_error(errors)
        status = 413 if _too_large(errors) else http_status(invalid)
        return error_response(request.scope, invalid.to_dict(), status)

    @app.exception_handler(StarletteHTTPException)
    async def _http_error(request: Request, exc: StarletteHTTPException):
        code = next((c for c in _FRAMEWORK_CODES if HTTP_STATUS[c] == exc.status_code), ErrorCode.HTTP_ERROR)
        return error_response(
            request.scope, error_dict(code, str(exc.detail)), exc.status_code, getattr(exc, "headers", None)
        )

    @app.exception_handler(Exception)
    async def _unexpected(request: Request, exc: Exception):
        known = store_error(exc)
        if known is not None:
            return await _videogen_error(request, known)
        logger.exception("unexpected error", exc_info=exc)
        return error_response(request.scope, error_dict(ErrorCode.INTERNAL_ERROR, f"{type(exc).__name__}: {exc}"), 500)
