"""Dispatching queued jobs to their served model's worker deployment, and the reaper.

Dispatching is a plain ``handle.run_job.remote(job_id)`` per job, on the handle
of the model the job's record names (``model_name``; a row from before named
models: its family's default). With ``max_ongoing_requests=1`` on the worker,
a job waits in that handle until a replica is free. An ingress keeps at most
``dispatch_window`` of a model's jobs in its handle (one per replica the model
may have, plus one), oldest first: a backlog of hundreds waits in the store
instead, where the autoscaling policy counts it (``serve.queue_autoscaling``),
not as hundreds of requests Serve's router keeps probing the busy replicas for
(a third of the ingress's CPU in a 32-client burst, before this bound).

The asyncio tasks here are only a cache of "who is pushing this job": every
dispatched job carries a lease in the store that this ingress renews. A
queued job whose lease lapsed (its ingress died) is picked up by any ingress
replica's reaper, a running job whose worker stopped heart-beating is
retried once or failed, and a job still queued ``queue_timeout_s`` after it was
submitted fails with that reason (code ``timeout``). After the store was out of reach (a database restart),
heartbeats and leases are judged again only once it has been reachable for their whole timeout: the writes that
could not land meanwhile do not make live jobs look dead.
"""

from __future__ import annotations

import asyncio
import logging
import math
import time
from collections.abc import Mapping
from typing import Any

from videogen.errors import ErrorCode, VideoGenError, error_dict
from videogen.serve.adapter_affinity import routed
from videogen.serve.config import VideoGenAppConfig
from videogen.serve.deployment_options import dispatch_window
from videogen.serve.errors import store_unavailable
from videogen.serve.protocol import RunOutcome
from videogen.serve.store.job_store import JobStore
from videogen.serve.store.records import JobStatus
from videogen.video.lora_config import adapter_set_id

logger = logging.getLogger("videogen.serve")

LEASE_S = 15.0  # a dispatcher that stops renewing for this long has died
REAPER_INTERVAL_S = 2.0


def _is_replica_death(exc: BaseException) -> bool:
    from ray.exceptions import ActorDiedError, ActorUnavailableError, RayActorError, WorkerCrashedError

    if isinstance(exc, ActorUnavailableError):
        return False  # transient: the replica may come back
    return isinstance(exc, (ActorDiedError, RayActorError, WorkerCrashedError))


async def _replica_gone(worker: Mapping[str, Any] | None, wait_s: float) -> bool:
    """Whether the replica that ran a job (its record's ``worker``) is dead, by Ray's word.

    The ingress pushes jobs over Serve's gRPC transport (``VideoGenIngress``), where a replica that died and one
    that is briefly unreachable answer alike (UNAVAILABLE); its Ray actor tells them apart: gone (its name
    released) or a call failing with a death. Still answering, or not within ``wait_s``: not known dead (the
    heartbeat decides)."""
    import ray
    from ray.serve._private.common import REPLICA_ID_FULL_ID_STR_PREFIX
    from ray.serve._private.constants import SERVE_NAMESPACE

    replica_id = (worker or {}).get("replica_id")
    if not replica_id:
        return False
    try:
        actor = await asyncio.to_thread(
            ray.get_actor, REPLICA_ID_FULL_ID_STR_PREFIX + replica_id, namespace=SERVE_NAMESPACE
        )
        await asyncio.wait_for(actor.get_num_ongoing_requests.remote(), wait_s)
    except ValueError:  # no actor of that name: it died and Ray released the name
        return True
    except Exception as exc:  # noqa: BLE001
        return _is_replica_death(exc)
    return False


