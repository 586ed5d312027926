"""Durable job records: SQLite (WAL) plus MP4 files under the state directory.

Every ingress and worker replica opens the same database (``state_dir`` must
be one shared file system across nodes: a local disk on one machine, a
ReadWriteMany volume on Kubernetes). Nothing about a job lives only in a
process's memory, so an ingress or worker restart loses nothing.

Concurrency rules:
- a worker *claims* a job with one conditional UPDATE (``status='queued'``),
  so a job dispatched twice runs once; the claim returns a token and every
  later write of that worker is conditioned on it (a worker whose job was
  taken away cannot overwrite the new attempt);
- the running worker refreshes ``heartbeat_at``; the ingress reaper requeues
  (once) or fails jobs whose heartbeat went stale;
- the dispatching ingress holds a lease on each queued job it dispatched;
  a queued job whose lease expired (its ingress died) is dispatched again.

Every visible change appends the job's JSON to ``events`` (for SSE replay).
"""

from __future__ import annotations

import json
import os
import sqlite3
import threading
import time
import uuid
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Iterator

from videogen.errors import JobNotFoundError

QUEUED, RUNNING, SUCCEEDED, FAILED, CANCELLED = "queued", "running", "succeeded", "failed", "cancelled"
STATUSES = (QUEUED, RUNNING, SUCCEEDED, FAILED, CANCELLED)
TERMINAL = frozenset({SUCCEEDED, FAILED, CANCELLED})

_SCHEMA = """
CREATE TABLE IF NOT EXISTS jobs (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    id TEXT NOT NULL UNIQUE,
    status TEXT NOT NULL,
    family TEXT NOT NULL,
    task TEXT NOT NULL,
    request_json TEXT NOT NULL,
    image TEXT,
    model_json TEXT,
    params_json TEXT,
    adjustments_json TEXT NOT NULL DEFAULT '[]',
    progress_json TEXT,
    stages_json TEXT NOT NULL DEFAULT '[]',
    error_json TEXT,
    result_json TEXT,
    worker_json TEXT,
    history_json TEXT NOT NULL DEFAULT '[]',
    created_at REAL NOT NULL,
    started_at REAL,
    finished_at REAL,
    updated_at REAL NOT NULL,
    attempts INTEGER NOT NULL DEFAULT 0,
    max_attempts INTEGER NOT NULL DEFAULT 2,
    claim_token TEXT,
    heartbeat_at REAL,
    dispatcher TEXT,
    lease_until REAL,
    cancel_requested INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX IF NOT EXISTS jobs_status ON jobs(status);
CREATE INDEX IF NOT EXISTS jobs_created ON jobs(created_at);
CREATE TABLE IF NOT EXISTS events (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    job_id TEXT NOT NULL,
    created_at REAL NOT NULL,
    data TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS events_job ON events(job_id, seq);
CREATE TABLE IF NOT EXISTS replicas (
    replica_id TEXT PRIMARY KEY,
    family TEXT NOT NULL,
    deployment TEXT,
    app TEXT,
    node_id TEXT,
    node_ip TEXT,
    pid INTEGER,
    state TEXT NOT NULL,
    diagnostics_json TEXT,
    models_json TEXT,
    started_at REAL NOT NULL,
    last_seen REAL NOT NULL
);
"""

# Columns whose JSON is decoded when a row is read.
_JSON_COLUMNS = ("request", "model", "params", "adjustments", "progress", "stages", "error", "result", "worker", "history")


def new_job_id() -> str:
    return "job_" + uuid.uuid4().hex[:20]


def video_url(job_id: str) -> str:
    return f"/api/video/jobs/{job_id}/video"


