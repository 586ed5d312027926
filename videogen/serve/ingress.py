"""The ingress deployment: FastAPI routes through ``@serve.ingress`` and the Python handle API.

Routes are thin: each one checks the API key and calls ``VideoGenService``.
The same replica serves ``serve.get_app_handle("videogen")`` callers through
``submit`` / ``generate`` / ``get_job`` / ``cancel`` / ``list_jobs`` /
``runtime``, which return the same JSON as HTTP (as dicts) and raise the
core's typed errors (``videogen.errors``; they pickle across Ray).
"""

import asyncio
import logging
from typing import Any

from fastapi import FastAPI, Header, Query
from fastapi.responses import FileResponse, StreamingResponse
from ray import serve

from videogen import __version__
from videogen.errors import JobFailedError
from videogen.rocm_env import apply_rocm_env
from videogen.serve.config import IngressSettings
from videogen.serve.errors import HTTP_STATUS, documented, install_handlers
from videogen.serve.http_guards import configure as configure_guards
from videogen.serve.http_guards import install_guards
from videogen.serve.openai.errors import OpenAIErrorShape
from videogen.serve.openai.routes import OpenAIVideoRoutes, document_v1_errors
from videogen.serve.openai.routes import router as openai_router
from videogen.serve.web import install_page
from videogen.serve.protocol import JOBS_PATH, CreateJobRequest, ErrorResponse, Job, JobList
from videogen.serve.service.estimates import EstimateResponse
from videogen.serve.service.videogen_service import VideoGenService
from videogen.serve.store.records import JobStatus
from videogen.video.outputs import PICTURE_VARIANTS, media_type

logger = logging.getLogger("videogen.serve")

# Every status an /api route may answer with an error body, for the OpenAPI document.
_ERRORS = {status: {"model": ErrorResponse} for status in sorted(set(HTTP_STATUS.values()))}
_STATUS_PATTERN = "^(" + "|".join(s.value for s in JobStatus) + ")$"
# SQLite's INTEGER is 64-bit: larger offsets and event ids are refused as invalid (422), never a 500.
_MAX_INT = 2**62
# The statuses each kind of route can answer besides its success (see README "Limits and guarantees").
_READ = documented(401, 422, 500, 503)
_ONE_JOB = documented(401, 404, 422, 500, 503)
_SUBMIT = documented(400, 401, 413, 422, 500, 503, 507)
_VARIANT_PATTERN = "^(video|" + "|".join(PICTURE_VARIANTS) + ")$"

api = FastAPI(
    title="VideoGen",
    version=__version__,
    description="Text/image-to-video jobs on Ray Serve. Errors: {'error': {'code', 'message', 'field'?, 'allowed'?}}.",
)
install_handlers(api)
install_guards(api)
# /v1/videos: the OpenAI Videos API shape over the same jobs (routes of the OpenAIVideoRoutes mixin).
api.include_router(openai_router)
document_v1_errors(api)
api.add_middleware(OpenAIErrorShape)
install_page(api)  # the web page at /


