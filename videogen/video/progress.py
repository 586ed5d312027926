"""Progress of one generation: the one model written wherever progress is.

The worker emits a ``ProgressEvent`` (a ``Progress`` plus the stage timings so
far); the serve store keeps ``Progress`` per job; the HTTP ``Job`` shows it.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, Field

# The stages of a generation, in order; "queued", "done", "failed" and "cancelled"
# are the stages a job shows before and after them.
STAGES = ("runtime_diagnostics", "loading", "denoising", "decoding", "encoding", "outputs")
QUEUED_STAGE = "queued"
DONE_STAGE = "done"


class Progress(BaseModel):
    stage: str
    step: int | None = None
    total_steps: int | None = None
    percent: float = 0.0
    eta_s: float | None = None
    # A job that denoises in windows, one after another (SkyReels-V2's diffusion forcing over a long video): the
    # window the step is in (1-based) and how many there are; None for a job of one.
    block: int | None = Field(default=None, description="the window (block) of the job the step is in, 1-based")
    total_blocks: int | None = Field(default=None, description="windows (blocks) the job denoises in, one by one")
    note: str | None = Field(default=None, description="why the job is where it is, e.g. 'retrying: ...'")

    @classmethod
    def queued(cls, total_steps: int | None = None, note: str | None = None) -> Progress:
        return cls(stage=QUEUED_STAGE, total_steps=total_steps, note=note)

    def ended(self, stage: str) -> Progress:
        """This progress, frozen at the end of a job (``done``, ``failed``, ``cancelled``)."""
        percent = 100.0 if stage == DONE_STAGE else self.percent
        step = self.total_steps if stage == DONE_STAGE else self.step
        return self.model_copy(
            update={"stage": stage, "eta_s": 0.0 if stage == DONE_STAGE else None, "percent": percent, "step": step}
        )


class StageTiming(BaseModel):
    name: str
    started_at: float
    finished_at: float | None = None
    seconds: float | None = None
    detail: dict[str, Any] | None = None


class ProgressEvent(Progress):
    """What the worker reports to its progress callback: progress plus the stages so far."""

    stages: list[StageTiming] = Field(default_factory=list)

    def progress(self) -> Progress:
        return Progress.model_validate(self.model_dump(exclude={"stages"}))


def ran_totals(result) -> dict[str, Any]:
    """What a finished job's progress says it ran: the steps the worker counted (its denoising stage's total: a
    video-to-video job's steps at its strength, a job in windows' every call), and the last of its windows."""
    denoising = next((stage for stage in result.stages if stage.name == "denoising"), None)
    steps = (denoising.detail or {}).get("total_steps") if denoising is not None else None
    ran: dict[str, Any] = {"total_steps": steps or result.params.get("num_inference_steps")}
    blocks = result.params.get("denoising_blocks") or []
    if len(blocks) > 1:  # SkyReels-V2's diffusion forcing over a long video
        ran.update(block=len(blocks), total_blocks=len(blocks))
    return ran
