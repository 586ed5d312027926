"""A replica's health check against the job store: the store being away is not the replica's fault.

A PostgreSQL restart or failover, or a lock held past its timeout (``store_unavailable`` / ``store_busy``:
``serve.errors.store_unavailable``), is seen by every replica at once. Failing their health checks for it would
make Serve replace them all, killing their running jobs, and bring the store back no sooner. So such an outage
is logged and kept for the diagnostics, and the check passes; any other failure of the store (a SQLite file
that cannot be opened, a broken schema) is this replica's own and fails the check, so Serve replaces it.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from typing import Any

from videogen.errors import VideoGenError
from videogen.serve.errors import store_unavailable

logger = logging.getLogger("videogen.serve")

# How long a worker keeps trying to record a job's end while the store is away, before it gives up (the job
# then goes back to the queue once its heartbeat is old).
STORE_WAIT_S = 600.0
# While the store is away a running job's cancel flag cannot change: it is read again only after this long.
STOP_CHECK_RETRY_S = 10.0


class StoreHealth:
    """Probes the store for a health check; remembers the outage going on and the last one."""

    def __init__(self, who: str):
        self.who = who
        self.outage: dict[str, Any] | None = None
        self.last_outage: dict[str, Any] | None = None

    def probe(self, call: Callable[[], object]) -> None:
        """Run ``call`` (one store read or write); raises only when the store fails in a way of this replica's."""
        try:
            call()
        except Exception as exc:
            typed = store_unavailable(exc)
            if typed is None:
                raise RuntimeError(f"state store unusable: {exc}") from exc
            self._note(typed)
            return
        if self.outage is not None:
            self.outage["until"] = time.time()
            self.last_outage, self.outage = self.outage, None
            lasted = self.last_outage["until"] - self.last_outage["since"]
            logger.warning("%s: the job store answers again (away for %.1fs)", self.who, lasted)

    def _note(self, typed: VideoGenError) -> None:
        now = time.time()
        if self.outage is None:
            self.outage = {"since": now, "failed_checks": 0}
            logger.warning(
                "%s: the job store is unavailable (%s); staying healthy: every replica sees it, replacing "
                "this one would not bring it back",
                self.who,
                typed.message,
            )
        self.outage.update(code=str(typed.code), error=typed.message, last=now)
        self.outage["failed_checks"] += 1

    def describe(self) -> dict[str, Any]:
        """For the diagnostics: the outage going on (None) and the last one that ended."""
        return {"outage": self.outage, "last_outage": self.last_outage}


def until_store_answers(call: Callable[[], Any], interval_s: float, give_up_s: float = STORE_WAIT_S) -> Any:
    """``call()`` (one store write), tried again every ``interval_s`` while the store is away, for up to
    ``give_up_s``: a job that ended during a database restart is recorded when it is back, not run again."""
    deadline = time.monotonic() + give_up_s
    while True:
        try:
            return call()
        except Exception as exc:
            typed = store_unavailable(exc)
            if typed is None or time.monotonic() >= deadline:
                raise
            logger.warning("the job store is unavailable (%s); trying again in %.0fs", typed.message, interval_s)
            time.sleep(interval_s)


class StopCheck:
    """A running job's "should it stop?" read (its cancel flag, its claim), asked at every denoising step: while
    the store is away the answer is no (nothing can cancel or take the job meanwhile), and the store is asked
    again only every ``retry_s``, so the steps do not each wait out the pool's timeout."""

    def __init__(self, check: Callable[[], bool], retry_s: float = STOP_CHECK_RETRY_S):
        self.check, self.retry_s = check, retry_s
        self._away_until = 0.0

    def __call__(self) -> bool:
        if time.monotonic() < self._away_until:
            return False
        try:
            return self.check()
        except Exception as exc:
            typed = store_unavailable(exc)
            if typed is None:
                raise
            self._away_until = time.monotonic() + self.retry_s
            logger.warning("the job store is unavailable (%s); the job goes on", typed.message)
            return False
