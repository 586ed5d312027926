"""The SQLite backend: one file under the state directory, for one node (the default).

Each thread gets its own connection (sqlite3 connections must not be shared between threads); writes
run in ``BEGIN IMMEDIATE`` transactions, which take the file's write lock at once, so two writers never
interleave a read-then-write and the row-lock clauses of PostgreSQL are not needed. Times are the node's
own clock: every writer runs on the one node that holds the file.
"""

from __future__ import annotations

import os
import sqlite3
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from videogen.serve.store.database import Database

DB_FILE = "jobs.sqlite3"

# Replicas starting together race to create the schema or switch the journal mode;
# SQLite answers "database is locked" to the losers, who retry this many times.
_LOCK_RETRIES = 20


class SqliteDatabase(Database):
    """One SQLite file. Thread-safe: a connection per thread."""

    dialect = "sqlite"
    json_number = "json_extract(NULLIF({column}, ''), '$.{key}')"

    def __init__(self, state_dir: str | os.PathLike, journal_mode: str = "WAL"):
        from videogen.serve.store.migrations import migrate

        self.path = Path(state_dir) / DB_FILE
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self.journal_mode = journal_mode
        self._local = threading.local()
        for attempt in range(_LOCK_RETRIES):
            try:
                migrate(self)
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

    def clock(self, conn: sqlite3.Connection) -> float:
        return time.time()

    def has_table(self, conn: sqlite3.Connection, name: str) -> bool:
        return conn.execute("SELECT 1 FROM sqlite_master WHERE type='table' AND name=?", (name,)).fetchone() is not None

    def close(self) -> None:
        """Close this thread's connection."""
        conn = getattr(self._local, "conn", None)
        if conn is not None:
            conn.close()
            self._local.conn = None
