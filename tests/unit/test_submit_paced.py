"""The submission benchmark's open loop (``benchmarks/submit_paced.py``): jobs sent when due, each timed from then."""

from __future__ import annotations

import asyncio
import importlib.util
import time
from pathlib import Path

SPEC = importlib.util.spec_from_file_location(
    "submit_paced", Path(__file__).resolve().parents[2] / "benchmarks" / "submit_paced.py"
)
submit_paced = importlib.util.module_from_spec(SPEC)
SPEC.loader.exec_module(submit_paced)


def _offer(answer_s: float, *, jobs: int, clients: int, rate: float) -> tuple[dict, list[tuple[int, float]]]:
    sent: list[tuple[int, float]] = []

    async def post(i: int) -> None:
        sent.append((i, time.perf_counter()))
        await asyncio.sleep(answer_s)

    return asyncio.run(submit_paced.offer(post, jobs=jobs, clients=clients, rate=rate)), sent


def test_a_service_that_keeps_up_is_sent_each_job_when_due_and_answers_at_its_own_speed():
    got, sent = _offer(0.01, jobs=20, clients=4, rate=100)
    assert sorted(i for i, _ in sent) == list(range(20))  # each job once
    first = min(t for _, t in sent)
    assert all(t - first >= i / 100 - 0.002 for i, t in sent)  # none before it was due: spread, not sent at once
    assert all(0.01 <= s < 0.5 for s in got["latencies"])  # each answer's 10 ms, and whatever the box added
    assert got["achieved_per_s"] <= 105


def test_a_service_that_falls_behind_shows_it_as_latency_not_as_a_slower_sender():
    # One client, answers taking 50 ms, 100 offered a second: job i is sent ~40 ms x i late, and its latency
    # counts that wait (a closed loop would have reported 50 ms for every one).
    got, _ = _offer(0.05, jobs=10, clients=1, rate=100)
    assert max(got["late"]) > 0.3
    assert max(got["latencies"]) > 0.35 and min(got["latencies"]) < 0.1
    assert got["achieved_per_s"] < 25
