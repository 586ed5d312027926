"""The per-job change log that Server-Sent Events replay.

Every visible change of a job appends a snapshot of its record, in the same
transaction as the change, so the log never misses or reorders one. The
event's ``seq`` is the SSE event id: a client that reconnects with
``Last-Event-ID`` gets exactly what came after it. The log keeps records, not
the HTTP shape; the SSE route builds the wire ``Job`` from each.
"""

from __future__ import annotations

import json
import sqlite3
import time

from videogen.serve.store.database import Database
from videogen.serve.store.records import JobRecord


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