class JobStore:
    """One SQLite database and a videos directory. Thread-safe: a connection per thread."""

    def __init__(self, state_dir: str | os.PathLike, journal_mode: str = "WAL"):
        self.state_dir = Path(state_dir)
        self.videos_dir = self.state_dir / "videos"
        self.videos_dir.mkdir(parents=True, exist_ok=True)
        self.db_path = self.state_dir / "jobs.sqlite3"
        self.journal_mode = journal_mode
        self._local = threading.local()
        conn = self._conn()
        for attempt in range(20):
            try:
                conn.executescript(_SCHEMA)
                break
            except sqlite3.OperationalError as exc:  # concurrent replicas creating the schema
                if "locked" not in str(exc) or attempt == 19:
                    raise
                time.sleep(0.1 * (attempt + 1))

    # -- connections ---------------------------------------------------------
    def _conn(self) -> sqlite3.Connection:
        conn = getattr(self._local, "conn", None)
        if conn is None:
            conn = sqlite3.connect(self.db_path, timeout=30.0, isolation_level=None, check_same_thread=False)
            conn.row_factory = sqlite3.Row
            conn.execute("PRAGMA busy_timeout=30000")
            for attempt in range(20):
                try:
                    conn.execute(f"PRAGMA journal_mode={self.journal_mode}")
                    break
                except sqlite3.OperationalError:
                    time.sleep(0.05 * (attempt + 1))
            conn.execute("PRAGMA synchronous=NORMAL" if self.journal_mode == "WAL" else "PRAGMA synchronous=FULL")
            self._local.conn = conn
        return conn

    @contextmanager
    def _tx(self, immediate: bool = True) -> Iterator[sqlite3.Connection]:
        conn = self._conn()
        conn.execute("BEGIN IMMEDIATE" if immediate else "BEGIN")
        try:
            yield conn
        except BaseException:
            conn.execute("ROLLBACK")
            raise
        else:
            conn.execute("COMMIT")

    def close(self) -> None:
        conn = getattr(self._local, "conn", None)
        if conn is not None:
            conn.close()
            self._local.conn = None

    # -- rows <-> job JSON ------------------------------------------------------
    @staticmethod
    def _decode(row: sqlite3.Row) -> dict[str, Any]:
        data = dict(row)
        for name in _JSON_COLUMNS:
            raw = data.pop(f"{name}_json", None)
            data[name] = json.loads(raw) if raw else None
        return data

    @staticmethod
    def to_public(rec: dict[str, Any]) -> dict[str, Any]:
        """The job JSON of the HTTP API."""
        result = rec.get("result")
        if result is not None:
            result = {**result, "video_url": video_url(rec["id"])}
        return {
            "id": rec["id"],
            "status": rec["status"],
            "family": rec["family"],
            "task": rec["task"],
            "model": rec.get("model"),
            "request": rec.get("request"),
            "params": rec.get("params"),
            "adjustments": rec.get("adjustments") or [],
            "progress": rec.get("progress"),
            "stages": rec.get("stages") or [],
            "error": rec.get("error"),
            "result": result,
            "created_at": rec["created_at"],
            "started_at": rec.get("started_at"),
            "finished_at": rec.get("finished_at"),
            "updated_at": rec.get("updated_at"),
            "attempts": rec.get("attempts", 0),
            "max_attempts": rec.get("max_attempts"),
            "cancel_requested": bool(rec.get("cancel_requested")),
            "worker": rec.get("worker"),
            "history": rec.get("history") or [],
        }

    def _row(self, conn: sqlite3.Connection, job_id: str) -> dict[str, Any]:
        row = conn.execute("SELECT * FROM jobs WHERE id=?", (job_id,)).fetchone()
        if row is None:
            raise JobNotFoundError(f"job {job_id!r} not found", job_id=job_id)
        return self._decode(row)

    def _event(self, conn: sqlite3.Connection, job_id: str) -> dict[str, Any]:
        """Append the job's current JSON to the event log; returns it."""
        job = self.to_public(self._row(conn, job_id))
        conn.execute(
            "INSERT INTO events(job_id, created_at, data) VALUES (?,?,?)", (job_id, time.time(), json.dumps(job))
        )
        return job

    # -- creation and reads ---------------------------------------------------------
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
        progress: dict[str, Any],
        max_attempts: int,
        dispatcher: str | None,
        lease_s: float,
        job_id: str | None = None,
    ) -> dict[str, Any]:
        job_id = job_id or new_job_id()
        now = time.time()
        with self._tx() as conn:
            conn.execute(
                """INSERT INTO jobs(id, status, family, task, request_json, image, model_json, params_json,
                       adjustments_json, progress_json, created_at, updated_at, max_attempts, dispatcher, lease_until)
                   VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)""",
                (
                    job_id, QUEUED, family, task, json.dumps(request), image, json.dumps(model), json.dumps(params),
                    json.dumps(adjustments), json.dumps(progress), now, now, max_attempts, dispatcher,
                    now + lease_s if dispatcher else None,
                ),
            )
            return self._event(conn, job_id)

    def get(self, job_id: str) -> dict[str, Any]:
        return self.to_public(self._row(self._conn(), job_id))

    def get_record(self, job_id: str) -> dict[str, Any]:
        """The full row (claim token, lease, heartbeat) for the dispatcher and tests."""
        return self._row(self._conn(), job_id)

    def list(self, *, limit: int = 20, offset: int = 0, status: str | None = None, family: str | None = None):
        where, args = [], []
        if status:
            where.append("status=?")
            args.append(status)
        if family:
            where.append("family=?")
            args.append(family)
        clause = ("WHERE " + " AND ".join(where)) if where else ""
        conn = self._conn()
        total = conn.execute(f"SELECT COUNT(*) FROM jobs {clause}", args).fetchone()[0]
        rows = conn.execute(
            f"SELECT * FROM jobs {clause} ORDER BY created_at DESC, seq DESC LIMIT ? OFFSET ?", [*args, limit, offset]
        ).fetchall()
        return [self.to_public(self._decode(r)) for r in rows], total

    def counts(self) -> dict[str, dict[str, int]]:
        out: dict[str, dict[str, int]] = {}
        for row in self._conn().execute("SELECT family, status, COUNT(*) FROM jobs GROUP BY family, status"):
            out.setdefault(row[0], {})[row[1]] = row[2]
        return out

    def video_path(self, job_id: str) -> Path:
        return self.videos_dir / f"{job_id}.mp4"

    # -- events (SSE) -------------------------------------------------------------
    def snapshot(self, job_id: str) -> tuple[dict[str, Any], int]:
        """The job now and the last event seq, read together."""
        with self._tx(immediate=False) as conn:
            job = self.to_public(self._row(conn, job_id))
            seq = conn.execute("SELECT COALESCE(MAX(seq), 0) FROM events WHERE job_id=?", (job_id,)).fetchone()[0]
        return job, seq

    def events_since(self, job_id: str, after_seq: int, limit: int = 200) -> list[tuple[int, str]]:
        rows = self._conn().execute(
            "SELECT seq, data FROM events WHERE job_id=? AND seq>? ORDER BY seq LIMIT ?", (job_id, after_seq, limit)
        ).fetchall()
        return [(r[0], r[1]) for r in rows]

    # -- worker side -------------------------------------------------------------------
    def claim(self, job_id: str, worker: dict[str, Any]) -> dict[str, Any] | None:
        """queued -> running for this worker, atomically. Returns the record with ``claim_token`` and ``image``."""
        token = uuid.uuid4().hex
        now = time.time()
        with self._tx() as conn:
            cur = conn.execute(
                """UPDATE jobs SET status=?, claim_token=?, attempts=attempts+1, started_at=?, heartbeat_at=?,
                       worker_json=?, stages_json='[]', error_json=NULL, updated_at=?,
                       progress_json=?
                   WHERE id=? AND status=? AND cancel_requested=0""",
                (
                    RUNNING, token, now, now, json.dumps(worker), now,
                    json.dumps({"stage": "runtime_diagnostics", "step": None, "total_steps": None, "percent": 0.0, "eta_s": None}),
                    job_id, QUEUED,
                ),
            )
            if cur.rowcount != 1:
                return None
            self._event(conn, job_id)
            return self._row(conn, job_id)

    def heartbeat(self, job_id: str, token: str) -> bool:
        """Refresh the heartbeat; False when this worker no longer owns the job."""
        with self._tx() as conn:
            cur = conn.execute(
                "UPDATE jobs SET heartbeat_at=? WHERE id=? AND claim_token=? AND status=?",
                (time.time(), job_id, token, RUNNING),
            )
            return cur.rowcount == 1

    def should_stop(self, job_id: str, token: str) -> bool:
        """True when a cancel was requested or the job was taken away from this claim."""
        row = self._conn().execute(
            "SELECT cancel_requested, claim_token, status FROM jobs WHERE id=?", (job_id,)
        ).fetchone()
        return row is None or bool(row[0]) or row[1] != token or row[2] != RUNNING

    def update_progress(
        self, job_id: str, token: str, progress: dict[str, Any], stages: list[dict[str, Any]] | None = None,
        *, extra: dict[str, Any] | None = None,
    ) -> bool:
        sets = ["progress_json=?", "heartbeat_at=?", "updated_at=?"]
        now = time.time()
        args: list[Any] = [json.dumps(progress), now, now]
        if stages is not None:
            sets.append("stages_json=?")
            args.append(json.dumps(stages))
        for key, value in (extra or {}).items():
            sets.append(f"{key}_json=?")
            args.append(json.dumps(value))
        return self._update_claimed(job_id, token, sets, args)

    def finish(
        self,
        job_id: str,
        token: str,
        status: str,
        *,
        progress: dict[str, Any] | None = None,
        stages: list[dict[str, Any]] | None = None,
        result: dict[str, Any] | None = None,
        error: dict[str, Any] | None = None,
        adjustments: list[dict[str, Any]] | None = None,
        model: dict[str, Any] | None = None,
        params: dict[str, Any] | None = None,
    ) -> bool:
        assert status in TERMINAL
        now = time.time()
        sets = {"status": status, "finished_at": now, "updated_at": now, "heartbeat_at": now, "lease_until": None, "image": None}
        json_sets = {"progress": progress, "stages": stages, "result": result, "error": error,
                     "adjustments": adjustments, "model": model, "params": params}
        cols = [f"{k}=?" for k in sets] + [f"{k}_json=?" for k, v in json_sets.items() if v is not None]
        args = list(sets.values()) + [json.dumps(v) for v in json_sets.values() if v is not None]
        return self._update_claimed(job_id, token, cols, args)

    def _update_claimed(self, job_id: str, token: str, cols: list[str], args: list[Any]) -> bool:
        """Update a running job only while this claim still owns it; records an event when it does."""
        with self._tx() as conn:
            cur = conn.execute(
                f"UPDATE jobs SET {', '.join(cols)} WHERE id=? AND claim_token=? AND status=?",
                [*args, job_id, token, RUNNING],
            )
            if cur.rowcount != 1:
                return False
            self._event(conn, job_id)
            return True

    # -- ingress side -------------------------------------------------------------------
    def request_cancel(self, job_id: str) -> dict[str, Any]:
        """A queued job ends now; a running one is flagged and stops at its next denoising step."""
        now = time.time()
        with self._tx() as conn:
            rec = self._row(conn, job_id)
            if rec["status"] == QUEUED:
                conn.execute(
                    """UPDATE jobs SET status=?, cancel_requested=1, finished_at=?, updated_at=?, lease_until=NULL,
                           image=NULL, error_json=? WHERE id=?""",
                    (CANCELLED, now, now, json.dumps({"code": "cancelled", "message": "cancelled before it started"}), job_id),
                )
            elif rec["status"] == RUNNING and not rec["cancel_requested"]:
                conn.execute("UPDATE jobs SET cancel_requested=1, updated_at=? WHERE id=?", (now, job_id))
            else:
                return self.to_public(rec)
            return self._event(conn, job_id)

    def fail(self, job_id: str, code: str, message: str, *, only_status: tuple[str, ...] = (QUEUED,)) -> bool:
        """Fail a job from outside a worker (e.g. its family is no longer served)."""
        now = time.time()
        marks = ",".join("?" * len(only_status))
        with self._tx() as conn:
            cur = conn.execute(
                f"""UPDATE jobs SET status=?, finished_at=?, updated_at=?, lease_until=NULL, image=NULL, error_json=?
                    WHERE id=? AND status IN ({marks})""",
                (FAILED, now, now, json.dumps({"code": code, "message": message}), job_id, *only_status),
            )
            if cur.rowcount != 1:
                return False
            self._event(conn, job_id)
            return True

    def acquire_lease(self, job_id: str, dispatcher: str, lease_s: float) -> bool:
        """Take over dispatching a queued job whose lease is free or expired (or already ours)."""
        now = time.time()
        with self._tx() as conn:
            cur = conn.execute(
                """UPDATE jobs SET dispatcher=?, lease_until=?
                   WHERE id=? AND status=? AND (dispatcher IS NULL OR dispatcher=? OR lease_until IS NULL OR lease_until<?)""",
                (dispatcher, now + lease_s, job_id, QUEUED, dispatcher, now),
            )
            return cur.rowcount == 1

    def renew_leases(self, dispatcher: str, lease_s: float) -> int:
        with self._tx() as conn:
            cur = conn.execute(
                "UPDATE jobs SET lease_until=? WHERE dispatcher=? AND status IN (?,?)",
                (time.time() + lease_s, dispatcher, QUEUED, RUNNING),
            )
            return cur.rowcount

    def orphaned_queued(self, dispatcher: str) -> list[str]:
        """Queued jobs nobody is dispatching (their ingress died)."""
        rows = self._conn().execute(
            """SELECT id FROM jobs WHERE status=? AND (dispatcher IS NULL OR lease_until IS NULL OR lease_until<?)
                   AND (dispatcher IS NULL OR dispatcher<>?) ORDER BY seq""",
            (QUEUED, time.time(), dispatcher),
        ).fetchall()
        return [r[0] for r in rows]

    def stale_running(self, heartbeat_timeout_s: float) -> list[tuple[str, str]]:
        rows = self._conn().execute(
            "SELECT id, claim_token FROM jobs WHERE status=? AND (heartbeat_at IS NULL OR heartbeat_at<?)",
            (RUNNING, time.time() - heartbeat_timeout_s),
        ).fetchall()
        return [(r[0], r[1]) for r in rows]

    def overdue_running(self, timeout_s: float) -> list[tuple[str, str]]:
        rows = self._conn().execute(
            "SELECT id, claim_token FROM jobs WHERE status=? AND started_at<?", (RUNNING, time.time() - timeout_s)
        ).fetchall()
        return [(r[0], r[1]) for r in rows]

    def fail_claim(self, job_id: str, token: str, code: str, message: str) -> bool:
        """Fail a running job from outside its worker (e.g. it ran past the timeout); the worker's writes stop counting."""
        now = time.time()
        with self._tx() as conn:
            cur = conn.execute(
                """UPDATE jobs SET status=?, claim_token=NULL, finished_at=?, updated_at=?, lease_until=NULL, image=NULL,
                       error_json=? WHERE id=? AND claim_token=? AND status=?""",
                (FAILED, now, now, json.dumps({"code": code, "message": message}), job_id, token, RUNNING),
            )
            if cur.rowcount != 1:
                return False
            self._event(conn, job_id)
            return True

    def retry_or_fail(self, job_id: str, token: str, reason: str, *, dispatcher: str | None, lease_s: float) -> str | None:
        """The worker of this claim died: back to queued if attempts remain, else failed.

        Returns the new status, or None when the claim had already changed.
        """
        now = time.time()
        with self._tx() as conn:
            rec = self._row(conn, job_id)
            if rec["status"] != RUNNING or rec["claim_token"] != token:
                return None
            history = (rec.get("history") or []) + [
                {"attempt": rec["attempts"], "worker": rec.get("worker"), "ended_at": now, "reason": reason}
            ]
            if rec["cancel_requested"]:
                status, error = CANCELLED, {"code": "cancelled", "message": f"cancelled; {reason}"}
            elif rec["attempts"] < rec["max_attempts"]:
                status, error = QUEUED, None
            else:
                status = FAILED
                error = {"code": "worker_died", "message": f"{reason}; gave up after {rec['attempts']} attempt(s)"}
            conn.execute(
                """UPDATE jobs SET status=?, claim_token=NULL, history_json=?, error_json=?, updated_at=?,
                       finished_at=?, dispatcher=?, lease_until=?, progress_json=?
                   WHERE id=?""",
                (
                    status, json.dumps(history), json.dumps(error) if error else None, now,
                    None if status == QUEUED else now,
                    dispatcher if status == QUEUED else None,
                    now + lease_s if status == QUEUED and dispatcher else None,
                    json.dumps({"stage": "queued", "step": None, "total_steps": None, "percent": 0.0, "eta_s": None,
                                "note": f"retrying: {reason}"}) if status == QUEUED else json.dumps(rec.get("progress")),
                    job_id,
                ),
            )
            self._event(conn, job_id)
            return status

    # -- replicas -----------------------------------------------------------------------
    def upsert_replica(self, info: dict[str, Any]) -> None:
        now = time.time()
        with self._tx() as conn:
            conn.execute(
                """INSERT INTO replicas(replica_id, family, deployment, app, node_id, node_ip, pid, state,
                       diagnostics_json, models_json, started_at, last_seen)
                   VALUES (?,?,?,?,?,?,?,?,?,?,?,?)
                   ON CONFLICT(replica_id) DO UPDATE SET state=excluded.state, diagnostics_json=excluded.diagnostics_json,
                       models_json=excluded.models_json, last_seen=excluded.last_seen""",
                (
                    info["replica_id"], info["family"], info.get("deployment"), info.get("app"), info.get("node_id"),
                    info.get("node_ip"), info.get("pid"), info.get("state", "running"),
                    json.dumps(info.get("diagnostics")), json.dumps(info.get("models")), now, now,
                ),
            )

    def touch_replica(self, replica_id: str, state: str | None = None) -> None:
        with self._tx() as conn:
            if state:
                conn.execute("UPDATE replicas SET last_seen=?, state=? WHERE replica_id=?", (time.time(), state, replica_id))
            else:
                conn.execute("UPDATE replicas SET last_seen=? WHERE replica_id=?", (time.time(), replica_id))

    def replicas(self, family: str | None = None, since: float | None = None) -> list[dict[str, Any]]:
        sql, args = "SELECT * FROM replicas", []
        where = []
        if family:
            where.append("family=?")
            args.append(family)
        if since is not None:
            where.append("last_seen>=?")
            args.append(since)
        if where:
            sql += " WHERE " + " AND ".join(where)
        rows = self._conn().execute(sql + " ORDER BY last_seen DESC", args).fetchall()
        out = []
        for r in rows:
            d = dict(r)
            d["diagnostics"] = json.loads(d.pop("diagnostics_json") or "null")
            d["models"] = json.loads(d.pop("models_json") or "null")
            out.append(d)
        return out
