"""The PostgreSQL backend: one server every node reaches (``database_url``), through psycopg 3's pool.

- The store's ``?`` SQL runs as it is: ``?`` becomes psycopg's ``%s``, and rows read by index and by
  column name, as ``sqlite3.Row`` does.
- Writes run in READ COMMITTED transactions; what SQLite's file lock gave for free is asked for
  explicitly: ``SELECT … FOR UPDATE`` before a read-then-write, ``FOR UPDATE SKIP LOCKED`` in scans,
  advisory transaction locks for a count-then-insert (the queue bounds) and for migrations. A read-only
  transaction (``tx(immediate=False)``) is a REPEATABLE READ snapshot.
- Every stored time is the server's clock (``clock_timestamp()`` as epoch seconds, one per transaction, read
  from the server every few seconds and carried forward in between: ``postgres_clock``), never a node's: a skew
  between nodes cannot make a live job look stale.
- ``NOTIFY`` is sent in the transaction that inserts an event, by a trigger on ``events`` (schema step 3:
  no round trip of its own; step 6: with the event's seq, the job's previous one's and its row, ``events.Notice``);
  a ``Listener`` (one connection of its own per ingress) receives them.
- Connections come from a pool that checks on checkout one the server may have ended (idle for a second, or
  with input waiting: ``CHECK_IDLE_AFTER_S``), so a server restart leaves no dead connection behind; a lock or
  statement past its timeout, or a server that cannot be reached within the pool's timeout, is the typed
  ``ServiceBusyError`` (``store_busy`` / ``store_unavailable``, HTTP 503 with ``Retry-After``).
"""

from __future__ import annotations

import logging
import select
import threading
import time
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from typing import Any

import psycopg
from psycopg_pool import ConnectionPool

from videogen.serve.errors import store_error
from videogen.serve.store.database import Database
from videogen.serve.store.events import Notice, incomplete, notices_of
from videogen.serve.store.migrations import EVENTS_CHANNEL, UNANNOUNCED_SETTING
from videogen.serve.store.postgres_clock import ServerClock
from videogen.serve.store.postgres_tx import Transaction, psycopg_sql, transaction

logger = logging.getLogger("videogen.serve")

# The channel every event's NOTIFY goes to; the payload is the job id.
CHANNEL = EVENTS_CHANNEL
# Connections per process: the ingress's threads and a worker's few writers.
POOL_MAX_SIZE = 10
# How long a call waits for a connection (the server restarting, or every connection busy) before the
# caller gets 503 store_unavailable: shorter than a worker's heartbeat interval.
POOL_TIMEOUT_S = 5.0
CONNECT_TIMEOUT_S = 5
# psycopg_pool retries a failed connection with a doubling delay (1, 2, 4, 8 s, ...): after a 20 s restart the
# next try came up to ~9 s after the server was back. Each run of tries gives up after this long instead, and
# the next call starts a fresh one at once: measured 2 s back after a 20 s restart (the multi-node test).
RECONNECT_TIMEOUT_S = 5.0
# How many submissions of one owner (an API key) may check its limits and insert at once, each holding one slot
# (two-key advisory locks: the owner's hash, the slot's number): while its counts are at least this far below its
# limits, the ones in flight cannot together pass them, so they need not wait for each other (bounds).
OWNER_SLOTS = 16
_SLOTS = "generate_series(0, {last}) AS k"
# The advisory lock ids of a text array of keys (``pg_advisory_xact_lock(hashtext(key))``'s), once each.
_LOCK_IDS = "SELECT DISTINCT hashtext(key) AS id FROM unnest(?::text[]) AS key"
# A row lock waited for longer than this is 503 store_busy (a heartbeat never waits past a reaper's patience).
LOCK_TIMEOUT_MS = 5_000
STATEMENT_TIMEOUT_MS = 30_000
# A transaction left open by a dead client frees its locks after this long.
IDLE_IN_TRANSACTION_TIMEOUT_MS = 60_000
_CLOCK_EXPR = "extract(epoch FROM clock_timestamp())::float8"
_CLOCK = f"SELECT {_CLOCK_EXPR}"


class Row(tuple):
    """A row read by position or by column name; ``dict(row)`` gives the columns."""

    def __new__(cls, values: Sequence[Any], index: dict[str, int]) -> Row:
        row = super().__new__(cls, values)
        row._index = index
        return row

    def __getitem__(self, key: Any) -> Any:
        return tuple.__getitem__(self, self._index[key] if isinstance(key, str) else key)

    def keys(self) -> list[str]:
        return list(self._index)


