"""The job store without Ray: the state machine, its concurrency rules, the event log, replica reports.

Every test that takes ``store`` or ``open_store`` runs on both backends, SQLite and a real PostgreSQL
(``tests/pg_server.py``); ``open_store()`` twice is two nodes on one database.
"""

from __future__ import annotations

import json
import threading
import time

import pytest
from testkit import queue_job

from videogen.errors import ErrorCode, JobNotFoundError, error_dict
from videogen.serve.store.backends import open_database
from videogen.serve.store.events import EventLog
from videogen.serve.store.jobs import Jobs
from videogen.serve.store.records import JobRecord, JobStatus
from videogen.serve.store.replicas import ModelsReport, ReplicaState
from videogen.video.progress import Progress, StageTiming


def _create(store, dispatcher="d1", **kw) -> JobRecord:
    return store.jobs.create(
        family="wan",
        task="text-to-video",
        request={"prompt": "x"},
        image=kw.pop("image", None),
        model={"source": "tiny"},
        params={"num_inference_steps": 2},
        adjustments=[],
        progress=Progress.queued(total_steps=2),
        max_attempts=kw.pop("max_attempts", 2),
        dispatcher=dispatcher,
        lease_s=kw.pop("lease_s", 15),
        **kw,
    )


def test_a_job_dispatched_twice_is_claimed_once(open_store):
    store = open_store()
    job = _create(store)
    wins = []
    nodes = [open_store() for _ in range(8)]
    barrier = threading.Barrier(len(nodes))

    def claim(i):
        barrier.wait()
        rec = nodes[i].jobs.claim(job.id, {"replica_id": f"r{i}"})
        if rec:
            wins.append(rec.claim_token)

    threads = [threading.Thread(target=claim, args=(i,)) for i in range(len(nodes))]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(wins) == 1
    rec = store.jobs.get(job.id)
    assert rec.status == JobStatus.RUNNING and rec.attempts == 1 and rec.claim_token == wins[0]
    assert rec.progress == Progress(stage="runtime_diagnostics")  # the first stage, counters reset


def test_a_stale_worker_cannot_write_after_its_job_was_retried(store):
    jobs = store.jobs
    job = _create(store)
    first = jobs.claim(job.id, {"replica_id": "a"})
    assert jobs.retry_or_fail(job.id, first.claim_token, "worker died", dispatcher="d2", lease_s=15) == JobStatus.QUEUED
    requeued = jobs.get(job.id)
    assert requeued.progress.stage == "queued" and requeued.progress.note == "retrying: worker died"
    assert requeued.dispatcher == "d2" and requeued.lease_until > time.time()
    second = jobs.claim(job.id, {"replica_id": "b"})
    assert second.attempts == 2
    assert not jobs.update_progress(job.id, first.claim_token, Progress(stage="denoising", percent=50))
    assert not jobs.finish(job.id, first.claim_token, JobStatus.SUCCEEDED, result={})
    assert jobs.should_stop(job.id, first.claim_token) and not jobs.should_stop(job.id, second.claim_token)
    # The second death is the last: failed with a reason.
    assert jobs.retry_or_fail(job.id, second.claim_token, "worker died again", dispatcher="d2", lease_s=15) == "failed"
    final = jobs.get(job.id)
    assert final.status == JobStatus.FAILED and final.error["code"] == "worker_died" and len(final.history) == 2
    assert final.finished_at is not None and final.claim_token is None
    assert [h["worker"]["replica_id"] for h in final.history] == ["a", "b"]


def test_retry_of_a_job_being_cancelled_cancels_it(store):
    job = _create(store)
    rec = store.jobs.claim(job.id, {})
    store.jobs.request_cancel(job.id)
    assert store.jobs.retry_or_fail(job.id, rec.claim_token, "worker died", dispatcher="d", lease_s=15) == "cancelled"
    assert store.jobs.get(job.id).error == error_dict(ErrorCode.CANCELLED, "cancelled; worker died")
    assert store.jobs.retry_or_fail(job.id, rec.claim_token, "again", dispatcher="d", lease_s=15) is None  # claim gone


