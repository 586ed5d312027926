"""Admission before OOM: rungs, refusals naming what fits, the worker's rung, an injected OOM, ETA."""

from __future__ import annotations

import pytest
import torch

from videogen.errors import CapacityError, ErrorCode
from videogen.video.admission import Rung, admit, allowed_rungs, choose_rung
from videogen.video.hardware import VideoHardwareProfile
from videogen.video.job_cost import Throughput, estimate_job
from videogen.video.model_source import ModelSource
from videogen.video.policy import VideoLoadPolicy
from videogen.video.registry import get_spec
from videogen.video.request import VideoRequest
from videogen.video.worker import GenerationWorker

WAN = get_spec("wan")
WAN_14B = ModelSource(family="wan", value="arch:wan2.1-t2v-14b")
DEFAULT = dict(num_frames=81, height=480, width=832, num_inference_steps=30, guidance_scale=5.0)


def _policy(profile, **overrides) -> VideoLoadPolicy:
    return VideoLoadPolicy.derive(profile, WAN, overrides=overrides, environ={})


def _estimator(profile, policy, throughput=None, source=WAN_14B):
    return lambda p: estimate_job(source, "text-to-video", p, policy.dtype, profile, throughput)


# -- the ladder ------------------------------------------------------------------------------------
def test_cpu_replica_only_toggles_the_vae():
    policy = _policy(VideoHardwareProfile.synthetic("cpu"))
    assert allowed_rungs(policy) == [Rung("cpu", False, False), Rung("cpu", True, False), Rung("cpu", True, True)]


def test_ladder_starts_at_the_policys_placement_and_keeps_what_the_operator_pinned():
    mid = VideoHardwareProfile.synthetic("cuda", 32)  # tier 24-48: model CPU offload
    rungs = allowed_rungs(_policy(mid))
    assert rungs[0].placement == "model_cpu_offload" and rungs[-1].placement == "sequential_offload"
    assert all(r.placement != "gpu" for r in rungs)
    pinned = allowed_rungs(_policy(mid, placement="group_offload"))
    assert {r.placement for r in pinned} == {"group_offload"}
    no_tiling = allowed_rungs(_policy(VideoHardwareProfile.synthetic("cuda", 141), vae_tiling=False))
    assert no_tiling and all(not r.vae_tiling for r in no_tiling)


@pytest.mark.parametrize(("vram", "placement"), [(141, "gpu"), (80, "gpu"), (24, "group_offload")])
def test_the_cheapest_rung_that_fits_is_chosen(vram, placement):
    profile = VideoHardwareProfile.synthetic("cuda", vram)
    policy = _policy(profile)
    _, cost = _estimator(profile, policy)(DEFAULT)
    rung = choose_rung(cost, profile, policy)
    assert rung is not None and rung.placement == placement
    # every cheaper allowed rung would not have fitted
    rungs = allowed_rungs(policy)
    capacity = profile.total_vram_gb * 2**30
    for cheaper in rungs[: rungs.index(rung)]:
        assert cost.memory_for(cheaper.placement, cheaper.vae_tiling, cheaper.vae_slicing).required_bytes > capacity


# -- refusals --------------------------------------------------------------------------------------
def test_too_big_is_refused_naming_the_fields_and_the_largest_frames_that_fit():
    profile = VideoHardwareProfile.synthetic("cuda", 48)
    policy = _policy(profile, placement="gpu")  # the operator allows no offload
    estimate = _estimator(profile, policy)
    big = {**DEFAULT, "num_frames": 161, "height": 1280, "width": 1280}
    with pytest.raises(CapacityError) as info:
        admit(estimate, big, WAN, profile, policy)
    err = info.value
    assert err.code == ErrorCode.EXCEEDS_CAPACITY and err.field == "num_frames"
    assert set(err.details["fields"]) == {"num_frames", "height", "width"}
    best = err.allowed["max_num_frames_at_this_size"]
    assert best is not None and WAN.frame_rule.nearest(best) == best
    # what it names really fits, and the next valid count does not
    assert admit(estimate, {**big, "num_frames": best}, WAN, profile, policy) is not None
    with pytest.raises(CapacityError):
        admit(estimate, {**big, "num_frames": best + 4}, WAN, profile, policy)
    assert "GB" in err.message


