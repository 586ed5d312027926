"""The queue bounds are atomic: counted and inserted in one transaction, so concurrent submitters
(threads of one ingress, or two ingress replicas on the same store) never push a queue past its bound.
On both store backends: SQLite's write lock, PostgreSQL's advisory locks."""

from __future__ import annotations

import threading

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from testkit import queue_job

from videogen.errors import RateLimitedError, ServiceBusyError
from videogen.serve.store.bounds import QueueBounds
from videogen.serve.store.job_store import JobStore


def _create(store: JobStore, bounds: QueueBounds, owner: str | None = None):
    return queue_job(store, owner=owner, bounds=bounds)


def _race(stores: list[JobStore], bounds: QueueBounds, threads: int, each: int, owner: str | None = None):
    accepted, refused, barrier = [], [], threading.Barrier(threads)

    def submit(store: JobStore):
        barrier.wait()
        for _ in range(each):
            try:
                accepted.append(_create(store, bounds, owner).id)
            except (ServiceBusyError, RateLimitedError) as exc:
                refused.append(exc)

    workers = [threading.Thread(target=submit, args=(stores[i % len(stores)],)) for i in range(threads)]
    for t in workers:
        t.start()
    for t in workers:
        t.join()
    return accepted, refused


def test_concurrent_submitters_never_pass_the_family_bound(open_store):
    # Two JobStores on one database stand for two ingress replicas; each thread has its own connection.
    stores = [open_store(), open_store()]
    accepted, refused = _race(stores, QueueBounds(family_max_queued=10, default_job_seconds=5), threads=12, each=4)
    queued = stores[0].jobs.counts()["wan"]["queued"]
    assert queued == len(accepted) == 10  # exactly the bound: never over it, and no room left unused
    assert len(refused) == 12 * 4 - 10 and all(e.details["max_queued_jobs"] == 10 for e in refused)


def test_concurrent_submissions_of_one_key_never_pass_its_limits(open_store):
    stores = [open_store(), open_store()]
    bounds = QueueBounds(family_max_queued=1000, default_job_seconds=5, owner_max_queued=1000, owner_per_minute=7)
    accepted, refused = _race(stores, bounds, threads=8, each=3, owner="alice")
    assert len(accepted) == 7 and len(refused) == 17
    assert all(isinstance(e, RateLimitedError) and e.details["retry_after_s"] >= 1 for e in refused)
    assert stores[0].jobs.list(owner="alice")[1] == 7


def test_a_full_queue_says_when_it_drains_from_the_jobs_estimates(open_store):
    """Retry-After of a full queue: what is queued and running there is expected to take (each job's estimate, the
    default for one without), summed by the database on both backends."""
    store = open_store()
    bounds = QueueBounds(family_max_queued=3, default_job_seconds=5)
    _ = queue_job(store, bounds=bounds, estimate={"expected_seconds": 7.5})
    _ = queue_job(store, bounds=bounds, estimate={"peak_gb": 1.0})  # an estimate without seconds: the default
    _ = queue_job(store, bounds=bounds)  # no estimate at all: the default
    queue_job(store, family="cogvideox", estimate={"expected_seconds": 100.0})  # another queue's: not counted
    try:
        queue_job(store, bounds=bounds)
    except ServiceBusyError as exc:
        assert exc.details["retry_after_s"] == round(7.5 + 5 + 5) and exc.details["queued"] == 3  # whole seconds
    else:
        raise AssertionError("a fourth job passed a bound of three")


FAMILIES = ("wan", "cogvideox", "ltx-video", "animatediff")  # one queue lock each: only the key's limits are shared


def _race_over_queues(stores: list[JobStore], bounds: QueueBounds, owner: str, threads: int = 12, each: int = 6):
    accepted, refused, barrier = [], [], threading.Barrier(threads)

    def submit(i: int) -> None:
        barrier.wait()
        for k in range(each):
            try:
                family = FAMILIES[(i + k) % len(FAMILIES)]
                accepted.append(queue_job(stores[i % len(stores)], family=family, owner=owner, bounds=bounds).id)
            except RateLimitedError as exc:
                refused.append(exc)

    workers = [threading.Thread(target=submit, args=(i,)) for i in range(threads)]
    for t in workers:
        t.start()
    for t in workers:
        t.join()
    return accepted, refused


def test_one_keys_concurrent_submissions_over_several_queues_never_pass_its_limits(open_store, monkeypatch):
    """With few slots (PostgreSQL: up to 3 of the key's submissions side by side while its counts leave that much
    room, then one at a time), submissions spread over four queues stop exactly at the key's limits."""
    from videogen.serve.store import database_postgres

    monkeypatch.setattr(database_postgres, "OWNER_SLOTS", 3)
    stores = [open_store(), open_store()]
    for owner, bounds, limit in (
        ("per-minute", QueueBounds(family_max_queued=1000, default_job_seconds=5, owner_per_minute=11), 11),
        ("queued", QueueBounds(family_max_queued=1000, default_job_seconds=5, owner_max_queued=9), 9),
    ):
        accepted, refused = _race_over_queues(stores, bounds, owner)
        assert len(accepted) == limit and len(refused) == 72 - limit, owner
        assert stores[0].jobs.list(owner=owner)[1] == limit


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    family_max=st.integers(1, 7),
    owner_max=st.none() | st.integers(1, 8),
    per_minute=st.none() | st.integers(1, 8),
    slack=st.integers(1, 4),
)
def test_the_insert_condition_lets_through_exactly_what_check_lets_through(
    store, family_max, owner_max, per_minute, slack
):
    """``bounds.fits`` (the condition of the counted insert, one statement) and ``bounds.check`` (the counts read,
    then the rule in Python: what says why a job was refused) are one rule. The store holds 3 wan jobs queued by
    alice, 2 of hers on another queue and one of bob's (queue 4, alice's queued and recent 5), never changed here."""
    from videogen.serve.store import bounds as queue_bounds

    if not store.jobs.list(owner="alice")[1]:
        for family in ("wan", "wan", "wan", "cogvideox", "cogvideox"):
            queue_job(store, family=family, owner="alice")
        queue_job(store, owner="bob")
    bounds = QueueBounds(family_max, 5, owner_max_queued=owner_max, owner_per_minute=per_minute)
    with store.db.tx() as conn:
        now = store.db.clock(conn)
        condition, args = queue_bounds.fits(bounds, "wan", "alice", now, slack)
        fits = bool(conn.execute(f"SELECT CASE WHEN {condition} THEN 1 ELSE 0 END", args).fetchone()[0])
        try:
            queue_bounds.check(conn, store.db.json_number, bounds, "wan", "alice", now, slack)
            passed = True
        except (ServiceBusyError, RateLimitedError, queue_bounds.OwnerNearItsLimits):
            passed = False
    assert fits == passed
    assert fits == (4 < family_max and all(limit is None or 5 + slack <= limit for limit in (owner_max, per_minute)))


def test_a_job_the_counted_insert_refused_is_inserted_when_check_finds_room_after_all(store, monkeypatch):
    """Between the counted insert and ``check`` a job of the queue may start (its count falls): the job that then
    fits is inserted, not refused without a reason. Forced here by a condition that never holds."""
    from videogen.serve.store import bounds as queue_bounds

    monkeypatch.setattr(queue_bounds, "fits", lambda *args, **kwargs: ("1 = 0", []))
    job = queue_job(store, owner="alice", bounds=QueueBounds(family_max_queued=5, default_job_seconds=5))
    assert store.jobs.get(job.id).status == "queued"
