"""What the ingress does, apart from HTTP: validate, store, dispatch, reap, report.

One ``VideoGenService`` lives in each ingress replica. It keeps no state that
matters in memory: jobs are in the store before the 202 goes out, and the
asyncio tasks that dispatch them to the family's worker deployment are only a
cache of "who is pushing this job". Each dispatched job carries a lease that
this replica renews; a queued job whose lease lapsed (its ingress died) is
picked up by any ingress replica's reaper, and a running job whose worker
stopped heart-beating is retried once or failed.

Dispatching is a plain ``handle.run_job.remote(job_id)`` per job. With
``max_ongoing_requests=1`` on the worker, waiting jobs queue in the handle,
which is what Serve's autoscaler counts: waiting jobs scale a family up
(from zero too).
"""

from __future__ import annotations

import asyncio
import hmac
import json
import logging
import os
import time
import uuid
from collections.abc import AsyncIterator, Mapping
from typing import Any

from videogen.errors import InvalidRequestError, UnknownFamilyError
from videogen.serve.config import API_KEY_ENV
from videogen.serve.errors import JobStateError, UnauthorizedError
from videogen.serve.jobs import CANCELLED, QUEUED, RUNNING, SUCCEEDED, TERMINAL, JobStore
from videogen.video.registry import static_model_facts
from videogen.video.request import VideoRequest

logger = logging.getLogger("videogen.serve")

LEASE_S = 15.0  # a dispatcher that stops renewing for this long has died
REAPER_INTERVAL_S = 2.0
SSE_POLL_S = 0.1
SSE_KEEPALIVE_S = 15.0


def _is_replica_death(exc: BaseException) -> bool:
    from ray.exceptions import ActorDiedError, ActorUnavailableError, RayActorError, WorkerCrashedError

    if isinstance(exc, ActorUnavailableError):
        return False  # transient: the replica may come back
    return isinstance(exc, (ActorDiedError, RayActorError, WorkerCrashedError))


