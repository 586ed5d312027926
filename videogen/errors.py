"""The one error hierarchy: CLI, worker, store, HTTP and the Ray handle all raise these.

Every error has a stable ``code`` (an ``ErrorCode``) and one ``to_dict()``:
``{"code", "message", "field"?, "allowed"?, "details"?}``. HTTP answers
``{"error": to_dict()}`` with the status chosen in one place
(``videogen.serve.errors``); job records store ``to_dict()``; the CLI prints
the message. Errors pickle (``__reduce__`` rebuilds them from their fields), so
a handle caller on another Ray driver gets the same typed error.
"""

from __future__ import annotations

from enum import Enum
from typing import Any


class ErrorCode(str, Enum):
    INTERNAL_ERROR = "internal_error"
    INVALID_REQUEST = "invalid_request"
    UNKNOWN_FAMILY = "unknown_family"
    UNSUPPORTED_TASK = "unsupported_task"
    MODEL_UNAVAILABLE = "model_unavailable"
    CANCELLED = "cancelled"
    JOB_NOT_FOUND = "job_not_found"
    JOB_STATE = "job_state"
    JOB_FAILED = "job_failed"
    UNAUTHORIZED = "unauthorized"
    WORKER_DIED = "worker_died"
    FAMILY_NOT_SERVED = "family_not_served"
    TIMEOUT = "timeout"
    EXCEEDS_CAPACITY = "exceeds_capacity"
    LOAD_FAILED = "load_failed"
    GENERATION_FAILED = "generation_failed"
    # The service is full for now: try again after ``details.retry_after_s``.
    OVERLOADED = "overloaded"
    STORE_BUSY = "store_busy"
    # The job store's database cannot be reached (PostgreSQL down, restarting, or no free connection in time).
    STORE_UNAVAILABLE = "store_unavailable"
    # One API key is over its own limits (queued jobs, submissions per minute, open streams).
    RATE_LIMITED = "rate_limited"
    STORAGE_FULL = "storage_full"
    # The artifact store (videogen.serve.artifacts): an upload that failed fails the job; a read that cannot reach
    # the store is 503 with Retry-After; a byte range past the end of a file is 416.
    ARTIFACT_UPLOAD_FAILED = "artifact_upload_failed"
    ARTIFACTS_UNAVAILABLE = "artifacts_unavailable"
    RANGE_NOT_SATISFIABLE = "range_not_satisfiable"
    # HTTP-level refusals that come from the framework, not from VideoGen code.
    NOT_FOUND = "not_found"
    METHOD_NOT_ALLOWED = "method_not_allowed"
    TOO_LARGE = "too_large"
    HTTP_ERROR = "http_error"

    def __str__(self) -> str:  # f-strings and json show the bare code
        return self.value


