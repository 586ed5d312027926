"""A store transaction's statements and the round trips they take (``store/postgres_tx``, ``Database.write_later``):
a write nobody reads travels with the next statement or the commit, in order, and fails the whole transaction when
refused; on PostgreSQL a submission is three query strings, not six."""

from __future__ import annotations

import sqlite3

import psycopg
import pytest
from testkit import queue_job

from videogen.errors import ServiceBusyError
from videogen.serve.store.bounds import QueueBounds
from videogen.serve.store.job_store import JobStore
from videogen.serve.store.records import JobStatus
from videogen.video.progress import Progress


def test_a_bounded_submission_is_three_query_strings_on_postgres(tmp_path, postgres_url, sent):
    store = JobStore(tmp_path, database_url=postgres_url)
    try:
        bounds = QueueBounds(family_max_queued=100, default_job_seconds=5, owner_max_queued=100, owner_per_minute=100)
        queue_job(store, owner="alice", bounds=bounds)  # the pool's connection warm: no checkout check below
        sent.clear()
        job = queue_job(store, owner="alice", bounds=bounds)
        assert len(sent) == 3, sent  # was six: BEGIN, locks, counts, insert, event, COMMIT
        begin_and_locks, counted_insert, event_and_commit = sent
        # its event unannounced (a new job's first: schema step 5) and its locks, with BEGIN
        assert begin_and_locks.startswith("BEGIN; SELECT set_config(%s, 'on', true); SELECT pg_advisory_xact_lock")
        # the counts are the insert's condition: counted and inserted by one statement
        assert counted_insert.lstrip().startswith("INSERT INTO jobs") and "COUNT(*)" in counted_insert
        assert event_and_commit.startswith("INSERT INTO events") and event_and_commit.endswith("; COMMIT")
        events = store.events.since(job.id, 0)
        assert len(events) == 1 and events[0][1].id == job.id  # its event committed with it
    finally:
        store.close()


def test_a_submission_without_owner_limits_is_two_query_strings_on_postgres(tmp_path, postgres_url, sent):
    """No owner's slot to take: the queue's lock goes with the counted insert, the clock is the carried-forward
    one, and the event goes with the COMMIT."""
    store = JobStore(tmp_path, database_url=postgres_url)
    try:
        bounds = QueueBounds(family_max_queued=2, default_job_seconds=5)
        queue_job(store, bounds=bounds)  # the pool's connection warm, the clock read once
        sent.clear()
        job = queue_job(store, bounds=bounds)
        assert len(sent) == 2, sent
        lock_and_insert, event_and_commit = sent
        assert lock_and_insert.startswith(
            "BEGIN; SELECT set_config(%s, 'on', true); SELECT pg_advisory_xact_lock(hashtext(%s)); INSERT INTO jobs"
        )
        assert "COUNT(*)" in lock_and_insert  # counted and inserted by one statement, after the lock
        assert event_and_commit.startswith("INSERT INTO events") and event_and_commit.endswith("; COMMIT")
        assert store.events.since(job.id, 0)[0][1].id == job.id
        with pytest.raises(ServiceBusyError):  # the bound still holds: two queued, the third refused
            queue_job(store, bounds=bounds)
    finally:
        store.close()


def test_a_progress_write_reads_the_logs_chain_in_one_statement(tmp_path, postgres_url, sent):
    """A delta event needs the state at the job's last event: its base row and the rows since, read by one
    statement (the last event and then its chain were two), sent with the update: a progress write is two query
    strings (the update with the read, the event with the commit)."""
    store = JobStore(tmp_path, database_url=postgres_url)
    try:
        store.db.now()  # a clock reading to carry forward
        job = queue_job(store)
        claim = store.jobs.claim(job.id, {"replica_id": "w"})
        for step in (1, 2):
            sent.clear()
            assert store.jobs.update_progress(job.id, claim.claim_token, Progress(stage="denoising", step=step))
            assert len(sent) == 2, sent
            update, read = sent[0].split("; ", 2)[1:]
            assert sent[0].startswith("BEGIN; UPDATE jobs") and read.lstrip().startswith("WITH last AS"), sent
            assert sent[1].startswith("INSERT INTO events") and sent[1].endswith("; COMMIT"), sent
        (_, first), (_, claimed), (_, one), (_, two) = store.events.since(job.id, 0)
        assert (claimed.status, one.progress.step, two.progress.step) == ("running", 1, 2)
        assert two.snapshot() == store.jobs.get(job.id).snapshot()  # the deltas replay to the row
    finally:
        store.close()


