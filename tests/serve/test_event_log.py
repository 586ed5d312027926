"""The event log keeps deltas and compacts an ended job to one row (a grace period after its end, by the
housekeeping sweep); replays still give whole records (no Ray). On both store backends."""

from __future__ import annotations

import asyncio
import json
import time

from videogen.serve.config import VideoGenAppConfig
from videogen.serve.service.limits import COMPACT_AFTER_S
from videogen.serve.service.videogen_service import VideoGenService
from videogen.serve.store.events import FULL_EVERY
from videogen.serve.store.job_store import JobStore
from videogen.serve.store.records import JobRecord, JobStatus
from videogen.video.progress import Progress, StageTiming

# What a real job carries: its request, every settled value and the cost estimate.
ESTIMATE = {
    "flops": 1.2e15,
    "expected_seconds": 42.0,
    "peak_memory_bytes": {str(r): 2**30 * r for r in range(8)},
    "admission": {"verdict": "ok", "rung": "gpu", "reasons": ["fits in memory"] * 4},
}
PARAMS = {
    "num_frames": 81,
    "height": 480,
    "width": 832,
    "num_inference_steps": 40,
    "guidance_scale": 5.0,
    "seed": 1234,
    "fps": 16,
    "expected_frames": 81,
}


def _create(store: JobStore, dispatcher: str | None = None):
    return store.jobs.create(
        family="wan",
        task="text-to-video",
        request={"family": "wan", "prompt": "a fox in the snow, " * 10, **PARAMS},
        image=None,
        model={"family": "wan", "source": "tiny"},
        params=PARAMS,
        adjustments=[],
        progress=Progress.queued(total_steps=40),
        max_attempts=2,
        dispatcher=dispatcher,
        lease_s=5,
        estimate=ESTIMATE,
    )


def _rows(store: JobStore, job_id: str) -> list[tuple[int, str]]:
    return [
        tuple(r) for r in store.db.conn().execute("SELECT seq, data FROM events WHERE job_id=? ORDER BY seq", (job_id,))
    ]


def _step(store: JobStore, job_id: str, token: str, step: int) -> None:
    assert store.jobs.update_progress(
        job_id, token, Progress(stage="denoising", step=step, total_steps=40, percent=step * 2.0)
    )


def test_a_progress_write_stores_what_changed_not_the_whole_record(store):
    job = _create(store)
    claim = store.jobs.claim(job.id, {"replica_id": "w"})
    before = len(_rows(store, job.id))
    _step(store, job.id, claim.claim_token, 1)
    rows = _rows(store, job.id)
    assert len(rows) == before + 1
    full = json.loads(rows[0][1])  # the first event of a job is its whole snapshot
    assert full["id"] == job.id and full["estimate"] == ESTIMATE
    claimed = json.loads(rows[1][1])  # and so is a claim's (an attempt starts: nothing of the log read for it)
    if store.db.dialect == "postgres":  # the row image the claim's own statement made (``EventLog.change``)
        assert set(claimed) == {"row"} and {"image", "claim_token"}.isdisjoint(claimed["row"]), claimed
        assert claimed["row"]["id"] == job.id and json.loads(claimed["row"]["estimate_json"]) == ESTIMATE
        claimed = JobRecord.from_row(claimed["row"]).snapshot()
    assert claimed["status"] == "running" and claimed["worker"] == {"replica_id": "w"} and "delta" not in claimed
    written = json.loads(rows[-1][1])
    assert set(written["delta"]) == {"progress", "heartbeat_at", "updated_at"} and written["base"] == rows[1][0]
    assert len(rows[-1][1]) * 4 < len(rows[0][1]), (len(rows[-1][1]), len(rows[0][1]))


def test_a_live_jobs_replay_gives_every_whole_record_in_order_from_any_event(store):
    job = _create(store, dispatcher="d")
    expected = [store.jobs.get(job.id).snapshot()]
    claim = store.jobs.claim(job.id, {"replica_id": "w"})
    expected.append(store.jobs.get(job.id).snapshot())
    stages = [StageTiming(name="loading", started_at=1.0, finished_at=2.0, seconds=1.0)]
    for step in range(1, 2 * FULL_EVERY + 5):  # past two full rows: a resume crosses them
        if step % 7 == 0:  # a change of the row without an event: the next event's delta carries it
            assert store.jobs.renew_leases("d", 100 + step) == 1
        if step == 10:
            assert store.jobs.update_progress(job.id, claim.claim_token, Progress(stage="denoising", step=step), stages)
        else:
            _step(store, job.id, claim.claim_token, step)
        expected.append(store.jobs.get(job.id).snapshot())
    replay = store.events.since(job.id, 0, limit=10_000)
    assert [r.snapshot() for _, r in replay] == expected
    seqs = [seq for seq, _ in replay]
    assert seqs == sorted(seqs)
    fulls = [seq for seq, data in _rows(store, job.id) if "delta" not in json.loads(data)]
    assert len(fulls) == 4  # the first row, the claim's, then one every FULL_EVERY events
    for i, seq in enumerate(seqs):  # a client resuming after any event gets exactly the rest
        assert [(s, r.snapshot()) for s, r in store.events.since(job.id, seq, limit=10_000)] == list(
            zip(seqs[i + 1 :], expected[i + 1 :], strict=True)
        )
    # Read in small pages (the SSE loop asks for at most 200 at a time): the same records.
    paged, after = [], 0
    while page := store.events.since(job.id, after, limit=5):
        paged += [r.snapshot() for _, r in page]
        after = page[-1][0]
    assert paged == expected
    # A live stream knows the record of the last event it sent: the pages read onto it (no chain read back from the
    # log, across both full rows) are the same records.
    onto, after, known = [], 0, None
    while page := store.events.since(job.id, after, limit=5, state_at=known):
        onto += [r.snapshot() for _, r in page]
        after, known = page[-1][0], page[-1][1].snapshot()
    assert onto == expected


