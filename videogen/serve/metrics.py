"""VideoGen's metrics through Ray Serve's metrics API, so they appear on Ray's Prometheus endpoint.

Ray exports them with a ``ray_`` prefix (``ray_videogen_jobs_submitted_total`` ...),
tagged with the deployment and replica besides the tags below. ``model`` is the served model's name
(a family's entry is named by the family id), so a family serving several models shows each. The metric
objects are made on first use, in the replica that records them (a Ray metric
belongs to the process that created it). Recording never raises: a metrics
failure must not fail a job.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Iterable
from typing import Any

logger = logging.getLogger("videogen.serve.metrics")

# How often an ingress replica counts the queues for ``videogen_queue_depth`` (never once per submission).
QUEUE_DEPTH_INTERVAL_S = 5.0
# Seconds: a tiny CPU job ends in well under a second, a real one in minutes.
DURATION_BOUNDARIES = [0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 600, 1200, 3600]
STEP_BOUNDARIES = [0.001, 0.005, 0.01, 0.05, 0.1, 0.25, 0.5, 1, 2, 5, 10, 30]

# name -> (kind, description, tag keys, boundaries)
METRICS: dict[str, tuple[str, str, tuple[str, ...], list[float] | None]] = {
    "videogen_jobs_submitted": ("counter", "jobs queued", ("family", "model", "task"), None),
    "videogen_jobs_finished": (
        "counter",
        "jobs ended, by final status",
        ("family", "model", "task", "status"),
        None,
    ),
    "videogen_queue_depth": ("gauge", "jobs waiting for a worker", ("family", "model"), None),
    "videogen_job_duration_seconds": (
        "histogram",
        "a job's run on its worker, claim to end",
        ("family", "model", "task", "status"),
        DURATION_BOUNDARIES,
    ),
    "videogen_stage_duration_seconds": ("histogram", "one generation stage", ("family", "stage"), DURATION_BOUNDARIES),
    "videogen_denoising_step_seconds": ("histogram", "seconds per denoising step", ("family",), STEP_BOUNDARIES),
    "videogen_refusals": ("counter", "requests refused at submission, by error code", ("family", "code"), None),
    "videogen_oom_fallbacks": (
        "counter",
        "out-of-memory errors answered by moving one placement rung down",
        ("family",),
        None,
    ),
}

_made: dict[str, Any] = {}


def _metric(name: str):
    metric = _made.get(name)
    if metric is None:
        from ray.serve import metrics

        kind, description, tags, boundaries = METRICS[name]
        if kind == "counter":
            metric = metrics.Counter(name, description=description, tag_keys=tags)
        elif kind == "gauge":
            metric = metrics.Gauge(name, description=description, tag_keys=tags)
        else:
            metric = metrics.Histogram(name, description=description, boundaries=boundaries, tag_keys=tags)
        _made[name] = metric
    return metric


def _record(name: str, method: str, value: float, tags: dict[str, str]) -> None:
    try:
        getattr(_metric(name), method)(value, tags={k: str(v) for k, v in tags.items()})
    except Exception:  # outside Ray, or a metrics backend hiccup: the job goes on
        logger.debug("metric %s not recorded", name, exc_info=True)


def job_submitted(family: str, task: str, model: str | None = None) -> None:
    _record("videogen_jobs_submitted", "inc", 1, {"family": family, "model": model or family, "task": task})


def refused(family: str | None, code: str) -> None:
    _record("videogen_refusals", "inc", 1, {"family": family or "", "code": code})


def queue_depths(depths: dict[tuple[str, str], int]) -> None:
    """(family, served model name) -> jobs queued on it."""
    for (family, model), depth in depths.items():
        _record("videogen_queue_depth", "set", depth, {"family": family, "model": model})


def job_finished(
    family: str,
    task: str,
    status: str,
    seconds: float | None,
    stages: list | None = None,
    adjustments: list | None = None,
    error: dict | None = None,
    model: str | None = None,
) -> None:
    """A job's end on its worker: the counter, its duration, each stage's, the step pace and OOM fallbacks.

    An OOM fallback is an adjustment with ``cause="out_of_memory"`` (the job went on one rung down), or, for a job
    that ran out of memory again after one, its error's ``details.retried_from`` (``job_plan.OutOfMemoryError``)."""
    tags = {"family": family, "model": model or family, "task": task, "status": status}
    _record("videogen_jobs_finished", "inc", 1, tags)
    if seconds is not None:
        _record("videogen_job_duration_seconds", "observe", seconds, tags)
    for stage in stages or []:
        name, took = getattr(stage, "name", None), getattr(stage, "seconds", None)
        if name and took is not None:
            _record("videogen_stage_duration_seconds", "observe", took, {"family": family, "stage": name})
            steps = (getattr(stage, "detail", None) or {}).get("total_steps") if name == "denoising" else None
            if steps:
                _record("videogen_denoising_step_seconds", "observe", took / steps, {"family": family})
    fallbacks = sum(
        (a if isinstance(a, dict) else a.model_dump()).get("cause") == "out_of_memory" for a in adjustments or []
    )
    fallbacks += bool(((error or {}).get("details") or {}).get("retried_from"))
    if fallbacks:
        _record("videogen_oom_fallbacks", "inc", fallbacks, {"family": family})


def queued_by_model(store) -> dict[tuple[str, str], int]:
    """Jobs waiting per (family, served model), from the store (``JobStore``). A row from before named models
    has no model name: it is labelled with its family id, its model's name when it was written."""
    depths: dict[tuple[str, str], int] = {}
    for (family, name), statuses in store.jobs.counts_by_model(("queued",)).items():
        key = (family, name or family)
        depths[key] = depths.get(key, 0) + statuses.get("queued", 0)
    return depths


async def queue_depth_loop(store, served: Iterable[tuple[str, str]], interval_s: float = QUEUE_DEPTH_INTERVAL_S):
    """The queue-depth gauges from one count of the store every ``interval_s``, for an ingress replica: every
    served (family, model name) in ``served`` is set, 0 while nothing waits on it."""
    zeros = dict.fromkeys(served, 0)
    while True:
        try:
            queue_depths({**zeros, **await asyncio.to_thread(queued_by_model, store)})
        except Exception:  # the store away: the next pass counts again
            logger.debug("queue depths not counted", exc_info=True)
        await asyncio.sleep(interval_s)


def record_job_end(store, job_id: str, status: str, seconds: float, model: str | None = None) -> None:
    """A worker's job has ended: read what it recorded and report it (and the queue left behind); ``model``:
    the served model that ran it."""
    try:
        rec = store.jobs.get(job_id)
        job_finished(
            rec.family, rec.task, status, seconds, rec.stages, rec.adjustments, rec.error, model or rec.model_name
        )
        queue_depths(queued_by_model(store))
    except Exception:
        logger.debug("job-end metrics for %s not recorded", job_id, exc_info=True)
