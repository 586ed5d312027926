"""A PostgreSQL transaction in as few round trips as its statements allow.

psycopg sends ``BEGIN`` and ``COMMIT`` as statements of their own, each a round trip to the server and back; a
submission was six (``BEGIN``, its locks, its counts, the insert, its event, ``COMMIT``). Under load each of them
also waits for the GIL when its answer arrives (the ingress's event loop holds it), so each round trip costs
milliseconds, not the server's tenth of one: served on the 2-core box, 32 clients, every step of a submission's
transaction took 1.5–3 ms p50 and 10–20 ms p95 (``benchmarks/results/cpu/submit-profile.md``, round six).

Here a statement whose answer nobody reads waits and travels with the next one, in one query string:

- ``BEGIN`` goes with the transaction's first statement;
- a submission's lock of its queue goes with its counted insert (``lock_for_insert``);
- statements whose answers are all read go in one string too (``execute_each``: a batch of submissions' counted
  inserts);
- a write queued by ``later`` (the store's ``Database.write_later``: an event's row, whose ``NOTIFY`` its trigger
  sends) goes with the next statement or with ``COMMIT``;
- a transaction's last statement whose answer is read goes with ``COMMIT`` (``execute_last``: a claim, a job's end).

A query string of several statements is the simple query protocol, so such a string has its parameters bound by
psycopg on this side (``ClientCursor``: literals it quotes), not by the server; the server runs the statements in
order and stops at the first that fails, which fails the transaction (rolled back here). Statements sent alone keep
server-side binding. Order is kept: a queued write always reaches the server before any later statement.
"""

from __future__ import annotations

import functools
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Any

import psycopg


@functools.lru_cache(maxsize=1024)
def psycopg_sql(sql: str) -> str:
    """The store's SQL with psycopg's placeholders (its ``%`` escaped: the store's SQL has no ``?`` in text)."""
    return sql.replace("%", "%%").replace("?", "%s")


BEGIN = "BEGIN"
BEGIN_SNAPSHOT = "BEGIN ISOLATION LEVEL REPEATABLE READ, READ ONLY"


class Transaction:
    """A pooled connection inside a transaction: the store's SQL on it, and the transaction's clock."""

    def __init__(self, raw: psycopg.Connection, begin: str):
        self.raw = raw
        self.clock: float | None = None
        self.ended = False  # committed by ``execute_last``: nothing more to send
        self._waiting: list[tuple[str, Sequence[Any]]] = [(begin, ())]

    @property
    def begun(self) -> bool:
        """``BEGIN`` reached the server (there is a transaction to end)."""
        return not self._waiting or self._waiting[0][0] not in (BEGIN, BEGIN_SNAPSHOT)

    def execute(self, sql: str, params: Sequence[Any] = ()) -> psycopg.Cursor:
        self._not_ended()
        if not self._waiting:
            return self.raw.execute(psycopg_sql(sql), params)
        return self._send([*self._waiting, (sql, params)])

    def execute_each(self, statements: Sequence[tuple[str, Sequence[Any]]]) -> list[list[Any]]:
        """The rows of each of ``statements`` (read whole), all sent in one query string (with what waits)."""
        self._not_ended()
        pending = [*self._waiting, *statements]
        cursor = self._send(pending, to_last=False)
        results = []
        for index in range(len(pending)):
            if index >= len(pending) - len(statements):
                results.append(cursor.fetchall() if cursor.description else [])
            cursor.nextset()
        return results

    def later(self, sql: str, params: Sequence[Any] = ()) -> None:
        """Run ``sql`` (a write or a lock: its rows and count are never read) with the next statement or the
        commit."""
        self._not_ended()
        self._waiting.append((sql, params))

    def execute_last(self, sql: str, params: Sequence[Any] = ()) -> list[Any]:
        """The rows of ``sql``, the transaction's last statement, sent with what waits and with ``COMMIT`` (one round
        trip where the statement and the commit were two); the transaction has ended when it returns."""
        rows, _ = self.execute_each([(sql, params), ("COMMIT", ())])
        self.ended = True
        return rows

    def _not_ended(self) -> None:
        if self.ended:
            raise RuntimeError("the transaction was committed by its last statement already")

    def commit(self) -> None:
        if self.ended:
            return
        if not self.begun and len(self._waiting) == 1:  # nothing but BEGIN: there is nothing to commit
            self._waiting.clear()
            return
        self._send([*self._waiting, ("COMMIT", ())])

    def rollback(self) -> None:
        if self.begun and not self.ended and not self.raw.closed:
            self._waiting.clear()
            self.raw.execute("ROLLBACK")

    def _send(self, statements: list[tuple[str, Sequence[Any]]], to_last: bool = True) -> psycopg.Cursor:
        """``statements`` as one query string; the cursor holds the last one's result (``to_last``; else the
        first one's, the others after it by ``nextset``)."""
        self._waiting = []
        cursor = psycopg.ClientCursor(self.raw)
        values = [value for _, params in statements for value in params]
        if values:
            cursor.execute("; ".join(psycopg_sql(sql) for sql, _ in statements), values)
        else:  # nothing to bind: the text as it is (no placeholder is looked for)
            cursor.execute("; ".join(sql for sql, _ in statements))
        while to_last and cursor.nextset():  # to the last statement's result
            pass
        return cursor


@contextmanager
def transaction(raw: psycopg.Connection, *, read_only: bool) -> Iterator[Transaction]:
    """A transaction on ``raw`` (an autocommit connection): committed when the block ends, rolled back when it
    raises, or when its commit fails (a queued write refused)."""
    tx = Transaction(raw, BEGIN_SNAPSHOT if read_only else BEGIN)
    try:
        yield tx
        tx.commit()
    except BaseException:
        try:
            tx.rollback()
        except psycopg.Error:  # the connection is broken: the pool discards it, the server ends the transaction
            pass
        raise
