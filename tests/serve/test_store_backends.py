"""What the two store backends promise beyond the shared state machine (no Ray): the database's clock on
PostgreSQL, events across nodes by LISTEN/NOTIFY, versioned schemas that adopt and upgrade old stores,
one delete path, and a database out of reach as a typed 503, never a 500.

The shared state machine runs on both backends in test_store.py, test_event_log.py,
test_queue_bounds.py and test_sse_events.py; PostgreSQL is the real server ``tests/pg_server.py`` starts.
"""

from __future__ import annotations

import sqlite3
import threading
import time

import psycopg
import pytest
from pg_server import free_port
from testkit import job_fields, queue_job

from videogen.errors import ErrorCode, ServiceBusyError
from videogen.serve.errors import error_headers, http_status, store_error
from videogen.serve.store.database_postgres import PostgresDatabase
from videogen.serve.store.events import NotifyWatch, incomplete, notices_of, open_watch
from videogen.serve.store.housekeeping import delete_jobs
from videogen.serve.store.job_inserts import NewJob
from videogen.serve.store.job_store import JobStore
from videogen.serve.store.migrations import LATEST, NOTICE_PART_CHARS, NOTICE_PARTS, STEPS, current_version
from videogen.serve.store.records import JobStatus
from videogen.video.progress import Progress, StageTiming


def test_a_nodes_clock_running_ahead_changes_nothing_on_postgres(tmp_path, postgres_url, monkeypatch):
    """Heartbeats and leases are stamped and judged by the server's clock: a node a minute ahead neither writes
    future times nor reaps a live job. (SQLite is one node's store: there its clock is the only one.)"""
    pg, lite = JobStore(tmp_path / "pg", database_url=postgres_url), JobStore(tmp_path / "lite")
    try:
        claims = {}
        for name, store in (("pg", pg), ("lite", lite)):
            job = queue_job(store, dispatcher="d1", lease_s=30)
            claims[name] = (job.id, store.jobs.claim(job.id, {"replica_id": "w"}).claim_token)
        real = time.time
        monkeypatch.setattr(time, "time", lambda: real() + 60)  # this node's clock is a minute ahead
        job_id, token = claims["pg"]
        assert pg.jobs.heartbeat(job_id, token)
        assert pg.jobs.get(job_id).heartbeat_at < real() + 5  # the server's time, not this node's
        assert pg.jobs.stale_running(20) == []  # alive by the server's clock
        assert pg.jobs.orphaned_queued("d2") == []  # nor does the lease look expired
        assert lite.jobs.stale_running(20) == [claims["lite"]]  # the same scan, judged by the node's clock
    finally:
        pg.close()
        lite.close()


def test_notify_wakes_another_nodes_watch_and_a_lost_listener_resyncs(tmp_path, postgres_server, postgres_url):
    writer = JobStore(tmp_path / "a", database_url=postgres_url)
    reader = JobStore(tmp_path / "b", database_url=postgres_url)  # another node: its own state dir
    try:
        watch = open_watch(reader.db)
        assert isinstance(watch, NotifyWatch)
        job = queue_job(writer)  # one submission's insert
        (quiet,) = writer.jobs.create_many([NewJob(**job_fields())])  # a batch's (the ingress's group commit)
        # A new job's first event is logged but not announced: nobody can be waiting for it (its id is answered
        # after the commit, and a stream reads the log before it waits), and a commit that notifies queues for the
        # database's notify lock behind every other one that does (schema step 5).
        assert [len(writer.events.since(j.id, 0)) for j in (job, quiet)] == [1, 1]
        assert watch.poll(lambda: [job.id, quiet.id]) == set()  # waited NOTIFY_WAIT_S: nothing came
        claim = writer.jobs.claim(job.id, {})
        assert watch.poll(lambda: [job.id, quiet.id]) == {job.id}  # heard at commit, only the job with the event
        # The listening connection dies (a server restart, a network cut): reconnected, every watched job counted
        # as changed (what was sent meanwhile is unknown), and the next commit is heard again.
        postgres_server.admin.execute(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE query LIKE 'LISTEN%'"
        )
        assert watch.poll(lambda: [job.id, quiet.id]) == {job.id, quiet.id}
        writer.jobs.finish(job.id, claim.claim_token, JobStatus.SUCCEEDED, result={})
        assert watch.poll(lambda: [job.id, quiet.id]) == {job.id}
    finally:
        writer.close()
        reader.close()
    assert watch.closed  # closed with its store: the watcher thread stops


