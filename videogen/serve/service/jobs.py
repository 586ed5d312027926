"""Jobs as a client sees them: validate, submit, get, list, cancel, wait, and the SSE stream.

A job is in the store before ``submit`` returns (the 202 goes out after the
write), so an ingress that dies right after answering loses nothing. Its
validation and insert are ``admission``'s.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import AsyncIterator, Mapping
from typing import TYPE_CHECKING, Any

from videogen.errors import JobStateError, VideoGenError
from videogen.serve import metrics
from videogen.serve.artifacts.base import OpenedArtifact, output_key
from videogen.serve.config import VideoGenAppConfig
from videogen.serve.protocol import Job, JobList
from videogen.serve.service.admission import JobAdmission, submission_threads
from videogen.serve.service.auth import HANDLE, Principal
from videogen.serve.service.dispatch import Dispatcher
from videogen.serve.service.estimates import EstimateService
from videogen.serve.service.event_feed import EventFeed, SlotStream, StreamSlots, until_fallback_read
from videogen.serve.service.event_reads import Frame, SharedEventReads
from videogen.serve.service.limits import Limits
from videogen.serve.service.status import StatusViews
from videogen.serve.store.events import PAGE as EVENTS_PAGE
from videogen.serve.store.job_store import JobStore
from videogen.serve.store.records import JobRecord, JobStatus
from videogen.video.lora_config import adapter_set_id
from videogen.video.request import VideoRequest

if TYPE_CHECKING:
    from videogen.video.adapter import PreparedInputs

SSE_KEEPALIVE_S = 15.0
# A stream is woken when its job has a new event (see event_feed); it also re-reads
# the store this often on its own, so a lost wake-up costs at most this long (a job's
# streams together, on the job's tick: event_feed.until_fallback_read).
SSE_FALLBACK_S = 1.0


class JobService(JobAdmission):
    def __init__(
        self,
        settings: VideoGenAppConfig,
        store: JobStore,
        dispatcher: Dispatcher,
        status: StatusViews,
        estimates: EstimateService | None = None,
        limits: Limits | None = None,
    ):
        self.settings = settings
        self.estimates = estimates or EstimateService(settings, store, status.reports)
        self.limits = limits or Limits(settings, store)
        self.store = store
        self.jobs = store.jobs
        self.dispatcher = dispatcher
        self.status = status
        self.feed = EventFeed(store)
        days = settings.retention_days
        self._encode = lambda seq, rec: format_sse(seq, rec, days)
        self.event_reads = SharedEventReads(
            lambda job_id, seq, known: store.events.since(job_id, seq, state_at=known and known.snapshot()),
            self._encode,
        )
        self.streams = StreamSlots(settings.max_sse_streams, settings.max_sse_streams_per_key)
        self.sse_fallback_s = SSE_FALLBACK_S
        self.submit_executor, self.insert_batches = submission_threads(store)

    # -- jobs ------------------------------------------------------------------------------
    def job(self, rec: JobRecord) -> Job:
        """The wire job of a record (with when it expires under this app's retention)."""
        return Job.from_record(rec, self.settings.retention_days)

    async def submit(
        self,
        request: VideoRequest | Mapping[str, Any],
        who: Principal = HANDLE,
        *,
        adjustments: list | None = None,
        client: dict[str, Any] | None = None,
        prepared: PreparedInputs | None = None,
    ) -> Job:
        """Queue a job owned by ``who``. ``adjustments`` made before the request (``/v1``: seconds and size
        mapped to frames and resolution) are listed first; ``client`` is kept in the request summary as asked;
        ``prepared``: ``validate``'s answer for this request, when the caller has it (not resolved again).
        The queue bounds (the family's, the caller's) are checked in the transaction that inserts the job.
        The admission runs on a submission thread, the insert there too or in the next batch
        (``_admit_and_create``); the queue-depth gauges are refreshed on their own (``VideoGenService``), never per
        submission."""
        request = self.parse(request)
        # Metrics labels only ever name a served family: a client's string never becomes a series.
        label = request.family if request.family in self.settings.families else "unknown"
        try:
            rec = await self._admit_and_create(request, who, adjustments, client, prepared)
        except VideoGenError as exc:
            metrics.refused(label, str(exc.code))
            raise
        adapter_set = adapter_set_id((rec.params or {}).get("loras"))  # to a replica holding its LoRA adapters
        self.dispatcher.dispatch_soon(rec.id, self.settings.model_of(rec.family, rec.model_name), adapter_set)
        metrics.job_submitted(rec.family, rec.task, rec.model_name)
        return self.job(rec)

    async def get(self, job_id: str, who: Principal = HANDLE) -> Job:
        return self.job(await asyncio.to_thread(self.jobs.get, job_id, who.owner_filter))

    async def list(
        self, limit: int, offset: int, status: str | None, family: str | None, who: Principal = HANDLE
    ) -> JobList:
        records, total = await asyncio.to_thread(
            self.jobs.list, limit=limit, offset=offset, status=status, family=family, owner=who.owner_filter
        )
        return JobList.page(records, total, limit, offset, self.settings.retention_days)

    async def cancel(self, job_id: str, who: Principal = HANDLE) -> Job:
        rec = await asyncio.to_thread(self.jobs.request_cancel, job_id, who.owner_filter)
        self.feed.notify(job_id)  # its streams show the cancel now
        if rec.status == JobStatus.CANCELLED:
            self.dispatcher.withdraw(job_id)  # still waiting in the handle's queue: take it back
        return self.job(rec)

    async def _check_succeeded(self, job_id: str, who: Principal) -> None:
        rec = await asyncio.to_thread(self.jobs.get, job_id, who.owner_filter)
        if rec.status != JobStatus.SUCCEEDED:
            raise JobStateError(
                f"job {job_id} is {rec.status}; its video exists once it has succeeded", status=str(rec.status)
            )

    async def open_output(self, job_id: str, variant: str = "video", who: Principal = HANDLE) -> OpenedArtifact:
        """The MP4 of a succeeded job, or (``variant``) its thumbnail, spritesheet or animated preview, opened in
        the artifact store for a download to stream from (``videogen.serve.downloads``). Removed before it was
        opened: the job is gone with it (404), or the file alone went missing (409), never a 500."""
        await self._check_succeeded(job_id, who)
        artifacts = self.store.artifacts
        try:
            return await asyncio.to_thread(artifacts.open, output_key(job_id, variant))
        except FileNotFoundError:
            await self._check_succeeded(job_id, who)  # raises the job's 404 when it went with its file
            where = artifacts.describe().get("dir") or artifacts.backend
            raise JobStateError(
                f"the {variant} of job {job_id} is missing from the artifact store ({where}; with the local backend "
                "every node must share state_dir, or use artifacts.backend s3)"
            ) from None

    async def read_output(
        self, job_id: str, variant: str = "video", who: Principal = HANDLE, limit: int | None = None
    ) -> bytes:
        """``open_output``'s object read whole (or its first ``limit`` bytes)."""
        opened = await self.open_output(job_id, variant, who)
        try:
            chunks = await opened.read(0, opened.size if limit is None else min(limit, opened.size))
        except FileNotFoundError:
            opened.close()
            raise JobStateError(f"the {variant} of job {job_id} was removed while it was being read") from None
        return b"".join([chunk async for chunk in chunks])

    async def wait(self, job_id: str, timeout_s: float | None = None, poll_s: float = 0.2) -> Job:
        """The job once it has ended, or as it is when ``timeout_s`` runs out."""
        deadline = None if timeout_s is None else time.monotonic() + timeout_s
        while True:
            rec = await asyncio.to_thread(self.jobs.get, job_id)
            if rec.status.terminal or (deadline is not None and time.monotonic() > deadline):
                return self.job(rec)
            await asyncio.sleep(poll_s)

    # -- Server-Sent Events ---------------------------------------------------------------
    async def _events(self, job_id: str, last_event_id: int | None, owner: str | None) -> AsyncIterator[Frame]:
        """(event id, record, SSE frame) until the job ends; ``last_event_id`` replays what came after it (0 = all).

        ``(-1, None, keep-alive frame)`` is a keep-alive. Subscribed before the first read and cleared
        before every read: an event committed at any moment is in that read or wakes it. The reads after
        the first are shared with this replica's other streams of the job (``event_reads``).
        """
        with self.feed.subscribe(job_id) as sub:
            if last_event_id is None:
                rec, seq = await asyncio.to_thread(self.jobs.snapshot, job_id, owner)
                yield seq, rec, format_sse(seq, rec, self.settings.retention_days)
                if rec.status.terminal:
                    return
                ended = False
                # Subscribed before the snapshot: an event after it has set the flag, so wait before reading again.
                # Woken: its notices may follow on from seq (a full row needs no record to apply onto).
                read_log = not await sub.wait(min(self._until_fallback_read(job_id), SSE_KEEPALIVE_S))
            else:
                rec = await asyncio.to_thread(self.jobs.get, job_id, owner)  # 404 before the stream starts
                seq = last_event_id
                # Already ended: every event it will have is logged, so nothing after the id means the end.
                ended = rec.status.terminal
                read_log = True
            quiet_since = time.monotonic()
            # The record at seq as the log has it, once an event brought it (the job's row above may be newer): a
            # read after it applies the new events onto it instead of rebuilding it from the log.
            known: JobRecord | None = None
            # read_log: the first look of a resumed stream, a look after the fallback interval, or after a wake
            # without notices (else the notices are tried first: ``EventFeed.frames_after``).
            while True:
                read_log = sub.clear() or read_log
                events = None if read_log else self.feed.frames_after(job_id, seq, known, self._encode)
                if events is None:
                    events = await self.event_reads.since(job_id, seq, known)
                # A full page may have more after it; else what came since the read began has set the flag.
                read_log = len(events) >= EVENTS_PAGE
                for seq, known, frame in events:
                    yield seq, known, frame
                    if known.status.terminal:
                        return
                if events:
                    quiet_since = time.monotonic()
                    continue
                if ended:
                    return
                quiet = time.monotonic() - quiet_since
                if quiet >= SSE_KEEPALIVE_S:
                    quiet_since = time.monotonic()
                    yield -1, None, format_sse(-1, None)
                    continue
                read_log = not await sub.wait(min(self._until_fallback_read(job_id), SSE_KEEPALIVE_S - quiet))

    def _until_fallback_read(self, job_id: str) -> float:
        return until_fallback_read(job_id, self.sse_fallback_s, time.monotonic())

    async def sse_stream(
        self, job_id: str, last_event_id: int | None = None, who: Principal = HANDLE
    ) -> AsyncIterator[str]:
        """Server-Sent Events text; the first event is read before returning (an unknown job fails early).

        The stream holds one of ``who``'s slots (429 beyond ``max_sse_streams_per_key`` or ``max_sse_streams``)
        until it ends, is closed (a client that left: its task is cancelled) or is dropped unread.
        """
        slot = self.streams.take(who.name)
        events = self._events(job_id, last_event_id, who.owner_filter)
        try:
            first = await events.__anext__()
        except StopAsyncIteration:  # resumed after the last event of a job that has ended
            first = None
        except BaseException:
            slot.release()
            raise

        async def body() -> AsyncIterator[str]:
            try:
                if first is None:
                    return
                yield first[2]
                async for _seq, _rec, frame in events:
                    yield frame
            finally:
                slot.release()
                await events.aclose()  # its subscription ends now, not when it is collected

        return SlotStream(body(), slot)


def format_sse(seq: int, rec: JobRecord | None, retention_days: float | None = None) -> str:
    if rec is None:
        return ": keep-alive\n\n"
    # json.dumps' default separators, as the stream has always sent them (clients may match on them).
    return f"id: {seq}\nevent: job\ndata: {json.dumps(Job.from_record(rec, retention_days).wire())}\n\n"
