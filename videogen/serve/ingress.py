"""The ingress deployment: FastAPI routes through ``@serve.ingress`` and the Python handle API.

Routes are thin: each one checks the API key and calls ``VideoGenService``.
The same replica serves ``serve.get_app_handle("videogen")`` callers through
``submit`` / ``generate`` / ``get_job`` / ``cancel`` / ``list_jobs``.
"""


import asyncio
import logging
from typing import Any

from fastapi import FastAPI, Header, Query
from fastapi.responses import FileResponse, StreamingResponse
from ray import serve

from videogen import __version__
from videogen.errors import VideoGenError
from videogen.serve.errors import JobFailedError, install_handlers, to_handle_error
from videogen.serve.protocol import CreateJobRequest, ErrorResponse, Job, JobList
from videogen.serve.serving import VideoGenService

logger = logging.getLogger("videogen.serve")

STATUSES = ("queued", "running", "succeeded", "failed", "cancelled")
_ERRORS = {code: {"model": ErrorResponse} for code in (401, 404, 409, 413, 422, 503)}

api = FastAPI(
    title="VideoGen",
    version=__version__,
    description="Text/image-to-video jobs on Ray Serve. Errors: {'error': {'code', 'message', 'field'?}}.",
)
install_handlers(api)


@serve.ingress(api)
class VideoGenIngress:
    def __init__(self, settings: dict[str, Any], workers: dict[str, Any]):
        try:
            ctx = serve.get_replica_context()
            label = f"{ctx.replica_id.deployment_id.name}#{ctx.replica_id.unique_id}"
        except Exception:  # noqa: BLE001
            label = "ingress"
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

    async def check_health(self) -> None:
        self._ready()
        await asyncio.to_thread(self.service.store.counts)  # the store answers

    # -- HTTP ------------------------------------------------------------------------
    @api.get("/healthz")
    async def healthz(self) -> dict[str, Any]:
        svc = self._ready()
        await asyncio.to_thread(svc.store.counts)
        return {"status": "ok", "served_families": list(svc.families), "version": __version__}

    @api.get("/api/video/runtime", responses=_ERRORS)
    async def http_runtime(self, authorization: str | None = Header(default=None)) -> dict[str, Any]:
        svc = self._ready()
        svc.check_auth(authorization)
        return await asyncio.to_thread(svc.runtime)

    @api.get("/api/video/models", responses=_ERRORS)
    async def http_models(self, authorization: str | None = Header(default=None)) -> dict[str, Any]:
        svc = self._ready()
        svc.check_auth(authorization)
        return await asyncio.to_thread(svc.models)

    @api.post("/api/video/jobs", status_code=202, response_model=Job, responses=_ERRORS)
    async def http_create_job(self, body: CreateJobRequest, authorization: str | None = Header(default=None)):
        svc = self._ready()
        svc.check_auth(authorization)
        return await svc.submit(body)

    @api.get("/api/video/jobs", response_model=JobList, responses=_ERRORS)
    async def http_list_jobs(
        self,
        limit: int = Query(default=20, ge=1, le=200),
        offset: int = Query(default=0, ge=0),
        status: str | None = Query(default=None, pattern="^(" + "|".join(STATUSES) + ")$"),
        family: str | None = Query(default=None),
        authorization: str | None = Header(default=None),
    ):
        svc = self._ready()
        svc.check_auth(authorization)
        return await svc.list_jobs(limit, offset, status, family)

    @api.get("/api/video/jobs/{job_id}", response_model=Job, responses=_ERRORS)
    async def http_get_job(self, job_id: str, authorization: str | None = Header(default=None)):
        svc = self._ready()
        svc.check_auth(authorization)
        return await svc.get_job(job_id)

    @api.delete("/api/video/jobs/{job_id}", response_model=Job, responses=_ERRORS)
    async def http_cancel_job(self, job_id: str, authorization: str | None = Header(default=None)):
        svc = self._ready()
        svc.check_auth(authorization)
        return await svc.cancel(job_id)

    @api.get("/api/video/jobs/{job_id}/video", responses={200: {"content": {"video/mp4": {}}}, **_ERRORS})
    async def http_video(self, job_id: str, authorization: str | None = Header(default=None)):
        svc = self._ready()
        svc.check_auth(authorization)
        path = await svc.video_path(job_id)
        return FileResponse(path, media_type="video/mp4", filename=f"{job_id}.mp4")

    @api.get("/api/video/jobs/{job_id}/events", responses={200: {"content": {"text/event-stream": {}}}, **_ERRORS})
    async def http_events(
        self,
        job_id: str,
        authorization: str | None = Header(default=None),
        last_event_id: int | None = Header(default=None, alias="Last-Event-ID", ge=0),
        since: int | None = Query(default=None, ge=0, description="replay events after this id (0 = from the start)"),
    ):
        svc = self._ready()
        svc.check_auth(authorization)
        after = since if since is not None else last_event_id
        # The first event is read now, so an unknown job is a 404 rather than an empty stream.
        stream = await svc.sse_stream(job_id, after)
        return StreamingResponse(
            stream, media_type="text/event-stream", headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"}
        )

    # -- Python handle API --------------------------------------------------------------
    async def submit(self, request: Any) -> dict[str, Any]:
        """Queue a job (a ``VideoRequest`` or a dict of its fields); returns the job at once."""
        try:
            return await self._ready().submit(request)
        except VideoGenError as exc:
            raise to_handle_error(exc) from None

    async def generate(self, request: Any, timeout_s: float | None = None) -> dict[str, Any]:
        """Queue a job and wait for it: ``{"job": <finished job>, "video": <MP4 bytes>}``.

        A failed or cancelled job raises ``JobFailedError`` (``.job`` holds it).
        """
        job = await self.submit(request)
        job = await self._ready().wait(job["id"], timeout_s=timeout_s)
        if job["status"] != "succeeded":
            if job["status"] in ("queued", "running"):
                return {"job": job, "video": None}  # timed out; the job goes on
            raise JobFailedError(job.get("error") or {"code": job["status"], "message": job["status"]}, 500, job)
        path = await self._ready().video_path(job["id"])
        return {"job": job, "video": await asyncio.to_thread(path.read_bytes)}

    async def get_job(self, job_id: str) -> dict[str, Any]:
        try:
            return await self._ready().get_job(job_id)
        except VideoGenError as exc:
            raise to_handle_error(exc) from None

    async def cancel(self, job_id: str) -> dict[str, Any]:
        try:
            return await self._ready().cancel(job_id)
        except VideoGenError as exc:
            raise to_handle_error(exc) from None

    async def list_jobs(self, limit: int = 20, offset: int = 0, status: str | None = None, family: str | None = None):
        return await self._ready().list_jobs(limit, offset, status, family)

    async def runtime(self) -> dict[str, Any]:
        return await asyncio.to_thread(self._ready().runtime)