def test_a_notification_carries_the_event_and_the_one_before_it(tmp_path, postgres_url):
    """Schema step 6: the notifications of an event carry its seq, the job's previous event's seq and its row, in
    parts where it is long (a job's last row often is), and none past ``NOTICE_PARTS`` parts; applied in order onto
    the record before each, the notices give the log's own records. A row that is not all ASCII (an owner's name
    here) is cut in shorter parts: every part still fits a payload."""
    writer = JobStore(tmp_path / "a", database_url=postgres_url)
    reader = JobStore(tmp_path / "b", database_url=postgres_url)
    try:
        watch = open_watch(reader.db)
        job = queue_job(writer, owner="Zoë " + "ü" * 3000)  # the claim's row image carries it as it is (UTF-8)
        claim = writer.jobs.claim(job.id, {"replica_id": "w"})
        writer.jobs.update_progress(job.id, claim.claim_token, Progress(stage="denoising", step=1))
        long = [StageTiming(name="loading", started_at=1.0, detail={"note": "x" * 2 * NOTICE_PART_CHARS})]
        writer.jobs.update_progress(job.id, claim.claim_token, Progress(stage="denoising", step=2), long)
        too_long = [
            StageTiming(name="loading", started_at=1.0, detail={"note": "x" * NOTICE_PART_CHARS * NOTICE_PARTS})
        ]
        writer.jobs.update_progress(job.id, claim.claim_token, Progress(stage="denoising", step=3), too_long)
        writer.jobs.update_progress(job.id, claim.claim_token, Progress(stage="decoding"), [])
        writer.jobs.finish(job.id, claim.claim_token, JobStatus.SUCCEEDED, result={"frames": 1})
        notices = []
        while len(notices) < 6:
            assert watch.poll(lambda: [job.id]) == {job.id}
            notices += watch.notices[job.id]
        logged = writer.events.since(job.id, 0)
        seqs = [seq for seq, _ in logged]
        assert [(n.seq, n.previous) for n in notices] == list(zip(seqs[1:], seqs[:-1], strict=True))
        assert [n.data is None for n in notices] == [False, False, False, True, False, False]  # past 8 parts: none
        assert len(notices[0].data.encode()) > 6000 and len(notices[2].data) > 2 * NOTICE_PART_CHARS  # in parts
        known = logged[0][1]
        for notice, (_, record) in zip(notices, logged[1:], strict=True):
            applied = notice.record_onto(known)
            if notice.data is None:
                assert applied is None  # read from the log instead
            else:
                assert applied.snapshot() == record.snapshot()
            known = record
        assert notices[0].record_onto(None).owner == job.owner  # a full row needs nothing before it
        assert notices[1].record_onto(None) is None  # a delta does
    finally:
        writer.close()
        reader.close()


def test_notices_are_put_back_together_from_their_parts():
    """``notices_of``: a row's parts joined in order; a part missing leaves the row unsent (the log is read); an
    event announced without its row, and a bare job id (a trigger before schema step 6), name their job."""
    heard = notices_of(
        [
            'job_a 7 5 1/2 {"delta": {"x": ',
            'job_b 8 0 1/1 {"id": "job_b"}',
            'job_a 7 5 2/2 1}, "base": 5}',
            "job_a 9 7",
            "job_c",
            "job_b 10 8 1/3 {",
            "job_b 10 8 3/3 }",
        ]
    )
    assert set(heard) == {"job_a", "job_b", "job_c"} and heard["job_c"] == []
    (a7, a9), (b8, b10) = heard["job_a"], heard["job_b"]
    assert (a7.seq, a7.previous, a7.data) == (7, 5, '{"delta": {"x": 1}, "base": 5}')
    assert (a9.seq, a9.previous, a9.data, a9.pending) == (9, 7, None, False)
    assert b8.data == '{"id": "job_b"}' and (b10.data, b10.pending) == (None, False)
    assert not incomplete(heard)
    waiting = notices_of(["job_a 7 5 1/2 {"])
    assert incomplete(waiting) and waiting["job_a"][0].data is None


