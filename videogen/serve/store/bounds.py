"""The queue bounds a new job must fit, checked inside the transaction that inserts it.

``Jobs.create`` counts and inserts in one statement guarded by ``fits`` (``check``, the same rule read back,
says why when it inserted nothing), in one transaction that holds, from
the count to the insert, the lock of the family's queue and its part of the owner's
(``db.lock_for_insert``: SQLite's ``BEGIN IMMEDIATE`` write lock; PostgreSQL advisory
locks), so two ingress replicas (or two requests of one) can never both see room
for one more job and both insert it. An owner's submissions need not wait for each
other while its counts are far from its limits: on PostgreSQL each holds one of a
fixed number of slots (the *slack*, ``database_postgres.OWNER_SLOTS``), so at most that
many can be in flight, each uncounted by the others; while the counts leave that much
room, they cannot together pass a limit. Nearer (``OwnerNearItsLimits``), the
submission is made again holding every slot: alone, its counts exact. The bounds:

- the served model's queue (``max_queued_jobs``; a family with one model: the family's): 503
  ``overloaded`` with Retry-After = the expected drain time of what is queued and running on it;
- the owner's queued jobs (a key's ``max_queued_jobs``): 429 ``rate_limited``;
- the owner's submissions in the last minute (``submissions_per_minute``): 429
  with Retry-After = when the oldest of them leaves the window. Counted from
  the table, so the limit holds across ingress replicas.
"""

from __future__ import annotations

from dataclasses import dataclass

from videogen.errors import RateLimitedError, ServiceBusyError
from videogen.serve.store.database import Connection
from videogen.serve.store.records import JobStatus

RATE_WINDOW_S = 60.0


@dataclass(frozen=True)
class QueueBounds:
    """``family_max_queued`` bounds the queue of the model ``model_name`` of the family (None: the whole family's
    jobs, as before named models); ``default_name`` is the family's default model, which rows without a model
    name (written before named models) count towards."""

    family_max_queued: int
    default_job_seconds: float
    owner_max_queued: int | None = None
    owner_per_minute: int | None = None
    model_name: str | None = None
    default_name: str | None = None


def _queue_where(bounds: QueueBounds, family: str) -> tuple[str, tuple]:
    """The WHERE clause (and its arguments) of the bounded queue's jobs, before the status condition."""
    if bounds.model_name is None:
        return "family=?", (family,)
    return "family=? AND COALESCE(model_name, ?)=?", (family, bounds.default_name or family, bounds.model_name)


def _drain_seconds(conn: Connection, json_number: str, bounds: QueueBounds, family: str, default: float) -> float:
    """The expected seconds of what is queued and running on the queue (``default`` for a job without an estimate),
    summed by the database: a refusal under load holds the queue's lock for one aggregate, not a parse per row."""
    where, args = _queue_where(bounds, family)
    expected = json_number.format(column="estimate_json", key="expected_seconds")
    (total,) = conn.execute(
        f"SELECT COALESCE(SUM(COALESCE({expected}, ?)), 0) FROM jobs WHERE {where} AND status IN (?,?)",
        (default, *args, str(JobStatus.QUEUED), str(JobStatus.RUNNING)),
    ).fetchone()
    return float(total)


class OwnerNearItsLimits(Exception):
    """Counted with a slack above 1, the owner is too near its limits for the inserts in flight to be ignored: the
    transaction is to be run again with ``alone`` (``Database.lock_for_insert``), its counts exact."""


def limits_owner(bounds: QueueBounds, owner: str | None) -> bool:
    """The owner has a limit of its own to count (else its submissions take no lock of the owner)."""
    return owner is not None and (bounds.owner_max_queued is not None or bounds.owner_per_minute is not None)


def _counts(bounds: QueueBounds, family: str, owner: str | None, now: float) -> list[tuple[str, list]]:
    """The scalar subqueries (each with its arguments) that count the queue's queued jobs and, for an owner, its
    queued jobs and its submissions in the rate window: what ``check`` reads and ``fits`` compares."""
    where, args = _queue_where(bounds, family)
    counts = [(f"(SELECT COUNT(*) FROM jobs WHERE {where} AND status=?)", [*args, str(JobStatus.QUEUED)])]
    if owner is not None:
        counts += [
            ("(SELECT COUNT(*) FROM jobs WHERE owner=? AND status=?)", [owner, str(JobStatus.QUEUED)]),
            ("(SELECT COUNT(*) FROM jobs WHERE owner=? AND created_at>?)", [owner, now - RATE_WINDOW_S]),
        ]
    return counts


