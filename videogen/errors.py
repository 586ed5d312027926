"""Typed errors shared by the CLI, the worker and the HTTP layer.

Each error knows its stable ``code``; the HTTP status mapping lives in one place
(``videogen.serve.errors``) and the CLI maps every ``VideoGenError`` to exit 2.
"""

from __future__ import annotations

from typing import Any


class VideoGenError(Exception):
    code = "internal_error"

    def __init__(self, message: str, **details: Any):
        super().__init__(message)
        self.message = message
        self.details = details

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"code": self.code, "message": self.message}
        if self.details:
            out["details"] = self.details
        return out


class InvalidRequestError(VideoGenError):
    """A request field is outside what is allowed; ``field`` names it."""

    code = "invalid_request"

    def __init__(self, field: str, message: str, allowed: Any = None):
        super().__init__(f"{field}: {message}", field=field, allowed=allowed)
        self.field = field
        self.allowed = allowed


class UnknownFamilyError(InvalidRequestError):
    code = "unknown_family"


class UnsupportedTaskError(VideoGenError):
    """The family (or the installed diffusers / hardware) cannot do this task."""

    code = "unsupported_task"


class ModelUnavailableError(VideoGenError):
    """Weights cannot be found locally, or the source is not allowed."""

    code = "model_unavailable"


class GenerationCancelled(VideoGenError):
    code = "cancelled"


class JobNotFoundError(VideoGenError):
    code = "job_not_found"


class WorkerUnavailableError(VideoGenError):
    code = "worker_unavailable"
