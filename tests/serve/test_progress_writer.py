"""Progress written off the denoising thread (no Ray): nothing that matters is dropped or reordered."""

from __future__ import annotations

import threading
import time
from types import SimpleNamespace

import pytest
from testkit import queue_job

from videogen.errors import GenerationCancelled
from videogen.serve import worker_deployment
from videogen.serve.progress_writer import ProgressWriter
from videogen.serve.store.job_store import JobStore
from videogen.serve.store.records import JobStatus
from videogen.serve.store_thread import StoreThread
from videogen.serve.worker_deployment import VideoWorker
from videogen.video.progress import STAGES, Progress
from videogen.video.stage_clock import StageClock


def _p(stage: str, step: int | None = None) -> Progress:
    return Progress(stage=stage, step=step, total_steps=50 if step is not None else None)


def test_a_slow_store_coalesces_steps_but_keeps_every_stage_change_and_the_last_step():
    release, written = threading.Event(), []

    def write(progress, stages):
        release.wait()  # the store is busy: everything below queues up behind the first write
        written.append((progress.stage, progress.step, stages))

    writer = ProgressWriter(write)
    put = []

    def send(progress, stages=None, keep=False):
        put.append((progress.stage, progress.step, stages))
        writer.put(progress, stages, keep=keep)

    send(_p("loading"), ["loading"], keep=True)
    send(_p("denoising"), ["loading", "denoising"], keep=True)
    for step in range(1, 50):
        send(_p("denoising", step))
    send(_p("denoising", 50), keep=True)  # the last step
    send(_p("decoding"), ["...", "decoding"], keep=True)
    send(_p("encoding"), ["...", "encoding"], keep=True)
    send(_p("encoding", 1))
    send(_p("encoding", 2))  # the latest ordinary update wins
    release.set()
    writer.close()

    kept = [u for u in put if u[2] is not None or u[1] == 50]
    assert [w for w in written if w in kept] == kept  # every kept update, in order
    # Steps 1..49 became one write (the latest), and so did the two encoding steps.
    assert written == [put[0], put[1], put[50], put[51], put[52], put[53], put[55]]
    assert writer.written == len(written) and writer.failed == 0


def test_close_returns_after_the_queued_writes():
    written = []

    def write(progress, stages):
        time.sleep(0.01)
        written.append(progress.stage)

    writer = ProgressWriter(write)
    for stage in STAGES:
        writer.put(_p(stage), [], keep=True)
    writer.close()
    assert written == list(STAGES)  # all of them, before close() returned
    with pytest.raises(RuntimeError):
        writer.put(_p("encoding"))
    writer.close()  # twice is fine


def test_a_failed_write_does_not_stop_the_writer():
    calls = []

    def write(progress, stages):
        calls.append(progress.stage)
        if len(calls) == 1:
            raise RuntimeError("database is locked")

    writer = ProgressWriter(write)
    writer.put(_p("loading"), keep=True)
    writer.put(_p("denoising"), keep=True)
    writer.close()
    assert calls == ["loading", "denoising"] and writer.failed == 1 and writer.written == 1


# -- the worker deployment's job thread, with a fake core ------------------------------------------
class FakeCore:
    """``GenerationWorker.generate`` as far as progress goes: the real stage clock, many fast steps."""

    fatal_error = None

    def __init__(self, steps: int = 200, cancel_at: int | None = None):
        self.steps, self.cancel_at = steps, cancel_at

    def generate(self, request, output_path, on_progress=None, should_cancel=None):
        clock = StageClock(on_progress)
        clock.start("runtime_diagnostics")
        clock.start("loading")
        clock.start("denoising")
        started = time.time()
        for step in range(1, self.steps + 1):
            clock.denoising_step(step, self.steps, started)
            if step == self.cancel_at:
                raise GenerationCancelled(f"cancelled at step {step}")
        clock.start("decoding")
        clock.start("encoding")
        clock.start("outputs")
        clock.done()
        return SimpleNamespace(
            params={"num_inference_steps": self.steps},
            stages=clock.stages,
            num_frames=9,
            width=32,
            height=32,
            fps=8,
            bytes=1,
            adjustments=[],
            model={"pipeline_class": "Fake"},
            measured=None,
            outputs={},
        )


