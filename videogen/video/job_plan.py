"""The worker's side of admission: plan a job before loading, place it, survive an out-of-memory.

- ``plan``: the job's estimate on this worker's hardware, the rung it needs, refused with a
  ``CapacityError`` when nothing fits (the ingress refuses the same way at submission; the
  worker checks again because a family may not have reported its hardware yet).
- ``settle_rung``: move the loaded pipeline to that rung, reported as an adjustment.
- ``call``: run the pipeline; a real out-of-memory error frees memory, steps one rung down the
  ladder, retries once and reports it; the replica stays healthy.
- ``learn``: refit the fixed cost per step and the FLOP/s with the finished call (the ETA and admission use it).
"""

from __future__ import annotations

import logging
import threading
from collections import deque
from collections.abc import Callable
from typing import Any

from pydantic import BaseModel

from videogen.errors import ErrorCode, VideoGenError
from videogen.video import model_limits
from videogen.video.admission import Admission, admit, allowed_rungs, estimate_weights
from videogen.video.hardware import VideoHardwareProfile
from videogen.video.job_cost import JobEstimate, Throughput, estimate_job
from videogen.video.loader import LoadedPipeline
from videogen.video.model_source import ModelSource
from videogen.video.placement import Rung, free_device_memory, move_to_rung
from videogen.video.policy import VideoLoadPolicy
from videogen.video.request import Adjustment
from videogen.video.spec import VideoModelSpec
from videogen.video.throughput import TimePoint, fit, rate_bounds

logger = logging.getLogger(__name__)

# The pipeline calls a throughput is fitted on: the most recent ones (a replica's speed drifts with its load).
RECENT_POINTS = 16


class OutOfMemoryError(VideoGenError):
    """Out of device memory even one rung down the ladder. ``details.rung``: where it ran out last;
    ``details.retried_from``: set when it first ran out one rung up and was retried (an OOM fallback)."""

    code = ErrorCode.GENERATION_FAILED


class JobPlan(BaseModel):
    estimate: JobEstimate
    admission: Admission


class CapacityPlanner:
    """One per ``GenerationWorker``: throughput it has measured, per family and task."""

    def __init__(self, job_timeout_s: float | None = None):
        self.job_timeout_s = job_timeout_s
        self._throughput: dict[tuple[str, str], Throughput] = {}
        self._points: dict[tuple[str, str], deque[TimePoint]] = {}
        self._lock = threading.Lock()

    def throughput(self, family: str, task: str) -> Throughput | None:
        return self._throughput.get((family, task))

    def throughputs(self) -> dict[str, dict[str, Any]]:
        """What this worker has measured, for its replica report (``family/task`` -> throughput)."""
        return {f"{f}/{t}": tp.model_dump() for (f, t), tp in self._throughput.items()}

    def plan(
        self,
        source: ModelSource,
        task: str,
        params: dict[str, Any],
        spec: VideoModelSpec,
        profile: VideoHardwareProfile,
        policy: VideoLoadPolicy,
    ) -> JobPlan | None:
        """The job's estimate and rung here; a ``CapacityError`` when it cannot fit; None when unpriceable."""
        measured = self.throughput(source.family, task)

        def estimate(p: dict[str, Any]):
            return estimate_job(source, task, p, policy.dtype, profile, measured, **estimate_weights(policy))

        try:
            rule = model_limits.frame_rule(spec, task, source.model_meta(task))  # a FramePack model's own
            admitted = admit(estimate, params, spec, profile, policy, self.job_timeout_s, frame_rule=rule)
        except VideoGenError:
            raise
        except Exception:  # an estimate must never stop a job the model can run
            logger.warning("no cost estimate for %s/%s", source.family, task, exc_info=True)
            return None
        return None if admitted is None else JobPlan(estimate=admitted[0], admission=admitted[1])

    def settle_rung(
        self, loaded: LoadedPipeline, plan: JobPlan | None, policy: VideoLoadPolicy, adjustments: list[Adjustment]
    ) -> None:
        """Move the pipeline to the planned rung when it is not there, and say so."""
        if plan is None or plan.admission.placement is None:
            return
        adm = plan.admission
        # a denoiser an earlier job converted to 8 bits stays so (move_to_rung): memory only goes down
        target = Rung(adm.placement, bool(adm.vae_tiling), bool(adm.vae_slicing), adm.weights or loaded.rung.weights)
        if target == loaded.rung or target == loaded.rung._replace(weights="bf16"):
            return
        before = loaded.rung.name
        loaded.rung = move_to_rung(loaded.pipe, policy, loaded.rung, target)
        adjustments.append(
            Adjustment(
                field="placement",
                requested=before,
                used=loaded.rung.name,
                reason=f"the cost model puts this request at {adm.required_gb} GB on {adm.rung}; "
                f"{adm.capacity_gb} GB usable here",
            )
        )

    def call(
        self, loaded: LoadedPipeline, policy: VideoLoadPolicy, run: Callable[[], Any], adjustments: list[Adjustment]
    ) -> Any:
        """``run()``; on a device out-of-memory error, one rung down and once more."""
        import torch

        try:
            return run()
        except torch.OutOfMemoryError as exc:
            first = str(exc).splitlines()[0][:200]
        free_device_memory()
        rungs = allowed_rungs(policy)
        here = loaded.rung
        lower = [r for r in rungs[rungs.index(here) + 1 :]] if here in rungs else rungs[1:]
        if not lower:
            raise OutOfMemoryError(
                f"out of device memory at {here.name}, the last rung the policy allows: {first}", rung=here.name
            )
        target = move_to_rung(loaded.pipe, policy, loaded.rung, lower[0])
        loaded.rung = target
        adjustments.append(
            Adjustment(
                field="placement",
                requested=here.name,
                used=target.name,
                cause="out_of_memory",
                reason=f"out of memory at {here.name} ({first}); retried at {target.name}",
            )
        )
        logger.warning("out of memory at %s; retrying at %s", here.name, target.name)
        try:
            return run()
        except torch.OutOfMemoryError as exc:
            free_device_memory()
            raise OutOfMemoryError(
                f"out of device memory at {here.name} and again at {target.name}: {str(exc).splitlines()[0][:200]}",
                rung=target.name,
                retried_from=here.name,
            ) from None

    def learn(
        self,
        family: str,
        task: str,
        plan: JobPlan | None,
        denoise_seconds: float,
        decode_seconds: float,
        profile: VideoHardwareProfile,
        dtype: str,
    ) -> Throughput | None:
        """Refit the fixed cost per step and the FLOP/s (``throughput.fit``) with a finished pipeline call: its
        denoising stage (encoders, every step) and its VAE decode took these seconds. A job split across ranks: less
        the exchanges the cost model counts (every estimate adds them back), so the rates are its compute's."""
        if plan is None or denoise_seconds <= 0:
            return None
        computing = max(denoise_seconds - plan.estimate.communication_seconds, 0.0)  # 0: a point the fit skips
        point = TimePoint.of(plan.estimate.flops, computing, decode_seconds)
        default, ceiling = rate_bounds(profile, dtype)
        with self._lock:
            points = self._points.setdefault((family, task), deque(maxlen=RECENT_POINTS))
            points.append(point)
            updated = fit(list(points), default, ceiling)
            if updated is not None:
                self._throughput[(family, task)] = updated
        return updated