OLD_SQLITE = """
CREATE TABLE jobs (seq INTEGER PRIMARY KEY AUTOINCREMENT, id TEXT NOT NULL UNIQUE, status TEXT NOT NULL,
    family TEXT NOT NULL, task TEXT NOT NULL, request_json TEXT NOT NULL, image TEXT, model_json TEXT,
    params_json TEXT, adjustments_json TEXT NOT NULL DEFAULT '[]', progress_json TEXT,
    stages_json TEXT NOT NULL DEFAULT '[]', error_json TEXT, result_json TEXT, worker_json TEXT,
    history_json TEXT NOT NULL DEFAULT '[]', created_at REAL NOT NULL, started_at REAL, finished_at REAL,
    updated_at REAL NOT NULL, attempts INTEGER NOT NULL DEFAULT 0, max_attempts INTEGER NOT NULL DEFAULT 2,
    claim_token TEXT, heartbeat_at REAL, dispatcher TEXT, lease_until REAL,
    cancel_requested INTEGER NOT NULL DEFAULT 0);
CREATE INDEX jobs_status ON jobs(status);
CREATE INDEX jobs_created ON jobs(created_at);
CREATE TABLE events (seq INTEGER PRIMARY KEY AUTOINCREMENT, job_id TEXT NOT NULL, created_at REAL NOT NULL,
    data TEXT NOT NULL);
CREATE INDEX events_job ON events(job_id, seq);
CREATE TABLE replicas (replica_id TEXT PRIMARY KEY, family TEXT NOT NULL, deployment TEXT, app TEXT, node_id TEXT,
    node_ip TEXT, pid INTEGER, state TEXT NOT NULL, diagnostics_json TEXT, models_json TEXT,
    started_at REAL NOT NULL, last_seen REAL NOT NULL);
INSERT INTO jobs(id, status, family, task, request_json, created_at, updated_at, max_attempts)
    VALUES ('job_old', 'queued', 'wan', 'text-to-video', '{"family": "wan", "prompt": "a fox"}', 1, 1, 2);
INSERT INTO events(job_id, created_at, data) VALUES ('job_old', 1, '{"id": "job_old", "status": "queued",
    "family": "wan", "task": "text-to-video", "request": {"family": "wan", "prompt": "a fox"}, "created_at": 1,
    "max_attempts": 2}');
"""


def test_a_sqlite_store_from_before_schema_versions_opens_with_its_jobs(tmp_path):
    conn = sqlite3.connect(tmp_path / "jobs.sqlite3")
    conn.executescript(OLD_SQLITE)  # the first release's tables, without the columns added since
    conn.close()
    store = JobStore(tmp_path)
    try:
        conn = store.db.conn()
        assert current_version(store.db, conn) == LATEST
        assert [r[0] for r in conn.execute("SELECT version FROM schema_version ORDER BY version")] == [
            s.version for s in STEPS
        ]
        old = store.jobs.get("job_old")
        assert old.status == JobStatus.QUEUED and old.request["prompt"] == "a fox" and old.owner is None
        claim = store.jobs.claim("job_old", {"replica_id": "w"})  # it still runs
        assert claim.attempts == 1 and store.events.since("job_old", 0)[-1][1].status == JobStatus.RUNNING
    finally:
        store.close()
    JobStore(tmp_path).close()  # opened again: nothing left to do


