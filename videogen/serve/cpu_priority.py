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

A class or a nice value only counts within the thread's scheduling group, though. With autogroup scheduling (on by
default on many distributions, for processes in the root cgroup) the group is the session's: the idle threads keep
the group of Ray's processes (the ingress's, Serve's) always runnable, so it takes its full share against every
other group, and a PostgreSQL server started from a shell has one per backend (each starts a session). On the
2-core box the submissions to PostgreSQL then waited on their backends behind idle generation: paced p95 34-445 ms,
13-35 ms with the idle threads in an idle cgroup (``benchmarks/results/cpu/submit-profile.md``, round sixteen). So
with ``"idle"`` the lowered threads also join a cgroup marked idle (``cpu.idle``: idle against every other group),
a child of the process's own in cgroup v1's cpu hierarchy, where the process may make one (root in a VM or a
container that owns its cgroups); elsewhere the class alone (under systemd or in a pod, a process is not in the root
cgroup, where autogroup applies).
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
# cgroup v1's cpu hierarchy (cgroup v2 places a process's threads apart only in a threaded subtree: not done).
CPU_HIERARCHY = Path("/sys/fs/cgroup/cpu")
# Made under the process's own cpu cgroup, shared by the node's workers (left in place: an empty cgroup costs nothing).
IDLE_CGROUP = "videogen-idle-workers"


def idle_cgroup(hierarchy: Path = CPU_HIERARCHY) -> Path | None:
    """The idle cpu cgroup (``IDLE_CGROUP``) under this process's own, made and marked idle if need be; None where
    it cannot be (no cgroup v1 cpu hierarchy, not allowed, a kernel without ``cpu.idle``)."""
    own = next(
        (
            line.split(":", 2)[2].strip()
            for line in Path("/proc/self/cgroup").read_text().splitlines()
            if "cpu" in line.split(":", 2)[1].split(",")
        ),
        None,
    )
    if own is None or not (hierarchy / "cpu.shares").exists():
        return None
    group = hierarchy / own.lstrip("/")
    if group.name != IDLE_CGROUP:  # else asked again from a thread already in it
        group /= IDLE_CGROUP
    try:
        group.mkdir(exist_ok=True)
        (group / "cpu.idle").write_text("1")
    except OSError as exc:
        logger.debug("no idle cgroup at %s: %s", group, exc)
        return None
    return group


def _lower(tid: int, niceness: CpuNiceness) -> None:
    if niceness == IDLE:
        os.sched_setscheduler(tid, os.SCHED_IDLE, os.sched_param(0))
    else:
        os.setpriority(os.PRIO_PROCESS, tid, min(19, os.getpriority(os.PRIO_PROCESS, tid) + niceness))


def lower_cpu_priority(niceness: CpuNiceness, keep: Collection[int] = ()) -> int:
    """Raise this process's every thread's nice value by ``niceness`` (0: nothing), or put it in ``SCHED_IDLE``
    (``"idle"``; and in ``idle_cgroup()`` where there is one), but the threads whose native ids are in ``keep`` (the
    worker's store thread: ``store_thread``); how many threads changed. A thread that ended meanwhile is skipped."""
    if niceness != IDLE and niceness <= 0:
        return 0
    group = idle_cgroup() if niceness == IDLE else None
    changed = 0
    for task in Path(f"/proc/{os.getpid()}/task").iterdir():
        tid = int(task.name)
        if tid in keep:
            continue
        try:
            _lower(tid, niceness)
            changed += 1
            if group is not None:  # one thread per write; the threads it starts later start in it too
                (group / "tasks").write_text(str(tid))
        except OSError as exc:  # it ended meanwhile (ProcessLookupError), or a write was refused
            logger.debug("thread %s kept its priority or its group: %s", tid, exc)
    if niceness == IDLE:
        logger.info("worker threads lowered to SCHED_IDLE%s", f" in the idle cgroup {group}" if group else "")
    return changed
