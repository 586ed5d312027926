"""``worker_cpu_niceness``: every thread of a worker, those it has and those torch makes later, runs at the lower
priority (a nice value, or Linux's SCHED_IDLE class) but its store thread, where its store calls run (in a fresh
interpreter: the test process keeps its own)."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from videogen.serve.config import VideoGenAppConfig
from videogen.serve.cpu_priority import CPU_HIERARCHY, IDLE_CGROUP, idle_cgroup
from videogen.serve.deployment_options import worker_settings

CHILD = """
import json, os, sys, threading, time
from pathlib import Path
niceness = json.loads(sys.argv[1])
stop = threading.Event()
before = threading.Thread(target=stop.wait, daemon=True)  # a thread that exists before the change
before.start()
from videogen.serve.cpu_priority import idle_cgroup, lower_cpu_priority
from videogen.serve.store_thread import StoreThread
store = StoreThread()  # kept at the starting priority: the store's calls run on it
base = os.getpriority(os.PRIO_PROCESS, 0)
changed = lower_cpu_priority(niceness, keep={store.native_id})
import torch
torch.set_num_threads(2)
x = torch.randn(256, 256)
for _ in range(20):
    x = torch.tanh(x @ x)  # torch's intra-op pool: threads made after the change
tids = [int(t.name) for t in Path(f"/proc/{os.getpid()}/task").iterdir()]
nice = {str(t): os.getpriority(os.PRIO_PROCESS, t) for t in tids}
policy = {str(t): os.sched_getscheduler(t) for t in tids}
def cpu_cgroup(t):  # the thread's group in cgroup v1's cpu hierarchy (None: no such hierarchy)
    for line in Path(f"/proc/self/task/{t}/cgroup").read_text().splitlines():
        if "cpu" in line.split(":", 2)[1].split(","):
            return line.split(":", 2)[2]
group = {str(t): cpu_cgroup(t) for t in tids}
idle = idle_cgroup()
class Jobs:
    def claim(self, job_id):
        return threading.get_native_id(), os.getpriority(os.PRIO_PROCESS, 0), job_id
ran_on, its_nice, echoed = store.proxy(Jobs()).claim("job_1")
nested = store.call(store.call, threading.get_native_id)  # a call from a call runs in place (never waits on itself)
print(json.dumps({"base": base, "changed": changed, "nice": nice, "policy": policy, "store": store.native_id,
                  "group": group, "idle_cgroup": str(idle) if idle else None,
                  "idle_flag": (idle / "cpu.idle").read_text().strip() if idle else None,
                  "claim": [ran_on, its_nice, echoed], "nested": nested}))
"""


def _run(niceness) -> dict:
    out = subprocess.run(
        [sys.executable, "-c", CHILD, json.dumps(niceness)], capture_output=True, text=True, timeout=120
    )
    assert out.returncode == 0, out.stderr
    return json.loads(out.stdout.strip().splitlines()[-1])


def test_every_thread_now_and_later_runs_at_the_lower_priority():
    seen = _run(7)
    assert seen["changed"] >= 2  # the main thread and the one started before
    assert len(seen["nice"]) >= 3, seen  # torch's pool added threads
    store = str(seen.pop("store"))
    assert seen["nice"].pop(store) == seen["base"], seen  # the store thread kept the priority it had
    assert set(seen["nice"].values()) == {min(19, seen["base"] + 7)}, seen
    # A proxied store method ran on that thread, at that priority, with its arguments; a nested call too.
    assert seen["claim"] == [int(store), seen["base"], "job_1"] and seen["nested"] == int(store)
    assert set(seen["policy"].values()) == {os.SCHED_OTHER}  # a nice value only: the class stays


def test_idle_puts_every_thread_now_and_later_in_sched_idle_but_the_store_thread():
    seen = _run("idle")
    assert seen["changed"] >= 2 and len(seen["policy"]) >= 3, seen
    store = str(seen.pop("store"))
    assert seen["policy"].pop(store) == os.SCHED_OTHER, seen  # the store's calls keep the serving priority
    assert set(seen["policy"].values()) == {os.SCHED_IDLE}, seen  # torch's pool too: it inherited the class
    assert seen["claim"][:2] == [int(store), seen["base"]]
    # Idle against other groups too (autogroup: the session's group, shared with the ingress): where this machine
    # lets a process make cgroups, the lowered threads are in an idle cgroup under its own, torch's pool with them.
    groups = seen["group"]
    if seen["idle_cgroup"] is None:
        assert not os.access(CPU_HIERARCHY, os.W_OK) or not (CPU_HIERARCHY / "cpu.shares").exists(), seen
        return
    idle = "/" + seen["idle_cgroup"].removeprefix(str(CPU_HIERARCHY)).strip("/")
    assert seen["idle_flag"] == "1" and idle.endswith("/" + IDLE_CGROUP), seen
    assert groups.pop(store) != idle, seen  # the store thread stays in the process's own group
    assert set(groups.values()) == {idle}, (groups, idle)


def test_no_idle_cgroup_where_no_cpu_hierarchy_can_be_written(tmp_path):
    assert idle_cgroup(tmp_path) is None  # no cgroup v1 cpu hierarchy there: the class alone, as before


def test_the_setting_reaches_each_worker_and_is_bounded():
    cfg = VideoGenAppConfig(families=["wan"], worker_cpu_niceness=10)
    assert worker_settings("wan", cfg).cpu_niceness == 10
    assert worker_settings("wan", VideoGenAppConfig(families=["wan"])).cpu_niceness == 0
    assert (
        worker_settings("wan", VideoGenAppConfig(families=["wan"], worker_cpu_niceness="idle")).cpu_niceness == "idle"
    )
    for bad in (20, -1, "low"):
        with pytest.raises(ValueError, match="worker_cpu_niceness"):
            VideoGenAppConfig(families=["wan"], worker_cpu_niceness=bad)
