"""Submissions' inserts written together (``Jobs.create_many``, ``service/insert_batches``), on both store backends:
each job inserted with its first event or refused as it would be alone, the bounds exact across batches and
replicas, a failing insert kept to its own submission; on PostgreSQL a batch is two query strings, its bounds
counted once."""

from __future__ import annotations

import threading
import time

from testkit import job_fields

from videogen.errors import RateLimitedError, ServiceBusyError
from videogen.serve.service.insert_batches import InsertBatches
from videogen.serve.store.bounds import QueueBounds
from videogen.serve.store.job_inserts import NewJob
from videogen.serve.store.job_store import JobStore


def new_job(family: str = "wan", **overrides) -> NewJob:
    return NewJob(**job_fields(family, **overrides))


def test_a_batch_inserts_each_job_with_its_event_and_refuses_what_passes_its_queues_bound(store):
    wan = QueueBounds(family_max_queued=3, default_job_seconds=5)
    ltx = QueueBounds(family_max_queued=3, default_job_seconds=5)
    jobs = [new_job(bounds=wan) for _ in range(5)] + [new_job("ltx-video", bounds=ltx) for _ in range(2)]
    results = store.jobs.create_many(jobs)
    records, refusals = results[:3] + results[5:], results[3:5]
    assert [r.id for r in records] == [j.job_id for j in jobs[:3] + jobs[5:]]
    assert all(isinstance(e, ServiceBusyError) and e.details["max_queued_jobs"] == 3 for e in refusals)
    assert refusals[0] is not refusals[1]  # each raised on its own submission's thread
    assert store.jobs.counts() == {"wan": {"queued": 3}, "ltx-video": {"queued": 2}}
    for record in records:
        (event,) = store.events.since(record.id, 0)
        assert event[1].id == record.id and event[1].status == "queued"
    assert not store.jobs.exists(jobs[3].job_id) and not store.jobs.exists(jobs[4].job_id)


def test_a_batch_holds_each_owners_limits_exactly(store):
    limited = QueueBounds(family_max_queued=100, default_job_seconds=5, owner_max_queued=100, owner_per_minute=3)
    jobs = [new_job(bounds=limited, owner="alice") for _ in range(3)]
    jobs += [new_job(bounds=limited, owner="bob"), new_job("ltx-video", bounds=limited, owner="alice")]
    jobs += [new_job(bounds=limited, owner="alice")]
    results = store.jobs.create_many(jobs)
    assert [type(r).__name__ for r in results] == ["JobRecord"] * 4 + ["RateLimitedError"] * 2
    assert results[4] is not results[5] and results[4].details["submissions_per_minute"] == 3
    assert store.jobs.list(owner="alice")[1] == 3 and store.jobs.list(owner="bob")[1] == 1


class _HeldFirstBatch:
    """``create_many`` whose first call waits until ``waiting`` more inserts are queued behind it: the next batch
    then holds all of them, whatever the box's timing."""

    def __init__(self, batches: InsertBatches, waiting: int):
        self.batches, self.waiting, self.sizes = batches, waiting, []
        self.real = batches.jobs.create_many
        batches.jobs.create_many = self

    def __call__(self, jobs):
        if not self.sizes:
            deadline = time.monotonic() + 30
            while self.batches._waiting.qsize() < self.waiting and time.monotonic() < deadline:
                time.sleep(0.005)
        self.sizes.append(len(jobs))
        return self.real(jobs)


def _submit_all(batches: InsertBatches, jobs: list[NewJob]) -> list:
    """Each job from a thread of its own, the first alone before the others start; what each got."""
    results: list = [None] * len(jobs)

    def one(i: int) -> None:
        try:
            results[i] = batches.create(jobs[i])
        except BaseException as exc:  # noqa: BLE001 - what the submission's thread saw
            results[i] = exc

    threads = [threading.Thread(target=one, args=(i,)) for i in range(len(jobs))]
    threads[0].start()
    while batches.batches == 0:
        time.sleep(0.001)
    for t in threads[1:]:
        t.start()
    for t in threads:
        t.join(60)
    return results


def test_inserts_waiting_while_a_batch_is_written_make_the_next_and_a_failing_one_stays_its_own(store):
    batches = InsertBatches(store.jobs)
    held = _HeldFirstBatch(batches, waiting=4)
    try:
        bounds = QueueBounds(family_max_queued=10, default_job_seconds=5)
        jobs = [new_job(bounds=bounds) for _ in range(5)]
        jobs[2].params = {"unwritable": object()}  # no JSON for it: its insert fails, the batch's others do not
        results = _submit_all(batches, jobs)
    finally:
        batches.close()
    assert held.sizes[:2] == [1, 4]  # the four that waited: one batch
    assert isinstance(results[2], TypeError)
    assert [r.id for i, r in enumerate(results) if i != 2] == [j.job_id for i, j in enumerate(jobs) if i != 2]
    assert store.jobs.counts() == {"wan": {"queued": 4}} and not store.jobs.exists(jobs[2].job_id)


