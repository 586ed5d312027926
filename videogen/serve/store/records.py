"""What the store holds: the job states (defined once) and a job row as a typed record.

``JobRecord`` is the whole row (claim token, lease, heartbeat and the input
image included): it is what the state machine returns and what the
dispatcher and the workers read. The HTTP ``Job`` is built from it in
``videogen.serve.protocol`` and only there.
"""

from __future__ import annotations

import json
from enum import Enum
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from videogen.video.progress import Progress, StageTiming


class JobStatus(str, Enum):
    QUEUED = "queued"
    RUNNING = "running"
    SUCCEEDED = "succeeded"
    FAILED = "failed"
    CANCELLED = "cancelled"

    def __str__(self) -> str:  # f-strings and SQL show the bare status
        return self.value

    @property
    def terminal(self) -> bool:
        """The job has ended; nothing changes it any more."""
        return self in TERMINAL


TERMINAL = frozenset({JobStatus.SUCCEEDED, JobStatus.FAILED, JobStatus.CANCELLED})

# Columns stored as JSON text: ``<name>_json`` in the table, ``<name>`` on the record.
JSON_COLUMNS = (
    "request",
    "model",
    "params",
    "adjustments",
    "progress",
    "stages",
    "error",
    "result",
    "worker",
    "history",
    "estimate",
)

# Left out of event snapshots: the image is up to megabytes (once per job is enough)
# and the claim token is what lets a worker write; neither is for watchers.
PRIVATE_COLUMNS = frozenset({"image", "claim_token"})


def column_json(value: Any) -> str:
    """The JSON text of a ``<name>_json`` column's value (pydantic models dumped as JSON-ready data)."""
    if isinstance(value, list):
        value = [v.model_dump(mode="json") if hasattr(v, "model_dump") else v for v in value]
    elif hasattr(value, "model_dump"):
        value = value.model_dump(mode="json")
    return json.dumps(value)


def pack_inputs(inputs: dict[str, Any]) -> str | None:
    """A job's inline media (``VideoRequest.inline_inputs``: images, clips, masks, references, conditions) in its
    one ``image`` column, which every end of a job clears: the plain image as before, or a JSON object when there
    is more than an image."""
    present = {k: v for k, v in inputs.items() if v}
    if not present:
        return None
    if set(present) == {"image"}:
        return present["image"]
    return json.dumps(present)


class JobRecord(BaseModel):
    """One job as stored. ``error`` has the shape of ``VideoGenError.to_dict()``."""

    # Old rows or snapshots may carry keys this version no longer has.
    model_config = ConfigDict(extra="ignore")

    id: str
    status: JobStatus
    family: str
    task: str
    request: dict[str, Any] = Field(default_factory=dict, description="the request as submitted, image summarised")
    image: str | None = Field(
        default=None, description="the inline inputs until the job ends: the image, or JSON of image/last_image/video"
    )
    model: dict[str, Any] | None = None
    params: dict[str, Any] | None = Field(default=None, description="every generation value, settled")
    adjustments: list[dict[str, Any]] = Field(default_factory=list)
    progress: Progress | None = None
    stages: list[StageTiming] = Field(default_factory=list)
    error: dict[str, Any] | None = None
    result: dict[str, Any] | None = Field(default=None, description="frames, width, height, fps, bytes")
    worker: dict[str, Any] | None = Field(default=None, description="the replica running (or that ran) the job")
    history: list[dict[str, Any]] = Field(default_factory=list, description="earlier attempts and why they ended")
    estimate: dict[str, Any] | None = Field(
        default=None, description="the cost estimate at submission (FLOPs, memory, rung, expected seconds)"
    )
    created_at: float
    started_at: float | None = None
    finished_at: float | None = None
    updated_at: float | None = None
    attempts: int = 0
    max_attempts: int
    cancel_requested: bool = False
    owner: str | None = Field(default=None, description="the API key name that submitted it (None: before owners)")
    model_name: str | None = Field(
        default=None,
        description="the served model it runs on (None: written before named models, i.e. the family's default)",
    )
    claim_token: str | None = None
    heartbeat_at: float | None = None
    dispatcher: str | None = None
    lease_until: float | None = None

    @classmethod
    def from_row(cls, row: Any) -> JobRecord:
        """From a row of ``SELECT * FROM jobs`` (either backend's: it reads by column name)."""
        data = dict(row)
        for name in JSON_COLUMNS:
            raw = data.pop(f"{name}_json", None)
            data[name] = json.loads(raw) if raw else None
        # NULL JSON columns mean "none yet": the model's defaults say what that is.
        return cls.model_validate({k: v for k, v in data.items() if v is not None})

    @property
    def inputs(self) -> dict[str, Any]:
        """The inline media the job runs with (``pack_inputs``'s inverse); empty once the job has ended."""
        if not self.image:
            return {}
        # base64 never starts with "{", nor does a data: URL.
        return json.loads(self.image) if self.image.startswith("{") else {"image": self.image}

    def snapshot(self) -> dict[str, Any]:
        """The record as the event log keeps it (JSON-ready; no image, no claim token)."""
        return self.model_dump(mode="json", exclude=set(PRIVATE_COLUMNS))
