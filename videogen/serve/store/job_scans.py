"""The dispatch leases on queued jobs, the scans the reaper runs and the job counts: one named query each.

Part of the job state machine (``Jobs`` in ``jobs.py`` inherits them): leases are how an ingress says
"I am dispatching this queued job"; the scans find work whose owner stopped answering (an expired lease,
a stale heartbeat, a job past its timeout). Times are the database's ``clock``; a scan skips the rows a
writer holds right now (``db.skip_locked``: a heartbeat being written is not reaped, nor waited for).
"""

from __future__ import annotations

from collections.abc import Collection

from videogen.serve.store.database import Database
from videogen.serve.store.records import JobStatus

QUEUED, RUNNING = JobStatus.QUEUED, JobStatus.RUNNING


class LeasesAndScans:
    db: Database

    # -- counts ----------------------------------------------------------------------------------
    def counts(self) -> dict[str, dict[str, int]]:
        """family -> status -> number of jobs."""
        out: dict[str, dict[str, int]] = {}
        for row in self.db.conn().execute("SELECT family, status, COUNT(*) FROM jobs GROUP BY family, status"):
            out.setdefault(row[0], {})[row[1]] = row[2]
        return out

    def answers(self) -> None:
        """One read of the jobs table, by its index: the store answers (a health check), whatever it holds (the
        counts read every job the retention keeps, per probe)."""
        self.db.conn().execute("SELECT seq FROM jobs ORDER BY seq LIMIT 1").fetchall()

    def counts_by_model(self, statuses: Collection[str] | None = None) -> dict[tuple[str, str | None], dict[str, int]]:
        """(family, model name) -> status -> number of jobs (name None: rows from before named models); only those
        in ``statuses`` when given: read through the status index, so a count of the waiting work (the autoscaler's,
        every worker's at each job's end) walks what waits, not every job the retention keeps."""
        where, args = "", ()
        if statuses is not None:
            args = tuple(map(str, statuses))
            where = f" WHERE status IN ({','.join('?' * len(args))})"
        out: dict[tuple[str, str | None], dict[str, int]] = {}
        sql = f"SELECT family, model_name, status, COUNT(*) FROM jobs{where} GROUP BY family, model_name, status"
        for row in self.db.conn().execute(sql, args):
            out.setdefault((row[0], row[1]), {})[row[2]] = row[3]
        return out

    # -- dispatch leases and what the reaper looks for -----------------------------------------
    def acquire_lease(self, job_id: str, dispatcher: str, lease_s: float) -> bool:
        """Take over dispatching a queued job whose lease is free or expired (or already ours)."""
        with self.db.tx() as conn:
            now = self.db.clock(conn)
            cur = conn.execute(
                """UPDATE jobs SET dispatcher=?, lease_until=?
                   WHERE id=? AND status=? AND (dispatcher IS NULL OR dispatcher=? OR lease_until IS NULL OR lease_until<?)""",
                (dispatcher, now + lease_s, job_id, str(QUEUED), dispatcher, now),
            )
            return cur.rowcount == 1

    def renew_leases(self, dispatcher: str, lease_s: float) -> int:
        with self.db.tx() as conn:
            cur = conn.execute(
                "UPDATE jobs SET lease_until=? WHERE dispatcher=? AND status IN (?,?)",
                (self.db.clock(conn) + lease_s, dispatcher, str(QUEUED), str(RUNNING)),
            )
            return cur.rowcount

    def orphaned_queued(self, dispatcher: str) -> list[str]:
        """Queued jobs nobody is dispatching (their ingress died)."""
        conn = self.db.conn()
        rows = conn.execute(
            """SELECT id FROM jobs WHERE status=? AND (dispatcher IS NULL OR lease_until IS NULL OR lease_until<?)
               AND (dispatcher IS NULL OR dispatcher<>?) ORDER BY seq"""
            + self.db.skip_locked,
            (str(QUEUED), self.db.clock(conn), dispatcher),
        ).fetchall()
        return [r[0] for r in rows]

    def queued_by(self, dispatcher: str) -> list[tuple[str, str, str | None]]:
        """(id, family, model name) of the queued jobs this dispatcher holds the lease of; the stored name is
        what routes a job (None: a row from before named models, the family's default)."""
        rows = (
            self.db.conn()
            .execute(
                "SELECT id, family, model_name FROM jobs WHERE status=? AND dispatcher=? ORDER BY seq",
                (str(QUEUED), dispatcher),
            )
            .fetchall()
        )
        return [(r[0], r[1], r[2]) for r in rows]

    def stale_running(self, heartbeat_timeout_s: float) -> list[tuple[str, str]]:
        """(id, claim token) of running jobs without a heartbeat for this long."""
        conn = self.db.conn()
        rows = conn.execute(
            "SELECT id, claim_token FROM jobs WHERE status=? AND (heartbeat_at IS NULL OR heartbeat_at<?)"
            + self.db.skip_locked,
            (str(RUNNING), self.db.clock(conn) - heartbeat_timeout_s),
        ).fetchall()
        return [(r[0], r[1]) for r in rows]

    def overdue_running(self, timeout_s: float) -> list[tuple[str, str]]:
        """(id, claim token) of running jobs started more than ``timeout_s`` ago."""
        conn = self.db.conn()
        rows = conn.execute(
            "SELECT id, claim_token FROM jobs WHERE status=? AND started_at<?" + self.db.skip_locked,
            (str(RUNNING), self.db.clock(conn) - timeout_s),
        ).fetchall()
        return [(r[0], r[1]) for r in rows]
