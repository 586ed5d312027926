"""The transitions of a job from outside its worker: cancel, fail, expire in the queue, retry after its
worker died. Part of the job state machine (``Jobs`` in ``jobs.py`` inherits them); the same rules hold: a
guarded UPDATE each, the database's clock, an event in the same transaction.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from videogen.errors import ErrorCode, error_dict
from videogen.serve.store.records import JobRecord, JobStatus
from videogen.serve.store.records import column_json as _json
from videogen.video.progress import Progress

if TYPE_CHECKING:
    from videogen.serve.store.database import Database

QUEUED, RUNNING, CANCELLED, FAILED = JobStatus.QUEUED, JobStatus.RUNNING, JobStatus.CANCELLED, JobStatus.FAILED


class JobEndings:
    """Mixed into ``Jobs``, whose ``_read`` (``lock=True``: read to change) and ``_changed`` (the record after a
    change, logged as an event) these use."""

    db: Database

    def request_cancel(self, job_id: str, owner: str | None = None) -> JobRecord:
        """A queued job ends now; a running one is flagged and stops at its next denoising step."""
        with self.db.tx() as conn:
            now = self.db.clock(conn)
            rec = self._read(conn, job_id, owner, lock=True)
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
        marks = ",".join("?" * len(only_status))
        with self.db.tx() as conn:
            now = self.db.clock(conn)
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
        with self.db.tx() as conn:
            now = self.db.clock(conn)
            ids = [
                r[0]
                for r in conn.execute(
                    "SELECT id FROM jobs WHERE status=? AND created_at<? ORDER BY seq" + self.db.skip_locked,
                    (str(QUEUED), created_before),
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
        with self.db.tx() as conn:
            now = self.db.clock(conn)
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
        with self.db.tx() as conn:
            now = self.db.clock(conn)
            rec = self._read(conn, job_id, lock=True)
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
