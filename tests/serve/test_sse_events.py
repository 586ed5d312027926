"""SSE streams are woken by new events, not by a poll interval (no Ray).

Every stream here runs with a fallback re-read of an hour: an event can only
reach it through a wake-up (this replica's own ``notify`` or the store
watcher: SQLite's ``data_version`` poll, or PostgreSQL's LISTEN/NOTIFY, in the
tests that run on both backends). The waits below are safety limits for a broken
build, not timings.
"""

from __future__ import annotations

import asyncio
import json

from testkit import queue_job

from videogen.serve.config import VideoGenAppConfig
from videogen.serve.service.event_feed import EventFeed, until_fallback_read
from videogen.serve.service.jobs import format_sse
from videogen.serve.service.videogen_service import VideoGenService
from videogen.serve.store.events import _MAX_IN_LIST, ChangeWatch, EventLog, Notice
from videogen.serve.store.job_store import JobStore
from videogen.serve.store.migrations import NOTICE_PART_CHARS, NOTICE_PARTS
from videogen.serve.store.records import JobStatus
from videogen.video.progress import STAGES, Progress, StageTiming

NEVER = 3600.0  # the fallback re-read: never within a test
SAFETY_S = 10.0
RESULT = {"frames": 1, "width": 8, "height": 8, "fps": 8, "bytes": 1}


def _service(tmp_path, database_url: str | None = None) -> VideoGenService:
    cfg = VideoGenAppConfig(families=["wan"], state_dir=str(tmp_path), database_url=database_url)
    svc = VideoGenService(cfg, workers={})
    svc.jobs.sse_fallback_s = NEVER
    return svc


def _create(store: JobStore):
    return queue_job(
        store,
        request={"prompt": "x"},
        params={"num_inference_steps": 3},
        progress=Progress.queued(total_steps=3),
        lease_s=0,
    )


class Follower:
    """Reads a stream in the background; ``next()`` is its next event (wire JSON)."""

    def __init__(self, body):
        self.queue: asyncio.Queue = asyncio.Queue()
        self.task = asyncio.ensure_future(self._read(body))

    async def _read(self, body):
        async for chunk in body:
            if chunk.startswith("id: "):
                await self.queue.put(json.loads(chunk.split("data: ", 1)[1]))
        await self.queue.put(None)

    async def next(self):
        return await asyncio.wait_for(self.queue.get(), SAFETY_S)


def test_change_watch_tells_which_watched_jobs_got_events(tmp_path):
    store = JobStore(tmp_path)
    watch = ChangeWatch(store.db)
    a, b = _create(store), _create(store)
    assert watch.poll(lambda: [a.id]) == {a.id}
    assert watch.poll(lambda: [a.id, b.id]) == set()  # nothing since the last look
    claim = store.jobs.claim(b.id, {})
    store.jobs.heartbeat(b.id, claim.claim_token)  # a commit without an event
    assert watch.poll(lambda: [a.id]) == set()  # b's event: nobody here watches b
    store.jobs.update_progress(b.id, claim.claim_token, Progress(stage="loading"))
    many = [f"job_{i}" for i in range(_MAX_IN_LIST + 5)]
    assert watch.poll(lambda: [*many, b.id]) == {b.id}  # the long-list path
    store.jobs.heartbeat(b.id, claim.claim_token)
    assert watch.poll(lambda: [b.id]) == set()
    watch.close()


def test_events_a_worker_writes_reach_the_stream_in_order(tmp_path, open_store, store_url):
    async def main():
        svc = _service(tmp_path, store_url)
        worker = open_store()  # another process's connection, as a worker replica has
        job = _create(worker)
        follow = Follower(await svc.jobs.sse_stream(job.id))
        assert (await follow.next())["status"] == "queued"
        claim = worker.jobs.claim(job.id, {"replica_id": "w"})
        assert (await follow.next())["progress"]["stage"] == STAGES[0]
        stages: list[StageTiming] = []
        for stage in STAGES[1:]:
            stages.append(StageTiming(name=stage, started_at=1.0))
            worker.jobs.update_progress(job.id, claim.claim_token, Progress(stage=stage), stages)
            event = await follow.next()
            assert event["progress"]["stage"] == stage and [s["name"] for s in event["stages"]] == list(
                STAGES[1 : len(stages) + 1]
            )
        worker.jobs.finish(job.id, claim.claim_token, JobStatus.SUCCEEDED, progress=Progress(stage="done", percent=100))
        assert (await follow.next())["status"] == "succeeded"
        assert await follow.next() is None  # the stream ends with the job
        assert not svc.jobs.feed._active.is_set()  # no stream open (SQLite's watcher parks)
        svc.store.close()

    asyncio.run(main())