class VideoGenService:
    def __init__(self, settings: Mapping[str, Any], workers: Mapping[str, Any], replica_label: str = "ingress"):
        self.settings = dict(settings)
        self.families: dict[str, dict[str, Any]] = dict(settings["families"])
        self.workers = dict(workers)
        self.store = JobStore(settings["state_dir"], settings.get("journal_mode", "WAL"))
        self.max_attempts = int(settings.get("max_attempts", 2))
        self.heartbeat_timeout_s = float(settings.get("heartbeat_timeout_s", 20.0))
        self.job_timeout_s = float(settings.get("job_timeout_s", 3 * 3600))
        self.max_image_bytes = settings.get("max_image_bytes")
        self.api_key = settings.get("api_key") or os.environ.get(API_KEY_ENV) or None
        self.dispatcher_id = f"{replica_label}:{uuid.uuid4().hex[:8]}"
        self._tasks: dict[str, asyncio.Task] = {}
        self._responses: dict[str, Any] = {}
        self._background: list[asyncio.Task] = []
        self.started_at = time.time()

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

    async def stop(self) -> None:
        for task in self._background:
            task.cancel()

    # -- auth ----------------------------------------------------------------------
    def check_auth(self, authorization: str | None) -> None:
        if not self.api_key:
            return
        scheme, _, token = (authorization or "").partition(" ")
        if scheme.lower() != "bearer" or not hmac.compare_digest(token.strip().encode(), self.api_key.encode()):
            raise UnauthorizedError("missing or wrong API key; send 'Authorization: Bearer <key>'")

    # -- validation ----------------------------------------------------------------------
    def _model_meta(self, family: str, task: str) -> dict[str, Any]:
        """What the family's workers reported for this task, else what the config implies."""
        for rep in self.store.replicas(family=family):
            meta = ((rep.get("models") or {}).get("model_meta") or {}).get(task)
            if meta and "error" not in meta:
                return meta
        if self.families[family].get("model") == "tiny":
            from videogen.video.tiny import TINY_REQUEST_DEFAULTS

            return {"tiny": True, "request_defaults": dict(TINY_REQUEST_DEFAULTS)}
        return {}

    def validate(self, request: VideoRequest):
        from videogen.video.adapters import get_adapter
        from videogen.video.registry import get_spec

        served = list(self.families)
        if request.family not in self.families:
            raise UnknownFamilyError(
                "family", f"{request.family!r} is not served here; served families: {', '.join(served)}", allowed=served
            )
        spec = get_spec(request.family)
        if request.task not in spec.tasks:
            reason = spec.unsupported_task_reasons.get(request.task, f"{request.family} does not offer {request.task}")
            raise InvalidRequestError("task", f"{reason} ({request.family} offers: {', '.join(spec.tasks)})", allowed=spec.tasks)
        if request.image and self.max_image_bytes and len(request.image) * 3 // 4 > self.max_image_bytes:
            raise InvalidRequestError(
                "image", f"is about {len(request.image) * 3 // 4} bytes; this service accepts at most {self.max_image_bytes}",
                allowed=f"<= {self.max_image_bytes} bytes",
            )
        return get_adapter(request.family).resolve_params(request, self._model_meta(request.family, request.task))

    # -- jobs ------------------------------------------------------------------------------
    async def submit(self, request: VideoRequest | Mapping[str, Any]) -> dict[str, Any]:
        if not isinstance(request, VideoRequest):
            try:
                request = VideoRequest.model_validate(dict(request))
            except Exception as exc:  # pydantic ValidationError -> the same shape as HTTP 422
                from videogen.serve.errors import validation_error

                _, body = validation_error(exc.errors() if hasattr(exc, "errors") else [])
                raise InvalidRequestError(body["error"]["field"], body["error"]["message"].partition(": ")[2] or "invalid",
                                          allowed=body["error"].get("allowed")) from None
        prepared = await asyncio.to_thread(self.validate, request)
        params = {k: v for k, v in prepared.params.items()}
        summary = request.summary()
        summary["seed"] = params["seed"]  # the seed used: a retried job makes the same video
        model = {"family": request.family, "source": self.families[request.family].get("model")}
        job = await asyncio.to_thread(
            self.store.create,
            family=request.family,
            task=request.task,
            request=summary,
            image=request.image,
            model=model,
            params=params,
            adjustments=[a.model_dump() for a in prepared.adjustments],
            progress={"stage": "queued", "step": None, "total_steps": params["num_inference_steps"], "percent": 0.0, "eta_s": None},
            max_attempts=self.max_attempts,
            dispatcher=self.dispatcher_id,
            lease_s=LEASE_S,
        )
        self._dispatch_soon(job["id"], request.family)
        return job

    async def get_job(self, job_id: str) -> dict[str, Any]:
        return await asyncio.to_thread(self.store.get, job_id)

    async def list_jobs(self, limit: int, offset: int, status: str | None, family: str | None) -> dict[str, Any]:
        jobs, total = await asyncio.to_thread(self.store.list, limit=limit, offset=offset, status=status, family=family)
        next_offset = offset + len(jobs) if offset + len(jobs) < total else None
        return {"jobs": jobs, "total": total, "limit": limit, "offset": offset, "next_offset": next_offset}

    async def cancel(self, job_id: str) -> dict[str, Any]:
        job = await asyncio.to_thread(self.store.request_cancel, job_id)
        if job["status"] == CANCELLED:
            response = self._responses.get(job_id)
            if response is not None:  # still waiting in the handle's queue: leave it
                response.cancel()
        return job

    async def video_path(self, job_id: str):
        job = await self.get_job(job_id)
        if job["status"] != SUCCEEDED:
            raise JobStateError(f"job {job_id} is {job['status']}; its video exists once it has succeeded", status=job["status"])
        path = self.store.video_path(job_id)
        if not path.is_file():
            raise JobStateError(
                f"the video of job {job_id} is missing from {self.store.videos_dir} (is the state directory shared by every node?)"
            )
        return path

    async def wait(self, job_id: str, timeout_s: float | None = None, poll_s: float = 0.2) -> dict[str, Any]:
        deadline = None if timeout_s is None else time.monotonic() + timeout_s
        while True:
            job = await self.get_job(job_id)
            if job["status"] in TERMINAL:
                return job
            if deadline is not None and time.monotonic() > deadline:
                return job
            await asyncio.sleep(poll_s)

    async def events(self, job_id: str, last_event_id: int | None = None) -> AsyncIterator[tuple[int, str]]:
        """(event id, job JSON) until the job ends. ``last_event_id`` replays what came after it (0 = all)."""
        if last_event_id is None:
            job, seq = await asyncio.to_thread(self.store.snapshot, job_id)
            yield seq, json.dumps(job)
            if job["status"] in TERMINAL:
                return
        else:
            await self.get_job(job_id)  # 404 before the stream starts
            seq = last_event_id
        idle = 0.0
        while True:
            rows = await asyncio.to_thread(self.store.events_since, job_id, seq)
            for event_seq, data in rows:
                seq = event_seq
                yield event_seq, data
                if json.loads(data)["status"] in TERMINAL:
                    return
            if rows:
                idle = 0.0
                continue
            await asyncio.sleep(SSE_POLL_S)
            idle += SSE_POLL_S
            if idle >= 2.0:  # the terminal event may lie before last_event_id
                job = await self.get_job(job_id)
                if job["status"] in TERMINAL and not await asyncio.to_thread(self.store.events_since, job_id, seq):
                    return
                if idle >= SSE_KEEPALIVE_S:
                    idle = 0.0
                    yield -1, ""  # keep-alive comment

    async def sse_stream(self, job_id: str, last_event_id: int | None = None) -> AsyncIterator[str]:
        """Server-Sent Events text for ``events``; the first event is read before returning (404 early)."""
        events = self.events(job_id, last_event_id)
        first = await events.__anext__()

        async def body() -> AsyncIterator[str]:
            yield format_sse(*first)
            async for seq, data in events:
                yield format_sse(seq, data)

        return body()

    # -- dispatch -------------------------------------------------------------------------------
    def _dispatch_soon(self, job_id: str, family: str) -> None:
        if job_id in self._tasks and not self._tasks[job_id].done():
            return
        task = asyncio.get_running_loop().create_task(self._dispatch(job_id, family))
        self._tasks[job_id] = task
        task.add_done_callback(lambda _t, j=job_id: self._tasks.pop(j, None) if self._tasks.get(j) is _t else None)

    async def _dispatch(self, job_id: str, family: str) -> None:
        handle = self.workers.get(family)
        if handle is None:
            await asyncio.to_thread(
                self.store.fail, job_id, "family_not_served",
                f"{family} is no longer served by this deployment; served: {', '.join(self.families)}",
            )
            return
        backoff = 0.5
        while True:
            rec = await asyncio.to_thread(self.store.get_record, job_id)
            if rec["status"] != QUEUED or rec["dispatcher"] != self.dispatcher_id:
                return
            response = handle.run_job.remote(job_id)
            self._responses[job_id] = response
            try:
                outcome = (await response)["outcome"]
            except asyncio.CancelledError:
                response.cancel()
                raise
            except Exception as exc:  # noqa: BLE001
                rec = await asyncio.to_thread(self.store.get_record, job_id)
                if rec["status"] in TERMINAL:
                    return
                if rec["status"] == RUNNING:
                    if not _is_replica_death(exc):
                        # Cannot tell: the reaper decides from the heartbeat.
                        logger.warning("dispatch of %s: %s; leaving it to the heartbeat", job_id, exc)
                        return
                    status = await asyncio.to_thread(
                        self.store.retry_or_fail, job_id, rec["claim_token"],
                        f"the {family} worker replica died while running it ({type(exc).__name__})",
                        dispatcher=self.dispatcher_id, lease_s=LEASE_S,
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
            if outcome == "unhealthy":
                await asyncio.sleep(1.0)
                continue
            if outcome == "not_claimed":
                rec = await asyncio.to_thread(self.store.get_record, job_id)
                if rec["status"] == QUEUED and not rec["cancel_requested"]:
                    await asyncio.sleep(0.2)
                    continue
            return

    async def _lease_loop(self) -> None:
        while True:
            try:
                await asyncio.to_thread(self.store.renew_leases, self.dispatcher_id, LEASE_S)
            except Exception:  # noqa: BLE001
                logger.exception("lease renewal failed")
            await asyncio.sleep(LEASE_S / 3)

    async def reap_once(self) -> None:
        for job_id, token in await asyncio.to_thread(self.store.overdue_running, self.job_timeout_s):
            if await asyncio.to_thread(
                self.store.fail_claim, job_id, token, "timeout",
                f"ran longer than job_timeout_s={self.job_timeout_s:.0f}s; its worker replica is replaced",
            ):
                logger.warning("job %s: timed out", job_id)
        for job_id, token in await asyncio.to_thread(self.store.stale_running, self.heartbeat_timeout_s):
            status = await asyncio.to_thread(
                self.store.retry_or_fail, job_id, token,
                f"its worker sent no heartbeat for {self.heartbeat_timeout_s:.0f}s (the replica or its node died)",
                dispatcher=self.dispatcher_id, lease_s=LEASE_S,
            )
            if status == QUEUED:
                rec = await asyncio.to_thread(self.store.get_record, job_id)
                self._dispatch_soon(job_id, rec["family"])
            if status:
                logger.warning("job %s: stale heartbeat; now %s", job_id, status)
        for job_id in await asyncio.to_thread(self.store.orphaned_queued, self.dispatcher_id):
            if await asyncio.to_thread(self.store.acquire_lease, job_id, self.dispatcher_id, LEASE_S):
                rec = await asyncio.to_thread(self.store.get_record, job_id)
                logger.info("job %s: its dispatcher is gone; dispatching it again", job_id)
                self._dispatch_soon(job_id, rec["family"])
        # Our own queued jobs whose dispatch task ended unexpectedly.
        jobs, _ = await asyncio.to_thread(self.store.list, limit=500, status=QUEUED)
        for job in jobs:
            if job["id"] not in self._tasks:
                rec = await asyncio.to_thread(self.store.get_record, job["id"])
                if rec["dispatcher"] == self.dispatcher_id:
                    self._dispatch_soon(job["id"], rec["family"])

    async def _reaper_loop(self) -> None:
        while True:
            try:
                await self.reap_once()
            except Exception:  # noqa: BLE001
                logger.exception("reaper pass failed")
            await asyncio.sleep(REAPER_INTERVAL_S)

    # -- runtime and models ------------------------------------------------------------------
    def _serve_status(self) -> dict[str, Any]:
        """Deployment statuses from the controller (never calls a replica)."""
        try:
            from ray import serve

            ctx = serve.get_replica_context()
            app_name = ctx.app_name
            status = serve.status()
            app = status.applications.get(app_name)
            if app is None:
                return {}
            return {
                name: {
                    "status": str(getattr(d.status, "value", d.status)),
                    "replica_states": {str(getattr(k, "value", k)): v for k, v in d.replica_states.items()},
                    "message": d.message,
                }
                for name, d in app.deployments.items()
            }
        except Exception as exc:  # noqa: BLE001
            return {"_error": {"status": "UNKNOWN", "message": f"{type(exc).__name__}: {exc}"}}

    def _live(self, rep: dict[str, Any], now: float) -> bool:
        # Replicas touch their row every heartbeat_timeout_s / 6 (at most 5 s).
        return rep["state"] != "stopped" and now - rep["last_seen"] < max(self.heartbeat_timeout_s, 15.0)

    def runtime(self) -> dict[str, Any]:
        from videogen.video.worker import runtime_snapshot

        now = time.time()
        statuses = self._serve_status()
        replicas = self.store.replicas()
        counts = self.store.counts()
        families: dict[str, Any] = {}
        base: dict[str, Any] | None = None
        for family, fam in self.families.items():
            reps = [r for r in replicas if r["family"] == family]
            live = [r for r in reps if self._live(r, now)]
            dep = statuses.get(fam["deployment"]) or statuses.get("_error") or {"status": "UNKNOWN", "replica_states": {}, "message": ""}
            families[family] = {
                "deployment": fam["deployment"],
                "model": fam.get("model"),
                "status": dep.get("status"),
                "replica_states": dep.get("replica_states", {}),
                "message": dep.get("message", ""),
                "replicas": [
                    {
                        "replica_id": r["replica_id"],
                        "node_id": r["node_id"],
                        "node_ip": r["node_ip"],
                        "pid": r["pid"],
                        "state": r["state"],
                        "started_at": r["started_at"],
                        "last_seen": r["last_seen"],
                        "diagnostics": r["diagnostics"],
                    }
                    for r in live
                ],
                "jobs": counts.get(family, {}),
            }
            if live and (base is None or live[0]["last_seen"] > base["last_seen"]):
                base = live[0]
        if base is None and replicas:
            base = replicas[0]  # the most recent report, even from a stopped replica
        diag = (base or {}).get("diagnostics") or {}
        ingress_runtime = runtime_snapshot()
        return {
            "hardware_profile": diag.get("hardware_profile"),
            "load_policy": diag.get("load_policy"),
            "runtime": diag.get("runtime") or ingress_runtime,
            "reported_by": (base or {}).get("replica_id"),
            "note": None if base else "no worker replica has reported yet: hardware is known once a worker starts",
            "ingress": {"dispatcher": self.dispatcher_id, "started_at": self.started_at, "runtime": ingress_runtime},
            "served_families": list(self.families),
            "families": families,
            "state_dir": str(self.store.state_dir),
        }

    def models(self) -> dict[str, Any]:
        from videogen.video.registry import SPECS

        now = time.time()
        replicas = self.store.replicas()
        models = []
        for fid, spec in SPECS.items():
            entry = static_model_facts(spec)
            if fid not in self.families:
                entry.update(
                    served=False,
                    effective_support_level="not_supported",
                    task_support={t: "not_supported" for t in ("text-to-video", "image-to-video")},
                    support_reasons={"*": [f"{fid} is not served by this deployment; served: {', '.join(self.families)}"]},
                )
                models.append(entry)
                continue
            reps = [r for r in replicas if r["family"] == fid and r.get("models")]
            reps.sort(key=lambda r: (self._live(r, now), r["last_seen"]), reverse=True)
            if reps:
                entry.update(reps[0]["models"]["describe"])
                entry["reported_by"] = reps[0]["replica_id"]
                entry["hardware"] = ((reps[0].get("diagnostics") or {}).get("hardware_profile") or {}).get("device_name")
            else:
                entry.update(
                    effective_support_level="unknown",
                    task_support={t: ("unknown" if t in spec.tasks else "not_supported") for t in ("text-to-video", "image-to-video")},
                    support_reasons={"*": ["no worker replica of this family has started yet (it may be scaled to zero); "
                                           "support is resolved by the worker on its own hardware when it starts"]},
                    model={"source": self.families[fid].get("model")},
                )
            entry["served"] = True
            entry["deployment"] = self.families[fid]["deployment"]
            models.append(entry)
        return {"models": models, "served_families": list(self.families)}


def format_sse(seq: int, data: str) -> str:
    if seq < 0:
        return ": keep-alive\n\n"
    return f"id: {seq}\nevent: job\ndata: {data}\n\n"


__all__ = ["VideoGenService", "format_sse"]
