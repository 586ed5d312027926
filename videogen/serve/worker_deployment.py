"""The worker deployment: one class, bound once per served model (a family's entry, or a named model).

Each replica holds one ``GenerationWorker`` whose pipelines load once and stay
warm. ``run_job(job_id)`` claims the job in the store atomically, runs the
generation on a dedicated thread (never on the replica's event loop, so health
checks and other calls keep answering), writes progress and stage timings from a
thread of its own (``ProgressWriter``: denoising never waits on SQLite), then the
result or the error, and refreshes the job's heartbeat while it runs. A cancel
flag in the store is polled at every denoising step.

The replica also reports itself (node, diagnostics, the models it resolved) to
the store's ``replicas`` table, so the ingress answers runtime and model
queries without calling, or waking, a worker.
"""

from __future__ import annotations

import asyncio
import logging
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from typing import TYPE_CHECKING, Any

# None of these imports torch: the replica applies the ROCm environment first (see __init__).
from videogen.errors import ErrorCode, GenerationCancelled, VideoGenError, error_dict
from videogen.rocm_env import apply_rocm_env
from videogen.serve import metrics
from videogen.serve.adapter_affinity import adapter_set_loader, note_adapter_set
from videogen.serve.cpu_priority import lower_cpu_priority
from videogen.serve.parallel_replica import ParallelReplica, RankLost
from videogen.serve.progress_writer import ProgressWriter
from videogen.serve.protocol import RunOutcome
from videogen.serve.replica_identity import replica_identity
from videogen.serve.replica_settings import WorkerSettings, generation_worker
from videogen.serve.store.job_store import open_replica_store
from videogen.serve.store.records import JobStatus
from videogen.serve.store.replicas import ModelsReport, ReplicaState
from videogen.serve.store_health import StopCheck, StoreHealth, until_store_answers
from videogen.serve.store_thread import StoreThread
from videogen.video.encode import is_storage_error
from videogen.video.progress import DONE_STAGE, STAGES, Progress, ran_totals

if TYPE_CHECKING:
    from videogen.serve.store.records import JobRecord
    from videogen.video.progress import ProgressEvent

logger = logging.getLogger("videogen.serve.worker")

# Step events are written at most this often (stage changes always are).
PROGRESS_WRITE_INTERVAL_S = 0.5


