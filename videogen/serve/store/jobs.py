"""The job state machine, in SQLite: every transition is one guarded UPDATE.

    queued --claim--> running --finish--> succeeded | failed | cancelled
    queued --cancel / fail--> cancelled | failed
    running --retry_or_fail (its worker died)--> queued (attempts left) | failed | cancelled

Concurrency rules:
- a worker *claims* a job with one conditional UPDATE (``status='queued'``),
  so a job dispatched twice runs once; the claim returns a token and every
  later write of that worker is conditioned on it (a worker whose job was
  taken away cannot overwrite the new attempt);
- the running worker refreshes ``heartbeat_at``; the ingress reaper requeues
  (once) or fails jobs whose heartbeat went stale;
- the dispatching ingress holds a lease on each queued job it dispatched;
  a queued job whose lease expired (its ingress died) is dispatched again.

Every visible change appends the job's record to the event log in the same
transaction. Methods return ``JobRecord``s (or plain facts), never the HTTP shape.
"""

from __future__ import annotations

import json
import sqlite3
import time
import uuid
from typing import Any

from videogen.errors import ErrorCode, JobNotFoundError, error_dict
from videogen.serve.store import bounds as queue_bounds
from videogen.serve.store.database import Database
from videogen.serve.store.events import EventLog
from videogen.serve.store.job_scans import LeasesAndScans
from videogen.serve.store.records import TERMINAL, JobRecord, JobStatus
from videogen.video.progress import STAGES, Progress, StageTiming

QUEUED, RUNNING, CANCELLED, FAILED = JobStatus.QUEUED, JobStatus.RUNNING, JobStatus.CANCELLED, JobStatus.FAILED


def new_job_id() -> str:
    return "job_" + uuid.uuid4().hex[:20]


def _json(value: Any) -> str:
    """JSON text of a column value (pydantic models dumped as JSON-ready data)."""
    if isinstance(value, list):
        value = [v.model_dump(mode="json") if hasattr(v, "model_dump") else v for v in value]
    elif hasattr(value, "model_dump"):
        value = value.model_dump(mode="json")
    return json.dumps(value)