def _rows(cursor: psycopg.Cursor) -> Any:
    index = {column.name: i for i, column in enumerate(cursor.description or ())}
    return lambda values: Row(values, index)


# A connection back in the pool for less than this long, with nothing sent to it since, is taken as it is: the
# checkout's check (a round trip to the server, one in seven of a submission's) is skipped. A server that ends a
# session (a restart, pg_terminate_backend) sends it a last message and closes it, which leaves its socket readable:
# such a connection is checked, and replaced, before use. One idle for longer is checked whatever its socket says
# (a server host that went away without closing anything).
CHECK_IDLE_AFTER_S = 1.0


def _mark_returned(conn: psycopg.Connection) -> None:
    """The pool's ``reset`` hook: when the connection came back."""
    conn._videogen_returned_at = time.monotonic()


def _check_unless_fresh(conn: psycopg.Connection) -> None:
    """The pool's ``check`` hook: the server is asked (``ConnectionPool.check_connection``) unless the connection
    came back within ``CHECK_IDLE_AFTER_S`` and nothing arrived on it since."""
    idle_s = time.monotonic() - getattr(conn, "_videogen_returned_at", float("-inf"))
    if idle_s > CHECK_IDLE_AFTER_S or _has_input(conn):
        ConnectionPool.check_connection(conn)


def _has_input(conn: psycopg.Connection) -> bool:
    """Something (the server's goodbye, its end of file) waits to be read on an idle connection."""
    try:
        poller = select.poll()
        poller.register(conn.pgconn.socket, select.POLLIN)
        return bool(poller.poll(0))
    except (psycopg.Error, OSError, ValueError):  # closed already: the check says so
        return True


def _configure(conn: psycopg.Connection) -> None:
    conn.execute(f"SET lock_timeout = {LOCK_TIMEOUT_MS}")
    conn.execute(f"SET statement_timeout = {STATEMENT_TIMEOUT_MS}")
    conn.execute(f"SET idle_in_transaction_session_timeout = {IDLE_IN_TRANSACTION_TIMEOUT_MS}")
    _mark_returned(conn)  # it just answered: as fresh as one just returned


@contextmanager
def _typed_errors() -> Iterator[None]:
    """psycopg's refusals as the store's typed errors (``serve.errors.store_error``); anything else (a bug
    in a statement) stays itself."""
    try:
        yield
    except psycopg.Error as exc:
        typed = store_error(exc)
        if typed is None:
            raise
        raise typed from exc


class _Buffered:
    """A statement's rows, read whole before its connection went back to the pool."""

    def __init__(self, rows: list[Any], rowcount: int):
        self._rows, self.rowcount = rows, rowcount

    def fetchone(self) -> Any:
        return self._rows[0] if self._rows else None

    def fetchall(self) -> list[Any]:
        return list(self._rows)

    def __iter__(self) -> Iterator[Any]:
        return iter(self._rows)


class _Autocommit:
    """``conn()`` outside a transaction: each statement on a connection borrowed from the pool for it."""

    def __init__(self, pool: ConnectionPool):
        self.pool = pool

    def execute(self, sql: str, params: Sequence[Any] = ()) -> _Buffered:
        with _typed_errors(), self.pool.connection() as raw:
            cur = raw.execute(psycopg_sql(sql), params)
            return _Buffered(cur.fetchall() if cur.description else [], cur.rowcount)


# A notification's row still lacking parts after the ones read together: read again this many times, waiting this
# long each (its parts were sent together; a longer row, or a missing part, is read from the log).
PART_WAITS = 3
PART_WAIT_S = 0.002