def test_a_write_left_for_later_runs_before_the_next_statement_and_commits(store):
    job = queue_job(store)
    with store.db.tx() as conn:
        store.db.write_later(conn, "UPDATE jobs SET owner=? WHERE id=?", ("bob", job.id))
        assert conn.execute("SELECT owner FROM jobs WHERE id=?", (job.id,)).fetchone()[0] == "bob"  # order kept
        store.db.write_later(conn, "UPDATE jobs SET owner=? WHERE id=?", ("carol", job.id))  # left for the commit
    assert store.db.conn().execute("SELECT owner FROM jobs WHERE id=?", (job.id,)).fetchone()[0] == "carol"


def test_a_transaction_of_writes_left_for_later_alone_still_commits_them(store):
    job = queue_job(store)
    with store.db.tx() as conn:  # no statement sent before the commit: BEGIN, the write and COMMIT go together
        store.db.write_later(conn, "UPDATE jobs SET owner=? WHERE id=?", ("dave", job.id))
    assert store.jobs.get(job.id).owner == "dave"


def test_a_refused_write_left_for_later_rolls_the_whole_transaction_back(store):
    job = queue_job(store)
    duplicate = "INSERT INTO jobs(id, status, family, task) VALUES (?,?,?,?)", (job.id, "queued", "wan", "t2v")
    with pytest.raises((psycopg.IntegrityError, sqlite3.IntegrityError)):
        with store.db.tx() as conn:
            conn.execute("UPDATE jobs SET owner=? WHERE id=?", ("mallory", job.id))
            store.db.write_later(conn, *duplicate)  # refused at the commit (PostgreSQL) or at once (SQLite)
    assert store.jobs.get(job.id).owner is None  # the update went with it
    assert queue_job(store).id != job.id  # and the store goes on (its connection back in order)


def test_a_last_statement_is_read_and_committed_and_nothing_follows_it(store):
    """``execute_last``: its rows come back and its change is committed (PostgreSQL: sent with the COMMIT; a
    statement after it is refused, there is no transaction left); a refused one rolls the whole transaction back."""
    job = queue_job(store)
    with store.db.tx() as conn:
        store.db.write_later(conn, "UPDATE jobs SET model_name=? WHERE id=?", ("m", job.id))  # what waits goes first
        rows = store.db.execute_last(
            conn, "UPDATE jobs SET owner=? WHERE id=? RETURNING owner, model_name", ("erin", job.id)
        )
        if store.db.dialect == "postgres":
            with pytest.raises(RuntimeError, match="committed"):
                conn.execute("SELECT 1")
    assert [tuple(r) for r in rows] == [("erin", "m")]
    assert (store.jobs.get(job.id).owner, store.jobs.get(job.id).model_name) == ("erin", "m")
    duplicate = (
        "INSERT INTO jobs(id, status, family, task) VALUES (?,?,?,?) RETURNING id",
        (job.id, "queued", "wan", "t"),
    )
    with pytest.raises((psycopg.IntegrityError, sqlite3.IntegrityError)):
        with store.db.tx() as conn:
            conn.execute("UPDATE jobs SET owner=? WHERE id=?", ("mallory", job.id))
            store.db.execute_last(conn, *duplicate)
    assert store.jobs.get(job.id).owner == "erin"  # the update went with it
    assert queue_job(store).id != job.id  # and the store goes on


