"""Submissions offered at a fixed rate (an open loop): how long one takes while the service keeps up with that rate.

``bench_submit.py``'s bursts are a closed loop: each of C clients sends its next job as soon as its last one was
answered, so the service is always saturated and, by Little's law, the mean latency is C / throughput whatever else
the service does (32 clients at 360 submissions/s: 89 ms). That measures the most the service takes; it cannot say
how long a submission takes at a given load. Here job ``i`` is due at ``start + i / rate``: C clients take the jobs
in order, each sending its next one when it is due, or at once when it is already late (every client was busy
answering). A submission's latency counts from when it was due, not from when it was sent, so a late send adds its
wait to the figure (no coordinated omission): a service that falls behind the rate shows it as latency.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable


async def offer(post: Callable[[int], Awaitable[None]], *, jobs: int, clients: int, rate: float) -> dict:
    """Offer ``jobs`` submissions at ``rate`` a second from ``clients`` concurrent clients (``post(i)`` sends job
    ``i`` and reads its answer): each one's latency from when it was due and how late it was sent (seconds),
    and the rate achieved (jobs over the time from the first due to the last answer)."""
    start = time.perf_counter() + 0.05  # every client is waiting before the first is due
    todo = iter(range(jobs))  # shared: each job is taken by one client, in order
    latencies: list[float] = []
    late: list[float] = []

    async def client() -> None:
        for i in todo:
            due = start + i / rate
            if (wait := due - time.perf_counter()) > 0:
                await asyncio.sleep(wait)
            late.append(max(0.0, time.perf_counter() - due))
            await post(i)
            latencies.append(time.perf_counter() - due)

    await asyncio.gather(*(client() for _ in range(clients)))
    wall = time.perf_counter() - start
    return {"latencies": latencies, "late": late, "achieved_per_s": jobs / wall if wall > 0 else float("nan")}
