"""Autoscaling a worker deployment on the job queue the store holds, not only on Serve's handle queue.

Serve's default policy counts the requests in flight at its handles. A job admitted by an ingress that died
before dispatching it is in no handle until a reaper re-dispatches it; with scale-to-zero it would wait for
that. ``QueueAutoscalingPolicy`` (Ray 2.60's class-based custom policy, run in the Serve controller) also
counts the served model's queued and running jobs in the store, so every admitted job asks for a replica,
whichever ingress took it and whether or not that ingress still runs.

Serve wraps the policy with the deployment's own ``autoscaling_config``: ``min_replicas``/``max_replicas``,
``upscaling_factor``/``downscaling_factor`` and the upscale/downscale delays apply as usual. The store is read
off the controller's event loop (a one-shot thread per poll), never more often than ``poll_interval_s``; until
the first read lands, or when the store cannot be read, the handle count alone decides.
"""

from __future__ import annotations

import asyncio
import logging
import math
import time
from typing import Any

from videogen.serve.store.records import JobStatus

logger = logging.getLogger("ray.serve")

# Where Serve finds the policy (an import path keeps the deployment options JSON, as YAML overrides need).
POLICY_IMPORT_PATH = "videogen.serve.queue_autoscaling:QueueAutoscalingPolicy"
DEFAULT_POLL_INTERVAL_S = 2.0
WAITING = (str(JobStatus.QUEUED), str(JobStatus.RUNNING))


def store_workload(counts: dict[tuple[str, str | None], dict[str, int]], family: str, name: str, default: bool) -> int:
    """Queued + running jobs of the served model ``name`` (rows without a model name are the family default's,
    as in ``VideoGenAppConfig.model_of``)."""
    total = 0
    for (fam, stored), statuses in counts.items():
        if fam == family and (stored == name or (stored is None and default)):
            total += sum(statuses.get(s, 0) for s in WAITING)
    return total


class QueueAutoscalingPolicy:
    """Desired replicas = max(Serve's requests in flight, the store's queued + running jobs) / target per replica."""

    def __init__(
        self,
        family: str,
        name: str,
        default: bool,
        state_dir: str,
        journal_mode: str = "WAL",
        database_url: str | None = None,
        poll_interval_s: float = DEFAULT_POLL_INTERVAL_S,
    ):
        self.family, self.name, self.default = family, name, default
        self._store_args = (state_dir, journal_mode, database_url)
        self._poll_interval_s = poll_interval_s
        self._jobs: int | None = None  # None: not read yet (or unreadable): the handle count decides
        self._jobs_read_at = 0.0
        self._task: asyncio.Future | None = None
        self._last_poll = -math.inf
        self._counter = None

    def _count(self) -> int:
        """One read of the store (in a worker thread): this model's queued and running jobs."""
        if self._counter is None:
            from videogen.serve.replica_settings import database_url_of
            from videogen.serve.store.backends import open_database
            from videogen.serve.store.events import EventLog
            from videogen.serve.store.jobs import Jobs

            state_dir, journal_mode, database_url = self._store_args
            # As every replica does: the configured URL, else $VIDEOGEN_DATABASE_URL in the controller's process.
            db = open_database(state_dir, journal_mode, database_url_of(database_url))
            self._counter = Jobs(db, EventLog(db))
        return store_workload(self._counter.counts_by_model(WAITING), self.family, self.name, self.default)

    def _landed(self, task: asyncio.Future) -> None:
        try:
            self._jobs, self._jobs_read_at = task.result(), time.monotonic()
        except Exception as exc:  # noqa: BLE001 - an unreadable store must not stop Serve's autoscaler
            logger.warning("autoscaling %s: the job store could not be read (%s); using Serve's count", self.name, exc)
            self._jobs = None

    def _poll(self) -> None:
        now = time.monotonic()
        if (self._task is None or self._task.done()) and now - self._last_poll >= self._poll_interval_s:
            self._last_poll = now
            try:
                loop = asyncio.get_running_loop()
            except RuntimeError:  # called outside an event loop (a unit test): read now
                self._jobs, self._jobs_read_at = self._count(), now
                return
            self._task = loop.run_in_executor(None, self._count)
            self._task.add_done_callback(self._landed)

    def __call__(self, ctx: Any) -> tuple[float, dict[str, Any]]:
        self._poll()
        in_flight = float(ctx.total_num_requests)
        workload = max(in_flight, float(self._jobs or 0))
        state = {"store_jobs": self._jobs, "in_flight": in_flight}
        if ctx.current_num_replicas == 0:
            return (1 if workload > 0 else 0), state
        return workload / ctx.config.get_target_ongoing_requests(), state


def queue_policy(family: str, name: str, cfg: Any) -> dict[str, Any]:
    """The ``autoscaling_config.policy`` of a served model's worker deployment (JSON: overridable from YAML)."""
    default = cfg.served_models[name].default
    return {
        "policy_function": POLICY_IMPORT_PATH,
        "policy_kwargs": {
            "family": family,
            "name": name,
            "default": default,
            "state_dir": str(cfg.state_dir),
            "journal_mode": cfg.sqlite_journal_mode,
            "database_url": cfg.database_url,
        },
    }