def _worker(tmp_path, core) -> VideoWorker:
    worker = VideoWorker.__new__(VideoWorker)  # no Ray, no model: only what the job thread uses
    worker.settings = SimpleNamespace(heartbeat_s=60.0)
    worker.family = "wan"
    worker.name = "wan"  # the served model (a family's entry is named by the family id)
    worker.store = JobStore(tmp_path)
    worker.store_thread = StoreThread()  # the store's calls run there, as in a replica
    worker.jobs = worker.store_thread.proxy(worker.store.jobs)
    worker.replicas = worker.store_thread.proxy(worker.store.replicas)
    worker.worker = core
    worker.runner = core  # one rank: the core runs the job itself
    worker.parallel = None
    worker.identity = {"replica_id": "test#1"}
    worker.replica_id = "test#1"
    worker._current = None
    worker._jobs_done = 0
    worker._report_soon = lambda: None  # replica reports are not what this tests
    return worker


@pytest.fixture()
def slow_store(monkeypatch):
    """Every progress write takes a while, and every step is worth writing: the writer must coalesce."""
    monkeypatch.setattr(worker_deployment, "PROGRESS_WRITE_INTERVAL_S", 0.0)
    original = JobStore.__init__

    def init(self, *args, **kwargs):
        original(self, *args, **kwargs)
        update = self.jobs.update_progress

        def slow_update(*a, **kw):
            time.sleep(0.002)
            return update(*a, **kw)

        self.jobs.update_progress = slow_update

    monkeypatch.setattr(JobStore, "__init__", init)


def _job(worker: VideoWorker) -> str:
    return queue_job(worker.store, lease_s=0).id


def _watch(worker: VideoWorker) -> list:
    """Every record the store logs as an event, as it is logged (what a live SSE stream sees): once a job
    ends its log is compacted to the final state, so the sequence is observed while it is written."""
    seen, append = [], worker.store.events.append

    def logged(conn, record, **how):
        seen.append(record)
        return append(conn, record, **how)

    worker.store.events.append = logged
    return seen


def _events(seen: list, job_id: str):
    return [rec for rec in seen if rec.id == job_id]


def test_the_job_shows_every_stage_in_order_then_its_end(tmp_path, slow_store):
    worker = _worker(tmp_path, FakeCore(steps=200))
    seen = _watch(worker)
    job_id = _job(worker)
    assert worker._claim_and_run(job_id) == JobStatus.SUCCEEDED
    events = _events(seen, job_id)
    logged = [rec.snapshot() for _, rec in worker.store.events.since(job_id, 0)]
    assert logged == [e.snapshot() for e in events]  # what a stream replaying it now reads: every change
    assert [e.status for e in events[:2]] == ["queued", "running"]
    running = events[1:-1]
    assert all(e.status == JobStatus.RUNNING for e in running)
    stages = [e.progress.stage for e in running]
    assert [s for i, s in enumerate(stages) if i == 0 or s != stages[i - 1]] == list(STAGES)  # each once, in order
    steps = [e.progress.step for e in running if e.progress.stage == "denoising" and e.progress.step]
    assert steps == sorted(steps) and steps[-1] == 200  # the last step is never coalesced away
    assert len(steps) < 200  # the slow store made the writer skip steps
    final = events[-1]
    assert final.status == JobStatus.SUCCEEDED and final.progress.stage == "done" and final.progress.percent == 100
    assert [s.name for s in final.stages] == list(STAGES)
    assert "done" not in stages  # the end is written once, with the status


def test_a_cancelled_job_ends_after_its_last_progress(tmp_path, slow_store):
    worker = _worker(tmp_path, FakeCore(steps=200, cancel_at=120))
    seen = _watch(worker)
    job_id = _job(worker)
    assert worker._claim_and_run(job_id) == JobStatus.CANCELLED
    events = _events(seen, job_id)
    assert [e.status for e in events[:-1]] == ["queued", *["running"] * (len(events) - 2)]
    assert events[-1].status == JobStatus.CANCELLED and events[-1].progress.stage == "cancelled"
    assert events[-1].progress.step == events[-2].progress.step  # it ends where the progress last was
    assert worker.store.jobs.get(job_id).status == JobStatus.CANCELLED