class Listener:
    """A connection of its own that LISTENs on ``CHANNEL``: which jobs got events, as they commit."""

    def __init__(self, url: str):
        self.url = url
        self.closed = False
        self._conn: psycopg.Connection | None = None
        self._connect()

    def _connect(self) -> None:
        conn = psycopg.connect(self.url, autocommit=True, connect_timeout=CONNECT_TIMEOUT_S)
        conn.execute(f"LISTEN {CHANNEL}")
        self._conn = conn

    def wait(self, timeout_s: float) -> dict[str, list[Notice]] | None:
        """The jobs notified within ``timeout_s`` (empty: none), each with its events' notices, in the order they
        came (``events.notices_of``). None when the connection was lost (it is reopened here, or on a later call while
        the server is away): what was sent meanwhile is unknown."""
        if self.closed:
            return {}
        if self._conn is None:
            return self._reconnect(timeout_s)
        try:
            payloads = [n.payload for n in self._conn.notifies(timeout=timeout_s, stop_after=1)]
            if payloads:  # more may be waiting already: take them without waiting again
                payloads += [n.payload for n in self._conn.notifies(timeout=0)]
            heard = notices_of(payloads)
            for _ in range(PART_WAITS):  # a row's last parts not read yet: they are on their way (sent together)
                if not heard or not incomplete(heard):
                    break
                payloads += [n.payload for n in self._conn.notifies(timeout=PART_WAIT_S)]
                heard = notices_of(payloads)
            return heard
        except (psycopg.Error, OSError) as exc:
            if self.closed:
                return {}
            logger.warning("the job store's event listener lost its connection (%s); reconnecting", exc)
            self._drop()
            return self._reconnect(timeout_s)

    def _reconnect(self, timeout_s: float) -> None:
        try:
            self._connect()
        except (psycopg.Error, OSError):
            time.sleep(timeout_s)  # the server is away: try again at the fallback interval
        return None

    def _drop(self) -> None:
        conn, self._conn = self._conn, None
        if conn is not None:
            try:
                conn.close()
            except Exception:  # noqa: BLE001 - a connection already broken closes as it can
                pass

    def close(self) -> None:
        self.closed = True
        self._drop()


