"""Removing jobs: the one delete path, and which ended jobs retention removes.

``delete_jobs`` is the only way a job leaves the store, whoever asks (``DELETE /v1/videos/{id}``, the
retention sweep): its files through the store's one removal hook (``JobStore.remove_outputs``: files
under ``state_dir`` or objects in a bucket), then its row and its whole event log in one transaction.
Files first: a removal that fails (the bucket unreachable) raises with the job still there, so the
caller (or the next sweep) tries again and no object is left behind without a row; once the rows go, the
job is gone for every reader, and a worker still running it finds no row and stops.

(An ended job's event log is compacted to its last row by ``EventLog.compact_ended``; that keeps the job.)
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING

from videogen.serve.store.database import Database
from videogen.serve.store.records import TERMINAL

if TYPE_CHECKING:
    from videogen.serve.store.job_store import JobStore

# Jobs removed per transaction: a retention pass over a large backlog never holds one long lock.
DELETE_BATCH = 500


def ended_before(db: Database, finished_before: float, limit: int = DELETE_BATCH) -> list[str]:
    """Up to ``limit`` ended jobs that finished before this time (by the database's clock), oldest first."""
    marks = ",".join("?" * len(TERMINAL))
    rows = db.conn().execute(
        f"SELECT id FROM jobs WHERE status IN ({marks}) AND finished_at < ? ORDER BY finished_at LIMIT ?",
        (*map(str, TERMINAL), finished_before, limit),
    )
    return [r[0] for r in rows]


def delete_jobs(store: JobStore, job_ids: Iterable[str]) -> list[str]:
    """Remove these jobs: files, then rows and event logs; the ids whose rows were there."""
    ids = list(dict.fromkeys(job_ids))
    gone: list[str] = []
    for start in range(0, len(ids), DELETE_BATCH):
        batch = ids[start : start + DELETE_BATCH]
        for job_id in batch:
            store.remove_outputs(job_id)
        marks = ",".join("?" * len(batch))
        with store.db.tx() as conn:
            gone += [r[0] for r in conn.execute(f"DELETE FROM jobs WHERE id IN ({marks}) RETURNING id", batch)]
            conn.execute(f"DELETE FROM events WHERE job_id IN ({marks})", batch)
    return gone
