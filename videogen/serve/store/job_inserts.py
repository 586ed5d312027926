"""A queued job's insert within its queue bounds: one submission (``create_job``), or several in one transaction
(``create_many``, the ingress's group commit: ``service/insert_batches``).

A bounded insert is counted and inserted by one statement (``bounds.fits``) under its queue's lock and its part of
its owner's (``Database.lock_for_insert``); when it inserts nothing, ``bounds.check``, the same rule read back, says
why (or, the counts having changed meanwhile, that it fits now). A batch takes the locks of its queues and the whole
of its owners' (every slot: ``database_postgres.OWNER_SLOTS``) together, in one order every batch uses
(``Database.lock_for_batch``), so no other insert of its queues or owners is in flight; it counts each queue and
each owner once (``_BatchCounts``), admits its jobs in order against those counts, each admitted one counted for
the next, and sends the counts and the inserts in one round trip (``Database.execute_each``), the events with the
commit: the bounds hold exactly, as they would one submission at a time.
"""

from __future__ import annotations

import copy
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

from videogen.errors import RateLimitedError, VideoGenError
from videogen.serve.store import bounds as queue_bounds
from videogen.serve.store.database import Connection, Database
from videogen.serve.store.events import EventLog
from videogen.serve.store.records import JobRecord, JobStatus
from videogen.serve.store.records import column_json as _json
from videogen.video.progress import Progress


def new_job_id() -> str:
    return "job_" + uuid.uuid4().hex[:20]


_JOB_COLUMNS = """id, status, family, task, request_json, image, model_json, params_json, adjustments_json,
    progress_json, estimate_json, created_at, updated_at, max_attempts, dispatcher, lease_until, owner, model_name"""
_JOB_VALUES = ",".join("?" * len(_JOB_COLUMNS.split(",")))
_INSERT = f"INSERT INTO jobs({_JOB_COLUMNS}) VALUES ({_JOB_VALUES}) RETURNING *"
# A batch's insert: the row is known already (``NewJob.record``), nothing read back.
_INSERT_ONLY = f"INSERT INTO jobs({_JOB_COLUMNS}) VALUES ({_JOB_VALUES})"
_COLUMN_NAMES = [name.strip() for name in _JOB_COLUMNS.split(",")]
# What the table gives the columns a new job leaves out (the schema's defaults, ``migrations``).
_DEFAULTS = {"stages_json": "[]", "history_json": "[]", "attempts": 0, "cancel_requested": 0}
# The columns stamped with the transaction's clock when the job is inserted.
_STAMPED = ("created_at", "updated_at", "lease_until")
# Inserted only while ``{condition}`` (``bounds.fits``) holds: a bounded submission's count and insert in one statement.
_INSERT_IF = f"INSERT INTO jobs({_JOB_COLUMNS}) SELECT {_JOB_VALUES} WHERE {{condition}} RETURNING *"


