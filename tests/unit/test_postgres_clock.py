"""The server's clock carried forward between readings (``store/postgres_clock``), on a clock the test moves."""

from __future__ import annotations

import pytest

from videogen.serve.store import postgres_clock
from videogen.serve.store.postgres_clock import ServerClock

SERVER_AHEAD_S = 1_000_000.0  # the server's epoch seconds less this process's monotonic clock


@pytest.fixture()
def monotonic(monkeypatch) -> list[float]:
    now = [100.0]
    monkeypatch.setattr(postgres_clock.time, "monotonic", lambda: now[0])
    return now


def _server(monotonic: list[float], round_trip_s: float = 0.002, reads: list[float] | None = None):
    """A read of the server's clock that takes ``round_trip_s``, evaluated halfway."""

    def read() -> float:
        monotonic[0] += round_trip_s / 2
        value = monotonic[0] + SERVER_AHEAD_S
        monotonic[0] += round_trip_s / 2
        if reads is not None:
            reads.append(value)
        return value

    return read


def test_read_once_then_carried_forward_until_the_calibration_is_old(monotonic):
    clock, reads = ServerClock(calibrate_s=10.0), []
    read = _server(monotonic, reads=reads)
    first = clock.now(read)
    assert reads == [first]
    for step in (0.5, 3.0, 6.4):  # within ten seconds of the reading: no read, the server's time all the same
        monotonic[0] += step
        assert clock.now(read) == pytest.approx(monotonic[0] + SERVER_AHEAD_S, abs=1e-9)
    assert len(reads) == 1
    monotonic[0] += 1.0  # eleven seconds on: read again
    assert clock.now(read) == reads[-1] and len(reads) == 2


def test_a_slow_reading_is_used_once_and_calibrates_nothing(monotonic):
    clock, reads = ServerClock(calibrate_s=10.0, max_round_trip_s=0.004), []
    slow = _server(monotonic, round_trip_s=0.050, reads=reads)
    assert clock.now(slow) == reads[-1]
    assert clock.now(slow) == reads[-1] and len(reads) == 2  # not calibrated: read again
    fast = _server(monotonic, round_trip_s=0.001, reads=reads)
    clock.now(fast)
    monotonic[0] += 2.0
    assert clock.now(slow) == pytest.approx(monotonic[0] + SERVER_AHEAD_S, abs=1e-9) and len(reads) == 3


def test_the_nodes_wall_clock_jumping_moves_nothing(monotonic, monkeypatch):
    clock = ServerClock()
    read = _server(monotonic)
    clock.now(read)
    monkeypatch.setattr(postgres_clock.time, "time", lambda: 0.0)  # the wall clock is not what is carried forward
    monotonic[0] += 1.0
    assert clock.now(read) == pytest.approx(monotonic[0] + SERVER_AHEAD_S, abs=1e-9)