class Jobs(LeasesAndScans):
    def __init__(self, db: Database, events: EventLog):
        self.db = db
        self.events = events

    # -- reads ------------------------------------------------------------------------
    @staticmethod
    def _read(conn: sqlite3.Connection, job_id: str, owner: str | None = None) -> JobRecord:
        """The job; another owner's job is "not found" too (``owner`` None: any owner)."""
        row = conn.execute("SELECT * FROM jobs WHERE id=?", (job_id,)).fetchone()
        if row is None or (owner is not None and row["owner"] != owner):
            raise JobNotFoundError(f"job {job_id!r} not found", job_id=job_id)
        return JobRecord.from_row(row)

    def _changed(self, conn: sqlite3.Connection, job_id: str) -> JobRecord:
        """The job after a change, logged as an event in the same transaction."""
        record = self._read(conn, job_id)
        self.events.append(conn, record)
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

    # -- the ingress queues a job ------------------------------------------------------------
    def create(
        self,
        *,
        family: str,
        task: str,
        request: dict[str, Any],
        image: str | None,
        model: dict[str, Any] | None,
        params: dict[str, Any] | None,
        adjustments: list[dict[str, Any]],
        progress: Progress,
        max_attempts: int,
        dispatcher: str | None,
        lease_s: float,
        job_id: str | None = None,
        estimate: dict[str, Any] | None = None,
        owner: str | None = None,
        bounds: queue_bounds.QueueBounds | None = None,
        model_name: str | None = None,
    ) -> JobRecord:
        """Insert a queued job (on the served model ``model_name``; None: the family's default); with ``bounds``,
        refused (nothing written) unless it fits them, atomically."""
        job_id = job_id or new_job_id()
        now = time.time()
        with self.db.tx() as conn:
            if bounds is not None:
                queue_bounds.check(conn, bounds, family, owner, now)
            conn.execute(
                """INSERT INTO jobs(id, status, family, task, request_json, image, model_json, params_json,
                       adjustments_json, progress_json, estimate_json, created_at, updated_at, max_attempts,
                       dispatcher, lease_until, owner, model_name)
                   VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)""",
                (
                    job_id,
                    str(QUEUED),
                    family,
                    task,
                    _json(request),
                    image,
                    _json(model),
                    _json(params),
                    _json(adjustments),
                    _json(progress),
                    _json(estimate) if estimate is not None else None,
                    now,
                    now,
                    max_attempts,
                    dispatcher,
                    now + lease_s if dispatcher else None,
                    owner,
                    model_name,
                ),
            )
            return self._changed(conn, job_id)

    # -- the worker runs it -----------------------------------------------------------------
    def claim(self, job_id: str, worker: dict[str, Any]) -> JobRecord | None:
        """queued -> running for this worker, atomically; the record carries ``claim_token`` and ``image``."""
        token = uuid.uuid4().hex
        now = time.time()
        with self.db.tx() as conn:
            cur = conn.execute(
                """UPDATE jobs SET status=?, claim_token=?, attempts=attempts+1, started_at=?, heartbeat_at=?,
                       worker_json=?, stages_json='[]', error_json=NULL, updated_at=?, progress_json=?
                   WHERE id=? AND status=? AND cancel_requested=0""",
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
            if cur.rowcount != 1:
                return None
            return self._changed(conn, job_id)

    def heartbeat(self, job_id: str, token: str) -> bool:
        """Refresh the heartbeat; False when this worker no longer owns the job."""
        with self.db.tx() as conn:
            cur = conn.execute(
                "UPDATE jobs SET heartbeat_at=? WHERE id=? AND claim_token=? AND status=?",
                (time.time(), job_id, token, str(RUNNING)),
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
        now = time.time()
        sets = {"progress_json": _json(progress), "heartbeat_at": now, "updated_at": now}
        if stages is not None:
            sets["stages_json"] = _json(stages)
        return self._update_claimed(job_id, token, sets)

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
        now = time.time()
        sets: dict[str, Any] = {
            "status": str(status),
            "finished_at": now,
            "updated_at": now,
            "heartbeat_at": now,
            "lease_until": None,
            "image": None,
        }
        given = {
            "progress": progress,
            "stages": stages,
            "result": result,
            "error": error,
            "model": model,
            "params": params,
        }
        sets.update({f"{k}_json": _json(v) for k, v in given.items() if v is not None})
        return self._update_claimed(job_id, token, sets, adjustments)

    def _update_claimed(
        self, job_id: str, token: str, sets: dict[str, Any], adjustments: list[dict[str, Any]] | None = None
    ) -> bool:
        """Update a running job only while this claim still owns it; records an event when it does.
        ``adjustments`` are added to the stored ones (those not already there), in the same transaction."""
        with self.db.tx() as conn:
            if adjustments:
                row = conn.execute("SELECT adjustments_json FROM jobs WHERE id=?", (job_id,)).fetchone()
                stored = json.loads(row[0]) if row and row[0] else []
                added = [a for a in json.loads(_json(adjustments)) if a not in stored]
                sets = {**sets, "adjustments_json": json.dumps([*stored, *added])}
            cur = conn.execute(
                f"UPDATE jobs SET {', '.join(f'{col}=?' for col in sets)} WHERE id=? AND claim_token=? AND status=?",
                [*sets.values(), job_id, token, str(RUNNING)],
            )
            if cur.rowcount != 1:
                return False
            self._changed(conn, job_id)
            return True

    # -- the ingress ends or hands over a job ------------------------------------------------------
    def request_cancel(self, job_id: str, owner: str | None = None) -> JobRecord:
        """A queued job ends now; a running one is flagged and stops at its next denoising step."""
        now = time.time()
        with self.db.tx() as conn:
            rec = self._read(conn, job_id, owner)
            if rec.status == QUEUED:
                conn.execute(
                    """UPDATE jobs SET status=?, cancel_requested=1, finished_at=?, updated_at=?, lease_until=NULL,
                           image=NULL, error_json=? WHERE id=?""",
                    (
                        str(CANCELLED),
                        now,
                        now,
                        _json(error_dict(ErrorCode.CANCELLED, "cancelled before it started")),
                        job_id,
                    ),
                )
            elif rec.status == RUNNING and not rec.cancel_requested:
                conn.execute("UPDATE jobs SET cancel_requested=1, updated_at=? WHERE id=?", (now, job_id))
            else:
                return rec
            return self._changed(conn, job_id)

    def fail(self, job_id: str, error: dict[str, Any], *, only_status: tuple[JobStatus, ...] = (QUEUED,)) -> bool:
        """Fail a job from outside a worker (e.g. its family is no longer served)."""
        now = time.time()
        marks = ",".join("?" * len(only_status))
        with self.db.tx() as conn:
            cur = conn.execute(
                f"""UPDATE jobs SET status=?, finished_at=?, updated_at=?, lease_until=NULL, image=NULL, error_json=?
                    WHERE id=? AND status IN ({marks})""",
                (str(FAILED), now, now, _json(error), job_id, *map(str, only_status)),
            )
            if cur.rowcount != 1:
                return False
            self._changed(conn, job_id)
            return True

    def expire_queued(self, created_before: float, error: dict[str, Any]) -> list[str]:
        """Fail every job still queued that was submitted before ``created_before`` (``queue_timeout_s``); their ids."""
        now = time.time()
        with self.db.tx() as conn:
            ids = [
                r[0]
                for r in conn.execute(
                    "SELECT id FROM jobs WHERE status=? AND created_at<? ORDER BY seq", (str(QUEUED), created_before)
                )
            ]
            for job_id in ids:
                conn.execute(
                    """UPDATE jobs SET status=?, finished_at=?, updated_at=?, lease_until=NULL, image=NULL,
                                    error_json=? WHERE id=?""",
                    (str(FAILED), now, now, _json(error), job_id),
                )
                self._changed(conn, job_id)
        return ids

    def fail_claim(self, job_id: str, token: str, error: dict[str, Any]) -> bool:
        """Fail a running job from outside its worker (e.g. it ran past the timeout); the worker's writes stop counting."""
        now = time.time()
        with self.db.tx() as conn:
            cur = conn.execute(
                """UPDATE jobs SET status=?, claim_token=NULL, finished_at=?, updated_at=?, lease_until=NULL, image=NULL,
                       error_json=? WHERE id=? AND claim_token=? AND status=?""",
                (str(FAILED), now, now, _json(error), job_id, token, str(RUNNING)),
            )
            if cur.rowcount != 1:
                return False
            self._changed(conn, job_id)
            return True

    def retry_or_fail(
        self, job_id: str, token: str, reason: str, *, dispatcher: str | None, lease_s: float
    ) -> JobStatus | None:
        """The worker of this claim died: back to queued if attempts remain, else failed.

        Returns the new status, or None when the claim had already changed. A job that ends here
        (failed or cancelled) drops its input image, as every end does; a re-queued one keeps it.
        """
        now = time.time()
        with self.db.tx() as conn:
            rec = self._read(conn, job_id)
            if rec.status != RUNNING or rec.claim_token != token:
                return None
            history = [*rec.history, {"attempt": rec.attempts, "worker": rec.worker, "ended_at": now, "reason": reason}]
            progress = rec.progress
            if rec.cancel_requested:
                status, error = CANCELLED, error_dict(ErrorCode.CANCELLED, f"cancelled; {reason}")
            elif rec.attempts < rec.max_attempts:
                status, error = QUEUED, None
                progress = Progress.queued(note=f"retrying: {reason}")
            else:
                status = FAILED
                error = error_dict(ErrorCode.WORKER_DIED, f"{reason}; gave up after {rec.attempts} attempt(s)")
            requeued = status == QUEUED
            conn.execute(
                """UPDATE jobs SET status=?, claim_token=NULL, history_json=?, error_json=?, updated_at=?,
                       finished_at=?, dispatcher=?, lease_until=?, progress_json=?,
                       image=CASE WHEN ? THEN image END
                   WHERE id=?""",
                (
                    str(status),
                    _json(history),
                    _json(error) if error else None,
                    now,
                    None if requeued else now,
                    dispatcher if requeued else None,
                    now + lease_s if requeued and dispatcher else None,
                    _json(progress),
                    requeued,
                    job_id,
                ),
            )
            self._changed(conn, job_id)
            return status
