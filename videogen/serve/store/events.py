"""The per-job change log that Server-Sent Events replay.

Every visible change of a job appends a snapshot of its record, in the same
transaction as the change, so the log never misses or reorders one. The
event's ``seq`` is the SSE event id: a client that reconnects with
``Last-Event-ID`` gets exactly what came after it. The log keeps records, not
the HTTP shape; the SSE route builds the wire ``Job`` from each.

``ChangeWatch`` tells, cheaply enough to ask every few milliseconds, which jobs
got events since it last looked, whoever wrote them (a worker, this or another
ingress replica): SQLite's ``PRAGMA data_version`` changes when any *other*
connection commits, so the watch keeps a connection of its own that never writes.
"""

from __future__ import annotations

import json
import sqlite3
import time
from collections.abc import Callable, Collection

from videogen.serve.store.database import Database
from videogen.serve.store.records import JobRecord

# Above this many watched jobs, one query over all recent events beats a long IN list.
_MAX_IN_LIST = 256


class EventLog:
    def __init__(self, db: Database):
        self.db = db

    @staticmethod
    def append(conn: sqlite3.Connection, record: JobRecord) -> None:
        """Log ``record`` inside the caller's transaction."""
        conn.execute(
            "INSERT INTO events(job_id, created_at, data) VALUES (?,?,?)",
            (record.id, time.time(), json.dumps(record.snapshot())),
        )

    @staticmethod
    def last_seq(conn: sqlite3.Connection, job_id: str) -> int:
        return conn.execute("SELECT COALESCE(MAX(seq), 0) FROM events WHERE job_id=?", (job_id,)).fetchone()[0]

    def since(self, job_id: str, after_seq: int, limit: int = 200) -> list[tuple[int, JobRecord]]:
        """(seq, record) of the job's events after ``after_seq``, oldest first."""
        rows = self.db.conn().execute(
            "SELECT seq, data FROM events WHERE job_id=? AND seq>? ORDER BY seq LIMIT ?", (job_id, after_seq, limit)
        ).fetchall()
        return [(seq, JobRecord.model_validate_json(data)) for seq, data in rows]


class ChangeWatch:
    """Which watched jobs got events since the last ``poll``; for one thread (the watcher's)."""

    def __init__(self, db: Database):
        # Its own connection, never the thread's shared one: data_version ignores the
        # connection's own commits, so this one only reads.
        self._conn = sqlite3.connect(db.path, timeout=30.0, isolation_level=None, check_same_thread=False)
        self._conn.execute("PRAGMA busy_timeout=30000")
        self._conn.execute("PRAGMA query_only=ON")
        self._version = self._data_version()
        self._seq = self._max_seq()

    def _data_version(self) -> int:
        return self._conn.execute("PRAGMA data_version").fetchone()[0]

    def _max_seq(self) -> int:
        return self._conn.execute("SELECT COALESCE(MAX(seq), 0) FROM events").fetchone()[0]

    def poll(self, watched: Callable[[], Collection[str]]) -> set[str]:
        """The jobs among ``watched()`` with events committed since the last poll.

        ``watched`` is called after the newest seq is read: a job watched only from
        later on has its watcher read the store itself after it started watching, so
        an event this poll skips for it is one that reader sees. Writers commit one
        at a time, so seqs grow in commit order and nothing lands behind ``_seq``.
        """
        version = self._data_version()
        if version == self._version:
            return set()
        self._version = version
        newest = self._max_seq()
        if newest <= self._seq:
            return set()  # a commit without events (heartbeats, leases, replica reports)
        jobs = list(watched())
        after, self._seq = self._seq, newest
        if not jobs:
            return set()
        query = "SELECT DISTINCT job_id FROM events WHERE seq>? AND seq<=?"
        args: list[object] = [after, newest]
        if len(jobs) <= _MAX_IN_LIST:
            query += f" AND job_id IN ({','.join('?' * len(jobs))})"
            args += jobs
        changed = {row[0] for row in self._conn.execute(query, args)}
        return changed if len(jobs) <= _MAX_IN_LIST else changed & set(jobs)

    def close(self) -> None:
        self._conn.close()