class VideoWorker:
    """Serve deployment class for one served model of a family (see ``builder.build_app``)."""

    def __init__(self, settings: WorkerSettings):
        # The builder put the ROCm mapping into runtime_env; if a YAML replaced
        # ray_actor_options wholesale, it is applied here, still before torch.
        apply_rocm_env()
        # Before torch makes its threads (they inherit it); the store's calls keep the serving priority on their
        # thread: a lowered one holding the store's write lock would stall the submissions (serve.store_thread).
        self.store_thread = StoreThread(f"videogen-store-{settings.family}")
        lower_cpu_priority(settings.cpu_niceness, keep={self.store_thread.native_id})
        self.settings = settings
        self.family = settings.family
        self.name = settings.name  # the served model: what its jobs and its replica reports are stored under
        # This node's state_dir (a per-node variable expanded here), the config's database or $VIDEOGEN_DATABASE_URL.
        self.store = open_replica_store(
            settings.state_dir, settings.journal_mode, settings.artifacts, settings.database_url
        )
        self.jobs = self.store_thread.proxy(self.store.jobs)
        self.replicas = self.store_thread.proxy(self.store.replicas)
        self.worker = generation_worker(settings)
        self.identity = replica_identity()
        self.replica_id: str = self.identity["replica_id"]
        # What loads, warms up and generates: the worker itself, or all ranks of a multi-device replica at once.
        self.parallel = (
            ParallelReplica(settings, self.worker, self.replica_id) if settings.parallel.world_size > 1 else None
        )
        self.runner = self.parallel or self.worker
        self._store_health = StoreHealth(f"worker {self.replica_id}")  # the store away: logged, not unhealthy
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix=f"videogen-{self.family}")
        self._current: dict[str, Any] | None = None
        self._stop = threading.Event()
        self._load_errors: dict[str, dict[str, Any]] = {}
        self._jobs_done = 0
        self._broken: str | None = None
        # Serve routes a job to a replica holding its LoRA adapters (serve.adapter_affinity)
        self._adapter_sets = adapter_set_loader(settings.max_loras_per_replica) if settings.loras else None

        for task in settings.warm:
            self._warm(task)
        self._report(ReplicaState.RUNNING)
        self._reporter = threading.Thread(target=self._report_loop, name="videogen-replica-report", daemon=True)
        self._reporter.start()
        logger.info("worker %s for %s ready (%s: %s)", self.replica_id, self.family, self.name, settings.model)

    # -- startup ------------------------------------------------------------------
    def _warm(self, task: str) -> None:
        started = time.time()
        try:
            self.runner.warm(self.family, task)
            logger.info("%s/%s loaded in %.2fs", self.family, task, time.time() - started)
            # A short run measures the FLOP/s this replica achieves: ETAs and admission use it from the start.
            self.runner.warm_up(self.family, task)
        except VideoGenError as exc:
            # The replica stays up and says why; jobs for this task fail with the reason.
            self._load_errors[task] = exc.to_dict()
            logger.warning("%s/%s cannot load: %s", self.family, task, exc.message)
        except Exception as exc:
            self._load_errors[task] = error_dict(ErrorCode.LOAD_FAILED, f"{type(exc).__name__}: {exc}")
            logger.exception("%s/%s failed to load", self.family, task)

    def _report_soon(self) -> None:
        threading.Thread(target=self._safe_report, name="videogen-replica-report-now", daemon=True).start()

    def _safe_report(self) -> None:
        try:
            self._report(ReplicaState.BUSY if self._current else ReplicaState.IDLE)
        except Exception:  # the periodic report tries again
            logger.warning("replica report after a job failed", exc_info=True)

    def _models_report(self, diagnostics: dict[str, Any]) -> ModelsReport:
        """The registry entry for this family, resolved here (this model, this hardware)."""
        from videogen.video.foundation import VideoHardwareProfile
        from videogen.video.registry import get_spec
        from videogen.video.support import describe_model

        spec = get_spec(self.family)
        profile = VideoHardwareProfile(**diagnostics["hardware_profile"])
        described = describe_model(spec, profile, self.worker.source(self.family))
        described["load_errors"] = self._load_errors
        meta: dict[str, dict[str, Any]] = {}
        for task in spec.tasks:
            try:
                meta[task] = self.worker.model_meta(self.family, task).model_dump(mode="json")
            except Exception as exc:  # noqa: BLE001 - reported; the ingress then validates with the family's defaults
                meta[task] = {"error": str(exc)}
        return ModelsReport(describe=described, model_meta=meta)

    def _report(self, state: ReplicaState) -> None:
        diagnostics = self.worker.diagnostics(self.family)
        diagnostics["replica"] = {**self.identity, "jobs_done": self._jobs_done, "broken": self._broken}
        diagnostics["replica"]["store"] = self._store_health.describe()
        self.replicas.report(
            self.identity,
            family=self.family,
            state=state,
            diagnostics=diagnostics,
            models=self._models_report(diagnostics),
            model_name=self.name,
        )

    def _report_loop(self) -> None:
        last_full = time.monotonic()
        while not self._stop.wait(self.settings.heartbeat_s):
            state = ReplicaState.BUSY if self._current else ReplicaState.IDLE
            try:
                if time.monotonic() - last_full > 30:  # fresh diagnostics (free VRAM, loaded pipelines)
                    self._report(state)
                    last_full = time.monotonic()
                else:
                    self.replicas.touch(self.replica_id, state)
            except Exception:
                logger.exception("replica report failed")

    # -- Serve hooks -------------------------------------------------------------------
    def check_health(self) -> None:
        """Fails when this replica can no longer generate; Serve then replaces it. The job store away (a
        database restart: every replica sees it) does not fail it (``serve.store_health``)."""
        self.worker.check_health()  # a fatal device error (illegal memory access, ...)
        if self.parallel is not None and (lost := self.parallel.lost()):
            self._broken = lost  # Serve replaces the replica, and Ray its ranks with it
        if self._broken:
            raise RuntimeError(f"worker broken: {self._broken}")
        current = self._current
        if current and time.time() - current["started"] > self.settings.job_timeout_s + 60:
            raise RuntimeError(f"job {current['job_id']} has run past job_timeout_s: the generation thread is hung")
        if not self._reporter.is_alive() and not self._stop.is_set():
            raise RuntimeError("the replica's report thread died")
        self._store_health.probe(lambda: self.replicas.touch(self.replica_id))

    def __del__(self):
        try:
            self._stop.set()
            self.release_current("its worker replica shut down (shutdown or scale-down) before the job ended")
            self.store.replicas.touch(self.replica_id, ReplicaState.STOPPED)  # not via the store thread: shutting down
            if self.parallel is not None:
                self.parallel.close()
        except Exception:  # noqa: BLE001
            pass

    def release_current(self, reason: str) -> JobStatus | None:
        """Hand the running job back now (re-queued if attempts remain, else failed), with ``reason``.

        Serve (Ray 2.60) calls ``__del__`` only after its graceful shutdown has waited out the replica's
        ongoing requests: a job whose ``run_job`` call is still open holds the replica until
        ``graceful_shutdown_timeout_s`` (the app's ``shutdown_timeout_s``), and then the replica is
        force-killed without ``__del__``; the ingress re-queues that job (the handle call fails, or its
        heartbeat stops: ``test_serve_recovery.py``). A job is still here at ``__del__`` only when its
        call was cancelled while the generation thread went on; it is handed back now, and the thread's
        later writes no longer count (its claim is gone).
        """
        current = getattr(self, "_current", None)
        if not current:
            return None
        status = self.store.jobs.retry_or_fail(current["job_id"], current["token"], reason, dispatcher=None, lease_s=0)
        if status is not None:
            logger.warning("job %s: %s; now %s", current["job_id"], reason, status)
        return status

    # -- calls -------------------------------------------------------------------------
    async def info(self) -> dict[str, Any]:
        return {**self.identity, "family": self.family, "model_name": self.name, "busy": self._current is not None}

    async def run_job(self, job_id: str) -> dict[str, Any]:
        """Claim and run one job; returns once it has ended (or was not ours to run).

        ``outcome`` is the job's final status or a ``RunOutcome``.
        """
        if self._broken or self.worker.fatal_error:
            return {"job_id": job_id, "outcome": str(RunOutcome.UNHEALTHY)}
        await note_adapter_set(self._adapter_sets)  # this replica now holds the job's adapters (it loads them)
        # Claimed on the generation thread, right before it runs (one thread hop, and
        # a job is only marked running once the thread is free for it). The job owns
        # that thread until it ends, even if this call is cancelled.
        future = asyncio.get_running_loop().run_in_executor(self._executor, self._claim_and_run, job_id)
        try:
            outcome = await asyncio.shield(future)
        except asyncio.CancelledError:
            logger.warning("run_job(%s) call cancelled; the job keeps running to its end", job_id)
            raise
        return {"job_id": job_id, "outcome": str(outcome)}

    def _worker_info(self) -> dict[str, Any]:
        return {
            k: self.identity.get(k) for k in ("replica_id", "node_id", "node_ip", "pid", "actor_id", "accelerator_ids")
        }

    # -- the generation thread ------------------------------------------------------------
    def _claim_and_run(self, job_id: str) -> JobStatus | RunOutcome:
        claimed = self.jobs.claim(job_id, self._worker_info())
        if claimed is None:
            return RunOutcome.NOT_CLAIMED
        started = time.monotonic()
        outcome = self._run_claimed(claimed)
        if isinstance(outcome, JobStatus):
            metrics.record_job_end(self.store, job_id, str(outcome), time.monotonic() - started, self.name)
        return outcome

    def _run_claimed(self, rec: JobRecord) -> JobStatus | RunOutcome:
        from videogen.video.request import VideoRequest

        jobs, job_id, token = self.jobs, rec.id, rec.claim_token
        self._current = {"job_id": job_id, "token": token, "started": time.time()}
        stop_beat = threading.Event()
        beat = threading.Thread(target=self._heartbeat_loop, args=(job_id, token, stop_beat), daemon=True)
        beat.start()
        # Written on its own thread: the denoising loop never waits on SQLite.
        writer = ProgressWriter(
            lambda progress, stages: jobs.update_progress(job_id, token, progress, stages),
            name=f"videogen-progress-{self.family}",
        )
        # What this thread last reported: the job shows it, and a failed or cancelled job ends on it.
        last: dict[str, Any] = {
            "stage": None,
            "at": 0.0,
            "progress": rec.progress or Progress(stage=STAGES[0]),
            "stages": None,
        }

        def on_progress(event: ProgressEvent) -> None:
            if event.stage == DONE_STAGE:
                return  # the end is written once, together with the job's status, by finish()
            now = time.time()
            stage_changed = event.stage != last["stage"]
            final_step = event.step is not None and event.step == event.total_steps
            # Stage changes and the last step always; steps in between at most this often.
            if not (stage_changed or final_step or now - last["at"] >= PROGRESS_WRITE_INTERVAL_S):
                return
            progress = event.progress()
            last.update(stage=event.stage, at=now, progress=progress, stages=event.stages)
            writer.put(progress, event.stages if stage_changed else None, keep=stage_changed or final_step)

        def finish(status: JobStatus, **fields: Any) -> bool:
            writer.close()  # every progress write lands before the final status
            # A store away at the end (a database restart): the ending is written once it is back, not lost.
            done = until_store_answers(lambda: jobs.finish(job_id, token, status, **fields), self.settings.heartbeat_s)
            if not done and not self.store.jobs.exists(job_id):
                # Deleted while it ran (/v1 delete): its files were removed before these were written, or are
                # removed now; either way none stays (a job taken over by another claim keeps them).
                self._drop_job_files(job_id)
            return done

        def ended(stage: JobStatus) -> dict[str, Any]:
            return {"progress": last["progress"].ended(str(stage)), "stages": last["stages"]}

        try:
            # "client": what a /v1 caller asked in its own terms (model alias, seconds, size), kept for display only.
            asked = {k: v for k, v in rec.request.items() if k != "client"}
            # Inputs kept in the artifact store (s3) are fetched here: this node may not be the one that took them.
            request = VideoRequest.model_validate({**asked, **self.store.artifacts.load_inputs(rec.inputs)})
            result = self.runner.generate(
                request,
                self.store.video_path(job_id),
                on_progress=on_progress,
                # A read (no lock): from this thread, never queued behind the store thread's writes; the store away: go on
                should_cancel=StopCheck(lambda: self.store.jobs.should_stop(job_id, token)),
            )
            self.store.artifacts.commit_outputs(job_id)  # before the result: a failed upload fails the job
            self._jobs_done += 1
            done = finish(
                JobStatus.SUCCEEDED,
                progress=last["progress"].model_copy(update=ran_totals(result)).ended(DONE_STAGE),
                stages=result.stages,
                result={
                    "frames": result.num_frames,
                    "width": result.width,
                    "height": result.height,
                    "fps": result.fps,
                    "bytes": result.bytes,
                    "measured": result.measured,
                    "outputs": result.outputs,
                },
                adjustments=[a.model_dump() for a in result.adjustments],
                model={"family": self.family, **result.model, "name": self.name},
                params=result.params,
            )
            self._report_soon()  # after the job's end: the refined throughput reaches admission now, not in 30 s
            return JobStatus.SUCCEEDED if done else RunOutcome.SUPERSEDED
        except RankLost as exc:  # the group is gone or out of step: the job runs again on a new one
            self._broken = str(exc)
            logger.warning("job %s: %s; the replica is replaced with its ranks", job_id, exc)
            writer.close()
            jobs.retry_or_fail(
                job_id, token, f"a rank of its worker replica was lost: {exc}", dispatcher=None, lease_s=0
            )
            return RunOutcome.UNHEALTHY
        except GenerationCancelled as exc:
            finish(JobStatus.CANCELLED, error=exc.to_dict(), **ended(JobStatus.CANCELLED))
            return JobStatus.CANCELLED
        except VideoGenError as exc:
            error = exc.to_dict()
            if exc.code == ErrorCode.STORAGE_FULL and "reason" in exc.details:
                # The state directory's disk filled while the video was written (the encoder's and the
                # pictures' writes map it): no file of the job stays, and the replica serves on. The job
                # says why without the server's paths or ffmpeg's log; the replica's log has both.
                logger.warning("job %s: %s %s", job_id, exc.message, exc.details.get("ffmpeg_stderr", ""))
                self._drop_job_files(job_id)
                kept = {k: v for k, v in exc.details.items() if k not in ("path", "ffmpeg_stderr")}
                error = error_dict(
                    ErrorCode.STORAGE_FULL,
                    f"the state directory's disk is full; {kept['file']} could not "
                    f"be written ({kept['reason']}); free space or lower retention_days",
                    details=kept,
                )
            finish(JobStatus.FAILED, error=error, **ended(JobStatus.FAILED))
            return JobStatus.FAILED
        except Exception as exc:  # a job ends with a reason, the replica lives on
            logger.exception("job %s failed", job_id)
            if is_storage_error(exc):  # a write outside the encoder (a directory, a rename) on a full disk
                self._drop_job_files(job_id)
                error = error_dict(
                    ErrorCode.STORAGE_FULL,
                    f"the state directory's disk is full; the video could not be "
                    f"written ({exc.strerror}); free space or lower retention_days",
                )
                finish(JobStatus.FAILED, error=error, **ended(JobStatus.FAILED))
                return JobStatus.FAILED
            message = f"{type(exc).__name__}: {exc}"[:2000]
            if self.worker.fatal_error:
                message += " (the device is no longer usable; this replica will be replaced)"
            finish(JobStatus.FAILED, error=error_dict(ErrorCode.GENERATION_FAILED, message), **ended(JobStatus.FAILED))
            return JobStatus.FAILED
        finally:
            writer.close()
            stop_beat.set()
            self._current = None

    def _drop_job_files(self, job_id: str) -> None:
        try:  # the MP4, its pictures, their .partial files, its uploaded objects
            self.store.remove_outputs(job_id)
        except Exception:  # noqa: BLE001 - the bucket is unreachable: the job still ends, its objects are logged
            logger.warning("job %s: its files could not be removed", job_id, exc_info=True)

    def _heartbeat_loop(self, job_id: str, token: str, stop: threading.Event) -> None:
        while not stop.wait(self.settings.heartbeat_s):
            try:
                if not self.jobs.heartbeat(job_id, token):
                    return
            except Exception:
                logger.exception("heartbeat for %s failed", job_id)
