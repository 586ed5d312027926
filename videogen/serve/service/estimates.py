"""Estimates and admission at the ingress, on the hardware the served model's workers reported.

A request is priced with the same core cost model the worker uses (``videogen.video.job_cost``),
on the model it will run on (its ``model``, or the family's default), against the newest replica
report of that model: that replica's hardware profile, effective
load policy and measured throughput. A request that cannot fit (memory under every rung the
policy allows, or time over ``job_timeout_s``) is refused at submission with a ``CapacityError``
naming the fields; before any replica has reported (a family scaled to zero), nothing is refused
here and the worker checks again before it loads.
"""

from __future__ import annotations

import json
import logging
from typing import Any

from pydantic import BaseModel

from videogen.errors import CapacityError
from videogen.serve.config import VideoGenAppConfig
from videogen.serve.service.report_cache import ReplicaReports
from videogen.serve.startup_heap import freeze_new_measurements
from videogen.serve.store.job_store import JobStore
from videogen.serve.store.replicas import ReplicaRecord
from videogen.video.hardware import VideoHardwareProfile
from videogen.video.parallel.validate import TokenSplitError
from videogen.video.policy import VideoLoadPolicy

logger = logging.getLogger("videogen.serve")


class WorkerView(BaseModel):
    """What the newest replica of a served model said about itself."""

    replica_id: str
    profile: VideoHardwareProfile
    policy: VideoLoadPolicy
    throughput: dict[str, Any] | None = None


class EstimateResponse(BaseModel):
    """``POST /api/video/estimate``: the figures, where the worker would run it, or why it would be refused."""

    estimate: dict[str, Any] | None
    admission: dict[str, Any] | None
    refused: dict[str, Any] | None
    hardware: dict[str, Any] | None
    reported_by: str | None
    note: str | None = None


class EstimateService:
    def __init__(self, settings: VideoGenAppConfig, store: JobStore, reports: ReplicaReports | None = None):
        self.settings = settings
        self.store = store
        # The replicas' reports, read at most once a second; a view and a plan are worked out once per read.
        self.reports = reports or ReplicaReports(store.replicas)

    def worker_view(self, family: str, model: str | None = None) -> WorkerView | None:
        """The newest report of the served model ``model``'s replicas (None: the family's default)."""
        name = model or self.settings.default_model(family).name
        return self.reports.derive(family, ("worker_view", name), lambda reports: self._newest(family, name, reports))

    def _newest(self, family: str, name: str, reports: list[ReplicaRecord]) -> WorkerView | None:
        for rep in reports:  # newest first
            if self.settings.model_of(family, rep.model_name) != name:
                continue
            diag = rep.diagnostics or {}
            if diag.get("hardware_profile") and diag.get("load_policy"):
                return WorkerView(
                    replica_id=rep.replica_id,
                    profile=VideoHardwareProfile.model_validate(diag["hardware_profile"]),
                    policy=VideoLoadPolicy.model_validate(diag["load_policy"]),
                    throughput=diag.get("throughput") or None,
                )
        return None

    def source(self, family: str, model: str | None):
        """The ``ModelSource`` of the served model ``model`` (None: the family's default)."""
        from videogen.video.model_source import ModelSource

        served = self.settings.served_models[model] if model else self.settings.default_model(family)
        return ModelSource(family=family, value=served.source)

    def _planner_args(self, family: str, task: str, view: WorkerView, model: str | None):
        from videogen.video.job_cost import Throughput

        measured = (view.throughput or {}).get(f"{family}/{task}")
        throughput = Throughput.model_validate(measured) if measured else None
        return self.source(family, model), throughput

    def plan(self, family: str, task: str, params: dict[str, Any], model: str | None = None):
        """The job plan on the served model's reported hardware (``model`` None: the family's default);
        ``CapacityError`` when it cannot fit; None when unknown. A request shape is priced once per read of the
        reports (the seed changes no cost): a burst of alike jobs is priced once (a refusal each time)."""
        shape = json.dumps({k: v for k, v in params.items() if k != "seed"}, sort_keys=True, default=str)
        key = ("plan", task, model or self.settings.default_model(family).name, shape)
        try:
            return self.reports.derive(family, key, lambda _reports: self._plan(family, task, params, model))
        finally:
            freeze_new_measurements()  # what a first pricing built and keeps: out of the full GC passes

    def _plan(self, family: str, task: str, params: dict[str, Any], model: str | None = None):
        from videogen.video import model_limits
        from videogen.video.admission import admit, estimate_weights
        from videogen.video.job_cost import estimate_job
        from videogen.video.registry import get_spec

        view = self.worker_view(family, model)
        if view is None:
            return None
        source, throughput = self._planner_args(family, task, view, model)

        def estimate(p: dict[str, Any]):
            return estimate_job(
                source, task, p, view.policy.dtype, view.profile, throughput, **estimate_weights(view.policy)
            )

        try:
            spec = get_spec(family)
            rule = model_limits.frame_rule(spec, task, source.model_meta(task))  # a FramePack model's own
            return admit(
                estimate, params, spec, view.profile, view.policy, self.settings.job_timeout_s, frame_rule=rule
            )
        except (CapacityError, TokenSplitError):  # too big here, or its tokens do not split across the ranks
            raise
        except Exception:  # no estimate must never refuse a job the worker can run
            logger.warning("no estimate for %s/%s", family, task, exc_info=True)
            return None

    def estimate(self, family: str, task: str, params: dict[str, Any], model: str | None = None) -> EstimateResponse:
        """The figures whatever the verdict, and the verdict (on the served model ``model``; None: the default)."""
        from videogen.video.admission import estimate_weights
        from videogen.video.job_cost import estimate_job

        view = self.worker_view(family, model)
        response = EstimateResponse(
            estimate=None, admission=None, refused=None, hardware=None, reported_by=view.replica_id if view else None
        )
        if view is None:
            priced = estimate_job(self.source(family, model), task, params, "bfloat16")
            response.note = (
                "no worker replica of this model has reported its hardware yet: figures at bfloat16, "
                "no placement or time"
            )
        else:
            source, throughput = self._planner_args(family, task, view, model)
            priced = estimate_job(
                source, task, params, view.policy.dtype, view.profile, throughput, **estimate_weights(view.policy)
            )
            response.hardware = {
                k: getattr(view.profile, k) for k in ("backend", "device_name", "total_vram_gb", "system_ram_gb")
            }
            try:
                admitted = self.plan(family, task, params, model)
                response.admission = admitted[1].model_dump() if admitted else None
            except (CapacityError, TokenSplitError) as exc:
                response.refused = exc.to_dict()
        if priced is None:
            response.note = "this model's architecture cannot be read here, so it cannot be priced"
        else:
            response.estimate = priced[0].model_dump()
        return response
