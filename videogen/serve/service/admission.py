"""A job's admission: validation against the served model, the hardware's and the queues' bounds, its insert.

Validation runs here, before a job is queued, with the same core code the worker runs later, against the model the
job will run on (the request's ``model``, a configured name, or the family's default) as its workers serve it. The
admission runs on a submission thread of its own; the insert runs there too, or (``GROUP_COMMIT``) in the next batch
of ``insert_batches``, awaited on the event loop so that the thread admits the next submission meanwhile.
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from concurrent.futures import ThreadPoolExecutor
from typing import TYPE_CHECKING, Any

from pydantic import ValidationError

from videogen.errors import InvalidRequestError, UnknownFamilyError
from videogen.serve.config import ServedModel, VideoGenAppConfig
from videogen.serve.errors import request_validation_error
from videogen.serve.service.auth import HANDLE, Principal
from videogen.serve.service.dispatch import LEASE_S, Dispatcher
from videogen.serve.service.estimates import EstimateService
from videogen.serve.service.insert_batches import InsertBatches
from videogen.serve.service.limits import Limits
from videogen.serve.service.status import StatusViews
from videogen.serve.store.bounds import QueueBounds
from videogen.serve.store.job_inserts import NewJob
from videogen.serve.store.job_store import JobStore
from videogen.serve.store.jobs import Jobs
from videogen.serve.store.records import JobRecord
from videogen.video.families import get_adapter
from videogen.video.progress import Progress
from videogen.video.registry import get_spec
from videogen.video.request import VideoRequest
from videogen.video.task_media import SettledMedia

if TYPE_CHECKING:
    from videogen.video.adapter import PreparedInputs
    from videogen.video.model_meta import ModelMeta

# Threads of the submissions' own (admission, and on SQLite the insert, one hop each): SSE streams and the dispatcher
# read the store on the event loop's default executor, and hundreds of open streams must not make a submission wait
# for one. Per backend: on SQLite every insert waits for the one file's write lock anyway, and more threads only fight
# over the GIL (each SQLite call lets it go and waits to get it back): served on the 2-core box, 32 clients, a
# submission took 2.7 ms on one thread (1 ms of it CPU), 7.4 ms on two, 18.7 ms on four, and one thread answered 205
# submissions/s against 156 and 136. On PostgreSQL the inserts are the batches' (``GROUP_COMMIT``) and the threads
# admit (and store an upload's inputs, a round trip to the object store): with two, a submission waited 1.0 ms p50,
# 27 ms p95 for one, with eight 0.5 and 5.5 (paced at 200/s, workers running).
SUBMIT_THREADS = {"sqlite": 1, "postgres": 8}
# Per backend, whether the submissions' inserts are written together, a batch a transaction (``insert_batches``): on
# PostgreSQL a batch is two round trips and one count of each queue and owner whatever its size; SQLite's one
# thread has nobody to share a transaction with.
GROUP_COMMIT = {"sqlite": False, "postgres": True}


def submission_threads(store: JobStore) -> tuple[ThreadPoolExecutor, InsertBatches | None]:
    """The submission threads for ``store``'s backend, and its batches of inserts where it has them."""
    dialect = store.db.dialect
    executor = ThreadPoolExecutor(SUBMIT_THREADS[dialect], thread_name_prefix="videogen-submit")
    return executor, InsertBatches(store.jobs) if GROUP_COMMIT[dialect] else None


