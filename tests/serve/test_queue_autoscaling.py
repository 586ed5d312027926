"""The worker deployments' autoscaling policy reads the job queue from the store (no Ray cluster here).

``QueueAutoscalingPolicy`` is what the Serve controller calls with an ``AutoscalingContext``: built here with
Ray's own class and config, against a real SQLite store holding jobs no handle has in flight (admitted by an
ingress that died before dispatching them). The builder puts the policy on every autoscaled worker deployment.
"""

from __future__ import annotations

import asyncio

from ray.serve._private.common import DeploymentID
from ray.serve.config import AutoscalingConfig, AutoscalingContext

from videogen.serve.config import VideoGenAppConfig
from videogen.serve.deployment_options import worker_deployment_options
from videogen.serve.queue_autoscaling import POLICY_IMPORT_PATH, QueueAutoscalingPolicy
from videogen.serve.store.job_store import JobStore
from videogen.video.progress import Progress


def _job(store, model_name=None, family="wan"):
    return store.jobs.create(
        family=family,
        task="text-to-video",
        request={"prompt": "x"},
        image=None,
        model={"source": "tiny"},
        params={"num_inference_steps": 2},
        adjustments=[],
        progress=Progress.queued(total_steps=2),
        max_attempts=2,
        dispatcher="an-ingress-that-died",
        lease_s=15,
        model_name=model_name,
    )


def _ctx(replicas: int, in_flight: float, target: float = 1.0) -> AutoscalingContext:
    return AutoscalingContext(
        deployment_id=DeploymentID(name="VideoWorker_wan", app_name="videogen"),
        deployment_name="VideoWorker_wan",
        app_name="videogen",
        current_num_replicas=replicas,
        target_num_replicas=replicas,
        running_replicas=[],
        total_num_requests=in_flight,
        total_queued_requests=0.0,
        aggregated_metrics={},
        raw_metrics={},
        capacity_adjusted_min_replicas=0,
        capacity_adjusted_max_replicas=8,
        policy_state={},
        last_scale_up_time=None,
        last_scale_down_time=None,
        current_time=None,
        config=AutoscalingConfig(min_replicas=0, max_replicas=8, target_ongoing_requests=target),
    )


def test_jobs_no_handle_holds_still_ask_for_replicas(tmp_path):
    store = JobStore(tmp_path)
    for _ in range(3):
        _job(store)  # the family's default model (stored under its name)
    _job(store, model_name=None, family="cogvideox")  # another family's: not counted
    _job(store, model_name="wan-draft")  # a named model's: its own deployment
    running = _job(store)
    assert store.jobs.claim(running.id, {"replica_id": "r1"}) is not None

    policy = QueueAutoscalingPolicy(family="wan", name="wan", default=True, state_dir=str(tmp_path))
    desired, state = policy(_ctx(replicas=1, in_flight=0))
    assert desired == 4 and state["store_jobs"] == 4  # 3 queued + 1 running, though no handle holds any
    assert policy(_ctx(replicas=0, in_flight=0))[0] == 1  # from zero: one replica wakes for them
    assert policy(_ctx(replicas=2, in_flight=6))[0] == 6  # more in flight than stored: Serve's count wins
    assert policy(_ctx(replicas=2, in_flight=0, target=2))[0] == 2  # per-replica target divides

    named = QueueAutoscalingPolicy(family="wan", name="wan-draft", default=False, state_dir=str(tmp_path))
    assert named(_ctx(replicas=1, in_flight=0))[0] == 1


def test_the_store_is_read_off_the_event_loop_at_most_once_per_interval(tmp_path):
    store = JobStore(tmp_path)
    _job(store)
    policy = QueueAutoscalingPolicy(family="wan", name="wan", default=True, state_dir=str(tmp_path), poll_interval_s=60)

    async def twice():
        first = policy(_ctx(replicas=1, in_flight=0))  # the read is in flight: the handle count decides
        await asyncio.sleep(0.5)
        _job(store)
        second = policy(_ctx(replicas=1, in_flight=0))  # read landed; no new read within the interval
        return first, second

    first, second = asyncio.run(twice())
    assert first[1]["store_jobs"] is None and first[0] == 0
    assert second[1]["store_jobs"] == 1 and second[0] == 1


def test_every_autoscaled_worker_deployment_scales_on_the_store(tmp_path):
    cfg = VideoGenAppConfig(
        families={"wan": {"model": "tiny"}, "cogvideox": {"model": "tiny", "deployment": {"num_replicas": 2}}},
        state_dir=str(tmp_path),
    )
    policy = worker_deployment_options("wan", cfg)["autoscaling_config"]["policy"]
    assert policy["policy_function"] == POLICY_IMPORT_PATH
    assert policy["policy_kwargs"]["family"] == "wan" and policy["policy_kwargs"]["default"] is True
    assert "autoscaling_config" not in worker_deployment_options("cogvideox", cfg)  # a fixed count: no autoscaler
    # Serve's own config type takes it (the import path resolves to the class).
    assert AutoscalingConfig(**worker_deployment_options("wan", cfg)["autoscaling_config"]).policy
    plain = VideoGenAppConfig(
        families={"wan": {"model": "tiny", "deployment": {"autoscaling_config": {"policy": None}}}},
        state_dir=str(tmp_path),
    )
    assert "policy" not in worker_deployment_options("wan", plain)["autoscaling_config"]  # Serve's default policy