def test_too_slow_for_the_job_timeout_is_refused_with_what_fits_in_time():
    profile = VideoHardwareProfile.synthetic("cuda", 141)
    policy = _policy(profile)
    slow = Throughput(flops_per_s=1e14, source="measured", samples=3)
    estimate = _estimator(profile, policy, slow)
    with pytest.raises(CapacityError) as info:
        admit(estimate, DEFAULT, WAN, profile, policy, job_timeout_s=600)
    allowed = info.value.allowed
    assert allowed["expected_seconds"] > 600
    assert (
        admit(
            estimate,
            {**DEFAULT, "num_frames": allowed["max_num_frames_at_this_size"]},
            WAN,
            profile,
            policy,
            job_timeout_s=600,
        )
        is not None
    )
    fewer_steps = {**DEFAULT, "num_inference_steps": allowed["max_num_inference_steps"]}
    assert admit(estimate, fewer_steps, WAN, profile, policy, job_timeout_s=600) is not None


# -- the worker ------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def tiny_worker():
    return GenerationWorker(models={"wan": "tiny", "ltx-video": "tiny"})


def _request(**kw) -> VideoRequest:
    return VideoRequest(**{"family": "wan", "prompt": "a red fox", "seed": 1, **kw})


def test_a_job_carries_its_estimate_and_measured_figures_and_the_eta_comes_before_step_one(tiny_worker, tmp_path):
    first = tiny_worker.generate(_request(), tmp_path / "a.mp4")
    assert first.estimate is not None and first.estimate["admission"]["rung"] == "cpu"
    assert first.estimate["estimate"]["flops_per_step"] > 0
    assert first.measured["pipeline_seconds"] > 0 and first.measured["throughput"]["source"] == "measured"
    events = []
    tiny_worker.generate(_request(seed=2), tmp_path / "b.mp4", on_progress=events.append)
    before_step_one = [e for e in events if e.step is None and e.stage in ("loading", "denoising")]
    assert before_step_one and all(e.eta_s is not None and e.eta_s > 0 for e in before_step_one)


def test_the_worker_refuses_before_loading_what_would_outlast_the_job_timeout(tmp_path):
    worker = GenerationWorker(models={"ltx-video": "tiny"}, job_timeout_s=30)
    worker.generate(_request(family="ltx-video"), tmp_path / "small.mp4")  # learns this CPU's throughput
    with pytest.raises(CapacityError) as info:
        worker.generate(_request(family="ltx-video", num_frames=161, height=224, width=864), tmp_path / "big.mp4")
    assert info.value.field == "num_frames" and info.value.allowed["job_timeout_s"] == 30
    assert not (tmp_path / "big.mp4").exists()


class _OutOfMemoryOnce:
    """A forward pre-hook on the denoiser that raises a real ``torch.OutOfMemoryError`` ``times`` times."""

    def __init__(self, times: int):
        self.left = times

    def __call__(self, _module, _args):
        if self.left > 0:
            self.left -= 1
            raise torch.OutOfMemoryError("CUDA out of memory. Tried to allocate 20.00 GiB (injected)")


def test_an_out_of_memory_steps_down_one_rung_retries_and_succeeds(tiny_worker, tmp_path):
    loaded = tiny_worker.warm("wan", "text-to-video")
    before = loaded.rung
    handle = loaded.pipe.transformer.register_forward_pre_hook(_OutOfMemoryOnce(1))
    try:
        result = tiny_worker.generate(_request(seed=4), tmp_path / "oom.mp4")
    finally:
        handle.remove()
        loaded.rung = before
    (adjustment,) = [a for a in result.adjustments if a.field == "placement"]
    assert adjustment.requested == "cpu" and adjustment.used == "cpu+tiling"
    assert "out of memory" in adjustment.reason and adjustment.cause == "out_of_memory"
    assert result.num_frames == 9 and tiny_worker.fatal_error is None


def test_out_of_memory_twice_fails_the_job_but_not_the_worker(tiny_worker, tmp_path):
    loaded = tiny_worker.warm("wan", "text-to-video")
    before = loaded.rung
    handle = loaded.pipe.transformer.register_forward_pre_hook(_OutOfMemoryOnce(2))
    try:
        with pytest.raises(Exception) as info:
            tiny_worker.generate(_request(seed=5), tmp_path / "oom2.mp4")
    finally:
        handle.remove()
        loaded.rung = before
    assert getattr(info.value, "code", None) == ErrorCode.GENERATION_FAILED
    assert "again at cpu+tiling" in str(info.value)
    assert info.value.details == {"rung": "cpu+tiling", "retried_from": "cpu"}  # the OOM-fallback metric reads it
    tiny_worker.check_health()  # still healthy: the next job runs
    assert tiny_worker.generate(_request(seed=6), tmp_path / "after.mp4").num_frames == 9
