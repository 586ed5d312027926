"""The job store's database: one contract, two backends (``backends.open_database`` picks one).

- ``sqlite`` (the default, nothing to set up): one file under ``state_dir`` for one node
  (``database_sqlite``);
- ``postgres``, when a database URL is configured: one server every node reaches
  (``database_postgres``).

The store modules (``jobs``, ``job_scans``, ``job_endings``, ``events``, ``bounds``, ``replicas``,
``housekeeping``) write their SQL once, with ``?`` placeholders, and run it on the connection ``tx()``
yields (a transaction) or ``conn()`` returns (one statement at a time). Rows read both by index and by
column name. What the two backends do differently is said here, by the database, never by an ``if`` in
a store module:

- ``clock(conn)``: the time every stored time is written and compared in: the node's own on SQLite (one
  node), the database server's on PostgreSQL, so a clock skew between nodes changes nothing (a heartbeat
  written on one node is judged stale by the same clock on another);
- ``for_update`` / ``skip_locked``: the row-lock clauses a read-then-write and a scan append (empty on
  SQLite, whose ``BEGIN IMMEDIATE`` holds the whole file's write lock);
- ``serialize(conn, *keys)``: makes a count-then-insert atomic against other writers of the same keys
  (the queue bounds; SQLite's write lock already does);
- ``lock_for_insert(conn, queue, owner, alone)``: the queue bounds' locks, with the owner's *slack*: how many of
  its submissions may be counting and inserting at once (1 on SQLite, whose writers go one at a time; on
  PostgreSQL up to ``owner_slots`` while its counts are far enough from its limits: ``bounds``);
- ``lock_for_batch(conn, queues, owners)``: the locks of a batch of inserts (``job_inserts.create_many``): its
  queues' and the whole of its owners', taken in one order every batch uses (SQLite's write lock already holds them);
- ``execute_each(conn, *statements)``: several statements' rows in one round trip (PostgreSQL; SQLite runs them
  one after the other);
- ``execute_last(conn, sql, params)``: a transaction's last statement, its rows read, sent with the commit
  (PostgreSQL: one round trip for both; SQLite runs it at once and commits when the transaction ends);
- ``row_json``: SQL that makes a job row of a data-modifying ``WITH`` query's part into JSON text (PostgreSQL; None
  on SQLite, whose ``UPDATE … RETURNING`` cannot be such a part): a change and its event's row are then one statement
  (``EventLog.change``);
- ``write_later(conn, sql, params)``: a write whose answer is never read (an event's row) sent with the
  transaction's next statement or its commit (PostgreSQL; SQLite runs it at once);
- nothing to call when an event is inserted: the other nodes hear of it when its transaction commits
  (PostgreSQL: ``NOTIFY`` from a trigger on ``events``, schema step 3; SQLite's watchers read ``data_version``);
  ``unannounced(conn)``: a transaction that only creates jobs, whose first events nobody can be waiting for,
  sends no ``NOTIFY`` (PostgreSQL, schema step 5: a commit that notifies queues behind every other one that does).

A database that cannot be reached, or stays locked past its timeout, raises the typed
``ServiceBusyError`` (HTTP 503 ``store_unavailable`` / ``store_busy`` with ``Retry-After``), never a bare
driver error.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from contextlib import AbstractContextManager
from typing import Any, ClassVar, Protocol


class Result(Protocol):
    rowcount: int

    def fetchone(self) -> Any: ...

    def fetchall(self) -> list[Any]: ...

    def __iter__(self) -> Iterator[Any]: ...


class Connection(Protocol):
    def execute(self, sql: str, params: Sequence[Any] = ...) -> Result: ...


class Database:
    """What every backend offers the store modules (see the module docstring)."""

    dialect: ClassVar[str]
    # Appended to a SELECT of rows the transaction is about to change: nobody changes them meanwhile.
    for_update: ClassVar[str] = ""
    # Appended to a scan: rows a writer holds right now (a heartbeat, a claim) are skipped, not waited for.
    skip_locked: ClassVar[str] = ""
    # A number stored under a top-level key of a JSON text column, as SQL (``{column}``, ``{key}``): NULL when the
    # text is empty or null or lacks the key. Aggregates over JSON columns run in the database, not row by row here.
    json_number: ClassVar[str]
    # A row of a data-modifying WITH query's part (``{row}``: its name) as JSON text, less the columns named in
    # ``{drop}`` (SQL string literals, comma separated); None: a backend where such a statement cannot be written.
    row_json: ClassVar[str | None] = None

    def conn(self) -> Connection:
        """Where a read outside any transaction runs (inside one: that transaction's connection)."""
        raise NotImplementedError

    def tx(self, immediate: bool = True) -> AbstractContextManager[Connection]:
        """A transaction: ``immediate`` for one that writes (its read-then-write stays atomic); otherwise a
        read-only snapshot (several reads that see one state)."""
        raise NotImplementedError

    def write_later(self, conn: Connection, sql: str, params: Sequence[Any] = ()) -> None:
        """A write whose rows and count nobody reads, in ``conn``'s transaction: it may wait for the transaction's
        next statement or its commit and travel with it (PostgreSQL: one round trip for both, ``postgres_tx``);
        it runs before any later statement of the transaction. Here: at once."""
        conn.execute(sql, params)

    def execute_last(self, conn: Connection, sql: str, params: Sequence[Any] = ()) -> list[Any]:
        """The rows of ``sql``, the last statement of ``conn``'s transaction (PostgreSQL: sent with the commit, which it
        then is; nothing may follow it). Here: run at once; the transaction commits when it ends."""
        return conn.execute(sql, params).fetchall()

    def execute_each(self, conn: Connection, *statements: tuple[str, Sequence[Any]]) -> list[list[Any]]:
        """The rows of each of ``statements`` (SQL, params), run in order in ``conn``'s transaction (PostgreSQL:
        in one round trip, ``postgres_tx``). Here: one after the other."""
        return [conn.execute(sql, params).fetchall() for sql, params in statements]

    def unannounced(self, conn: Connection) -> None:
        """``conn``'s transaction only creates jobs: its events (their first) wake no watcher. No stream can be
        waiting for them: a job's id is answered only after its insert commits, and a stream reads the log before it
        waits. Here: nothing (SQLite's watchers read ``data_version``, which every commit changes)."""

    def clock(self, conn: Connection) -> float:
        """The time now, in epoch seconds, by the clock every stored time is in."""
        raise NotImplementedError

    def now(self) -> float:
        """``clock`` outside a transaction: for cutoffs a caller computes (retention, queue timeout)."""
        return self.clock(self.conn())

    def serialize(self, conn: Connection, *keys: str) -> None:
        """Hold, until the transaction ends, a lock on each of ``keys`` (in the order given)."""

    def lock_for_batch(self, conn: Connection, queues: Iterable[str], owners: Iterable[str]) -> None:
        """Hold, until the transaction ends, the locks of ``queues`` and the whole of ``owners``' (``lock_for_insert``
        with ``alone``: their counts exact), the queues' first, each kind in one order whatever the order given."""
        self.serialize(conn, *sorted(set(queues)), *sorted(set(owners)))

    def lock_for_insert(self, conn: Connection, queue: str, owner: str | None, *, alone: bool) -> int:
        """Lock ``queue`` and, unless None, ``owner`` for a count-then-insert; the owner's slack (see ``bounds``):
        how many inserts of ``owner`` may be in flight with this one, its own included. ``alone``: none (1)."""
        self.serialize(conn, queue, *([owner] if owner is not None else []))
        return 1

    def has_table(self, conn: Connection, name: str) -> bool:
        raise NotImplementedError

    def close(self) -> None:
        raise NotImplementedError