def test_a_live_streams_events_on_postgres_come_from_their_notices_not_from_the_log(
    tmp_path, open_store, store_url, monkeypatch
):
    """Each event applied onto the one before from its notification (``EventFeed.frames_after``): no read of the
    log; an event whose row was too long to send is read from the log, and the notices take over again after it.
    On SQLite (no notices) every wake reads the log once."""
    reads = []
    since = EventLog.since
    monkeypatch.setattr(EventLog, "since", lambda self, *a, **k: reads.append(a[1]) or since(self, *a, **k))

    async def main():
        svc = _service(tmp_path, store_url)
        worker = open_store()
        job = _create(worker)
        follow = Follower(await svc.jobs.sse_stream(job.id))
        assert (await follow.next())["status"] == "queued"
        claim = worker.jobs.claim(job.id, {"replica_id": "w"})
        got = [await follow.next()]
        long = StageTiming(name="loading", started_at=1.0, detail={"note": "x" * NOTICE_PART_CHARS * NOTICE_PARTS})
        for step, stages in ((1, None), (2, [long]), (3, [])):  # (the end's full row is short again)
            worker.jobs.update_progress(job.id, claim.claim_token, Progress(stage="denoising", step=step), stages)
            got.append(await follow.next())
        worker.jobs.finish(job.id, claim.claim_token, JobStatus.SUCCEEDED, result=RESULT)
        got.append(await follow.next())
        assert await follow.next() is None
        read_by_stream = len(reads)
        days = svc.settings.retention_days
        logged = [
            json.loads(format_sse(seq, rec, days).split("data: ", 1)[1])
            for seq, rec in worker.events.since(job.id, 0)[1:]
        ]
        svc.store.close()
        return got, logged, read_by_stream

    got, logged, read_by_stream = asyncio.run(main())
    assert [e["progress"]["step"] for e in got[1:4]] == [1, 2, 3] and got[-1]["status"] == "succeeded"
    assert got[2]["stages"][0]["detail"]["note"] == "x" * NOTICE_PART_CHARS * NOTICE_PARTS
    assert got == logged  # what the log replays, event for event
    if store_url:  # PostgreSQL: only the event whose row was not sent
        assert read_by_stream == 1, reads
    else:  # SQLite: a read for each of the five events (at least)
        assert read_by_stream >= 5, reads


def test_notices_are_applied_only_where_they_follow_on(tmp_path):
    """``frames_after``: notices chained by their previous seq, from the stream's own; a gap, a missing row or a
    delta with no record to apply onto is None (the log is read); a notice is worked out once for every stream."""

    async def main():
        svc = _service(tmp_path)
        job = _create(svc.store)
        claim = svc.store.jobs.claim(job.id, {"replica_id": "w"})
        svc.store.jobs.update_progress(job.id, claim.claim_token, Progress(stage="denoising", step=1))
        (s0, r0), (s1, r1), (s2, r2) = svc.store.events.since(job.id, 0)
        data = {seq: row for seq, row in svc.store.db.conn().execute("SELECT seq, data FROM events")}
        encode = svc.jobs._encode
        feed = svc.jobs.feed
        with feed.subscribe(job.id):
            assert feed.frames_after(job.id, s0, r0, encode) == []  # nothing heard yet
            feed.notify(job.id, [Notice(s1, s0, data[s1]), Notice(s2, s1, data[s2])])
            frames = feed.frames_after(job.id, s0, None, encode)  # the claim's full row needs no record before it
            assert [(seq, rec.snapshot()) for seq, rec, _ in frames] == [(s1, r1.snapshot()), (s2, r2.snapshot())]
            assert feed.frames_after(job.id, s0, None, encode)[1][1] is frames[1][1]  # worked out once
            assert [seq for seq, *_ in feed.frames_after(job.id, s1, r1, encode)] == [s2]
            assert feed.frames_after(job.id, s2, r2, encode) == []
            assert feed.frames_after(job.id, s0 - 1, None, encode) is None  # the stream missed one before s1
            feed.notify(job.id, [Notice(s2 + 5, s2 + 1, data[s2])])  # s2 + 1 never heard
            assert feed.frames_after(job.id, s2, r2, encode) is None
        fresh = EventFeed(svc.store)  # a delta onto nothing known, or a row not sent: the log
        with fresh.subscribe(job.id):
            fresh.notify(job.id, [Notice(s2, s1, data[s2])])
            assert fresh.frames_after(job.id, s1, None, encode) is None
            assert fresh.frames_after(job.id, s1, r1, encode)[0][0] == s2
        with fresh.subscribe(job.id):
            fresh.notify(job.id, [Notice(s2, s1, None)])
            assert fresh.frames_after(job.id, s1, r1, encode) is None
        svc.store.close()

    asyncio.run(main())