def test_cancel_queued_and_running(store):
    queued = _create(store)
    cancelled = store.jobs.request_cancel(queued.id)
    assert cancelled.status == JobStatus.CANCELLED and cancelled.error["code"] == "cancelled"
    assert store.jobs.claim(queued.id, {}) is None  # never runs
    running = _create(store)
    rec = store.jobs.claim(running.id, {})
    job = store.jobs.request_cancel(running.id)
    assert job.status == JobStatus.RUNNING and job.cancel_requested
    assert store.jobs.should_stop(running.id, rec.claim_token)
    with pytest.raises(JobNotFoundError):
        store.jobs.request_cancel("nope")


def test_leases_and_orphans(store):
    job = _create(store, dispatcher="dead", lease_s=0.05)
    assert store.jobs.orphaned_queued("alive") == []
    time.sleep(0.1)
    assert store.jobs.orphaned_queued("alive") == [job.id]
    assert store.jobs.acquire_lease(job.id, "alive", 15)
    assert not store.jobs.acquire_lease(job.id, "third", 15)
    assert store.jobs.orphaned_queued("third") == []
    assert store.jobs.queued_by("alive") == [(job.id, "wan", None)] and store.jobs.queued_by("dead") == []
    assert store.jobs.renew_leases("alive", 15) == 1


def test_stale_heartbeat_found(store):
    job = _create(store)
    rec = store.jobs.claim(job.id, {})
    assert store.jobs.stale_running(5) == []
    assert store.jobs.heartbeat(job.id, rec.claim_token)
    assert not store.jobs.heartbeat(job.id, "someone-else")
    time.sleep(0.05)
    assert store.jobs.stale_running(0.01) == [(job.id, rec.claim_token)]


def test_events_replay_every_change_in_order(store):
    job = _create(store)
    rec = store.jobs.claim(job.id, {})
    for stage in ("loading", "denoising", "decoding"):
        store.jobs.update_progress(job.id, rec.claim_token, Progress(stage=stage, percent=10))
    events = store.events.since(job.id, 0)  # while it runs: every change
    assert all(isinstance(r, JobRecord) for _, r in events)  # records, not the wire shape
    stages = [r.progress.stage for _, r in events]
    assert stages[0] == "queued" and stages[2:5] == ["loading", "denoising", "decoding"]
    store.jobs.finish(
        job.id,
        rec.claim_token,
        JobStatus.SUCCEEDED,
        result={"frames": 1, "width": 8, "height": 8, "fps": 8, "bytes": 1},
    )
    events = store.events.since(job.id, 0)
    assert events[-1][1].status == JobStatus.SUCCEEDED and events[-1][1].result["frames"] == 1
    snap, seq = store.jobs.snapshot(job.id)
    assert seq == events[-1][0] and snap.status == JobStatus.SUCCEEDED
    assert store.events.since(job.id, seq) == []


def test_event_snapshots_leave_out_the_image_and_the_claim_token(store):
    job = _create(store, image="QUJD")
    rec = store.jobs.claim(job.id, {})
    assert rec.image == "QUJD" and rec.claim_token
    raw = store.db.conn().execute("SELECT data FROM events WHERE job_id=?", (job.id,)).fetchall()
    assert raw and all("QUJD" not in r[0] and rec.claim_token not in r[0] for r in raw)
    assert all(r.image is None and r.claim_token is None for _, r in store.events.since(job.id, 0))


def test_progress_and_stages_are_the_core_models(store):
    job = _create(store)
    rec = store.jobs.claim(job.id, {})
    stages = [StageTiming(name="runtime_diagnostics", started_at=1.0, finished_at=2.0, seconds=1.0, detail={"a": 1})]
    assert store.jobs.update_progress(job.id, rec.claim_token, Progress(stage="loading", percent=5.0), stages)
    again = store.jobs.get(job.id)
    assert again.progress == Progress(stage="loading", percent=5.0) and again.stages == stages
    # Stages are kept when a progress write does not bring new ones.
    store.jobs.update_progress(job.id, rec.claim_token, Progress(stage="loading", percent=6.0))
    assert store.jobs.get(job.id).stages == stages