class PostgresDatabase(Database):
    dialect = "postgres"
    for_update = " FOR UPDATE"
    skip_locked = " FOR UPDATE SKIP LOCKED"
    json_number = "(NULLIF({column}, '')::jsonb->>'{key}')::float8"
    row_json = "(to_jsonb({row}) - ARRAY[{drop}])::text"

    def __init__(self, url: str, *, pool_timeout_s: float = POOL_TIMEOUT_S):
        from videogen.serve.store.migrations import migrate

        self.url = url
        self.pool = ConnectionPool(
            url,
            min_size=1,
            max_size=POOL_MAX_SIZE,
            timeout=pool_timeout_s,
            reconnect_timeout=RECONNECT_TIMEOUT_S,
            kwargs={"autocommit": True, "row_factory": _rows, "connect_timeout": CONNECT_TIMEOUT_S},
            configure=_configure,
            check=_check_unless_fresh,
            reset=_mark_returned,
            name="videogen-store",
            open=True,
        )
        self._autocommit = _Autocommit(self.pool)
        self.server_clock = ServerClock()
        self._local = threading.local()
        self._listeners: list[Listener] = []
        try:
            migrate(self)
        except BaseException:
            self.close()
            raise

    def conn(self) -> Transaction | _Autocommit:
        return getattr(self._local, "tx", None) or self._autocommit

    @contextmanager
    def tx(self, immediate: bool = True) -> Iterator[Transaction]:
        """``postgres_tx``: its ``BEGIN`` travels with its first statement, its ``COMMIT`` with its last writes."""
        if getattr(self._local, "tx", None) is not None:
            raise RuntimeError("a store transaction is already open on this thread")
        with _typed_errors(), self.pool.connection() as raw:
            with transaction(raw, read_only=not immediate) as conn:
                self._local.tx = conn
                try:
                    yield conn
                finally:
                    self._local.tx = None

    def write_later(self, conn: Transaction | _Autocommit, sql: str, params: Sequence[Any] = ()) -> None:
        if isinstance(conn, Transaction):
            conn.later(sql, params)
        else:
            conn.execute(sql, params)

    def unannounced(self, conn: Transaction | _Autocommit) -> None:
        """Until the transaction ends, the events trigger sends no ``NOTIFY`` (schema step 5), so its commit does not
        queue for the database's notify lock; sent with the next statement."""
        if isinstance(conn, Transaction):
            conn.later("SELECT set_config(?, 'on', true)", (UNANNOUNCED_SETTING,))

    def execute_last(self, conn: Transaction | _Autocommit, sql: str, params: Sequence[Any] = ()) -> list[Any]:
        if isinstance(conn, Transaction):
            return conn.execute_last(sql, params)
        return super().execute_last(conn, sql, params)

    def execute_each(self, conn: Transaction | _Autocommit, *statements: tuple[str, Sequence[Any]]) -> list[list[Any]]:
        if isinstance(conn, Transaction):
            return conn.execute_each(statements)
        return super().execute_each(conn, *statements)

    def clock(self, conn: Transaction | _Autocommit) -> float:
        """The server's clock (``postgres_clock``: read from it every few seconds, carried forward in between)."""

        def read() -> float:
            return conn.execute(_CLOCK).fetchone()[0]

        if isinstance(conn, Transaction):  # one time per transaction, as now() is
            if conn.clock is None:
                conn.clock = self.server_clock.now(read)
            return conn.clock
        return self.server_clock.now(read)

    def serialize(self, conn: Transaction, *keys: str) -> None:
        """The locks, taken in order by one statement, which also reads the transaction's clock (unless read
        already): a submission's first round trip after BEGIN, where it was one per lock and one for the clock."""
        if not keys:
            return
        locks = ", ".join("pg_advisory_xact_lock(hashtext(?))" for _ in keys)
        row = conn.execute(f"SELECT {locks}, {_CLOCK_EXPR}", keys).fetchone()
        if conn.clock is None:  # read after the locks (a target list is evaluated in order)
            conn.clock = row[-1]

    def lock_for_batch(self, conn: Transaction, queues: Iterable[str], owners: Iterable[str]) -> None:
        """The queues' locks, then every slot of each owner, each kind in the order of its lock ids (what
        ``hashtext`` makes of the keys, two of which may be one lock), as ``lock_for_insert`` takes them one
        submission at a time (the queue's first, an owner's slots in order), so no wait of one on another can make a
        cycle; sent with the next statement (the batch's inserts)."""
        queues, owners = sorted(set(queues)), sorted(set(owners))
        if queues:
            conn.later(f"SELECT pg_advisory_xact_lock(id) FROM ({_LOCK_IDS} ORDER BY 1) AS locks", (queues,))
        if owners:
            every_slot = f"({_LOCK_IDS}) AS owners, {_SLOTS.format(last=OWNER_SLOTS - 1)} ORDER BY id, k"
            conn.later(
                f"SELECT count(*) FROM (SELECT pg_advisory_xact_lock(id, k) FROM {every_slot}) AS taken", (owners,)
            )

    def lock_for_insert(self, conn: Transaction, queue: str, owner: str | None, *, alone: bool) -> int:
        """The queue's lock and, for an owner, one of its ``OWNER_SLOTS`` slots taken without waiting: the slack is
        then ``OWNER_SLOTS`` (up to that many of its inserts run side by side). With no slot free, or ``alone``,
        every slot, waited for in order: every other insert of the owner in flight has ended (slack 1). One
        statement with the clock (two when no slot was free); without an owner, none of its own. No deadlock: the
        queue's lock comes first, slots are waited for in one order, and a slot taken without waiting is never held
        while waiting for another."""
        if owner is None:
            # The queue's lock travels with the statement after it (the counted insert): one round trip fewer, and
            # the transaction's clock is the carried-forward one (``clock``), read before the lock rather than
            # after it: two jobs of one queue may be a lock wait out of created_at order (their seq is not).
            conn.later("SELECT pg_advisory_xact_lock(hashtext(?))", (queue,))
            return 1
        slots = _SLOTS.format(last=OWNER_SLOTS - 1)
        if not alone:
            take_one = f"(SELECT k FROM {slots} WHERE pg_try_advisory_xact_lock(hashtext(?), k) LIMIT 1)"
            row = conn.execute(f"SELECT pg_advisory_xact_lock(hashtext(?)), {take_one}, {_CLOCK_EXPR}", (queue, owner))
            slot, conn.clock = row.fetchone()[1:]
            if slot is not None:
                return OWNER_SLOTS
        # Every slot, in order (a volatile call in a subquery is never planned away).
        take_all = f"(SELECT count(*) FROM (SELECT pg_advisory_xact_lock(hashtext(?), k) FROM {slots}) AS taken)"
        queue_lock = "pg_advisory_xact_lock(hashtext(?)), " if alone else ""  # else: held since the statement above
        conn.clock = conn.execute(
            f"SELECT {queue_lock}{take_all}, {_CLOCK_EXPR}", (queue, owner) if alone else (owner,)
        ).fetchone()[-1]
        return 1

    def has_table(self, conn: Transaction | _Autocommit, name: str) -> bool:
        return bool(conn.execute("SELECT to_regclass(?) IS NOT NULL", (name,)).fetchone()[0])

    def listen(self) -> Listener:
        """A new listener on the events channel, closed with this database."""
        with _typed_errors():
            listener = Listener(self.url)
        self._listeners.append(listener)
        return listener

    def close(self) -> None:
        for listener in self._listeners:
            listener.close()
        self.pool.close()
