"""The SQLite database under the state directory: schema, connections, transactions.

Every ingress and worker replica opens the same file (``state_dir`` is one
shared file system across nodes), so nothing about a job lives only in a
process's memory. Each thread gets its own connection (sqlite3 connections
must not be shared between threads); writes run in ``BEGIN IMMEDIATE``
transactions so two replicas never interleave a read-then-write.
"""

from __future__ import annotations

import os
import sqlite3
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

DB_FILE = "jobs.sqlite3"

SCHEMA = """
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
    estimate_json TEXT,
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
    cancel_requested INTEGER NOT NULL DEFAULT 0,
    owner TEXT,
    model_name TEXT
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
    last_seen REAL NOT NULL,
    model_name TEXT
);
"""

# Columns added after the first release: (table, column, type). A state directory written by an
# older version gets them on open (SQLite has no "ADD COLUMN IF NOT EXISTS"). ``model_name`` (the named
# model a job runs on, the one a replica serves) is NULL in rows written before named models: those ran on
# their family's only model, so NULL reads as the family's default model (``VideoGenAppConfig.default_model``).
_ADDED_COLUMNS = (
    ("jobs", "estimate_json", "TEXT"),
    ("jobs", "owner", "TEXT"),
    ("jobs", "model_name", "TEXT"),
    ("replicas", "model_name", "TEXT"),
)
# Indexes on added columns: created after the columns exist.
_ADDED_INDEXES = (
    "CREATE INDEX IF NOT EXISTS jobs_owner ON jobs(owner, status, created_at)",
    "CREATE INDEX IF NOT EXISTS jobs_model ON jobs(family, model_name, status)",
)

# Replicas starting together race to create the schema or switch the journal mode;
# SQLite answers "database is locked" to the losers, who retry this many times.
_LOCK_RETRIES = 20


def _add_missing_columns(conn: sqlite3.Connection) -> None:
    for table, column, kind in _ADDED_COLUMNS:
        present = {row[1] for row in conn.execute(f"PRAGMA table_info({table})")}
        if column not in present:
            try:
                conn.execute(f"ALTER TABLE {table} ADD COLUMN {column} {kind}")
            except sqlite3.OperationalError as exc:  # another replica added it first
                if "duplicate column" not in str(exc):
                    raise
    for statement in _ADDED_INDEXES:
        conn.execute(statement)


class Database:
    """One SQLite file. Thread-safe: a connection per thread."""

    def __init__(self, state_dir: str | os.PathLike, journal_mode: str = "WAL"):
        self.path = Path(state_dir) / DB_FILE
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self.journal_mode = journal_mode
        self._local = threading.local()
        conn = self.conn()
        for attempt in range(_LOCK_RETRIES):
            try:
                conn.executescript(SCHEMA)
                _add_missing_columns(conn)
                break
            except sqlite3.OperationalError as exc:
                if "locked" not in str(exc) or attempt == _LOCK_RETRIES - 1:
                    raise
                time.sleep(0.1 * (attempt + 1))

    def conn(self) -> sqlite3.Connection:
        """This thread's connection (autocommit: transactions are explicit, see ``tx``)."""
        conn = getattr(self._local, "conn", None)
        if conn is None:
            conn = sqlite3.connect(self.path, timeout=30.0, isolation_level=None, check_same_thread=False)
            conn.row_factory = sqlite3.Row
            conn.execute("PRAGMA busy_timeout=30000")
            for attempt in range(_LOCK_RETRIES):
                try:
                    conn.execute(f"PRAGMA journal_mode={self.journal_mode}")
                    break
                except sqlite3.OperationalError:
                    time.sleep(0.05 * (attempt + 1))
            # WAL on a local disk survives a process crash with NORMAL; the rollback
            # journal (network file systems) needs FULL to survive one.
            conn.execute("PRAGMA synchronous=NORMAL" if self.journal_mode == "WAL" else "PRAGMA synchronous=FULL")
            self._local.conn = conn
        return conn

    @contextmanager
    def tx(self, immediate: bool = True) -> Iterator[sqlite3.Connection]:
        """A transaction; ``immediate`` takes the write lock at once (read-then-write stays atomic)."""
        conn = self.conn()
        conn.execute("BEGIN IMMEDIATE" if immediate else "BEGIN")
        try:
            yield conn
        except BaseException:
            conn.execute("ROLLBACK")
            raise
        else:
            conn.execute("COMMIT")

    def close(self) -> None:
        """Close this thread's connection."""
        conn = getattr(self._local, "conn", None)
        if conn is not None:
            conn.close()
            self._local.conn = None