def test_this_replicas_own_write_wakes_its_streams_without_the_watcher(tmp_path, monkeypatch):
    monkeypatch.setattr(EventFeed, "_start_watcher", lambda self: None)

    async def main():
        svc = _service(tmp_path)
        job = _create(svc.store)
        follow = Follower(await svc.jobs.sse_stream(job.id))
        assert (await follow.next())["status"] == "queued"
        await svc.jobs.cancel(job.id)
        event = await follow.next()
        assert event["status"] == "cancelled" and event["error"]["code"] == "cancelled"
        assert await follow.next() is None

    asyncio.run(main())


def test_a_stream_on_another_ingress_replica_sees_the_change(tmp_path, store_url):
    async def main():
        # Two ingress replicas on one store (PostgreSQL: two nodes, each with its own state dir).
        here, there = (
            _service(tmp_path / "a", store_url),
            _service(tmp_path / "b" if store_url else tmp_path / "a", store_url),
        )
        job = _create(here.store)
        follow = Follower(await there.jobs.sse_stream(job.id, 0))
        assert (await follow.next())["status"] == "queued"
        await here.jobs.cancel(job.id)
        assert (await follow.next())["status"] == "cancelled"
        assert await follow.next() is None
        here.store.close()
        there.store.close()

    asyncio.run(main())


def test_a_restarted_ingress_resumes_after_the_last_event_id(tmp_path):
    async def main():
        store = JobStore(tmp_path)
        job = _create(store)
        claim = store.jobs.claim(job.id, {})
        store.jobs.update_progress(job.id, claim.claim_token, Progress(stage="denoising", step=1, total_steps=3))
        seqs = [seq for seq, _ in store.events.since(job.id, 0)]
        restarted = _service(tmp_path)  # nothing in memory: the store is the truth
        follow = Follower(await restarted.jobs.sse_stream(job.id, seqs[1]))
        resumed = await follow.next()
        assert resumed["progress"]["step"] == 1
        store.jobs.finish(job.id, claim.claim_token, JobStatus.FAILED, error={"code": "x", "message": "y"})
        assert (await follow.next())["status"] == "failed"
        assert await follow.next() is None
        # Resuming after the job's last event: an empty stream, at once.
        last = store.events.since(job.id, 0)[-1][0]
        assert [chunk async for chunk in await restarted.jobs.sse_stream(job.id, last)] == []

    asyncio.run(main())


def test_without_any_wake_up_a_stream_still_reads_the_store(tmp_path, monkeypatch):
    monkeypatch.setattr(EventFeed, "_start_watcher", lambda self: None)

    async def main():
        svc = _service(tmp_path)
        svc.jobs.sse_fallback_s = 0.05  # the safety net when a wake-up is lost
        job = _create(svc.store)
        follow = Follower(await svc.jobs.sse_stream(job.id))
        assert (await follow.next())["status"] == "queued"
        svc.store.jobs.request_cancel(job.id)  # written without notify, and nobody watches the store
        assert (await follow.next())["status"] == "cancelled"

    asyncio.run(main())


def test_streams_that_only_the_fallback_wakes_share_its_reads(tmp_path, monkeypatch):
    """Ten streams of one job, opened at different moments, and no wake-up at all (a queued job's streams): each
    fallback tick is one read for all of them (the job's grid, ``until_fallback_read``), where each stream
    re-reading on its own clock made ten; and the fallback still brings them the job's change."""
    monkeypatch.setattr(EventFeed, "_start_watcher", lambda self: None)

    async def main():
        svc = _service(tmp_path)
        svc.jobs.sse_fallback_s = 0.2
        job = _create(svc.store)
        reads: list[int] = []
        inner = svc.jobs.event_reads._read
        svc.jobs.event_reads._read = lambda job_id, after_seq, known: (
            reads.append(after_seq) or inner(job_id, after_seq, known)
        )
        follows = []
        for _ in range(10):  # spread over most of a period
            follows.append(Follower(await svc.jobs.sse_stream(job.id)))
            await asyncio.sleep(0.015)
        for follow in follows:
            assert (await follow.next())["status"] == "queued"
        reads.clear()
        await asyncio.sleep(1.0)  # five periods: about five reads (fifty, one per stream per period, before)
        assert 2 <= len(reads) <= 15, reads
        svc.store.jobs.request_cancel(job.id)  # written without notify, and nobody watches the store
        for follow in follows:
            assert (await follow.next())["status"] == "cancelled"

    asyncio.run(main())