def test_a_claim_and_a_jobs_end_are_one_query_string_each_on_postgres(tmp_path, postgres_url, sent):
    """The change, its event (the row image the statement makes) and the commit together; the record the claim
    returns and the events replayed are the row's."""
    store = JobStore(tmp_path, database_url=postgres_url)
    try:
        store.db.now()
        job = queue_job(store)
        sent.clear()
        claim = store.jobs.claim(job.id, {"replica_id": "w"})
        assert len(sent) == 1 and claim.status == "running" and claim.claim_token, sent
        assert store.jobs.claim(job.id, {"replica_id": "x"}) is None  # claimed once: nothing logged the second time
        sent.clear()
        assert store.jobs.finish(job.id, claim.claim_token, JobStatus.SUCCEEDED, result={"frames": 1})
        assert len(sent) == 1 and sent[0].startswith("BEGIN; WITH changed AS (UPDATE jobs SET status"), sent
        assert not store.jobs.finish(job.id, claim.claim_token, JobStatus.FAILED)  # ended: not this claim's any more
        replay = [r for _, r in store.events.since(job.id, 0)]
        assert [r.status for r in replay] == ["queued", "running", "succeeded"]
        assert replay[-1].snapshot() == store.jobs.get(job.id).snapshot()
        assert replay[1].worker == {"replica_id": "w"} and replay[1].claim_token is None
    finally:
        store.close()


def test_a_transaction_that_sent_nothing_sends_no_rollback_either(tmp_path, postgres_url, sent):
    store = JobStore(tmp_path, database_url=postgres_url)
    try:
        store.jobs.get(queue_job(store).id)
        sent.clear()
        with pytest.raises(RuntimeError):
            with store.db.tx():
                raise RuntimeError("changed its mind")
        assert sent == []
        with store.db.tx(immediate=False) as conn:  # a read-only snapshot: BEGIN with its first read
            conn.execute("SELECT COUNT(*) FROM jobs").fetchone()
        assert sent == ["BEGIN ISOLATION LEVEL REPEATABLE READ, READ ONLY; SELECT COUNT(*) FROM jobs", "COMMIT"]
    finally:
        store.close()


def test_a_read_onto_a_known_state_is_one_query_string(tmp_path, postgres_url, sent):
    """A live stream's read of new events, given the record of the last one it sent: one statement, no
    transaction; without it, the state is read back from the log in a read-only transaction."""
    store = JobStore(tmp_path, database_url=postgres_url)
    try:
        job = queue_job(store)
        claim = store.jobs.claim(job.id, {"replica_id": "w"})
        (seq, known), *_ = store.events.since(job.id, 0)
        store.jobs.update_progress(job.id, claim.claim_token, Progress(stage="denoising", step=1))
        sent.clear()
        onto = store.events.since(job.id, seq, state_at=known.snapshot())
        assert len(sent) == 1 and sent[0].startswith("SELECT seq, data FROM events"), sent
        sent.clear()
        rebuilt = store.events.since(job.id, seq)
        assert len(sent) > 1 and sent[0].startswith("BEGIN")
        assert [(s, r.snapshot()) for s, r in onto] == [(s, r.snapshot()) for s, r in rebuilt]
        assert onto[-1][1].progress.step == 1
    finally:
        store.close()


def test_a_claim_reads_no_clock_of_its_own_and_its_times_are_the_servers(tmp_path, postgres_url, sent):
    """The transaction's clock carried forward from a recent reading (``postgres_clock``), and its event a full row
    (nothing of the log read, the row image made by the update's own statement): a claim is one query string, BEGIN,
    its update with its event, and COMMIT; its started_at is the server's time."""
    store = JobStore(tmp_path, database_url=postgres_url)
    try:
        store.db.now()  # a reading to carry forward (the store's first, on an idle server: it calibrates)
        job = queue_job(store)
        sent.clear()
        claim = store.jobs.claim(job.id, {"replica_id": "w"})
        assert len(sent) == 1 and sent[0].startswith("BEGIN; WITH changed AS (UPDATE jobs"), sent
        assert "INSERT INTO events" in sent[0] and sent[0].rstrip().endswith("; COMMIT"), sent
        assert not any("clock_timestamp" in text for text in sent)
        server_now = store.db.conn().execute("SELECT extract(epoch FROM clock_timestamp())::float8").fetchone()[0]
        assert 0 <= server_now - claim.started_at < 1.0  # the server's time (a node's clock could be anything)
    finally:
        store.close()
