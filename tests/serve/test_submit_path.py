"""The submission path's structure, without Ray: what one ``POST /api/video/jobs`` costs the store and the threads.

Counted, never timed: the replicas' reports are read at most once per cache period and parsed again only when one
changed; a request shape is priced once while they stay the same; admission and the insert are one hop to the
submissions' own threads; no queue count runs per submission.
"""

from __future__ import annotations

import asyncio

import pytest

from videogen.errors import UnknownFamilyError
from videogen.serve.config import VideoGenAppConfig
from videogen.serve.service.videogen_service import VideoGenService
from videogen.serve.store.replicas import ModelsReport, ReplicaState
from videogen.video.hardware import VideoHardwareProfile
from videogen.video.policy import VideoLoadPolicy
from videogen.video.registry import get_spec


class _Clock:
    def __init__(self):
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


class _Waiting:
    """A worker handle whose calls never end (the dispatch stays pending; nothing else touches the store)."""

    def __init__(self):
        self.run_job = self

    def remote(self, job_id: str):
        return asyncio.get_running_loop().create_future()


def _report(svc: VideoGenService, replica_id: str, frames: int) -> None:
    profile = VideoHardwareProfile(backend="cpu", device_name="cpu", system_ram_gb=24.0, torch_version="2")
    policy = VideoLoadPolicy.derive(profile, get_spec("wan"))
    svc.store.replicas.report(
        {"replica_id": replica_id},
        family="wan",
        state=ReplicaState.IDLE,
        diagnostics={"hardware_profile": profile.model_dump(), "load_policy": policy.model_dump()},
        models=ModelsReport(
            describe={}, model_meta={"text-to-video": {"tiny": True, "request_defaults": {"num_frames": frames}}}
        ),
    )


def test_a_submission_reads_the_reports_once_per_period_and_prices_a_shape_once(tmp_path, monkeypatch):
    from videogen.video import job_cost

    svc = VideoGenService(VideoGenAppConfig(families=["wan"], state_dir=str(tmp_path)), workers={"wan": _Waiting()})
    clock = svc.status.reports.clock = _Clock()
    assert svc.jobs.estimates.reports is svc.status.reports  # validation and pricing share one read
    _report(svc, "r1", frames=17)
    priced, counted, hops = [], [], []
    # Counted, and priced as "unknown" (None): the cost model itself is tested elsewhere, and torch stays unloaded.
    monkeypatch.setattr(job_cost, "estimate_job", lambda *a, **k: priced.append(a))
    monkeypatch.setattr(svc.store.jobs, "counts_by_model", lambda: counted.append(1) or {})
    submit = svc.jobs.submit_executor.submit
    monkeypatch.setattr(svc.jobs.submit_executor, "submit", lambda *a, **k: hops.append(a[0]) or submit(*a, **k))
    reports = svc.status.reports

    async def main():
        jobs = [await svc.jobs.submit({"family": "wan", "prompt": "a fox", "seed": i}) for i in range(3)]
        assert [j.params["num_frames"] for j in jobs] == [17] * 3  # the report's defaults
        assert (reports.reads, reports.parses, len(priced)) == (1, 1, 1)  # three jobs, one read, one pricing
        assert len(hops) == 3 and not counted  # one hop each; no queue count per submission

        clock.now += 5  # past the period: the rows are read again, unchanged, so nothing is parsed or priced again
        await svc.jobs.submit({"family": "wan", "prompt": "a fox", "seed": 9})
        assert (reports.reads, reports.parses, len(priced)) == (2, 1, 1)

        _report(svc, "r1", frames=25)  # a report written through this store is seen at once
        job = await svc.jobs.submit({"family": "wan", "prompt": "a fox", "seed": 10})
        assert job.params["num_frames"] == 25 and (reports.reads, reports.parses) == (3, 2)
        with pytest.raises(UnknownFamilyError) as info:  # a refusal made on the submission thread, as before
            await svc.jobs.submit({"family": "ltx-video", "prompt": "a fox"})
        assert info.value.field == "family" and info.value.allowed == ["wan"]

    asyncio.run(main())