def test_postgres_schema_is_created_once_by_concurrent_openers_and_upgraded_in_place(tmp_path, postgres_server):
    url = postgres_server.create_database()
    opened, errors = [], []

    def open_one(i: int) -> None:
        try:
            opened.append(JobStore(tmp_path / str(i), database_url=url))
        except Exception as exc:  # noqa: BLE001 - collected and asserted below
            errors.append(exc)

    threads = [threading.Thread(target=open_one, args=(i,)) for i in range(4)]  # replicas starting together
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    for store in opened:
        store.close()
    assert errors == [] and len(opened) == 4
    with psycopg.connect(url, autocommit=True) as conn:
        versions = [r[0] for r in conn.execute("SELECT version FROM schema_version ORDER BY version")]
        assert versions == list(range(1, LATEST + 1)) and LATEST >= 3
        # Roll the schema back to step 1, with a job in it: the next open runs steps 2 and 3 in place.
        before = JobStore(tmp_path / "before", database_url=url)
        kept = queue_job(before)
        before.close()
        conn.execute("DROP INDEX jobs_finished")
        conn.execute("DROP TRIGGER events_notify ON events")
        conn.execute("DROP FUNCTION videogen_notify_event")
        conn.execute("DELETE FROM schema_version WHERE version > 1")
    store = JobStore(tmp_path / "again", database_url=url)
    try:
        with psycopg.connect(url, autocommit=True) as listener:
            listener.execute("LISTEN videogen_events")
            job = queue_job(store)  # its first event: unannounced (step 5)
            assert list(listener.notifies(timeout=0.5)) == []
            store.jobs.claim(job.id, {})  # the claim's event fires the trigger: NOTIFY with the job id (step 3),
            # its seq, the one before and its row (step 6)
            heard = notices_of([n.payload for n in listener.notifies(timeout=10, stop_after=1)])
            (first, _), (claimed, _) = store.events.since(job.id, 0)
            (notice,) = heard[job.id]
            assert (notice.seq, notice.previous) == (claimed, first) and notice.data
        assert current_version(store.db, store.db.conn()) == LATEST
        assert store.db.conn().execute("SELECT to_regclass('jobs_finished') IS NOT NULL").fetchone()[0]
        assert store.jobs.get(job.id).status == JobStatus.RUNNING
        assert store.jobs.get(kept.id).status == JobStatus.QUEUED  # the job from before the upgrade is kept
    finally:
        store.close()


def test_one_delete_path_removes_rows_events_and_files(store):
    job = queue_job(store)
    claim = store.jobs.claim(job.id, {})
    video = store.video_path(job.id)
    video.parent.mkdir(parents=True, exist_ok=True)
    video.write_bytes(b"mp4")
    store.jobs.finish(job.id, claim.claim_token, JobStatus.SUCCEEDED, result={"bytes": 3})
    kept = queue_job(store)
    assert delete_jobs(store, [job.id, "job_unknown"]) == [job.id]
    assert not video.exists() and not store.jobs.exists(job.id) and store.events.since(job.id, 0) == []
    assert store.jobs.exists(kept.id) and store.events.since(kept.id, 0)  # nothing else went
    assert delete_jobs(store, [job.id]) == []


def test_an_unreachable_postgres_is_a_typed_503_with_retry_after():
    with pytest.raises(ServiceBusyError) as refused:
        PostgresDatabase(f"postgresql://postgres@127.0.0.1:{free_port()}/videogen", pool_timeout_s=0.5)
    assert refused.value.code == ErrorCode.STORE_UNAVAILABLE
    assert http_status(refused.value) == 503 and int(error_headers(refused.value)["Retry-After"]) >= 1
    # A driver error that escaped untyped is mapped the same way by the HTTP handlers; a bug stays a 500.
    assert store_error(psycopg.errors.LockNotAvailable("lock timeout")).code == ErrorCode.STORE_BUSY
    assert store_error(psycopg.OperationalError("server closed the connection")).code == ErrorCode.STORE_UNAVAILABLE
    assert store_error(psycopg.errors.UndefinedTable("no such table")) is None


def test_a_connection_lost_mid_transaction_is_typed_and_the_next_call_reconnects(
    tmp_path, postgres_server, postgres_url
):
    store = JobStore(tmp_path, database_url=postgres_url)
    try:
        job = queue_job(store)
        with pytest.raises(ServiceBusyError) as lost:
            with store.db.tx() as conn:
                conn.execute("SELECT 1")
                postgres_server.admin.execute(  # every connection of the store: the one in use and the pooled
                    "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = 'videogen_store'"
                )
                conn.execute("SELECT 1")
        assert lost.value.code == ErrorCode.STORE_UNAVAILABLE
        assert store.jobs.get(job.id).status == JobStatus.QUEUED  # a fresh connection, checked out of the pool
    finally:
        store.close()


