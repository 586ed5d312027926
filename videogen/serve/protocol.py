"""The wire shapes of the VideoGen API: the one place they are built.

HTTP responses, SSE events and the Python handle API all return the same
``Job`` (built from a store record by ``Job.from_record``, which adds the
video's URL), ``JobList`` and, for failures, ``ErrorResponse``. Progress and
stage timings are the core's models (``videogen.video.progress``), so the
worker's fields reach the client without a second definition.
"""

from __future__ import annotations

from enum import Enum
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from videogen.serve.store.records import JobRecord, JobStatus
from videogen.video.progress import Progress, StageTiming
from videogen.video.request import VideoRequest

JOBS_PATH = "/api/video/jobs"


def video_url(job_id: str, variant: str = "video") -> str:
    base = f"{JOBS_PATH}/{job_id}/video"
    return base if variant == "video" else f"{base}?variant={variant}"


# A real 32x32 PNG: the documented example must be one the server accepts (the fuzz test sends it).
EXAMPLE_IMAGE = (
    "data:image/png;base64,iVBORw0KGgoAAAANSUhEUgAAACAAAAAgCAIAAAD8GO2jAAAAK0lEQVR42u3NQQEAQAQAMC6NOGKLdSX4bQWW0xWXX"
    "hwTCAQCgUAgEAgEWz63MAGA31WFIQAAAABJRU5ErkJggg=="
)


class CreateJobRequest(VideoRequest):
    """``POST /api/video/jobs`` body: the core's ``VideoRequest`` (unknown fields are refused)."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {"family": "wan", "task": "text-to-video", "prompt": "a red fox running through snow", "seed": 7},
                {"family": "ltx-video", "task": "image-to-video", "prompt": "waves", "image": EXAMPLE_IMAGE},
            ]
        },
    )


def _unset(value: Any) -> bool:
    return value is None


class ErrorBody(BaseModel):
    """``VideoGenError.to_dict()``: optional keys are left out when unset, never sent as null."""

    code: str
    message: str
    field: str | None = Field(default=None, exclude_if=_unset, description="the request field at fault")
    allowed: Any = Field(default=None, exclude_if=_unset, description="what that field accepts")
    details: dict[str, Any] | None = Field(default=None, exclude_if=_unset)


class ErrorResponse(BaseModel):
    """Every error answer: ``{"error": {"code", "message", "field"?, "allowed"?, "details"?}}``."""

    error: ErrorBody


class JobResult(BaseModel):
    frames: int
    width: int
    height: int
    fps: int
    bytes: int
    video_url: str
    measured: dict[str, Any] | None = Field(
        default=None, description="measured beside the estimate: pipeline seconds, achieved FLOP/s, peak memory (GPU)"
    )
    outputs: dict[str, dict[str, Any]] = Field(
        default_factory=dict,
        description="pictures beside the video (thumbnail, spritesheet, animated preview): url, bytes, media_type",
    )


class Job(BaseModel):
    id: str
    status: JobStatus
    family: str
    task: str
    model_name: str | None = Field(
        default=None,
        description="the served model it runs on, by its configured name (null: a job from before named models, "
        "which ran on its family's default)",
    )
    model: dict[str, Any] | None = Field(default=None, description="the model that ran (name, pipeline class, source)")
    request: dict[str, Any] | None = Field(default=None, description="the request as submitted, image summarised")
    params: dict[str, Any] | None = Field(default=None, description="every generation value, settled")
    adjustments: list[dict[str, Any]] = Field(default_factory=list, description="values moved to valid ones, and why")
    progress: Progress | None = None
    stages: list[StageTiming] = Field(default_factory=list)
    error: ErrorBody | None = None
    result: JobResult | None = None
    created_at: float
    started_at: float | None = None
    finished_at: float | None = None
    updated_at: float | None = None
    attempts: int = 0
    max_attempts: int | None = None
    cancel_requested: bool = False
    worker: dict[str, Any] | None = Field(default=None, description="the replica running (or that ran) the job")
    history: list[dict[str, Any]] = Field(default_factory=list, description="earlier attempts and why they ended")
    expires_at: float | None = Field(
        default=None,
        description="when the job's record and video are deleted (finished_at + retention_days); null while it "
        "runs or when retention is off",
    )
    estimate: dict[str, Any] | None = Field(
        default=None,
        description="the cost estimate at submission: FLOPs per stage, memory per placement rung, the rung the "
        "worker will use, expected seconds (result.measured holds the measured figures beside it)",
    )

    @classmethod
    def from_record(cls, rec: JobRecord, retention_days: float | None = None) -> Job:
        """The wire job; ``retention_days`` (the app's) says when an ended job's record and video go."""
        data = rec.model_dump(include=set(cls.model_fields))
        if rec.finished_at is not None and retention_days is not None:
            data["expires_at"] = rec.finished_at + retention_days * 86400
        if rec.result is not None:
            outputs = {v: {**o, "url": video_url(rec.id, v)} for v, o in (rec.result.get("outputs") or {}).items()}
            data["result"] = {**rec.result, "video_url": video_url(rec.id), "outputs": outputs}
        return cls.model_validate(data)

    def wire(self) -> dict[str, Any]:
        """The JSON-ready dict (what SSE events and handle callers get)."""
        return self.model_dump(mode="json")


class JobList(BaseModel):
    jobs: list[Job]
    total: int
    limit: int
    offset: int
    next_offset: int | None = None

    @classmethod
    def page(
        cls, records: list[JobRecord], total: int, limit: int, offset: int, retention_days: float | None = None
    ) -> JobList:
        end = offset + len(records)
        return cls(
            jobs=[Job.from_record(r, retention_days) for r in records],
            total=total,
            limit=limit,
            offset=offset,
            next_offset=end if end < total else None,
        )


# -- between the ingress and the workers ------------------------------------------------------
class RunOutcome(str, Enum):
    """What ``VideoWorker.run_job`` answers the dispatching ingress (besides a final ``JobStatus``)."""

    UNHEALTHY = "unhealthy"  # this replica can no longer generate: try again (Serve replaces it)
    NOT_CLAIMED = "not_claimed"  # another replica claimed it, or it was cancelled first
    SUPERSEDED = "superseded"  # ran, but its claim was taken away meanwhile (timed out, retried)

    def __str__(self) -> str:
        return self.value


__all__ = [
    "JOBS_PATH",
    "CreateJobRequest",
    "ErrorBody",
    "ErrorResponse",
    "Job",
    "JobList",
    "JobResult",
    "Progress",
    "RunOutcome",
    "StageTiming",
    "video_url",
]