class Dispatcher:
    def __init__(self, settings: VideoGenAppConfig, store: JobStore, workers: Mapping[str, Any], dispatcher_id: str):
        self.settings = settings
        self.jobs = store.jobs
        self.workers = dict(workers)
        self.dispatcher_id = dispatcher_id
        self._tasks: dict[str, asyncio.Task] = {}
        self._responses: dict[str, Any] = {}
        self._background: list[asyncio.Task] = []
        self._slots: dict[str, asyncio.Semaphore] = {}  # per model: its dispatch_window, made when first used
        # When the store last came back after this reaper could not reach it (None: away now). Heartbeats and
        # lease renewals could not land meanwhile: they are judged only over a window the store was reachable.
        self._store_back_at: float | None = -math.inf

    # -- lifecycle -----------------------------------------------------------------
    def start(self) -> None:
        """Start the lease and reaper loops (needs a running event loop)."""
        if self._background:
            return
        loop = asyncio.get_running_loop()
        self._background = [loop.create_task(self._lease_loop()), loop.create_task(self._reaper_loop())]

    @property
    def started(self) -> bool:
        return bool(self._background)

    # -- dispatch -------------------------------------------------------------------
    def dispatch_soon(self, job_id: str, model: str, adapter_set: str | None = None) -> None:
        """Push the job to the worker deployment of the served model ``model`` (a family's entry: its id), to a
        replica holding its LoRA ``adapter_set`` where one does (None: read from its record)."""
        if job_id in self._tasks and not self._tasks[job_id].done():
            return
        task = asyncio.get_running_loop().create_task(self._dispatch(job_id, model, adapter_set))
        self._tasks[job_id] = task
        task.add_done_callback(lambda _t, j=job_id: self._tasks.pop(j, None) if self._tasks.get(j) is _t else None)

    def withdraw(self, job_id: str) -> None:
        """A job cancelled while it waits in the handle's queue: take its request back."""
        response = self._responses.get(job_id)
        if response is not None:
            response.cancel()

    async def _dispatch(self, job_id: str, model: str, adapter_set: str | None = None) -> None:
        handle = self.workers.get(model)
        if handle is None:
            error = error_dict(
                ErrorCode.FAMILY_NOT_SERVED,
                f"{model} is no longer served by this deployment; served models: {', '.join(self.workers)}",
            )
            await asyncio.to_thread(self.jobs.fail, job_id, error)
            return
        if adapter_set is None:  # its settled adapters (recipe's and request's), as the worker will load them
            try:
                rec = await asyncio.to_thread(self.jobs.get, job_id)
                adapter_set = adapter_set_id((rec.params or {}).get("loras"))
            except VideoGenError:  # deleted meanwhile: nothing to run
                return
        handle = routed(handle, adapter_set)  # Serve's model multiplexing (serve.adapter_affinity)
        slots = self._slots.get(model)
        if slots is None:
            slots = self._slots[model] = asyncio.Semaphore(dispatch_window(model, self.settings))
        waits = slots.locked()
        async with slots:  # FIFO: the model's jobs enter its handle in the order they came
            # A job that waited for its turn is read first: it may have been cancelled or deleted meanwhile.
            await self._push(job_id, model, handle, first=not waits)

    async def _push(self, job_id: str, model: str, handle: Any, first: bool) -> None:
        """Call the worker until the job ran or is no longer this ingress's to push."""
        backoff = 0.5
        while True:
            # The first call goes out at once: the job was queued under our lease just
            # now, and a worker only runs a job it can claim (queued, not cancelled).
            if not first:
                try:
                    rec = await asyncio.to_thread(self.jobs.get, job_id)
                except VideoGenError:  # deleted meanwhile: nothing to run
                    return
                if rec.status != JobStatus.QUEUED or rec.dispatcher != self.dispatcher_id:
                    return
            first = False
            response = handle.run_job.remote(job_id)
            self._responses[job_id] = response
            try:
                outcome = (await response)["outcome"]
            except asyncio.CancelledError:
                response.cancel()
                raise
            except Exception as exc:  # noqa: BLE001
                rec = await asyncio.to_thread(self.jobs.get, job_id)
                if rec.status.terminal:
                    return
                if rec.status == JobStatus.RUNNING:
                    died = _is_replica_death(exc) or await _replica_gone(rec.worker, self.settings.heartbeat_timeout_s)
                    if not died:
                        # Cannot tell: the reaper decides from the heartbeat.
                        logger.warning("dispatch of %s: %s; leaving it to the heartbeat", job_id, exc)
                        return
                    status = await asyncio.to_thread(
                        self.jobs.retry_or_fail,
                        job_id,
                        rec.claim_token,
                        f"the {model} worker replica died while running it ({type(exc).__name__})",
                        dispatcher=self.dispatcher_id,
                        lease_s=LEASE_S,
                    )
                    logger.warning("job %s: worker died; now %s", job_id, status)
                    continue
                logger.warning("dispatch of %s failed (%s: %s); retrying", job_id, type(exc).__name__, exc)
                await asyncio.sleep(backoff)
                backoff = min(backoff * 2, 10.0)
                continue
            finally:
                if self._responses.get(job_id) is response:
                    self._responses.pop(job_id, None)
            if outcome == RunOutcome.UNHEALTHY:
                await asyncio.sleep(1.0)  # Serve is replacing that replica
                continue
            if outcome == RunOutcome.NOT_CLAIMED:
                rec = await asyncio.to_thread(self.jobs.get, job_id)
                if rec.status == JobStatus.QUEUED and not rec.cancel_requested:
                    await asyncio.sleep(0.2)
                    continue
            return

    # -- leases and the reaper ------------------------------------------------------------
    async def _lease_loop(self) -> None:
        while True:
            try:
                await asyncio.to_thread(self.jobs.renew_leases, self.dispatcher_id, LEASE_S)
            except Exception:
                logger.exception("lease renewal failed")
            await asyncio.sleep(LEASE_S / 3)

    async def expire_queued(self) -> list[str]:
        """Fail the jobs queued longer than ``queue_timeout_s`` (any dispatcher's) and take back their requests."""
        limit = self.settings.queue_timeout_s
        if limit is None:
            return []
        error = error_dict(
            ErrorCode.TIMEOUT,
            f"waited in the queue longer than queue_timeout_s={limit:g}s without a "
            "worker starting it (the model's workers were busy, scaling up or unavailable)",
        )

        def expire() -> list[str]:  # the cutoff by the store's clock, the one created_at is in (not this node's)
            return self.jobs.expire_queued(self.jobs.db.now() - limit, error)

        expired = await asyncio.to_thread(expire)
        for job_id in expired:
            self.withdraw(job_id)
            logger.warning("job %s: queued longer than queue_timeout_s=%gs; failed", job_id, limit)
        return expired

    async def reap_once(self) -> None:
        timeout_s, heartbeat_s = self.settings.job_timeout_s, self.settings.heartbeat_timeout_s
        await self.expire_queued()
        if self._store_back_at is None:  # the first pass since the store came back
            self._store_back_at = time.monotonic()
        watched = time.monotonic() - self._store_back_at  # how long the store has been reachable
        for job_id, token in await asyncio.to_thread(self.jobs.overdue_running, timeout_s):
            error = error_dict(
                ErrorCode.TIMEOUT, f"ran longer than job_timeout_s={timeout_s:.0f}s; its worker replica is replaced"
            )
            if await asyncio.to_thread(self.jobs.fail_claim, job_id, token, error):
                logger.warning("job %s: timed out", job_id)
        stale = await asyncio.to_thread(self.jobs.stale_running, heartbeat_s) if watched >= heartbeat_s else []
        for job_id, token in stale:
            status = await asyncio.to_thread(
                self.jobs.retry_or_fail,
                job_id,
                token,
                f"its worker sent no heartbeat for {heartbeat_s:.0f}s (the replica or its node died)",
                dispatcher=self.dispatcher_id,
                lease_s=LEASE_S,
            )
            if status == JobStatus.QUEUED:
                await self._redispatch(job_id)
            if status:
                logger.warning("job %s: stale heartbeat; now %s", job_id, status)
        orphaned = await asyncio.to_thread(self.jobs.orphaned_queued, self.dispatcher_id) if watched >= LEASE_S else []
        for job_id in orphaned:
            if await asyncio.to_thread(self.jobs.acquire_lease, job_id, self.dispatcher_id, LEASE_S):
                logger.info("job %s: its dispatcher is gone; dispatching it again", job_id)
                await self._redispatch(job_id)
        # Our own queued jobs whose dispatch task ended unexpectedly.
        for job_id, family, model_name in await asyncio.to_thread(self.jobs.queued_by, self.dispatcher_id):
            if job_id not in self._tasks:
                self.dispatch_soon(job_id, self.settings.model_of(family, model_name))

    async def _redispatch(self, job_id: str) -> None:
        """Dispatch a queued job again, to the model its record names (never one chosen anew)."""
        rec = await asyncio.to_thread(self.jobs.get, job_id)
        self.dispatch_soon(
            job_id, self.settings.model_of(rec.family, rec.model_name), adapter_set_id((rec.params or {}).get("loras"))
        )

    async def reap_pass(self) -> None:
        """One pass of the reaper loop: ``reap_once``, a failure logged (the store away: noted, once)."""
        try:
            await self.reap_once()
        except Exception as exc:
            if store_unavailable(exc) is None:
                logger.exception("reaper pass failed")
                return
            if self._store_back_at is not None:
                logger.warning("the job store is unavailable (%s); the reaper waits for it", exc)
            self._store_back_at = None

    async def _reaper_loop(self) -> None:
        while True:
            await self.reap_pass()
            await asyncio.sleep(REAPER_INTERVAL_S)
