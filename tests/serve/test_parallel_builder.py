"""A multi-device replica as the builder puts it together, inspected without starting Ray (issue 17)."""

from __future__ import annotations

import pytest
from app_inspection import describe_app
from pydantic import ValidationError

from videogen.serve.builder import build_app
from videogen.serve.config import VideoGenAppConfig


def _app(tmp_path, family: str = "wan", model: str = "tiny", num_gpus: int = 0, **fam):
    args = {"families": {family: {"model": model, **fam}}, "num_gpus": num_gpus, "state_dir": str(tmp_path)}
    return describe_app(build_app(args))[f"VideoWorker_{family}"]


def test_one_bundle_per_rank_packed_on_one_node(tmp_path):
    gpu = _app(tmp_path, model="arch:wan2.1-t2v-1.3b", num_gpus=1, parallel={"cfg": 2, "ulysses": 2})
    assert gpu["placement_group_bundles"] == [{"CPU": 1, "GPU": 1}] * 4
    assert gpu["placement_group_strategy"] == "STRICT_PACK"
    # rank 0 is the replica actor itself: its own reservation is exactly one bundle
    assert gpu["ray_actor_options"]["num_gpus"] == 1 and gpu["ray_actor_options"]["num_cpus"] == 1
    assert gpu["init_args"][0].parallel.world_size == 4
    assert "CUDA_VISIBLE_DEVICES" not in gpu["ray_actor_options"]["runtime_env"]["env_vars"]

    # CPU bundles when the app has no GPUs (how the suite runs a multi-rank replica on this box)
    cpu = _app(tmp_path, parallel={"cfg": 2}, deployment={"ray_actor_options": {"num_cpus": 0.25}})
    assert cpu["placement_group_bundles"] == [{"CPU": 0.25}] * 2

    single = _app(tmp_path)
    assert "placement_group_bundles" not in single and single["init_args"][0].parallel.world_size == 1

    # bundles the operator set are theirs (e.g. a custom accelerator resource)
    own = [{"CPU": 1, "GPU": 1, "accelerator_type:H200": 0.001}] * 2
    mine = _app(tmp_path, parallel={"cfg": 2}, num_gpus=1, deployment={"placement_group_bundles": own})
    assert mine["placement_group_bundles"] == own


@pytest.mark.parametrize(
    ("family", "model", "parallel", "field", "allowed"),
    [
        # HunyuanVideo's guidance is an input of its model: one pass a step, nothing for a second CFG rank
        ("hunyuan-video", "tiny", {"cfg": 2}, "families.hunyuan-video.parallel.cfg", "[1]"),
        # CogVideoX has no context-parallel plan in diffusers 0.42: CFG-parallel only
        ("cogvideox", "tiny", {"ulysses": 2}, "families.cogvideox.parallel.ulysses", "[1]"),
        # Wan 2.1 1.3B has 12 heads: Ulysses splits whole heads
        ("wan", "arch:wan2.1-t2v-1.3b", {"ulysses": 5}, "families.wan.parallel.ulysses", "[1, 2, 3, 4, 6, 12]"),
        # ring merges blocks by their log-sum-exp, which the default (auto/native) backend does not return
        ("wan", "arch:wan2.1-t2v-1.3b", {"ring": 2}, "families.wan.parallel.ring", "flash"),
    ],
)
def test_a_split_the_model_cannot_run_is_refused_when_the_app_is_built(
    tmp_path, family, model, parallel, field, allowed
):
    with pytest.raises(ValueError, match=field) as refused:
        _app(tmp_path, family=family, model=model, parallel=parallel)
    assert allowed in str(refused.value)


def test_parallel_values_are_checked_with_the_config():
    with pytest.raises(ValidationError, match="parallel.cfg"):
        VideoGenAppConfig(families={"wan": {"parallel": {"cfg": 3}}})
    with pytest.raises(ValidationError, match="parallel.tensor"):
        VideoGenAppConfig(families={"wan": {"parallel": {"tensor": 2}}})