@dataclass
class NewJob:
    """A job to queue (on the served model ``model_name``; None: the family's default); with ``bounds``, refused
    (nothing written) unless it fits them, atomically."""

    family: str
    task: str
    request: dict[str, Any]
    image: str | None
    model: dict[str, Any] | None
    params: dict[str, Any] | None
    adjustments: list[dict[str, Any]]
    progress: Progress
    max_attempts: int
    dispatcher: str | None
    lease_s: float
    job_id: str = field(default_factory=new_job_id)
    estimate: dict[str, Any] | None = None
    owner: str | None = None
    bounds: queue_bounds.QueueBounds | None = None
    model_name: str | None = None

    def __post_init__(self) -> None:
        self.job_id = self.job_id or new_job_id()

    @property
    def queue(self) -> str:
        """The lock of the queue its bounds count."""
        return f"queue:{self.family}"

    @property
    def owner_lock(self) -> str | None:
        """The lock of its owner's part of its bounds (None: its owner has no limits of its own)."""
        limited = self.bounds is not None and queue_bounds.limits_owner(self.bounds, self.owner)
        return f"owner:{self.owner}" if limited else None

    def values(self, now: float) -> tuple:
        """The row's values (``_JOB_COLUMNS``), stamped ``now``."""
        return (
            self.job_id,
            str(JobStatus.QUEUED),
            self.family,
            self.task,
            *self._json_columns,
            now,
            now,
            self.max_attempts,
            self.dispatcher,
            now + self.lease_s if self.dispatcher else None,
            self.owner,
            self.model_name,
        )

    @cached_property
    def _json_columns(self) -> tuple:
        """Its JSON columns and its image, in ``_JOB_COLUMNS``' order (written once, however often it is tried)."""
        json_columns = [_json(self.request), self.image, _json(self.model), _json(self.params)]
        json_columns += [_json(self.adjustments), _json(self.progress)]
        return (*json_columns, _json(self.estimate) if self.estimate is not None else None)

    def prepare(self) -> None:
        """Work out its row, record and event (``record``, ``snapshot``) now, on the caller's thread: not in the
        batch's writer thread, which every submission waits for in turn (``service/insert_batches``)."""
        _ = self._template

    @cached_property
    def _template(self) -> tuple[JobRecord, dict[str, Any]]:
        """The record and its snapshot as the row reads back once inserted (``JobRecord.from_row`` of its values
        and the table's defaults), the clock's columns left to stamp."""
        record = JobRecord.from_row({**dict(zip(_COLUMN_NAMES, self.values(0.0), strict=True)), **_DEFAULTS})
        return record, record.snapshot()

    def _stamps(self, now: float) -> dict[str, float | None]:
        return dict(zip(_STAMPED, (now, now, now + self.lease_s if self.dispatcher else None), strict=True))

    def record(self, now: float) -> JobRecord:
        """The record of its row inserted at ``now``: what ``SELECT *`` would read back."""
        return self._template[0].model_copy(update=self._stamps(now))

    def snapshot(self, now: float) -> dict[str, Any]:
        """``record(now).snapshot()``: its first event."""
        return {**self._template[1], **self._stamps(now)}

    def insert(self, now: float, slack: int = 1) -> tuple[str, tuple]:
        """Its insert statement: counted against its bounds (``slack``: see ``bounds.check``), or plain."""
        if self.bounds is None:
            return _INSERT, self.values(now)
        condition, condition_args = queue_bounds.fits(self.bounds, self.family, self.owner, now, slack)
        return _INSERT_IF.format(condition=condition), (*self.values(now), *condition_args)


