"""The ingress deployment: its FastAPI app built per replica, and the Python handle API.

``__serve_build_asgi_app__`` (Ray Serve's late-bound ingress) builds the HTTP
app from this replica's own ``VideoGenService`` (``videogen.serve.http_app``).
The same replica serves ``serve.get_app_handle("videogen")`` callers through
``submit`` / ``generate`` / ``get_job`` / ``cancel`` / ``list_jobs`` /
``estimate`` / ``runtime``, which return the same JSON as HTTP (as dicts) and
raise the core's typed errors (``videogen.errors``; they pickle across Ray).
Handle callers are drivers inside the Ray cluster: they act as an admin.
"""

import asyncio
import logging
from typing import Any

from ray import serve

from videogen.errors import JobFailedError
from videogen.rocm_env import apply_rocm_env
from videogen.serve.config import VideoGenAppConfig
from videogen.serve.service.auth import serve_http_host
from videogen.serve.service.videogen_service import VideoGenService
from videogen.serve.store.records import JobStatus

logger = logging.getLogger("videogen.serve")


@serve.ingress()
class VideoGenIngress:
    def __init__(self, settings: VideoGenAppConfig, workers: dict[str, Any]):
        # The cost model behind admission builds models on the meta device: torch is imported in this
        # replica too, so the ROCm environment goes first, as in every process that may import torch.
        apply_rocm_env()
        try:
            ctx = serve.get_replica_context()
            label = f"{ctx.replica_id.deployment_id.name}#{ctx.replica_id.unique_id}"
        except Exception:  # noqa: BLE001 - built outside a replica (tests)
            label = "ingress"
        # Jobs go to the workers over Serve's gRPC transport, not as Ray actor calls: about 4 ms less per job on
        # a 2-core box (benchmarks/results/cpu/submit-profile.md, round ten); the dispatcher tells a replica's death
        # from a blip, which that transport reports alike (dispatch._replica_gone).
        workers = {name: handle.options(_by_reference=False) for name, handle in workers.items()}
        self.service = VideoGenService(settings, workers, replica_label=label)
        # Closed by default: no key and a proxy listening beyond loopback refuses to start (unless allowed).
        self.service.keys.check_exposure(serve_http_host())
        try:
            asyncio.get_running_loop()
            self.service.start()
        except RuntimeError:
            pass  # started by the first request or health check, on the replica's loop

    def __serve_build_asgi_app__(self):
        from videogen.serve.http_app import build_http_app
        from videogen.serve.startup_heap import freeze_startup_heap

        app = build_http_app(self.service)
        # The last step of the replica's startup: what it built stays out of the collector's full passes.
        logger.info("ingress startup: %d objects frozen out of full garbage collections", freeze_startup_heap())
        return app

    def _ready(self) -> VideoGenService:
        return self.service.ready()

    async def check_health(self) -> None:
        await self._ready().check_health()  # the job store away (every replica sees it) is not unhealthy

    # -- Python handle API (no API key: only drivers inside the cluster reach it; they act as admin) ----
    async def submit(self, request: Any) -> dict[str, Any]:
        """Queue a job (a ``VideoRequest`` or a dict of its fields); returns the job at once."""
        return (await self._ready().jobs.submit(request)).wire()

    async def generate(self, request: Any, timeout_s: float | None = None) -> dict[str, Any]:
        """Queue a job and wait for it: ``{"job": <finished job>, "video": <MP4 bytes>}``.

        A failed or cancelled job raises ``JobFailedError`` (``.job`` holds it); a
        timeout returns the job still going, with ``"video": None``.
        """
        jobs = self._ready().jobs
        job = await jobs.wait((await jobs.submit(request)).id, timeout_s=timeout_s)
        if job.status == JobStatus.SUCCEEDED:
            return {"job": job.wire(), "video": await jobs.read_output(job.id)}
        if not job.status.terminal:
            return {"job": job.wire(), "video": None}
        reason = job.error.message if job.error else str(job.status)
        raise JobFailedError(f"job {job.id} {job.status}: {reason}", job=job.wire())

    async def get_job(self, job_id: str) -> dict[str, Any]:
        return (await self._ready().jobs.get(job_id)).wire()

    async def cancel(self, job_id: str) -> dict[str, Any]:
        return (await self._ready().jobs.cancel(job_id)).wire()

    async def list_jobs(self, limit: int = 20, offset: int = 0, status: str | None = None, family: str | None = None):
        return (await self._ready().jobs.list(limit, offset, status, family)).model_dump(mode="json")

    async def estimate(self, request: Any) -> dict[str, Any]:
        """What a request would cost and whether it would be admitted; nothing is queued."""
        jobs = self._ready().jobs
        return (await asyncio.to_thread(jobs.estimate, jobs.parse(request))).model_dump(mode="json")

    async def runtime(self) -> dict[str, Any]:
        return await asyncio.to_thread(self._ready().status.runtime, True)