def test_a_jobs_fallback_ticks_fall_on_one_grid_and_jobs_are_spread_over_it():
    period = 1.0
    for now in (0.0, 0.37, 12.5, 1e6 + 0.999):
        wait = until_fallback_read("job_a", period, now)
        assert 0 < wait <= period
        # every stream of the job, asking at any moment, is due at the same tick
        later = now + 0.3
        apart = (now + wait - (later + until_fallback_read("job_a", period, later))) % period
        assert min(apart, period - apart) < 1e-6
    offsets = {round(until_fallback_read(f"job_{i}", period, 0.0), 3) for i in range(50)}
    assert len(offsets) > 30  # fifty jobs' ticks spread over the period, not all at one moment


def test_streams_of_one_job_share_each_read_and_a_late_one_reads_again(tmp_path):
    """Ten streams of one job: every one gets every event, in order, from about one store read per event (not
    ten); a stream asking after a read has started gets a read of its own (it may have cleared a wake-up for an
    event that read misses: event_reads' rule)."""

    async def main():
        svc = _service(tmp_path)
        job = _create(svc.store)
        reads: list[tuple[str, int, bool]] = []
        shared = svc.jobs.event_reads
        inner = shared._read

        def counted(job_id, after_seq, known):
            reads.append((job_id, after_seq, known is not None))
            return inner(job_id, after_seq, known)

        shared._read = counted
        follows = [Follower(await svc.jobs.sse_stream(job.id)) for _ in range(10)]
        for follow in follows:
            assert (await follow.next())["status"] == "queued"
        claim = svc.store.jobs.claim(job.id, {"replica_id": "w"})
        for step in (1, 2, 3):
            svc.store.jobs.update_progress(job.id, claim.claim_token, Progress(stage="denoising", step=step))
            for follow in follows:  # the step's event reaches every stream before the next one is written
                event = await follow.next()
                while event["progress"]["stage"] != "denoising":  # the claim's own event first
                    event = await follow.next()
                assert event["progress"]["step"] == step
        svc.store.jobs.finish(job.id, claim.claim_token, JobStatus.SUCCEEDED, progress=Progress(stage="done"))
        for follow in follows:
            assert (await follow.next())["status"] == "succeeded"
            assert await follow.next() is None
        assert len(reads) <= 2 * 5, reads  # 5 events after the snapshot; unshared it would be 10 reads each
        first = min(after for _, after, _ in reads)  # the snapshot's seq: the record there is the job's row
        # every later read builds on the record of the last event its streams sent (no chain read from the log)
        assert all(known for _, after, known in reads if after > first) and len({a for _, a, _ in reads}) > 1
        assert shared.waiting == 0

    asyncio.run(main())


def test_a_read_already_started_is_not_joined(tmp_path):
    import threading

    from videogen.serve.service.event_reads import SharedEventReads

    started, release = threading.Event(), threading.Event()
    calls: list[int] = []

    def read(job_id, after_seq, known):
        calls.append(after_seq)
        nth = len(calls)
        if nth == 1:
            started.set()
            release.wait(SAFETY_S)
        return [(after_seq + 1, f"rec{nth}")]

    async def main():
        reads = SharedEventReads(read, lambda seq, rec: f"frame {seq} {rec}")
        together = [asyncio.ensure_future(reads.since("j", 0)) for _ in range(3)]
        await asyncio.to_thread(started.wait, SAFETY_S)  # the first read runs (and blocks) in its thread
        late = asyncio.ensure_future(reads.since("j", 0))  # same job, same id: a read of its own
        assert await asyncio.wait_for(late, SAFETY_S) == [(1, "rec2", "frame 1 rec2")]
        together[0].cancel()  # a stream that leaves does not cancel the read the others wait on
        release.set()
        assert [await t for t in together[1:]] == [[(1, "rec1", "frame 1 rec1")]] * 2
        assert calls == [0, 0]

    asyncio.run(main())
