"""HTTP request and response models of the VideoGen API (the public contract)."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict

from videogen.video.request import VideoRequest
from videogen.video.worker import StageTiming as CoreStageTiming

JobStatus = Literal["queued", "running", "succeeded", "failed", "cancelled"]


class CreateJobRequest(VideoRequest):
    """``POST /api/video/jobs`` body: the core's ``VideoRequest`` (unknown fields are refused)."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {"family": "wan", "task": "text-to-video", "prompt": "a red fox running through snow", "seed": 7},
                {"family": "ltx-video", "task": "image-to-video", "prompt": "waves", "image": "data:image/png;base64,..."},
            ]
        },
    )


class _Open(BaseModel):
    model_config = ConfigDict(extra="allow")


class Progress(_Open):
    stage: str
    step: int | None = None
    total_steps: int | None = None
    percent: float
    eta_s: float | None = None


class StageTiming(CoreStageTiming):
    """A stage as the worker records it (one definition of its fields), open to extra keys on the wire."""

    model_config = ConfigDict(extra="allow")


class JobError(_Open):
    code: str
    message: str
    field: str | None = None


class JobResult(_Open):
    frames: int
    width: int
    height: int
    fps: int
    bytes: int
    video_url: str


class Job(_Open):
    id: str
    status: JobStatus
    family: str
    task: str
    model: dict[str, Any] | None = None
    request: dict[str, Any] | None = None
    adjustments: list[dict[str, Any]] = []
    progress: Progress | None = None
    stages: list[StageTiming] = []
    error: JobError | None = None
    result: JobResult | None = None
    created_at: float
    started_at: float | None = None
    finished_at: float | None = None


class JobList(_Open):
    jobs: list[Job]
    total: int
    limit: int
    offset: int
    next_offset: int | None = None


class ErrorBody(BaseModel):
    code: str
    message: str
    field: str | None = None
    allowed: Any = None


class ErrorResponse(BaseModel):
    error: ErrorBody