def error_dict(
    code: ErrorCode | str,
    message: str,
    *,
    field: str | None = None,
    allowed: Any = None,
    details: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """The one JSON shape of a failure (also for failures that are not exceptions, e.g. a reaped job)."""
    out: dict[str, Any] = {"code": ErrorCode(code).value, "message": message}
    if field:
        out["field"] = field
    if allowed is not None:
        out["allowed"] = allowed
    if details:
        out["details"] = details
    return out


class VideoGenError(Exception):
    code: ErrorCode = ErrorCode.INTERNAL_ERROR

    def __init__(self, message: str, *, field: str | None = None, allowed: Any = None, **details: Any):
        super().__init__(message)
        self.message = message
        self.field = field
        self.allowed = allowed
        self.details = details

    def to_dict(self) -> dict[str, Any]:
        return error_dict(self.code, self.message, field=self.field, allowed=self.allowed, details=self.details)

    def __reduce__(self):
        return (_rebuild, (type(self), self.__dict__.copy()))

    def __str__(self) -> str:
        return self.message


def _rebuild(cls: type[VideoGenError], state: dict[str, Any]) -> VideoGenError:
    exc = cls.__new__(cls)
    Exception.__init__(exc, state.get("message", ""))
    exc.__dict__.update(state)
    return exc


class InvalidRequestError(VideoGenError):
    """A request field is outside what is allowed; ``field`` names it, ``allowed`` says what is."""

    code = ErrorCode.INVALID_REQUEST

    def __init__(self, field: str, message: str, allowed: Any = None, **details: Any):
        super().__init__(f"{field}: {message}", field=field, allowed=allowed, **details)


class UnknownFamilyError(InvalidRequestError):
    code = ErrorCode.UNKNOWN_FAMILY


class CapacityError(InvalidRequestError):
    """The request is valid but too big for the hardware that would run it (memory or time);
    ``allowed`` says what would fit (e.g. the largest frame count at the requested size)."""

    code = ErrorCode.EXCEEDS_CAPACITY


class UnsupportedTaskError(VideoGenError):
    """The family (or the installed diffusers / hardware) cannot do this task."""

    code = ErrorCode.UNSUPPORTED_TASK


class ModelUnavailableError(VideoGenError):
    """Weights cannot be found locally, or the source is not allowed."""

    code = ErrorCode.MODEL_UNAVAILABLE


class GenerationCancelled(VideoGenError):
    code = ErrorCode.CANCELLED


class JobNotFoundError(VideoGenError):
    code = ErrorCode.JOB_NOT_FOUND


class JobStateError(VideoGenError):
    """The job is not in a state that allows this (e.g. its video before it succeeded)."""

    code = ErrorCode.JOB_STATE


class UnauthorizedError(VideoGenError):
    code = ErrorCode.UNAUTHORIZED


class ServiceBusyError(VideoGenError):
    """Refused for now, not for what was asked: the queue is full (``OVERLOADED``), the job store
    is locked beyond its timeout (``STORE_BUSY``) or cannot be reached (``STORE_UNAVAILABLE``).
    ``details.retry_after_s`` says when to try again."""

    code = ErrorCode.OVERLOADED

    def __init__(self, message: str, *, retry_after_s: float, code: ErrorCode = ErrorCode.OVERLOADED, **details: Any):
        super().__init__(message, retry_after_s=max(1, int(round(retry_after_s))), **details)
        self.code = code


class RateLimitedError(ServiceBusyError):
    """One caller is over its own limits; ``details.retry_after_s`` says when to try again (HTTP 429)."""

    code = ErrorCode.RATE_LIMITED

    def __init__(self, message: str, *, retry_after_s: float, **details: Any):
        super().__init__(message, retry_after_s=retry_after_s, code=ErrorCode.RATE_LIMITED, **details)


class StorageFullError(VideoGenError):
    """The state directory is at its disk-usage cap (or its disk is nearly full): no new job is accepted."""

    code = ErrorCode.STORAGE_FULL


class ArtifactUploadError(VideoGenError):
    """A job's video or pictures could not be uploaded to the artifact store: the job fails with this reason
    (``details.key``: the object, ``details.reason``: the store's answer); no object of it is left."""

    code = ErrorCode.ARTIFACT_UPLOAD_FAILED


class RangeNotSatisfiableError(VideoGenError):
    """A ``Range`` header asked for bytes past the end of a download (``details.size``: the file's length)."""

    code = ErrorCode.RANGE_NOT_SATISFIABLE


class PipelineFailedError(VideoGenError):
    """The pipeline raised on a request the validator accepted; ``details.params`` holds the values it ran with."""

    code = ErrorCode.GENERATION_FAILED


class JobFailedError(VideoGenError):
    """A job a caller waited for ended failed or cancelled; ``job`` holds the finished job."""

    code = ErrorCode.JOB_FAILED

    def __init__(self, message: str, job: dict[str, Any] | None = None, **details: Any):
        super().__init__(message, **details)
        self.job = job


__all__ = [
    "ArtifactUploadError",
    "CapacityError",
    "ErrorCode",
    "GenerationCancelled",
    "InvalidRequestError",
    "JobFailedError",
    "JobNotFoundError",
    "JobStateError",
    "PipelineFailedError",
    "RangeNotSatisfiableError",
    "ModelUnavailableError",
    "ServiceBusyError",
    "StorageFullError",
    "UnauthorizedError",
    "UnknownFamilyError",
    "UnsupportedTaskError",
    "VideoGenError",
    "error_dict",
]