def test_a_pooled_connection_is_checked_only_when_the_server_may_have_ended_it(
    tmp_path, postgres_server, postgres_url, monkeypatch
):
    """A connection back in the pool a moment ago is used without asking the server first (one round trip less
    per transaction); one idle past ``CHECK_IDLE_AFTER_S``, or one the server ended meanwhile, is checked, and
    the ended one replaced before any statement of the caller runs on it."""
    from psycopg_pool import ConnectionPool

    from videogen.serve.store import database_postgres

    checks = []
    real_check = ConnectionPool.check_connection
    monkeypatch.setattr(ConnectionPool, "check_connection", lambda conn: (checks.append(conn), real_check(conn)))
    monkeypatch.setattr(database_postgres, "CHECK_IDLE_AFTER_S", 0.5)
    store = JobStore(tmp_path, database_url=postgres_url)
    try:
        job = queue_job(store)
        checks.clear()
        for _ in range(5):
            assert store.jobs.get(job.id).status == JobStatus.QUEUED
        assert checks == []  # each checkout came right after a return
        time.sleep(0.6)
        store.jobs.get(job.id)
        assert len(checks) == 1  # idle past the limit: asked
        checks.clear()
        postgres_server.admin.execute(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = 'videogen_store'"
        )
        time.sleep(0.1)  # the server's goodbye reaches the pooled connections
        assert store.jobs.get(job.id).status == JobStatus.QUEUED  # no 503: the ended one was checked and replaced
        assert len(checks) >= 1
    finally:
        store.close()


def test_a_keys_submissions_wait_for_each_other_only_near_its_limits(tmp_path, postgres_url):
    """PostgreSQL: while one submission of a key is in flight (holding a slot), another of the same key on another
    queue goes ahead when the key's counts are far from its limits, and waits for it when they are near."""
    from videogen.serve.store.bounds import QueueBounds
    from videogen.serve.store.database_postgres import OWNER_SLOTS

    store = JobStore(tmp_path, database_url=postgres_url)
    holding, release = threading.Event(), threading.Event()

    def in_flight() -> None:  # a submission of alice's, between its locks and its commit
        with store.db.tx() as conn:
            assert store.db.lock_for_insert(conn, "queue:wan", "owner:alice", alone=False) == OWNER_SLOTS
            holding.set()
            release.wait(10)

    def submit(limit: int, done: list) -> None:
        bounds = QueueBounds(family_max_queued=1000, default_job_seconds=5, owner_max_queued=limit)
        done.append(queue_job(store, family="cogvideox", owner="alice", bounds=bounds).id)

    try:
        holder = threading.Thread(target=in_flight)
        holder.start()
        assert holding.wait(10)
        far: list = []
        submit(1000, far)  # here, at once: 0 queued + 16 in flight at most is far below 1000
        assert len(far) == 1 and holder.is_alive()
        near: list = []
        waiter = threading.Thread(target=submit, args=(OWNER_SLOTS, near))  # 1 queued: 1 + 16 > 16, near
        waiter.start()
        time.sleep(0.5)
        assert near == [] and waiter.is_alive()  # waits for every slot, the held one too
        release.set()
        holder.join(10)
        waiter.join(10)
        assert len(near) == 1  # then counted alone: room for it
    finally:
        release.set()
        store.close()


def test_a_keys_per_minute_count_reads_its_last_minute_by_index(store):
    """``bounds``' count of a key's submissions in the rate window (every submission of a key with limits, once a
    batch) is a range of the (owner, created_at) index (schema step 4), not a walk of every job the key has had."""
    count = "SELECT COUNT(*) FROM jobs WHERE owner=? AND created_at>?"
    conn = store.db.conn()
    if store.db.dialect == "sqlite":
        plan = " ".join(str(tuple(row)) for row in conn.execute(f"EXPLAIN QUERY PLAN {count}", ("alice", 0.0)))
    else:
        with store.db.tx() as tx:  # a small table is read whole by choice: asked whether the index can serve it
            tx.execute("SET LOCAL enable_seqscan = off")
            plan = " ".join(row[0] for row in tx.execute(f"EXPLAIN {count}", ("alice", 0.0)))
    assert "jobs_owner_created" in plan, plan