class JobAdmission:
    """``JobService``'s admission (its settings, store, dispatcher and views come with it)."""

    settings: VideoGenAppConfig
    store: JobStore
    jobs: Jobs
    dispatcher: Dispatcher
    status: StatusViews
    estimates: EstimateService
    limits: Limits
    submit_executor: ThreadPoolExecutor
    insert_batches: InsertBatches | None

    # -- validation ----------------------------------------------------------------------
    def validate(self, request: VideoRequest, meta: ModelMeta | None = None) -> PreparedInputs:
        """Refuse what the served model cannot do; the settled params and adjustments otherwise.
        ``meta``: the served model's (``status.model_meta``), when the caller has already looked it up."""
        served = self.settings.served
        if request.family not in self.settings.families:
            raise UnknownFamilyError(
                "family", f"{request.family!r} is not served here; served families: {', '.join(served)}", allowed=served
            )
        get_spec(request.family).check_task(request.task)  # the core's one "task not offered" check
        served_model = self.settings.resolve_model(request.family, request.model)  # a configured name, or refused
        limit = self.settings.max_image_bytes
        size = len(request.image) * 3 // 4 if request.image else 0  # base64 -> bytes, near enough
        if limit and size > limit:
            raise InvalidRequestError(
                "image", f"is about {size} bytes; this service accepts at most {limit}", allowed=f"<= {limit} bytes"
            )
        meta = meta or self.status.model_meta(request.family, request.task, served_model.name)
        prepared = get_adapter(request.family).resolve_params(request, meta)
        # decoded to check them; the worker decodes its own copy, the ingress keeps none
        prepared.media = SettledMedia()
        return prepared

    def admit(
        self, request: VideoRequest, prepared: PreparedInputs | None = None
    ) -> tuple[PreparedInputs, dict[str, Any] | None]:
        """``validate`` (unless ``prepared`` is its answer already), then refuse what the family's hardware
        cannot run (memory or time): the settled inputs and the job's estimate (None before the family's
        workers have reported their hardware)."""
        prepared = prepared or self.validate(request)
        model = self.settings.resolve_model(request.family, request.model).name
        planned = self.estimates.plan(request.family, request.task, prepared.params, model)
        if planned is None:
            return prepared, None
        estimate, admission = planned
        return prepared, {**estimate.model_dump(), "admission": admission.model_dump()}

    def estimate(self, request: VideoRequest):
        """``POST /api/video/estimate``: a job's body priced; nothing is queued."""
        prepared = self.validate(request)
        model = self.settings.resolve_model(request.family, request.model).name
        return self.estimates.estimate(request.family, request.task, prepared.params, model)

    @staticmethod
    def parse(request: VideoRequest | Mapping[str, Any]) -> VideoRequest:
        """A handle caller's dict as a ``VideoRequest``; refused in the shape HTTP refuses it."""
        if isinstance(request, VideoRequest):
            return request
        try:
            return VideoRequest.model_validate(dict(request))
        except ValidationError as exc:
            raise request_validation_error(exc.errors()) from None

    def bounds(self, served: ServedModel, who: Principal) -> QueueBounds:
        """The bounds a new job on the served model ``served`` must fit: its queue's, the caller's."""
        return QueueBounds(
            family_max_queued=self.settings.queue_bound(served.name),
            model_name=served.name,
            default_name=self.settings.default_model(served.family).name,
            default_job_seconds=self.settings.default_job_seconds,
            owner_max_queued=who.max_queued_jobs,
            owner_per_minute=who.submissions_per_minute,
        )

    async def _admit_and_create(
        self,
        request: VideoRequest,
        who: Principal,
        adjustments: list | None,
        client: dict[str, Any] | None,
        prepared: PreparedInputs | None,
    ) -> JobRecord:
        """The admission on a submission thread; the insert there too, or, batched (``insert_batches``), awaited
        here: the thread is free for the next admission while the batch is written."""
        loop = asyncio.get_running_loop()
        args = (request, who, adjustments, client, prepared)
        if self.insert_batches is None:  # one hop: the admission and the insert on a submission thread
            return await loop.run_in_executor(self.submit_executor, lambda: self.create_admitted(self.admit_job(*args)))
        job = await loop.run_in_executor(self.submit_executor, self.admit_job, *args)
        try:
            return await asyncio.wrap_future(self.insert_batches.submit(job))
        except BaseException:
            self._discard_inputs(job)
            raise

    def admit_job(
        self,
        request: VideoRequest,
        who: Principal = HANDLE,
        adjustments: list | None = None,
        client: dict[str, Any] | None = None,
        prepared: PreparedInputs | None = None,
    ) -> NewJob:
        """Admit the request (validation, hardware, disk): the job to insert within its queue bounds, its inline
        inputs kept already (blocking)."""
        prepared, estimate = self.admit(request, prepared)
        served = self.settings.resolve_model(request.family, request.model)
        # After validation (a bad request is a 422 even when the disk is full), before the write.
        self.limits.check_disk()
        prepared.adjustments[:0] = adjustments or []
        params = dict(prepared.params)
        summary = request.summary()
        summary["seed"] = params["seed"]  # the seed used: a retried job makes the same video
        if client:
            summary["client"] = client
        job = NewJob(
            family=request.family,
            task=request.task,
            request=summary,
            image=None,
            model={"family": request.family, "name": served.name, "source": served.source},
            model_name=served.name,
            params=params,
            adjustments=[a.model_dump() for a in prepared.adjustments],
            progress=Progress.queued(total_steps=params["num_inference_steps"]),
            max_attempts=self.settings.max_attempts,
            dispatcher=self.dispatcher.dispatcher_id,
            lease_s=LEASE_S,
            estimate=estimate,
            owner=who.name,
            bounds=self.bounds(served, who),
        )
        # The inline inputs: kept in the row (local), or stored as an object the row names (s3), for any node.
        job.image = self.store.artifacts.keep_inputs(job.job_id, request.inline_inputs())
        if self.insert_batches is not None:
            job.prepare()  # here, not in the batches' one writer thread
        return job

    def create_admitted(self, job: NewJob) -> JobRecord:
        """Insert an admitted job within its queue bounds (blocking); refused or failed, its inputs go."""
        try:
            return self.jobs.create_job(job)
        except BaseException:
            self._discard_inputs(job)
            raise

    def _discard_inputs(self, job: NewJob) -> None:
        if job.image is not None:  # refused (a queue bound) or failed: inputs stored for it go with it
            self.store.artifacts.discard_inputs(job.job_id)
