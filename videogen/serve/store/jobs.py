"""The job state machine, on either backend (``database``): every transition is one guarded UPDATE.

    queued --claim--> running --finish--> succeeded | failed | cancelled
    queued --cancel / fail--> cancelled | failed
    running --retry_or_fail (its worker died)--> queued (attempts left) | failed | cancelled

Concurrency rules:
- a worker *claims* a job with one conditional ``UPDATE … RETURNING`` (``status='queued'``),
  so a job dispatched twice runs once; the claim returns a token and every
  later write of that worker is conditioned on it (a worker whose job was
  taken away cannot overwrite the new attempt);
- the running worker refreshes ``heartbeat_at``; the ingress reaper requeues
  (once) or fails jobs whose heartbeat went stale;
- the dispatching ingress holds a lease on each queued job it dispatched;
  a queued job whose lease expired (its ingress died) is dispatched again.

Every visible change appends the job's record to the event log in the same
transaction. Every time written or compared is the database's ``clock`` (on PostgreSQL the
server's, never a node's). A read-then-write reads its row ``FOR UPDATE`` (``db.for_update``; on
SQLite the transaction's write lock already holds it). Methods return ``JobRecord``s (or plain
facts), never the HTTP shape. The transitions from outside a worker (cancel, fail, expire, retry)
are in ``job_endings``; leases and scans in ``job_scans``; inserts in ``job_inserts``.
"""

from __future__ import annotations

import json
import uuid
from typing import Any

from videogen.errors import JobNotFoundError
from videogen.serve.store.database import Connection, Database
from videogen.serve.store.events import EventLog
from videogen.serve.store.job_endings import JobEndings
from videogen.serve.store.job_inserts import JobInserts
from videogen.serve.store.job_scans import LeasesAndScans
from videogen.serve.store.records import TERMINAL, JobRecord, JobStatus
from videogen.serve.store.records import column_json as _json
from videogen.video.progress import STAGES, Progress, StageTiming

QUEUED, RUNNING = JobStatus.QUEUED, JobStatus.RUNNING
# The columns every progress write stamps with the database's clock (an end stamps finished_at too).
_PROGRESS_STAMPS = ("heartbeat_at", "updated_at")