class JobInserts:
    """``Jobs``' inserts (``db``, and ``_changed`` logging a change as an event, come with ``Jobs``)."""

    db: Database
    events: EventLog

    def _changed(self, conn: Connection, job_id: str, row: Any = None, *, full: bool = False) -> JobRecord:
        raise NotImplementedError

    def create(self, **fields: Any) -> JobRecord:
        """``create_job`` of ``NewJob(**fields)``."""
        return self.create_job(NewJob(**fields))

    def create_job(self, job: NewJob) -> JobRecord:
        """Insert ``job`` queued, within its bounds: the refusal (``bounds.check``'s typed error) is raised."""

        def insert(alone: bool) -> JobRecord:
            with self.db.tx() as conn:
                self.db.unannounced(conn)  # its first event: nobody is waiting for it yet
                slack = 1
                if job.bounds is not None:
                    # The count and the insert are one step for every writer of this queue and, near its limits, of
                    # this owner (the locks first: on PostgreSQL the transaction's clock is read with them).
                    slack = self.db.lock_for_insert(conn, job.queue, job.owner_lock, alone=alone)
                now = self.db.clock(conn)
                rows = conn.execute(*job.insert(now, slack)).fetchall()
                if not rows and job.bounds is not None:
                    rows = self._checked_insert(conn, job, now, slack)
                # the row as inserted: not read again (read whole: finished before the commit)
                return self._changed(conn, job.job_id, rows[0], full=True)  # its first event

        try:
            return insert(alone=False)
        except queue_bounds.OwnerNearItsLimits:  # counted again, with every other insert of the owner ended
            return insert(alone=True)

    def create_many(self, jobs: list[NewJob]) -> list[JobRecord | VideoGenError]:
        """Insert ``jobs`` in one transaction, each within its bounds: per job, its record, or the refusal
        ``create_job`` would have raised (a copy each: they are raised on different threads).

        The counts travel with the inserts, before them, and the inserts are made whatever the counts say (one round
        trip, then the events with the commit: two): a job they refuse is deleted again, with the next statement,
        before anything counts again; ``bounds.check`` then says why, counting what stays (a refusal costs round
        trips, a fit none)."""
        with self.db.tx() as conn:
            self.db.unannounced(conn)  # their first events: nobody is waiting for them yet
            bounded = [job for job in jobs if job.bounds is not None]
            self.db.lock_for_batch(conn, {job.queue for job in bounded}, {job.owner_lock for job in bounded} - {None})
            now = self.db.clock(conn)
            counts = _BatchCounts(jobs, now)
            counted = [counts.statement] if counts.columns else []
            results = self.db.execute_each(conn, *counted, *((_INSERT_ONLY, job.values(now)) for job in jobs))
            fits = counts.fits(results[0][0] if counted else ())
            refused = [job.job_id for job, ok in zip(jobs, fits, strict=True) if not ok]
            if refused:  # gone before anything counts again (check) or the commit
                self.db.write_later(conn, f"DELETE FROM jobs WHERE id IN ({','.join('?' * len(refused))})", refused)
            # A queue found full, an owner found at its limits, stays so in here: not counted again.
            full: dict[tuple[str, str | None], VideoGenError] = {}
            limited: dict[str | None, VideoGenError] = {}
            outcomes: list[JobRecord | VideoGenError] = []
            for job, ok in zip(jobs, fits, strict=True):
                queue = (job.family, job.bounds.model_name if job.bounds else None)
                refusal = None if ok else full.get(queue) or limited.get(job.owner)
                if not ok and refusal is None:  # why (read back by check), or room after all (a job started)
                    try:
                        self._checked_insert(conn, job, now, 1)
                    except RateLimitedError as exc:
                        refusal = limited[job.owner] = exc
                    except VideoGenError as exc:
                        refusal = full[queue] = exc
                if refusal is None:
                    self.events.append_snapshot(conn, job.job_id, job.snapshot(now))  # its first event
                    outcomes.append(job.record(now))
                else:
                    outcomes.append(copy.copy(refusal))
            return outcomes

    def _checked_insert(self, conn: Connection, job: NewJob, now: float, slack: int) -> list[Any]:
        """A counted insert inserted nothing: raise why (``bounds.check``), or, the counts having changed between
        the two statements and it fits now, insert it."""
        queue_bounds.check(conn, self.db.json_number, job.bounds, job.family, job.owner, now, slack)
        return conn.execute(_INSERT, job.values(now)).fetchall()


class _BatchCounts:
    """A batch's bounds counted once (each queue's and each owner's counts, ``bounds.limited_counts``, by one
    statement), then its jobs admitted in order, each one admitted counted for those after it: under the batch's
    locks nobody else adds to those counts, so what fits here fits at the insert."""

    def __init__(self, jobs: list[NewJob], now: float):
        self.columns: dict[tuple[str, tuple], int] = {}  # a count's SQL and arguments -> its column, in order
        self.per_job: list[list[tuple[int, int]]] = []  # (column, limit) of each job's counts
        for job in jobs:
            limited = queue_bounds.limited_counts(job.bounds, job.family, job.owner, now)
            self.per_job.append(
                [
                    (self.columns.setdefault((sql, tuple(args)), len(self.columns)), limit)
                    for sql, args, limit in limited
                ]
            )

    @property
    def statement(self) -> tuple[str, list]:
        """The one statement that reads every count (only when there are ``columns``)."""
        args = [value for _, column_args in self.columns for value in column_args]
        return f"SELECT {', '.join(sql for sql, _ in self.columns)}", args

    def fits(self, counted: Sequence[int]) -> list[bool]:
        """Which jobs fit, in order, given ``statement``'s row."""
        counts = list(counted)
        fits = []
        for mine in self.per_job:
            fits.append(all(counts[column] + 1 <= limit for column, limit in mine))
            if fits[-1]:
                for column, _ in mine:
                    counts[column] += 1
        return fits