@serve.ingress(api)
class VideoGenIngress(OpenAIVideoRoutes):
    def __init__(self, settings: IngressSettings, workers: dict[str, Any]):
        # The cost model behind admission builds models on the meta device: torch is imported in this
        # replica too, so the ROCm environment goes first, as in every process that may import torch.
        apply_rocm_env()
        try:
            ctx = serve.get_replica_context()
            label = f"{ctx.replica_id.deployment_id.name}#{ctx.replica_id.unique_id}"
        except Exception:  # noqa: BLE001
            label = "ingress"
        configure_guards(max_body_bytes=settings.max_body_bytes, cors_origins=settings.cors_origins)
        self.service = VideoGenService(settings, workers, replica_label=label)
        try:
            asyncio.get_running_loop()
            self.service.start()
        except RuntimeError:
            pass  # started by the first request or health check, on the replica's loop

    def _ready(self) -> VideoGenService:
        if not self.service.started:
            self.service.start()
        return self.service

    def _authorized(self, authorization: str | None) -> VideoGenService:
        svc = self._ready()
        svc.auth.check(authorization)
        return svc

    async def check_health(self) -> None:
        await self._ready().check_store()

    # -- HTTP ------------------------------------------------------------------------
    @api.get("/healthz", responses=documented(500, 503))
    async def healthz(self) -> dict[str, Any]:
        svc = self._ready()
        await svc.check_store()
        return {"status": "ok", "served_families": svc.settings.served, "version": __version__}

    @api.get("/api/video/runtime", responses=_READ)
    async def http_runtime(self, authorization: str | None = Header(default=None)) -> dict[str, Any]:
        return await asyncio.to_thread(self._authorized(authorization).status.runtime)

    @api.get("/api/video/models", responses=_READ)
    async def http_models(self, authorization: str | None = Header(default=None)) -> dict[str, Any]:
        return await asyncio.to_thread(self._authorized(authorization).status.models)

    @api.post("/api/video/estimate", response_model=EstimateResponse, responses=documented(400, 401, 413, 422, 500, 503))
    async def http_estimate(self, body: CreateJobRequest, authorization: str | None = Header(default=None)):
        """A job's body priced on the family's hardware (FLOPs, memory per rung, time, verdict); nothing is queued."""
        svc = self._authorized(authorization)
        return await asyncio.to_thread(svc.jobs.estimate, body)

    @api.post(JOBS_PATH, status_code=202, response_model=Job, responses=_SUBMIT)
    async def http_create_job(self, body: CreateJobRequest, authorization: str | None = Header(default=None)):
        return await self._authorized(authorization).jobs.submit(body)

    @api.get(JOBS_PATH, response_model=JobList, responses=_READ)
    async def http_list_jobs(
        self,
        limit: int = Query(default=20, ge=1, le=200),
        offset: int = Query(default=0, ge=0, le=_MAX_INT),
        # Typed without "| None" (the default is still None): the schema then offers no null to send.
        status: str = Query(default=None, pattern=_STATUS_PATTERN),
        family: str = Query(default=None, max_length=64),
        authorization: str | None = Header(default=None),
    ):
        return await self._authorized(authorization).jobs.list(limit, offset, status, family)

    @api.get(JOBS_PATH + "/{job_id}", response_model=Job, responses=_ONE_JOB)
    async def http_get_job(self, job_id: str, authorization: str | None = Header(default=None)):
        return await self._authorized(authorization).jobs.get(job_id)

    @api.delete(JOBS_PATH + "/{job_id}", response_model=Job, responses=_ONE_JOB)
    async def http_cancel_job(self, job_id: str, authorization: str | None = Header(default=None)):
        return await self._authorized(authorization).jobs.cancel(job_id)

    @api.get(JOBS_PATH + "/{job_id}/video",
             responses={200: {"content": {"video/mp4": {}, "image/*": {}}}, **documented(401, 404, 409, 422, 500, 503)})
    async def http_video(
        self,
        job_id: str,
        variant: str = Query(default="video", pattern=_VARIANT_PATTERN, description="video | " + " | ".join(PICTURE_VARIANTS)),
        authorization: str | None = Header(default=None),
    ):
        path = await self._authorized(authorization).jobs.video_path(job_id, variant)
        return FileResponse(path, media_type=media_type(variant), filename=f"{job_id}{path.name.removeprefix(job_id)}")

    @api.get(JOBS_PATH + "/{job_id}/events", responses={200: {"content": {"text/event-stream": {}}}, **_ONE_JOB})
    async def http_events(
        self,
        job_id: str,
        authorization: str | None = Header(default=None),
        last_event_id: int = Header(default=None, alias="Last-Event-ID", ge=0, le=_MAX_INT),
        since: int = Query(default=None, ge=0, le=_MAX_INT, description="replay events after this id (0 = from the start)"),
    ):
        svc = self._authorized(authorization)
        after = since if since is not None else last_event_id
        # The first event is read now, so an unknown job is a 404 rather than an empty stream.
        stream = await svc.jobs.sse_stream(job_id, after)
        return StreamingResponse(
            stream, media_type="text/event-stream", headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"}
        )

    # -- Python handle API (no API key: only drivers inside the cluster reach it) -----------
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
            path = await jobs.video_path(job.id)
            return {"job": job.wire(), "video": await asyncio.to_thread(path.read_bytes)}
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
        return await asyncio.to_thread(self._ready().status.runtime)
