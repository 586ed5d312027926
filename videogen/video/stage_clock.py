"""The clock of one generation: stage timings turned into ``ProgressEvent``s, and the
hook that gives a diffusers pipeline a per-step callback."""

from __future__ import annotations

import contextlib
import inspect
import itertools
import time
from collections.abc import Callable, Iterator
from typing import Any

from videogen.video.progress import DONE_STAGE, STAGES, ProgressEvent, StageTiming

# Share of the overall progress bar each stage ends at.
STAGE_END_PERCENT = {
    "runtime_diagnostics": 1.0,
    "loading": 5.0,
    "denoising": 90.0,
    "decoding": 95.0,
    "encoding": 98.0,
    "outputs": 100.0,
}


class StageClock:
    """Records stage timings and reports them, with the overall percent, to a progress callback."""

    def __init__(self, on_progress: Callable[[ProgressEvent], None] | None):
        self.on_progress = on_progress
        self.stages: list[StageTiming] = []
        # Seconds the cost model expects the pipeline call to take: the ETA before step one ends.
        self.expected_seconds: float | None = None
        # Steps of each window a job denoises in, in order (its params' ``denoising_blocks``: SkyReels-V2's diffusion
        # forcing over a long video); each step's progress then says the window it is in. None: one window.
        self.block_steps: list[int] | None = None

    @property
    def current(self) -> str | None:
        return self.stages[-1].name if self.stages else None

    def start(self, name: str, detail: dict | None = None) -> StageTiming:
        """End the running stage and start ``name`` (at the percent the stage before it ends at)."""
        self.finish()
        stage = StageTiming(name=name, started_at=time.time(), detail=detail)
        self.stages.append(stage)
        index = STAGES.index(name)
        self.emit(name, percent=STAGE_END_PERCENT[STAGES[index - 1]] if index else 0.0)
        return stage

    def finish(self) -> None:
        if self.stages and self.stages[-1].finished_at is None:
            stage = self.stages[-1]
            stage.finished_at = time.time()
            stage.seconds = round(stage.finished_at - stage.started_at, 4)

    def denoising_step(self, step: int, total: int, started_at: float) -> None:
        """Report step ``step`` of ``total`` (1-based), with an ETA from the pace so far."""
        step = min(step, total)
        eta = (time.time() - started_at) / step * (total - step)
        lo, hi = STAGE_END_PERCENT["loading"], STAGE_END_PERCENT["denoising"]
        percent = lo + (hi - lo) * step / total
        self.emit("denoising", percent, step=step, total=total, eta=round(eta, 3), block=self._block_of(step))

    def _block_of(self, step: int) -> int | None:
        """The window (1-based) step ``step`` (1-based) falls in; None for a job of one window."""
        if not self.block_steps or len(self.block_steps) < 2:
            return None
        for index, end in enumerate(itertools.accumulate(self.block_steps), start=1):
            if step <= end:
                return index
        return len(self.block_steps)

    def done(self) -> None:
        self.finish()
        self.emit(DONE_STAGE, 100.0)

    def emit(
        self,
        stage: str,
        percent: float,
        step: int | None = None,
        total: int | None = None,
        eta: float | None = None,
        block: int | None = None,
    ):
        if eta is None and step is None and stage in ("loading", "denoising") and self.expected_seconds is not None:
            eta = round(self.expected_seconds, 3)
        if self.on_progress is not None:
            event = ProgressEvent(
                stage=stage,
                step=step,
                total_steps=total,
                percent=round(percent, 2),
                eta_s=eta,
                block=block,
                total_blocks=len(self.block_steps) if block is not None else None,
                stages=[s.model_copy() for s in self.stages],
            )
            self.on_progress(event)


def step_callback_kwargs(pipe, on_step: Callable[[int], None]) -> dict[str, Any]:
    """Pipeline kwargs that call ``on_step(step_index)`` after each denoising step, in whichever
    callback API this pipeline has. An exception ``on_step`` raises leaves the pipeline call.

    ``step_index`` counts the steps of this call: FramePack runs its scheduler once per section and
    restarts the pipeline's own index each time; every other pipeline's index is the same count."""
    accepted = inspect.signature(pipe.__call__).parameters
    if "callback_on_step_end" in accepted:
        done = itertools.count()

        def callback_on_step_end(_pipe, _step_index, _timestep, callback_kwargs):
            on_step(next(done))
            return callback_kwargs

        return {"callback_on_step_end": callback_on_step_end}
    if "callback" in accepted:  # older pipelines (TextToVideoSD)
        return {"callback": lambda step, _t, _latents: on_step(step), "callback_steps": 1}
    # No callback argument (HunyuanVideo 1.5's pipelines): ``call_pipeline`` counts its scheduler's steps instead.
    return {SCHEDULER_STEP_HOOK: on_step}


# The kwarg that carries ``on_step`` to ``call_pipeline`` for a pipeline without a step callback (never passed on).
SCHEDULER_STEP_HOOK = "_videogen_on_scheduler_step"


def call_pipeline(pipe, kwargs: dict[str, Any]) -> Any:
    """``pipe(**kwargs)``, with ``on_step`` called after each scheduler step where ``step_callback_kwargs`` could
    give the pipeline no callback (every denoising step ends in one ``scheduler.step``)."""
    kwargs = dict(kwargs)
    on_step = kwargs.pop(SCHEDULER_STEP_HOOK, None)
    if on_step is None:
        return pipe(**kwargs)
    with scheduler_steps(pipe.scheduler, on_step):
        return pipe(**kwargs)


@contextlib.contextmanager
def scheduler_steps(scheduler, on_step: Callable[[int], None]) -> Iterator[None]:
    """``on_step(index)`` after each ``scheduler.step`` while inside; an exception it raises leaves the caller there
    (after the step), so a cancelled pipeline never decodes."""
    step = scheduler.step
    done = itertools.count()

    def counted_step(*args, **kwargs):
        out = step(*args, **kwargs)
        on_step(next(done))
        return out

    scheduler.step = counted_step  # this instance, for this call only
    try:
        yield
    finally:
        del scheduler.step