def test_batched_submissions_through_two_replicas_never_pass_the_bounds(open_store):
    """Two ingress replicas batching on one database, and one submitting alone (``create_job``): the queue's bound
    and one key's limit hold exactly."""
    stores = [open_store(), open_store(), open_store()]
    writers = [InsertBatches(s.jobs) for s in stores[:2]]
    submitters = [w.create for w in writers] + [stores[2].jobs.create_job]
    queue = QueueBounds(family_max_queued=10, default_job_seconds=5)
    key = QueueBounds(family_max_queued=1000, default_job_seconds=5, owner_max_queued=1000, owner_per_minute=7)
    accepted, refused, barrier = {"wan": [], "alice": []}, [], threading.Barrier(12)

    def submit(i: int) -> None:
        barrier.wait()
        for _ in range(4):
            family, bounds, owner = ("wan", queue, None) if i % 2 else ("ltx-video", key, "alice")
            try:
                job = submitters[i % 3](new_job(family, bounds=bounds, owner=owner))
                accepted["wan" if i % 2 else "alice"].append(job)
            except (ServiceBusyError, RateLimitedError) as exc:
                refused.append(exc)

    threads = [threading.Thread(target=submit, args=(i,)) for i in range(12)]
    try:
        for t in threads:
            t.start()
        for t in threads:
            t.join(60)
    finally:
        for writer in writers:
            writer.close()
    counts = stores[0].jobs.counts()
    assert counts["wan"]["queued"] == len(accepted["wan"]) == 10  # never over the bound, no room left unused
    assert counts["ltx-video"]["queued"] == len(accepted["alice"]) == 7
    assert len(refused) == 48 - 17
    assert sum(isinstance(e, RateLimitedError) and e.details["submissions_per_minute"] == 7 for e in refused) == 24 - 7


def test_a_batch_is_two_query_strings_on_postgres(tmp_path, postgres_url, sent):
    store = JobStore(tmp_path, database_url=postgres_url)
    try:
        bounds = QueueBounds(family_max_queued=100, default_job_seconds=5)
        store.jobs.create_many([new_job(bounds=bounds)])  # the pool's connection warm, the clock read once
        sent.clear()
        owners = ("alice", None, "bob", "alice", None)
        bounds = QueueBounds(family_max_queued=100, default_job_seconds=5, owner_max_queued=100, owner_per_minute=100)
        families = ("wan", "ltx-video", "wan", "cogvideox", "wan")
        jobs = [new_job(family, bounds=bounds, owner=owner) for family, owner in zip(families, owners, strict=True)]
        records = store.jobs.create_many(jobs)
        assert len(sent) == 2, sent
        counts_and_inserts, events_and_commit = sent
        # unannounced (its events are its jobs' first: schema step 5), then its queues' locks
        assert counts_and_inserts.startswith(
            "BEGIN; SELECT set_config(%s, 'on', true); SELECT pg_advisory_xact_lock(id)"
        )
        assert "SELECT count(*) FROM (SELECT pg_advisory_xact_lock(id, k)" in counts_and_inserts  # its owners
        # each queue's and each owner's counts once, before the inserts: three queues, two owners with two counts each
        counts, inserts = counts_and_inserts.split("INSERT INTO jobs", 1)
        assert counts.count("COUNT(*)") == 3 + 2 * 2 and "COUNT(*)" not in inserts
        assert counts_and_inserts.count("INSERT INTO jobs") == 5
        assert events_and_commit.count("INSERT INTO events") == 5 and events_and_commit.endswith("; COMMIT")
        assert [r.id for r in records] == [j.job_id for j in jobs]
        assert all(store.events.since(r.id, 0)[0][1].id == r.id for r in records)
    finally:
        store.close()


def test_a_job_the_counts_refused_is_inserted_when_check_finds_room_after_all(store, monkeypatch):
    """Counted full, the job's row is deleted again; ``bounds.check``, counting what stays, finds room (a job started
    between the two): it is inserted, once, with its event."""
    from videogen.serve.store import job_inserts

    monkeypatch.setattr(job_inserts._BatchCounts, "fits", lambda self, counted: [True, False, True])
    bounds = QueueBounds(family_max_queued=10, default_job_seconds=5)
    jobs = [new_job(bounds=bounds) for _ in range(3)]
    records = store.jobs.create_many(jobs)
    assert [r.id for r in records] == [j.job_id for j in jobs]
    assert store.jobs.counts() == {"wan": {"queued": 3}}
    assert [len(store.events.since(j.job_id, 0)) for j in jobs] == [1, 1, 1]


def test_a_batchs_records_and_events_are_what_the_store_reads_back(store):
    """A batch reads nothing back: each record (and its first event) is worked out from the job's values and the
    table's defaults; they must be what the row reads back, field for field."""
    estimate = {"expected_seconds": 3.5, "admission": {"rung": "full"}}
    jobs = [
        new_job(bounds=QueueBounds(family_max_queued=10, default_job_seconds=5), owner="alice", estimate=estimate),
        new_job("ltx-video", dispatcher="ingress-1", lease_s=30, params={"seed": 7, "steps": [1, 2]}, image="aGk="),
    ]
    jobs[1].prepare()  # as the admission does, before the writer's batch
    records = store.jobs.create_many(jobs)
    for record in records:
        stored = store.jobs.get(record.id)
        assert record == stored
        (event,) = store.events.since(record.id, 0)
        assert event[1] == stored.model_copy(update={"image": None})  # the event log keeps no image
    assert records[1].lease_until == records[1].created_at + 30 and records[1].image == "aGk="