def limited_counts(
    bounds: QueueBounds | None, family: str, owner: str | None, now: float
) -> list[tuple[str, list, int]]:
    """The counts (scalar subqueries, their arguments) that have a limit, with it: one more job fits while each
    count is below its limit (``check``'s rule; none without ``bounds``). A batch of inserts counts each once."""
    if bounds is None:
        return []
    counts = _counts(bounds, family, owner, now)
    limits = (limit for limit, _ in _room(bounds, owner, 1))
    return [(sql, args, limit) for (sql, args), limit in zip(counts, limits, strict=True) if limit is not None]


def _room(bounds: QueueBounds, owner: str | None, owner_slack: int) -> list[tuple[int | None, int]]:
    """Each of ``_counts``' limits (None: none) and the room one more job needs under it: 1 in the queue,
    ``owner_slack`` under the owner's."""
    room = [(bounds.family_max_queued, 1)]
    if owner is not None:
        room += [(bounds.owner_max_queued, owner_slack), (bounds.owner_per_minute, owner_slack)]
    return room


def fits(bounds: QueueBounds, family: str, owner: str | None, now: float, owner_slack: int = 1) -> tuple[str, list]:
    """A SQL condition (and its arguments) true when one more job fits every bound with room for ``owner_slack`` of
    the owner's inserts: what ``check`` lets through without raising. An insert guarded by it (``INSERT ... SELECT
    ... WHERE``) counts and inserts in one statement, one round trip to a database server where it was two; when it
    inserts nothing, ``check`` says why (or, the counts having changed meanwhile, that it fits now)."""
    counts = _counts(bounds, family, owner, now)
    conditions, args = [], []
    for (count, count_args), (limit, needed) in zip(counts, _room(bounds, owner, owner_slack), strict=True):
        if limit is not None:
            conditions.append(f"{count} + ? <= ?")
            args += [*count_args, needed, limit]
    return " AND ".join(conditions), args


def check(
    conn: Connection,
    json_number: str,
    bounds: QueueBounds,
    family: str,
    owner: str | None,
    now: float,
    owner_slack: int = 1,
) -> None:
    """Raise when one more job of ``family`` (on ``bounds.model_name``) by ``owner`` would break a bound (inside the
    caller's transaction; ``json_number``: its database's ``Database.json_number``). The three counts are one
    statement (one round trip to a database server). ``owner_slack``: how many of the owner's inserts may be in
    flight, this one included, none of them counted (``Database.lock_for_insert``): the owner's counts must leave
    that much room, else ``OwnerNearItsLimits`` (with 1, the counts are exact and a full limit refuses)."""
    counts = _counts(bounds, family, owner, now)
    count_args = [value for _, args in counts for value in args]
    queued, *mine = conn.execute(f"SELECT {', '.join(sql for sql, _ in counts)}", count_args).fetchone()
    if queued >= bounds.family_max_queued:
        drain_s = _drain_seconds(conn, json_number, bounds, family, bounds.default_job_seconds)
        raise ServiceBusyError(
            f"the {bounds.model_name or family} queue is full ({queued} queued, "
            f"max_queued_jobs={bounds.family_max_queued}); try again in about {drain_s:.0f}s",
            retry_after_s=drain_s,
            queued=queued,
            max_queued_jobs=bounds.family_max_queued,
        )
    if owner is None:
        return
    queued_by_owner, recent_by_owner = mine
    near = [(queued_by_owner, bounds.owner_max_queued), (recent_by_owner, bounds.owner_per_minute)]
    if owner_slack > 1 and any(limit is not None and count < limit < count + owner_slack for count, limit in near):
        raise OwnerNearItsLimits(owner)
    if bounds.owner_max_queued is not None and queued_by_owner >= bounds.owner_max_queued:
        raise RateLimitedError(
            f"{owner} has {queued_by_owner} jobs queued, its limit (max_queued_jobs={bounds.owner_max_queued}); "
            "wait for one to start or cancel one",
            retry_after_s=bounds.default_job_seconds,
            queued=queued_by_owner,
            max_queued_jobs=bounds.owner_max_queued,
        )
    if bounds.owner_per_minute is not None and recent_by_owner >= bounds.owner_per_minute:
        recent = [
            r[0]
            for r in conn.execute(
                "SELECT created_at FROM jobs WHERE owner=? AND created_at>? ORDER BY created_at",
                (owner, now - RATE_WINDOW_S),
            )
        ]
        wait = recent[len(recent) - bounds.owner_per_minute] + RATE_WINDOW_S - now
        raise RateLimitedError(
            f"{owner} submitted {len(recent)} jobs in the last minute, its limit "
            f"(submissions_per_minute={bounds.owner_per_minute}); try again in {max(1, round(wait))}s",
            retry_after_s=max(1.0, wait),
            submissions_per_minute=bounds.owner_per_minute,
        )
