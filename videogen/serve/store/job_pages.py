"""Cursor pages of jobs: what the OpenAI-shaped ``/v1/videos`` list route needs (its delete is
``housekeeping.delete_jobs``, the one delete path).

``/api/video/jobs`` pages by offset (``Jobs.list``); ``/v1/videos`` pages after
a job id, in either order, the way OpenAI's list endpoints do. The table's
``seq`` is the order jobs were created in, so it is the cursor.
"""

from __future__ import annotations

from typing import Literal

from videogen.errors import JobNotFoundError
from videogen.serve.store.database import Database
from videogen.serve.store.records import JobRecord


def page_after(
    db: Database, after: str | None, limit: int, order: Literal["asc", "desc"] = "desc", owner: str | None = None
) -> tuple[list[JobRecord], bool]:
    """Up to ``limit`` jobs (``owner``'s only, when given) after the job ``after`` (exclusive) in creation
    order; and whether more follow."""
    conn = db.conn()
    where, args = [], []
    if owner is not None:
        where.append("owner=?")
        args.append(owner)
    if after:
        row = conn.execute("SELECT seq, owner FROM jobs WHERE id=?", (after,)).fetchone()
        if row is None or (owner is not None and row[1] != owner):
            raise JobNotFoundError(f"job {after!r} not found (the 'after' cursor)", job_id=after)
        where.append("seq < ?" if order == "desc" else "seq > ?")
        args.append(row[0])
    clause = ("WHERE " + " AND ".join(where)) if where else ""
    direction = "DESC" if order == "desc" else "ASC"
    rows = conn.execute(f"SELECT * FROM jobs {clause} ORDER BY seq {direction} LIMIT ?", [*args, limit + 1]).fetchall()
    return [JobRecord.from_row(r) for r in rows[:limit]], len(rows) > limit