def test_finish_only_ends_a_job(store):
    job = _create(store)
    rec = store.jobs.claim(job.id, {})
    with pytest.raises(ValueError):
        store.jobs.finish(job.id, rec.claim_token, JobStatus.RUNNING)


def test_jobs_persist_across_store_instances(open_store):
    job = _create(open_store())
    again = open_store()
    assert again.jobs.get(job.id).id == job.id
    jobs, total = again.jobs.list(limit=5)
    assert total == 1 and jobs[0].id == job.id
    assert again.jobs.counts() == {"wan": {"queued": 1}}


def test_the_waiting_work_is_counted_without_the_ended_jobs(store):
    """What the autoscaler and the queue-depth gauges count: the queued and running jobs per served model, read
    through the status index (the ended jobs the retention keeps are not walked), next to the whole count."""
    _, running, ended = (_create(store, model_name=name) for name in ("wan-a", "wan-a", "wan-b"))
    store.jobs.claim(running.id, {})
    claim = store.jobs.claim(ended.id, {})
    store.jobs.finish(ended.id, claim.claim_token, JobStatus.SUCCEEDED, result={})
    waiting = store.jobs.counts_by_model((JobStatus.QUEUED, JobStatus.RUNNING))
    assert waiting == {("wan", "wan-a"): {"queued": 1, "running": 1}}
    assert store.jobs.counts_by_model(("queued",)) == {("wan", "wan-a"): {"queued": 1}}
    assert store.jobs.counts_by_model()[("wan", "wan-b")] == {"succeeded": 1}  # the status page's: every job


def test_list_filters_and_pages_newest_first(store):
    ids = [_create(store).id for _ in range(3)]
    page, total = store.jobs.list(limit=2)
    assert total == 3 and [j.id for j in page] == ids[::-1][:2]
    store.jobs.request_cancel(ids[0])
    cancelled, total = store.jobs.list(status=JobStatus.CANCELLED)
    assert total == 1 and cancelled[0].id == ids[0]
    assert store.jobs.list(family="ltx-video") == ([], 0)


def test_overdue_jobs_fail_and_images_are_dropped_at_the_end(store):
    job = _create(store, image="QUJD")
    rec = store.jobs.claim(job.id, {})
    assert rec.image == "QUJD"
    assert store.jobs.overdue_running(3600) == []
    time.sleep(0.02)
    assert store.jobs.overdue_running(0.01) == [(job.id, rec.claim_token)]
    assert store.jobs.fail_claim(job.id, rec.claim_token, error_dict(ErrorCode.TIMEOUT, "too long"))
    final = store.jobs.get(job.id)
    assert final.status == JobStatus.FAILED and final.error["code"] == "timeout" and final.image is None
    assert not store.jobs.finish(job.id, rec.claim_token, JobStatus.SUCCEEDED, result={})  # the hung worker cannot win


def test_fail_from_outside_only_in_the_given_states(store):
    job = _create(store)
    error = error_dict(ErrorCode.FAMILY_NOT_SERVED, "gone")
    assert store.jobs.fail(job.id, error)
    assert not store.jobs.fail(job.id, error)  # already failed
    assert store.jobs.get(job.id).error == error


def test_parts_share_one_database(tmp_path):
    db = open_database(tmp_path, "DELETE")
    events = EventLog(db)
    jobs = Jobs(db, events)
    rec = jobs.create(
        family="wan",
        task="text-to-video",
        request={},
        image=None,
        model=None,
        params=None,
        adjustments=[],
        progress=Progress.queued(),
        max_attempts=1,
        dispatcher=None,
        lease_s=1,
    )
    assert rec.lease_until is None and rec.dispatcher is None  # no dispatcher: no lease
    assert [r.id for _, r in events.since(rec.id, 0)] == [rec.id]
    with pytest.raises(RuntimeError):
        with db.tx() as conn:
            conn.execute("DELETE FROM jobs")
            raise RuntimeError("rolled back")
    assert jobs.get(rec.id).id == rec.id
    assert db.conn().execute("PRAGMA journal_mode").fetchone()[0].upper() == "DELETE"


