"""The ``/api/video/*`` routes: thin, each one calls ``VideoGenService`` with the caller it was given.

The caller (``Principal``) was identified by ``AuthGate`` before the body was
read; a user key sees, downloads, cancels and streams only its own jobs (others'
are 404), an admin sees all and the runtime's details.
"""

from __future__ import annotations

import asyncio
from typing import Any

from fastapi import APIRouter, Depends, Header, Query, Request
from fastapi.responses import StreamingResponse

from videogen.serve.dependencies import Principal, principal, videogen
from videogen.serve.downloads import DOWNLOAD_ANSWERS, download_response
from videogen.serve.errors import HTTP_STATUS, documented
from videogen.serve.protocol import JOBS_PATH, CreateJobRequest, ErrorResponse, Job, JobList
from videogen.serve.service.estimates import EstimateResponse
from videogen.serve.service.videogen_service import VideoGenService
from videogen.serve.store.records import JobStatus
from videogen.video.outputs import PICTURE_VARIANTS, media_type

router = APIRouter()

# Every status an /api route may answer with an error body, for the OpenAPI document.
ERRORS = {status: {"model": ErrorResponse} for status in sorted(set(HTTP_STATUS.values()))}
_STATUS_PATTERN = "^(" + "|".join(s.value for s in JobStatus) + ")$"
# SQLite's INTEGER is 64-bit: larger offsets and event ids are refused as invalid (422), never a 500.
_MAX_INT = 2**62
# The statuses each kind of route can answer besides its success (see README "Limits and guarantees").
_READ = documented(401, 422, 500, 503)
_ONE_JOB = documented(401, 404, 422, 500, 503)
_SUBMIT = documented(400, 401, 413, 422, 429, 500, 503, 507)
_VARIANT_PATTERN = "^(video|" + "|".join(PICTURE_VARIANTS) + ")$"

Service = Depends(videogen)
Caller = Depends(principal)


@router.get("/api/video/runtime", responses=_READ)
async def http_runtime(svc: VideoGenService = Service, who: Principal = Caller) -> dict[str, Any]:
    """Hardware, load policy and versions; hosts, pids and paths only for an admin key."""
    return await asyncio.to_thread(svc.status.runtime, who.is_admin)


@router.get("/api/video/models", responses=_READ)
async def http_models(svc: VideoGenService = Service, who: Principal = Caller) -> dict[str, Any]:
    return await asyncio.to_thread(svc.status.models, who.is_admin)


@router.post("/api/video/estimate", response_model=EstimateResponse, responses=documented(400, 401, 413, 422, 500, 503))
async def http_estimate(body: CreateJobRequest, svc: VideoGenService = Service, who: Principal = Caller):
    """A job's body priced on the family's hardware (FLOPs, memory per rung, time, verdict); nothing is queued."""
    return await asyncio.to_thread(svc.jobs.estimate, body)


@router.post(JOBS_PATH, status_code=202, response_model=Job, responses=_SUBMIT)
async def http_create_job(body: CreateJobRequest, svc: VideoGenService = Service, who: Principal = Caller):
    return await svc.jobs.submit(body, who)


@router.get(JOBS_PATH, response_model=JobList, responses=_READ)
async def http_list_jobs(
    limit: int = Query(default=20, ge=1, le=200),
    offset: int = Query(default=0, ge=0, le=_MAX_INT),
    # Typed without "| None" (the default is still None): the schema then offers no null to send.
    status: str = Query(default=None, pattern=_STATUS_PATTERN),
    family: str = Query(default=None, max_length=64),
    svc: VideoGenService = Service,
    who: Principal = Caller,
):
    return await svc.jobs.list(limit, offset, status, family, who)


@router.get(JOBS_PATH + "/{job_id}", response_model=Job, responses=_ONE_JOB)
async def http_get_job(job_id: str, svc: VideoGenService = Service, who: Principal = Caller):
    return await svc.jobs.get(job_id, who)


@router.delete(JOBS_PATH + "/{job_id}", response_model=Job, responses=_ONE_JOB)
async def http_cancel_job(job_id: str, svc: VideoGenService = Service, who: Principal = Caller):
    return await svc.jobs.cancel(job_id, who)


@router.get(
    JOBS_PATH + "/{job_id}/video",
    responses={
        200: {"content": {"video/mp4": {}, "image/*": {}}},
        **DOWNLOAD_ANSWERS,
        **documented(401, 404, 409, 416, 422, 500, 503),
    },
)
async def http_video(
    job_id: str,
    request: Request,
    variant: str = Query(
        default="video", pattern=_VARIANT_PATTERN, description="video | " + " | ".join(PICTURE_VARIANTS)
    ),
    svc: VideoGenService = Service,
    who: Principal = Caller,
):
    # Opened before the answer starts: a retention sweep removing it meanwhile cannot make it a 500.
    opened = await svc.jobs.open_output(job_id, variant, who)
    return await download_response(opened, media_type=media_type(variant), range_header=request.headers.get("range"))


@router.get(
    JOBS_PATH + "/{job_id}/events",
    responses={200: {"content": {"text/event-stream": {}}}, **documented(401, 404, 422, 429, 500, 503)},
)
async def http_events(
    job_id: str,
    last_event_id: int = Header(default=None, alias="Last-Event-ID", ge=0, le=_MAX_INT),
    since: int = Query(default=None, ge=0, le=_MAX_INT, description="replay events after this id (0 = from the start)"),
    svc: VideoGenService = Service,
    who: Principal = Caller,
):
    after = since if since is not None else last_event_id
    # The first event is read now, so an unknown job is a 404 rather than an empty stream.
    stream = await svc.jobs.sse_stream(job_id, after, who)
    return StreamingResponse(
        stream, media_type="text/event-stream", headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"}
    )
