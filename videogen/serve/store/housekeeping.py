"""What the limits read and the retention sweep deletes: queue load per family, ended jobs past retention."""

from __future__ import annotations

from videogen.serve.store.database import Database
from videogen.serve.store.records import TERMINAL


class Housekeeping:
    def __init__(self, db: Database):
        self.db = db

    def purge_ended(self, finished_before: float, limit: int = 500) -> list[str]:
        """Delete up to ``limit`` ended jobs (and their events) that finished before this time; their ids."""
        marks = ",".join("?" * len(TERMINAL))
        with self.db.tx() as conn:
            ids = [
                r[0]
                for r in conn.execute(
                    f"SELECT id FROM jobs WHERE status IN ({marks}) AND finished_at < ? ORDER BY finished_at LIMIT ?",
                    (*map(str, TERMINAL), finished_before, limit),
                )
            ]
            for job_id in ids:
                conn.execute("DELETE FROM events WHERE job_id=?", (job_id,))
                conn.execute("DELETE FROM jobs WHERE id=?", (job_id,))
        return ids
