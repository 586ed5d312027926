"""A generation worker yielding the CPU to the serving path (``worker_cpu_niceness``).

On a node without a GPU the workers' torch threads take every core, and the ingress and Serve's proxy answering
submissions and streams wait behind them (on the 2-core test box: 62 submissions/s and an event p99 of 2.8 s with
the workers at the ingress's priority; ``benchmarks/results/cpu/submit-*.md``). Linux keeps a scheduling policy and
a nice value per thread and a new thread inherits its creator's, so a replica lowers every thread it has when it
starts, before it builds its pipeline: torch's thread pools, made later, inherit the lower priority.

Two strengths: a nice value (0-19) weighs the workers' threads down but still gives them a share while the
ingress wants the CPU (seven workers' pools at nice 10 outweigh one ingress thread at 0), and ``"idle"`` puts
them in Linux's ``SCHED_IDLE`` class, which runs only on a core no normal thread wants: the ingress is never
made to wait for generation. Both need no privilege (a thread may always lower itself).
"""

from __future__ import annotations

import logging
import os
from collections.abc import Collection
from pathlib import Path
from typing import Literal

logger = logging.getLogger("videogen.serve")

IDLE = "idle"
CpuNiceness = int | Literal["idle"]


def _lower(tid: int, niceness: CpuNiceness) -> None:
    if niceness == IDLE:
        os.sched_setscheduler(tid, os.SCHED_IDLE, os.sched_param(0))
    else:
        os.setpriority(os.PRIO_PROCESS, tid, min(19, os.getpriority(os.PRIO_PROCESS, tid) + niceness))


def lower_cpu_priority(niceness: CpuNiceness, keep: Collection[int] = ()) -> int:
    """Raise this process's every thread's nice value by ``niceness`` (0: nothing), or put it in ``SCHED_IDLE``
    (``"idle"``), but the threads whose native ids are in ``keep`` (the worker's store thread: ``store_thread``);
    how many threads changed. A thread that ended meanwhile is skipped."""
    if niceness != IDLE and niceness <= 0:
        return 0
    changed = 0
    for task in Path(f"/proc/{os.getpid()}/task").iterdir():
        tid = int(task.name)
        if tid in keep:
            continue
        try:
            _lower(tid, niceness)
            changed += 1
        except (ProcessLookupError, PermissionError) as exc:
            logger.debug("thread %s kept its priority: %s", tid, exc)
    return changed
