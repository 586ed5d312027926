"""An ingress keeps at most ``dispatch_window`` of a model's jobs in its worker handle (no Ray).

The backlog waits in the store, oldest first; a job cancelled while it waited there is never sent. The handle here
stands in for Serve's (the ingress's side of ``run_job`` only: a request that ends when the test lets it); the
served path, with real worker replicas, runs in the Ray suites (``test_serve_*``, ``test_serve_recovery``).
"""

from __future__ import annotations

import asyncio

from testkit import queue_job

from videogen.serve.config import VideoGenAppConfig
from videogen.serve.deployment_options import dispatch_window
from videogen.serve.service.dispatch import Dispatcher
from videogen.serve.store.job_store import JobStore
from videogen.serve.store.records import JobStatus

SAFETY_S = 10.0


class HeldCalls:
    """``handle.run_job.remote(job_id)``: each call is held until ``release(job_id)``; what was sent, in order."""

    def __init__(self):
        self.sent: list[str] = []
        self.open: dict[str, asyncio.Future] = {}
        self.run_job = self  # handle.run_job.remote(...)

    def remote(self, job_id: str):
        self.sent.append(job_id)
        self.open[job_id] = asyncio.get_running_loop().create_future()
        return self.open[job_id]

    def release(self, job_id: str) -> None:
        self.open.pop(job_id).set_result({"outcome": str(JobStatus.SUCCEEDED)})


async def _until(check) -> None:
    deadline = asyncio.get_running_loop().time() + SAFETY_S
    while not check():
        assert asyncio.get_running_loop().time() < deadline, "timed out"
        await asyncio.sleep(0.01)


def test_the_window_is_one_per_replica_plus_one():
    assert dispatch_window("wan", VideoGenAppConfig(families=["wan"])) == 2
    fixed = VideoGenAppConfig(families={"wan": {"deployment": {"num_replicas": 3}}})
    assert dispatch_window("wan", fixed) == 4
    scaled = VideoGenAppConfig(families={"wan": {"deployment": {"autoscaling_config": {"max_replicas": 5}}}})
    assert dispatch_window("wan", scaled) == 6


def test_a_backlog_waits_in_the_store_oldest_first_and_cancelled_jobs_are_never_sent(tmp_path):
    cfg = VideoGenAppConfig(families=["wan"], state_dir=str(tmp_path))
    store = JobStore(tmp_path)
    handle = HeldCalls()

    async def scenario() -> None:
        dispatcher = Dispatcher(cfg, store, {"wan": handle}, dispatcher_id="ingress-a")
        ids = [queue_job(store, dispatcher="ingress-a", lease_s=60).id for _ in range(6)]
        for job_id in ids:
            dispatcher.dispatch_soon(job_id, "wan", adapter_set="")
        await _until(lambda: len(handle.sent) == 2)
        await asyncio.sleep(0.2)
        assert handle.sent == ids[:2]  # the window (one replica + one waiting); four wait in the store
        store.jobs.request_cancel(ids[2])  # cancelled while it waited for its turn
        handle.release(ids[0])
        await _until(lambda: len(handle.sent) == 3)
        assert handle.sent == [ids[0], ids[1], ids[3]]  # the cancelled one was skipped, the order kept
        handle.release(ids[1])  # one at a time: each freed slot goes to the oldest job still waiting
        await _until(lambda: len(handle.sent) == 4)
        handle.release(ids[3])
        await _until(lambda: len(handle.sent) == 5)
        assert handle.sent == [ids[0], ids[1], ids[3], ids[4], ids[5]] and len(handle.open) == 2
        for job_id in (ids[4], ids[5]):
            handle.release(job_id)
        await _until(lambda: not dispatcher._tasks)
        assert store.jobs.get(ids[2]).status == JobStatus.CANCELLED

    asyncio.run(scenario())
    store.close()