def test_an_ended_job_keeps_one_row_and_an_old_id_resumes_to_its_final_state(store):
    job = _create(store)
    claim = store.jobs.claim(job.id, {})
    for step in range(1, 6):
        _step(store, job.id, claim.claim_token, step)
    old = [seq for seq, _ in store.events.since(job.id, 0)]
    assert len(old) == 7 and len(_rows(store, job.id)) == 7
    store.jobs.finish(
        job.id,
        claim.claim_token,
        JobStatus.SUCCEEDED,
        progress=Progress(stage="done", percent=100),
        result={"frames": 81, "width": 832, "height": 480, "fps": 16, "bytes": 9},
    )
    # Until the housekeeping compacts it (a grace period after the end), a stream a little behind reads it all.
    assert len(_rows(store, job.id)) == 8 and store.events.since(job.id, old[-1])[0][1].status == JobStatus.SUCCEEDED
    final = store.jobs.get(job.id)
    assert store.events.compact_ended(final.finished_at - 1) == 0  # ended after the cutoff: not yet
    assert store.events.compact_ended(final.finished_at + 1) == 7
    rows = _rows(store, job.id)
    assert len(rows) == 1 and rows[0][0] > old[-1]  # the last seq, the whole final record
    last = json.loads(rows[0][1])  # on PostgreSQL the row image the end's own statement made
    assert (JobRecord.from_row(last["row"]).snapshot() if "row" in last else last) == final.snapshot()
    for seq in (0, *old):
        assert [(s, r.snapshot()) for s, r in store.events.since(job.id, seq)] == [(rows[0][0], final.snapshot())]
    assert store.events.since(job.id, rows[0][0]) == []
    snap, seq = store.jobs.snapshot(job.id)
    assert seq == rows[0][0] and snap.status == JobStatus.SUCCEEDED


def test_each_way_a_job_ends_compacts_its_log(store):
    cancelled = _create(store)
    store.jobs.request_cancel(cancelled.id)
    failed = _create(store)
    store.jobs.fail(failed.id, {"code": "x", "message": "y"})
    retried = _create(store)
    claim = store.jobs.claim(retried.id, {})
    _step(store, retried.id, claim.claim_token, 1)
    assert (
        store.jobs.retry_or_fail(retried.id, claim.claim_token, "died", dispatcher=None, lease_s=0) == JobStatus.QUEUED
    )
    store.events.compact_ended(time.time() + 1)
    assert len(_rows(store, retried.id)) == 4  # requeued: not ended, nothing compacted
    assert store.events.since(retried.id, 0)[-1][1].history[0]["reason"] == "died"
    for job_id in (cancelled.id, failed.id):  # compacted by the pass above
        rows = _rows(store, job_id)
        assert len(rows) == 1 and json.loads(rows[0][1])["status"] in ("cancelled", "failed")


def test_an_sse_client_resuming_from_an_id_compacted_away_gets_the_final_state(tmp_path, store_url):
    async def main():
        cfg = VideoGenAppConfig(families=["wan"], state_dir=str(tmp_path), database_url=store_url)
        svc = VideoGenService(cfg, workers={})
        job = _create(svc.store)
        claim = svc.store.jobs.claim(job.id, {})
        _step(svc.store, job.id, claim.claim_token, 3)
        stale_id = svc.store.events.since(job.id, 0)[1][0]
        svc.store.jobs.finish(job.id, claim.claim_token, JobStatus.FAILED, error={"code": "x", "message": "gone"})
        assert svc.limits.compact_events(now=time.time() + COMPACT_AFTER_S + 1) > 0  # the housekeeping's pass
        chunks = [chunk async for chunk in await svc.jobs.sse_stream(job.id, stale_id)]
        assert len(chunks) == 1
        event = json.loads(chunks[0].split("data: ", 1)[1])
        assert event["status"] == "failed" and event["error"]["message"] == "gone"
        assert event["params"]["num_inference_steps"] == 40  # a whole record, not a delta
        svc.store.close()

    asyncio.run(main())