class Jobs(JobInserts, LeasesAndScans, JobEndings):
    def __init__(self, db: Database, events: EventLog):
        self.db = db
        self.events = events

    # -- reads ------------------------------------------------------------------------
    def _read(self, conn: Connection, job_id: str, owner: str | None = None, *, lock: bool = False) -> JobRecord:
        """The job; another owner's job is "not found" too (``owner`` None: any owner). ``lock``: the caller
        changes it next, in this transaction."""
        row = conn.execute("SELECT * FROM jobs WHERE id=?" + (self.db.for_update if lock else ""), (job_id,)).fetchone()
        if row is None or (owner is not None and row["owner"] != owner):
            raise JobNotFoundError(f"job {job_id!r} not found", job_id=job_id)
        return JobRecord.from_row(row)

    def _changed(self, conn: Connection, job_id: str, row: Any = None, *, full: bool = False) -> JobRecord:
        """The job after a change (``row``: as the change returned it), logged as an event in the same transaction
        (``full``: as a full row, nothing read for a delta)."""
        record = JobRecord.from_row(row) if row is not None else self._read(conn, job_id)
        self.events.append(conn, record, full=full)
        return record

    def get(self, job_id: str, owner: str | None = None) -> JobRecord:
        return self._read(self.db.conn(), job_id, owner)

    def exists(self, job_id: str) -> bool:
        """The job's row is still there (a deleted job's worker then leaves no file behind)."""
        return self.db.conn().execute("SELECT 1 FROM jobs WHERE id=?", (job_id,)).fetchone() is not None

    def snapshot(self, job_id: str, owner: str | None = None) -> tuple[JobRecord, int]:
        """The job now and its last event seq, read together (where an SSE stream starts)."""
        with self.db.tx(immediate=False) as conn:
            return self._read(conn, job_id, owner), self.events.last_seq(conn, job_id)

    def list(
        self,
        *,
        limit: int = 20,
        offset: int = 0,
        status: str | None = None,
        family: str | None = None,
        owner: str | None = None,
    ) -> tuple[list[JobRecord], int]:
        """A page of jobs (``owner``'s only, when given), newest first, and how many match in all."""
        where, args = [], []
        if owner is not None:
            where.append("owner=?")
            args.append(owner)
        if status:
            where.append("status=?")
            args.append(str(status))
        if family:
            where.append("family=?")
            args.append(family)
        clause = ("WHERE " + " AND ".join(where)) if where else ""
        conn = self.db.conn()
        total = conn.execute(f"SELECT COUNT(*) FROM jobs {clause}", args).fetchone()[0]
        rows = conn.execute(
            f"SELECT * FROM jobs {clause} ORDER BY created_at DESC, seq DESC LIMIT ? OFFSET ?", [*args, limit, offset]
        ).fetchall()
        return [JobRecord.from_row(r) for r in rows], total

    # -- the worker runs it -----------------------------------------------------------------
    def claim(self, job_id: str, worker: dict[str, Any]) -> JobRecord | None:
        """queued -> running for this worker, atomically; the record carries ``claim_token`` and ``image``."""
        token = uuid.uuid4().hex
        with self.db.tx() as conn:
            now = self.db.clock(conn)
            # A full row: an attempt starts, most fields change, and nothing of the log is read for it (on PostgreSQL
            # the update, its event and the commit are one round trip: ``EventLog.change``).
            row = self.events.change(
                conn,
                """UPDATE jobs SET status=?, claim_token=?, attempts=attempts+1, started_at=?, heartbeat_at=?,
                       worker_json=?, stages_json='[]', error_json=NULL, updated_at=?, progress_json=?
                   WHERE id=? AND status=? AND cancel_requested=0 RETURNING *""",
                (
                    str(RUNNING),
                    token,
                    now,
                    now,
                    _json(worker),
                    now,
                    _json(Progress(stage=STAGES[0])),
                    job_id,
                    str(QUEUED),
                ),
            )
            return JobRecord.from_row(row) if row is not None else None

    def heartbeat(self, job_id: str, token: str) -> bool:
        """Refresh the heartbeat; False when this worker no longer owns the job."""
        with self.db.tx() as conn:
            cur = conn.execute(
                "UPDATE jobs SET heartbeat_at=? WHERE id=? AND claim_token=? AND status=?",
                (self.db.clock(conn), job_id, token, str(RUNNING)),
            )
            return cur.rowcount == 1

    def should_stop(self, job_id: str, token: str) -> bool:
        """True when a cancel was requested or the job was taken away from this claim."""
        row = (
            self.db.conn()
            .execute("SELECT cancel_requested, claim_token, status FROM jobs WHERE id=?", (job_id,))
            .fetchone()
        )
        return row is None or bool(row[0]) or row[1] != token or row[2] != RUNNING

    def update_progress(
        self, job_id: str, token: str, progress: Progress, stages: list[StageTiming] | None = None
    ) -> bool:
        sets = {"progress_json": _json(progress)}
        if stages is not None:
            sets["stages_json"] = _json(stages)
        return self._update_claimed(job_id, token, sets, stamps=_PROGRESS_STAMPS)

    def finish(
        self,
        job_id: str,
        token: str,
        status: JobStatus,
        *,
        progress: Progress | None = None,
        stages: list[StageTiming] | None = None,
        result: dict[str, Any] | None = None,
        error: dict[str, Any] | None = None,
        adjustments: list[dict[str, Any]] | None = None,
        model: dict[str, Any] | None = None,
        params: dict[str, Any] | None = None,
    ) -> bool:
        """End this claim's job; the image is dropped (the job will not run again). ``adjustments``: the
        worker's, listed after those stored at submission (``/v1``'s seconds and size, the ingress's own), less
        any it repeats; the stored ones are never replaced."""
        if status not in TERMINAL:
            raise ValueError(f"finish() ends a job; {status} is not an end state")
        sets: dict[str, Any] = {"status": str(status), "lease_until": None, "image": None}
        given = {
            "progress": progress,
            "stages": stages,
            "result": result,
            "error": error,
            "model": model,
            "params": params,
        }
        sets.update({f"{k}_json": _json(v) for k, v in given.items() if v is not None})
        return self._update_claimed(job_id, token, sets, adjustments, stamps=("finished_at", *_PROGRESS_STAMPS))

    def _update_claimed(
        self,
        job_id: str,
        token: str,
        sets: dict[str, Any],
        adjustments: list[dict[str, Any]] | None = None,
        *,
        stamps: tuple[str, ...],
    ) -> bool:
        """Update a running job only while this claim still owns it; records an event when it does. The
        ``stamps`` columns get the database's time. ``adjustments`` are added to the stored ones (those not
        already there), in the same transaction."""
        with self.db.tx() as conn:
            now = self.db.clock(conn)
            sets = {**sets, **dict.fromkeys(stamps, now)}
            if adjustments:
                row = conn.execute(
                    "SELECT adjustments_json FROM jobs WHERE id=?" + self.db.for_update, (job_id,)
                ).fetchone()
                stored = json.loads(row[0]) if row and row[0] else []
                added = [a for a in json.loads(_json(adjustments)) if a not in stored]
                sets = {**sets, "adjustments_json": json.dumps([*stored, *added])}
            update = (
                f"UPDATE jobs SET {', '.join(f'{col}=?' for col in sets)} WHERE id=? AND claim_token=? AND status=? "
                "RETURNING *",
                [*sets.values(), job_id, token, str(RUNNING)],
            )
            if "status" in sets:  # an end (``finish``): a full row, sent with the commit (``EventLog.change``)
                return self.events.change(conn, *update) is not None
            # A progress write: the update and the read of the log its delta needs, in one round trip.
            rows, chain = self.db.execute_each(conn, update, self.events.chain_query(job_id))
            if not rows:
                return False
            self.events.append(conn, JobRecord.from_row(rows[0]), chain=chain)
            return True
