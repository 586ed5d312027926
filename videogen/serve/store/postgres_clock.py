"""The PostgreSQL server's clock, tracked on this node without a round trip per transaction.

Every stored time is the server's clock, never a node's, so that a skew between nodes cannot make a live job look
stale (``database_postgres``). Reading it was a statement of its own at the start of nearly every write
transaction (a claim, a progress write, a heartbeat, a finish): a round trip before the statement that uses it,
and under load each round trip also waits for the GIL when its answer comes (``postgres_tx``). Here the server's
clock is read at most every ``CALIBRATE_S`` and carried forward in between by this process's monotonic clock, which
no change of the node's wall clock moves: the time then is the server's to within half the round trip of the read
that calibrated it plus the two clocks' drift since (parts per million: microseconds over ``CALIBRATE_S``). A read
whose round trip took longer than ``MAX_ROUND_TRIP_S`` (a loaded box: its answer waited for the GIL) calibrates
nothing, so an estimate is never off by more than half of that; the transaction that made it uses its exact value.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

# How long an estimate is carried forward before the server's clock is read again.
CALIBRATE_S = 10.0
# A reading that took longer than this, there and back, does not calibrate (see the module docstring).
MAX_ROUND_TRIP_S = 0.004


class ServerClock:
    """``now(read)``: the server's clock in epoch seconds; ``read()`` asks the server (one statement) when the last
    reading is older than ``calibrate_s``, or there is none. Safe from any thread."""

    def __init__(self, calibrate_s: float = CALIBRATE_S, max_round_trip_s: float = MAX_ROUND_TRIP_S):
        self.calibrate_s, self.max_round_trip_s = calibrate_s, max_round_trip_s
        self._offset: float | None = None  # the server's epoch seconds less this process's monotonic clock
        self._read_at = float("-inf")
        self._lock = threading.Lock()

    def now(self, read: Callable[[], float]) -> float:
        here = time.monotonic()
        with self._lock:
            offset, fresh = self._offset, here - self._read_at < self.calibrate_s
        if offset is not None and fresh:
            return here + offset
        server = read()
        after = time.monotonic()
        with self._lock:
            if after - here <= self.max_round_trip_s:  # the server evaluated it between the two: the midpoint
                self._offset, self._read_at = server - (here + after) / 2, after
        return server