def test_replica_reports(store):
    identity = {"replica_id": "app#VideoWorker_wan#1", "deployment": "VideoWorker_wan", "node_id": "n1", "pid": 7}
    models = ModelsReport(describe={"id": "wan"}, model_meta={"text-to-video": {"tiny": True}})
    store.replicas.report(identity, family="wan", state=ReplicaState.RUNNING, diagnostics={"d": 1}, models=models)
    store.replicas.report(
        {**identity, "replica_id": "other"},
        family="ltx-video",
        state=ReplicaState.IDLE,
        diagnostics={},
        models=ModelsReport(describe={}),
    )
    store.replicas.touch("app#VideoWorker_wan#1", ReplicaState.BUSY)
    (rep,) = store.replicas.list(family="wan")
    assert rep.state == ReplicaState.BUSY and rep.node_id == "n1" and rep.pid == 7 and rep.models == models
    assert rep.diagnostics == {"d": 1} and rep.last_seen >= rep.started_at
    assert [r.replica_id for r in store.replicas.list()] == ["app#VideoWorker_wan#1", "other"]  # last seen first


def test_finish_adds_the_workers_adjustments_to_those_stored_at_submission(store):
    asked = [
        {"field": "seconds", "requested": "1", "used": "1.06", "reason": "wan makes 17 frames at 16 fps"},
        {"field": "num_frames", "requested": 16, "used": 17, "reason": "wan needs 4k+1 frames"},
    ]
    job = queue_job(store, model={}, adjustments=asked, max_attempts=1, lease_s=0)
    rec = store.jobs.claim(job.id, {})
    placement = {
        "field": "placement",
        "requested": "gpu",
        "used": "gpu+tiling",
        "reason": "out of memory",
        "cause": "out_of_memory",
    }
    # The worker resolves the request again: it repeats num_frames, and adds its own placement move.
    assert store.jobs.finish(job.id, rec.claim_token, JobStatus.SUCCEEDED, result={}, adjustments=[asked[1], placement])
    assert store.jobs.get(job.id).adjustments == [*asked, placement]


def test_a_job_that_ends_in_retry_or_fail_drops_its_image(store):
    ended = {}
    for name, attempts, cancel in (("failed", 1, False), ("cancelled", 2, True), ("queued", 2, False)):
        job = _create(store, image="QUJD", max_attempts=attempts)
        rec = store.jobs.claim(job.id, {})
        if cancel:
            store.jobs.request_cancel(job.id)
        status = store.jobs.retry_or_fail(job.id, rec.claim_token, "worker died", dispatcher="d1", lease_s=15)
        ended[name] = (str(status), store.jobs.get(job.id).image)
    assert ended == {
        "failed": ("failed", None),
        "cancelled": ("cancelled", None),
        "queued": ("queued", "QUJD"),
    }  # it runs again: it still needs its image


def test_a_jobs_inline_inputs_are_kept_until_it_ends(store):
    """Image, last image and video ride in the job's one inputs column; every end of the job clears them."""
    from videogen.serve.store.records import pack_inputs

    assert pack_inputs({"image": "aW1n", "video": None}) == "aW1n"  # an image alone: stored as it always was
    packed = pack_inputs({"image": "aW1n", "last_image": "bGFzdA==", "video": "dmlk"})
    job = queue_job(store, task="video-to-video", image=packed)
    assert job.inputs == {"image": "aW1n", "last_image": "bGFzdA==", "video": "dmlk"}
    claimed = store.jobs.claim(job.id, {"replica_id": "r"})
    assert claimed.inputs["video"] == "dmlk"  # the worker reads them whole
    logged = json.dumps([rec.snapshot() for _, rec in store.events.since(job.id, 0)])
    assert "dmlk" not in logged and "aW1n" not in logged  # never in an event
    store.jobs.finish(job.id, claimed.claim_token, JobStatus.SUCCEEDED)
    assert store.jobs.get(job.id).inputs == {}
