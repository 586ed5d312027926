"""The per-job change log that Server-Sent Events replay.

Every visible change of a job appends an event, in the same transaction as the
change, so the log never misses or reorders one. The event's ``seq`` is the SSE
event id: a client that reconnects with ``Last-Event-ID`` gets exactly what came
after it. The log keeps records, not the HTTP shape; the SSE route builds the
wire ``Job`` from each.

What a row holds (a progress write per step must not copy the whole record):

- a *full* row: the record's snapshot (the first event of a job, each claim's,
  then every ``FULL_EVERY``-th, and the last);
- a *delta* row: ``{"delta": {the fields that changed since the job's previous
  event}, "base": the seq of the full row it builds on}``;
- a *row image*, a full row made by the database from the job's row as a change left it: ``{"row": {its columns
  but the image and the claim token}}`` (``change``: on PostgreSQL a claim's and a job's end, where the change, its
  event and the commit are then one round trip; read as the record that row makes, ``JobRecord.from_row``). A
  release before this kind cannot read it: upgrade the ingress replicas before the workers.

The state at any event is its base row with the deltas from there up to it
applied, so a resume from any seq reads at most ``FULL_EVERY`` rows for its
starting state, and so does a writer for the state it diffs against (the log,
not the job row, is what a delta is relative to: heartbeats and lease renewals
change the row without an event). A job's last event is a full row; a grace
period after the job ends (``compact_ended``, run by the housekeeping sweep) its
log is compacted to that row, keeping its seq: a client resuming from any older
id gets the final state at once, while a live stream never loses a stage.

A watch (``open_watch``) tells an ingress which jobs got events, whoever wrote them (a worker, this or
another ingress replica, on any node):

- SQLite: ``ChangeWatch``, cheap enough to ask every few milliseconds: ``PRAGMA data_version`` changes
  when any *other* connection commits, so the watch keeps a connection of its own that never writes;
- PostgreSQL: ``NotifyWatch``, one ``LISTEN`` connection per ingress: every event's transaction sends
  ``NOTIFY`` with its job id, delivered when it commits (but a new job's first: ``Database.unannounced``); the
  watch waits for them (up to ``NOTIFY_WAIT_S``, then returns so its thread can stop). A lost connection is
  reopened and every watched job counted as changed, since what was sent meanwhile is unknown.

Either way the log stays the source of truth: a watch only says when to read it. On PostgreSQL a notification also
says what to read (schema step 6: a ``Notice``): the event's seq, the job's previous event's, and the event's row
(a long one in parts, ``notices_of``; one past ``NOTICE_PARTS`` parts is not sent). A stream holding the state at
that previous seq applies the row without a read (``EventFeed.frames_after``): a job's events are written one
transaction at a time, each holding the job's row lock, so they commit, and are heard, in seq order, and a notice's
previous seq says that none came between.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Callable, Collection, Sequence
from dataclasses import dataclass
from typing import Any

from videogen.serve.store.database import Connection, Database
from videogen.serve.store.records import PRIVATE_COLUMNS, JobRecord

# Above this many watched jobs, one query over all recent events beats a long IN list.
_MAX_IN_LIST = 256
# A full row at least every this many events of a job: what rebuilding one state reads at most.
FULL_EVERY = 32
_DELTA = "delta"  # the key of a delta row (a record has no such field)
_ROW = "row"  # the key of a row image (nor this one)
_END = 2**63 - 1  # past every seq
# The most events one read of a job's log returns (``since``): a reader that got this many reads again at once.
PAGE = 200
# The longest a PostgreSQL watch waits for a notification before it returns (nothing changed).
NOTIFY_WAIT_S = 1.0


@dataclass
class Notice:
    """What the notifications of one event said: its seq, the seq of the job's event before it (0: none), and its row
    (None: too long to send, or a part missing). ``record`` and ``frame``: the record at ``seq`` and its SSE frame,
    worked out once by the first stream that applies it (the log is one line: every stream gets the same)."""

    seq: int
    previous: int
    data: str | None
    record: Any = None
    frame: Any = None
    pending: bool = False  # its row is being sent in parts, not all of them read yet

    def record_onto(self, state: JobRecord | None) -> JobRecord | None:
        """The record at this event, from ``state`` (the record at ``previous``; any, or None, for a full row);
        None when it cannot be known here (a delta without the state, a row not sent)."""
        if self.data is None:
            return None
        value = json.loads(self.data)
        if _ROW in value:  # the record its row makes, at once (no snapshot made of it to be read back)
            return JobRecord.from_row(value[_ROW])
        if _DELTA in value:
            return None if state is None else JobRecord.model_validate({**state.snapshot(), **value[_DELTA]})
        return JobRecord.model_validate(value)


def notices_of(payloads: list[str]) -> dict[str, list[Notice]]:
    """The jobs named by ``payloads`` (in the order received) with their events' notices, each row put back together
    from its parts (schema step 6: ``job_id seq previous part/parts text``, or ``job_id seq previous`` for a row too
    long to send). A bare job id (a trigger before step 6) names its job with no notice."""
    heard: dict[str, list[Notice]] = {}
    parts: dict[tuple[str, int], list[str]] = {}
    for payload in payloads:
        fields = payload.split(" ", 4)
        notices = heard.setdefault(fields[0], [])
        if len(fields) < 3 or not (fields[1].isdigit() and fields[2].isdigit()):
            continue
        seq = int(fields[1])
        if not notices or notices[-1].seq != seq:
            notices.append(Notice(seq, int(fields[2]), None))
            parts[fields[0], seq] = []
        if len(fields) == 5:
            got = parts[fields[0], seq]
            part, _, count = fields[3].partition("/")
            if part == str(len(got) + 1) and count.isdigit():  # else a part went missing: the row stays unsent
                got.append(fields[4])
                notices[-1].pending = len(got) < int(count)
                if not notices[-1].pending:
                    notices[-1].data = "".join(got)
            else:
                notices[-1].pending = False
    return heard


def incomplete(heard: dict[str, list[Notice]]) -> bool:
    """Some row of ``heard`` still lacks parts (they come together at the commit, but may be read apart)."""
    return any(n.pending for notices in heard.values() for n in notices)


def _decode(data: str) -> tuple[dict[str, Any], int | None]:
    """(fields, base seq) of a row: a full row is its own base (None); rows of older versions are all full."""
    value = json.loads(data)
    if _DELTA in value:
        return value[_DELTA], value["base"]
    if _ROW in value:
        return JobRecord.from_row(value[_ROW]).snapshot(), None
    return value, None


class EventLog:
    def __init__(self, db: Database):
        self.db = db

    def append(
        self, conn: Connection, record: JobRecord, *, full: bool = False, chain: list[Any] | None = None
    ) -> None:
        """Log ``record`` inside the caller's transaction: a delta, a full row, or (the job ended) the one row left;
        the other nodes' watchers hear of it when the transaction commits. ``full``: a full row, whatever came
        before (the job's first event, which has nothing to build on; a claim): the log is not read. ``chain``: the
        rows of ``chain_query`` for the job, read by the caller already (with the change, in one round trip)."""
        snapshot = record.snapshot()
        data: dict[str, Any] = snapshot
        if full or record.status.terminal:
            rows = []
        else:
            rows = [tuple(r) for r in chain] if chain is not None else self._chain(conn, record.id)
        if 0 < len(rows) < FULL_EVERY:  # else: the job's first event, its last, or time for a full row
            previous = EventLog._replay(rows)
            data = {
                _DELTA: {k: v for k, v in snapshot.items() if k not in previous or previous[k] != v},
                "base": rows[0][0],
            }
        self.append_snapshot(conn, record.id, data)

    def append_snapshot(self, conn: Connection, job_id: str, data: dict[str, Any]) -> None:
        """Log ``data`` (a full row: a record's snapshot, worked out already for a batch's new jobs; or ``append``'s
        delta) in the caller's transaction."""
        self.db.write_later(  # with the commit, on PostgreSQL; its trigger sends the NOTIFY (migrations, step 3)
            conn,
            "INSERT INTO events(job_id, created_at, data) VALUES (?,?,?)",
            (job_id, self.db.clock(conn), json.dumps(data)),
        )

    def change(self, conn: Connection, update_sql: str, params: Sequence[Any]) -> Any | None:
        """The last step of the caller's transaction: ``update_sql`` (``UPDATE jobs … RETURNING *`` of one job) and,
        when it changed the row, the job's new state logged as a full row; the row (None: nothing matched, nothing
        logged). Where the database makes JSON of a row (``Database.row_json``: PostgreSQL) the event is a row image
        inserted by the same statement, sent with the commit: one round trip where the update, then the event with
        the commit, were two. Elsewhere: the update, then ``append`` (a full row)."""
        if self.db.row_json is None:
            rows = conn.execute(update_sql, params).fetchall()
            if rows:
                self.append(conn, JobRecord.from_row(rows[0]), full=True)
            return rows[0] if rows else None
        image = self.db.row_json.format(row="changed", drop=", ".join(f"'{c}'" for c in sorted(PRIVATE_COLUMNS)))
        rows = self.db.execute_last(
            conn,
            f"""WITH changed AS ({update_sql}),
                     logged AS (INSERT INTO events(job_id, created_at, data)
                                SELECT id, ?, '{{"{_ROW}": ' || {image} || '}}' FROM changed)
                SELECT * FROM changed""",
            [*params, self.db.clock(conn)],
        )
        return rows[0] if rows else None

    def compact_ended(self, ended_before: float) -> int:
        """Keep only the last (full) row of every job that ended before ``ended_before``; rows deleted.

        Run by the housekeeping sweep, a grace period after a job ends rather than at its end: a live stream a
        little behind the writer still reads every stage; a client resuming later gets the final state at once.
        """
        from videogen.serve.store.records import TERMINAL

        marks = ",".join("?" * len(TERMINAL))
        with self.db.tx() as conn:
            return conn.execute(
                f"""DELETE FROM events WHERE job_id IN
                        (SELECT id FROM jobs WHERE status IN ({marks}) AND finished_at < ?)
                      AND seq < (SELECT MAX(e.seq) FROM events e WHERE e.job_id = events.job_id)""",
                (*map(str, TERMINAL), ended_before),
            ).rowcount

    def chain_query(self, job_id: str, before_seq: int = _END) -> tuple[str, tuple[Any, ...]]:
        """The statement (SQL, params) whose rows rebuild the job's state as of its last event before ``before_seq``:
        (seq, data), from that event's base full row on; none when the job has no event before it. One statement
        (one round trip to a database server, where the last event and then its chain were two): the last event's
        base is read by the database from its row (a full row has none: it is its own base)."""
        base = self.db.json_number.format(column="data", key="base")
        return (
            f"""WITH last AS (SELECT seq, {base} AS base FROM events WHERE job_id=? AND seq<?
                              ORDER BY seq DESC LIMIT 1)
                SELECT e.seq, e.data FROM events e, last
                WHERE e.job_id=? AND e.seq>=COALESCE(last.base, last.seq) AND e.seq<=last.seq ORDER BY e.seq""",
            (job_id, before_seq, job_id),
        )

    def _chain(self, conn: Connection, job_id: str, before_seq: int = _END) -> list[tuple[int, str]]:
        return [tuple(r) for r in conn.execute(*self.chain_query(job_id, before_seq))]

    @staticmethod
    def _replay(rows: list[tuple[int, str]], state: dict[str, Any] | None = None) -> dict[str, Any]:
        state = dict(state or {})
        for _, data in rows:
            fields, base = _decode(data)
            state = {**state, **fields} if base is not None else fields
        return state

    @staticmethod
    def last_seq(conn: Connection, job_id: str) -> int:
        return conn.execute("SELECT COALESCE(MAX(seq), 0) FROM events WHERE job_id=?", (job_id,)).fetchone()[0]

    def since(
        self, job_id: str, after_seq: int, limit: int = PAGE, state_at: dict[str, Any] | None = None
    ) -> list[tuple[int, JobRecord]]:
        """(seq, whole record) of the job's events after ``after_seq``, oldest first.

        A delta is applied onto the state at the event before it. ``state_at``: that state at ``after_seq``, when
        the caller has it (a live stream has the record of the last event it sent, ``JobRecord.snapshot``): the
        rows after it are then one statement, no transaction (one round trip to a database server, where reading
        the chain back too took four). Else the state is rebuilt from the base row of the event before the first
        one, all in one read transaction: a compaction committing meanwhile is seen entirely or not at all.
        """
        query = "SELECT seq, data FROM events WHERE job_id=? AND seq>? ORDER BY seq LIMIT ?"
        if state_at is not None:
            return self._records(
                [tuple(r) for r in self.db.conn().execute(query, (job_id, after_seq, limit))], state_at
            )
        with self.db.tx(immediate=False) as conn:
            rows = [tuple(r) for r in conn.execute(query, (job_id, after_seq, limit))]
            if not rows:
                return []
            state = self._replay(self._chain(conn, job_id, rows[0][0])) if _decode(rows[0][1])[1] is not None else {}
        return self._records(rows, state)

    def _records(self, rows: list[tuple[int, str]], state: dict[str, Any]) -> list[tuple[int, JobRecord]]:
        """The record at each of ``rows``, replayed in order onto ``state`` (the state before the first)."""
        out = []
        for seq, data in rows:
            state = self._replay([(seq, data)], state)
            out.append((seq, JobRecord.model_validate(state)))
        return out


def open_watch(db: Database) -> ChangeWatch | NotifyWatch:
    """The watch that suits ``db``'s backend (see the module docstring)."""
    return NotifyWatch(db) if db.dialect == "postgres" else ChangeWatch(db)


class ChangeWatch:
    """Which watched jobs got events since the last ``poll``; for one thread (the watcher's). SQLite's."""

    # ``poll`` answers at once: its caller sleeps between polls and parks while no stream is open.
    blocks = False
    # What the last poll heard of each job's events besides that they came: nothing here (see ``NotifyWatch``).
    notices: dict[str, list[Notice]] = {}

    def __init__(self, db: Database):
        # Its own connection, never the thread's shared one: data_version ignores the
        # connection's own commits, so this one only reads.
        self._conn = sqlite3.connect(db.path, timeout=30.0, isolation_level=None, check_same_thread=False)
        self._conn.execute("PRAGMA busy_timeout=30000")
        self._conn.execute("PRAGMA query_only=ON")
        self.closed = False
        self._version = self._data_version()
        self._seq = self._max_seq()

    def _data_version(self) -> int:
        return self._conn.execute("PRAGMA data_version").fetchone()[0]

    def _max_seq(self) -> int:
        return self._conn.execute("SELECT COALESCE(MAX(seq), 0) FROM events").fetchone()[0]

    def poll(self, watched: Callable[[], Collection[str]]) -> set[str]:
        """The jobs among ``watched()`` with events committed since the last poll.

        ``watched`` is called after the newest seq is read: a job watched only from
        later on has its watcher read the store itself after it started watching, so
        an event this poll skips for it is one that reader sees. Writers commit one
        at a time, so seqs grow in commit order and nothing lands behind ``_seq``.
        """
        version = self._data_version()
        if version == self._version:
            return set()
        self._version = version
        newest = self._max_seq()
        if newest <= self._seq:
            return set()  # a commit without events (heartbeats, leases, replica reports)
        jobs = list(watched())
        after, self._seq = self._seq, newest
        if not jobs:
            return set()
        query = "SELECT DISTINCT job_id FROM events WHERE seq>? AND seq<=?"
        args: list[object] = [after, newest]
        if len(jobs) <= _MAX_IN_LIST:
            query += f" AND job_id IN ({','.join('?' * len(jobs))})"
            args += jobs
        changed = {row[0] for row in self._conn.execute(query, args)}
        return changed if len(jobs) <= _MAX_IN_LIST else changed & set(jobs)

    def close(self) -> None:
        self.closed = True
        self._conn.close()


class NotifyWatch:
    """Which watched jobs got events, from PostgreSQL's notifications; for one thread (the watcher's)."""

    # ``poll`` waits for notifications itself: its caller neither sleeps nor parks, so the listening
    # connection is always read (unread notifications would hold back the server's queue).
    blocks = True

    def __init__(self, db: Database):
        self._listener = db.listen()  # LISTENing before any stream reads: a later commit is heard
        # The last poll's notices of each job it returned (none: only that it changed; see ``Notice``).
        self.notices: dict[str, list[Notice]] = {}

    def poll(self, watched: Callable[[], Collection[str]]) -> set[str]:
        """The jobs among ``watched()`` notified since the last poll, waiting up to ``NOTIFY_WAIT_S`` for one;
        all of them after the connection was lost (one may have been missed, and none has notices)."""
        heard = self._listener.wait(NOTIFY_WAIT_S)
        jobs = set(watched())
        self.notices = {} if heard is None else {job: heard[job] for job in heard.keys() & jobs}
        return jobs if heard is None else set(self.notices)

    @property
    def closed(self) -> bool:
        return self._listener.closed

    def close(self) -> None:
        self._listener.close()
