"""The queue bounds a new job must fit, checked inside the transaction that inserts it.

``Jobs.create`` runs ``check`` and its INSERT in one transaction that holds, from
the count to the insert, the lock of the family's queue and of the owner
(``db.serialize``: SQLite's ``BEGIN IMMEDIATE`` write lock; PostgreSQL advisory
locks), so two ingress replicas (or two requests of one) can never both see room
for one more job and both insert it. The bounds:

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


def check(conn: Connection, json_number: str, bounds: QueueBounds, family: str, owner: str | None, now: float) -> None:
    """Raise when one more job of ``family`` (on ``bounds.model_name``) by ``owner`` would break a bound (inside the
    caller's transaction; ``json_number``: its database's ``Database.json_number``). The three counts are one
    statement (one round trip to a database server)."""
    where, args = _queue_where(bounds, family)
    counts = [f"(SELECT COUNT(*) FROM jobs WHERE {where} AND status=?)"]
    count_args: list = [*args, str(JobStatus.QUEUED)]
    if owner is not None:
        counts += [
            "(SELECT COUNT(*) FROM jobs WHERE owner=? AND status=?)",
            "(SELECT COUNT(*) FROM jobs WHERE owner=? AND created_at>?)",
        ]
        count_args += [owner, str(JobStatus.QUEUED), owner, now - RATE_WINDOW_S]
    queued, *mine = conn.execute(f"SELECT {', '.join(counts)}", count_args).fetchone()
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
