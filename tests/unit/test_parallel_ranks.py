"""One job on four CPU ranks (gloo, cfg 2 x ulysses 2) equals it on one: ``videogen.video.parallel``.

The ranks are processes started by ``torch.multiprocessing`` (no Ray); ``tests/parallel_ranks.py`` is what each
runs. Tolerances (float32): CFG-parallel of Wan's two calls is the same arithmetic as the sequential loop, so it is
equal bit for bit; splitting tokens (Ulysses) or a batch changes the shapes of the matrix products, whose sums then
round differently: within 1e-5 of the largest latent value.
"""

from __future__ import annotations

import time

import pytest
import torch
from parallel_ranks import STOP_AT, run_rank

from videogen.video.parallel import free_loopback_port
from videogen.video.tiny.cache import ensure_tiny_model

RANKS = 4
DEADLINE_S = 300  # a hung collective fails the test, never the suite
RELATIVE_TOLERANCE = 1e-5


@pytest.fixture(scope="module")
def ranks(tmp_path_factory) -> list[dict]:
    wan_dir = ensure_tiny_model("wan", "text-to-video")
    cog_dir = ensure_tiny_model("cogvideox", "text-to-video")
    a14b_dir = ensure_tiny_model("wan", "text-to-video", "wan2.2-a14b")
    out = tmp_path_factory.mktemp("ranks")
    args = (free_loopback_port(), str(wan_dir), str(cog_dir), str(a14b_dir), str(out))
    context = torch.multiprocessing.start_processes(run_rank, args=args, nprocs=RANKS, join=False)
    deadline = time.monotonic() + DEADLINE_S
    while not context.join(timeout=5):
        if time.monotonic() > deadline:
            for process in context.processes:
                process.kill()
            pytest.fail(f"the {RANKS} ranks did not finish in {DEADLINE_S} s")
    return [torch.load(out / f"rank{r}.pt", weights_only=False) for r in range(RANKS)]


def _close(a: torch.Tensor, b: torch.Tensor) -> bool:
    return a.shape == b.shape and float((a - b).abs().max()) <= RELATIVE_TOLERANCE * float(b.abs().max())


def test_every_rank_starts_from_the_same_reference(ranks):
    assert [seen["seed"] for seen in ranks] == [1000] * RANKS  # rank 0's seed everywhere
    for seen in ranks[1:]:
        assert torch.equal(seen["wan_reference"], ranks[0]["wan_reference"])
        assert torch.equal(seen["cog_reference"], ranks[0]["cog_reference"])


def test_cfg_parallel_two_calls_equals_sequential_cfg(ranks):
    """Wan: cfg rank 0 computes the conditional call, cfg rank 1 the unconditional one; the pipeline combines both."""
    assert {seen["cfg_rank"] for seen in ranks} == {0, 1}
    assert ranks[0]["wan_reference_blocks"] == [(1, 12)] * 4  # 2 steps x (cond, uncond), 12 tokens
    for seen in ranks:
        assert seen["wan_cfg_blocks"] == [(1, 12)] * 2  # one branch a step on each rank
        assert torch.equal(seen["wan_cfg"], ranks[0]["wan_reference"])


def test_ulysses_2_equals_one_rank(ranks):
    for seen in ranks:
        assert seen["wan_ulysses_blocks"] == [(1, 6)] * 4  # both branches, half the tokens each
        assert _close(seen["wan_ulysses"], ranks[0]["wan_reference"])


def test_cfg_2_by_ulysses_2_equals_one_rank(ranks):
    report = ranks[0]["report"]
    assert report["world_size"] == 4 and report["parallel"] == "cfg=2,ulysses=2"
    assert report["sequence_parallel"] == ["transformer"]
    assert report["cfg_parallel"] == {"layout": "sequential", "components": ["transformer"]}
    for seen in ranks:
        assert seen["wan_cfg_ulysses_blocks"] == [(1, 6)] * 2  # one branch, half its tokens
        assert _close(seen["wan_cfg_ulysses"], ranks[0]["wan_reference"])
        assert torch.equal(seen["wan_cfg_ulysses"], ranks[0]["wan_cfg_ulysses"])  # the ranks never drift apart


def test_both_experts_of_wan_2_2_a14b_are_split(ranks):
    report = ranks[0]["a14b_report"]
    assert report["sequence_parallel"] == ["transformer", "transformer_2"]
    assert report["cfg_parallel"]["components"] == ["transformer", "transformer_2"]
    for seen in ranks:
        assert seen["a14b_calls"] == {"transformer": 2, "transformer_2": 2}  # one step each, two CFG calls
        assert _close(seen["a14b"], ranks[0]["a14b_reference"])


def test_cfg_parallel_batched_equals_sequential_cfg(ranks):
    """CogVideoX: one call on [uncond, cond]; each cfg rank computes its half."""
    assert ranks[0]["cog_reference_blocks"] == [(2, 12)] * 2
    for seen in ranks:
        assert seen["cog_cfg_blocks"] == [(1, 12)] * 2  # its half of the batch
        assert _close(seen["cog_cfg"], ranks[0]["cog_reference"])


def test_a_family_without_a_context_parallel_plan_refuses_ulysses_naming_the_field(ranks):
    assert all(seen["cog_refused"] == "families.cogvideox.parallel.ulysses" for seen in ranks)


def test_a_stop_wanted_by_one_rank_stops_every_rank_at_the_same_step(ranks):
    stops = [seen["stop"] for seen in ranks]
    assert [s["stopped_at"] for s in stops] == [STOP_AT] * RANKS
    assert {s["asked"] for s in stops} == {STOP_AT + 1}


def test_the_cpu_workaround_is_still_needed_and_narrow(ranks):
    """diffusers 0.42.1's ``enable_parallelism`` divides by ``torch.accelerator.device_count()``: on a CPU-only host
    it fails unpatched (when it no longer does, drop ``one_device_on_cpu_hosts``), and the count is 0 again after."""
    accelerators = torch.accelerator.device_count()
    for seen in ranks:
        assert seen["unpatched"] == ("ZeroDivisionError" if accelerators == 0 else "ok")
        assert seen["accelerators_after"] == accelerators
