"""One job split across ranks, priced per rank (``cost.parallel_cost``): weights whole, activations, FLOPs and
exchanges split, the time on the device table's link; the estimate CLI's ``--parallel``; admission refusing a job
whose tokens do not split. On the tiny Wan (sequential CFG) and the tiny CogVideoX (batched CFG): no Ray, no GPU."""

from __future__ import annotations

import json

import pytest

from videogen.cli import main
from videogen.errors import ErrorCode, InvalidRequestError
from videogen.video.admission import estimate_weights
from videogen.video.cost.device_peaks import CPU_LOOPBACK_GBPS, link_gbps
from videogen.video.cost.estimate import estimate_cost
from videogen.video.cost.parallel_cost import Split, on_hardware
from videogen.video.job_cost import preset_for_source
from videogen.video.model_source import ModelSource
from videogen.video.parallel.config import ParallelConfig
from videogen.video.policy import VideoLoadPolicy
from videogen.video.request import VideoRequest
from videogen.video.worker import GenerationWorker

T2V = "text-to-video"


@pytest.fixture(scope="module")
def wan():
    return preset_for_source(ModelSource(family="wan", value="tiny"), T2V)


def _cost(preset, parallel=None, guidance=5.0, frames=9, size=32):
    return estimate_cost(preset, T2V, frames, size, size, 2, guidance, dtype="float32", parallel=parallel)


def _denoise_activation(cost) -> int:
    """The denoising stage's activations: all-on-device bytes less the weights (every component is resident)."""
    return cost.memory_for("gpu").stages["denoise"] - cost.total_weight_bytes


def test_ulysses_splits_activations_and_flops_but_every_rank_holds_the_whole_model(wan):
    one, split = _cost(wan), _cost(wan, ParallelConfig(ulysses=2))
    assert split.total_weight_bytes == one.total_weight_bytes == split.parallel.weights_bytes_per_rank
    assert _denoise_activation(split) == pytest.approx(_denoise_activation(one) / 2, abs=1)
    assert split.flops.per_step == pytest.approx(one.flops.per_step / 2)
    # the encoders and the VAE run whole on every rank
    assert (split.flops.text_encode, split.flops.vae_decode) == (one.flops.text_encode, one.flops.vae_decode)
    assert split.parallel.job_flops_total == pytest.approx(one.flops.total)
    assert one.parallel is None


def test_the_ulysses_and_cfg_bytes_match_a_hand_count_on_the_tiny_wan(wan):
    cost = _cost(wan, ParallelConfig(cfg=2, ulysses=2))
    config = wan.component(wan.denoiser).config
    hidden = config["num_attention_heads"] * config["attention_head_dim"]  # 2 x 12
    tokens = 3 * 2 * 2  # 9 frames -> 3 latent frames; 32 px -> 4 latent px -> 2 patches a side
    assert cost.video_tokens == tokens and cost.latent.model_dump() == {
        "channels": 16,
        "frames": 3,
        "height": 4,
        "width": 4,
    }
    b, u = 4, 2  # float32; Ulysses degree
    # q, k, v and the output: a rank holds tokens/u of each and sends (u-1)/u of it; one pass a step (cfg split)
    ulysses = 4 * (tokens / u) * hidden * b * (u - 1) / u * config["num_layers"]
    cfg = 16 * 3 * 4 * 4 * b  # one branch's output, the latents' size
    by_axis = {e.axis: e for e in cost.parallel.exchanges}
    assert by_axis["ulysses"].bytes_per_step == ulysses == 2304
    assert by_axis["cfg"].bytes_per_step == cfg == 3072
    assert cost.parallel.communication_bytes == (ulysses + cfg) * 2  # 2 steps


def test_ring_gathers_the_key_value_blocks_and_holds_them(wan):
    one, ring = _cost(wan), _cost(wan, ParallelConfig(ring=2))
    config = wan.component(wan.denoiser).config
    hidden, layers, tokens, b = 24, config["num_layers"], 12, 4
    (exchange,) = ring.parallel.exchanges
    passes = 2  # sequential CFG on one rank group: both passes
    assert exchange.collective == "all_gather"
    assert exchange.bytes_per_step == 2 * tokens * hidden * b * (2 - 1) / 2 * layers * passes
    gathered = 2 * tokens * hidden * b  # one layer's whole k/v, every head (ulysses 1)
    assert _denoise_activation(ring) == pytest.approx(_denoise_activation(one) / 2 + gathered, abs=1)


def test_cfg_parallel_halves_a_rank_s_flops_and_sends_nothing_with_guidance_off(wan):
    one, cfg = _cost(wan), _cost(wan, ParallelConfig(cfg=2))
    assert cfg.parallel.cfg_split and cfg.flops.per_step == pytest.approx(one.flops.per_step / 2)
    # Wan runs its two passes one after the other: a rank's activations are one pass's either way
    assert _denoise_activation(cfg) == _denoise_activation(one)
    off = _cost(wan, ParallelConfig(cfg=2), guidance=1.0)
    assert not off.parallel.cfg_split and off.parallel.exchanges == []
    assert off.flops.per_step == pytest.approx(_cost(wan, guidance=1.0).flops.per_step)


def test_cfg_parallel_halves_a_batched_family_s_activations():
    # a batched family (CogVideoX, LTX-Video) prices both branches as one forward at batch 2: each group runs one half
    def split(cfg: int) -> Split:
        config = ParallelConfig(cfg=cfg)
        fields = dict(batched=True, passes=2, tokens=12, hidden=24, layers=2, text_split=False, element=4)
        return Split(config=config, cfg_split=cfg == 2, **fields)

    assert split(2).activation(1000.0) == 500.0 and split(1).activation(1000.0) == 1000.0
    assert split(2).share == 0.5 and split(2).passes_per_rank == 1


def test_the_link_comes_from_the_device_table_per_group():
    assert link_gbps("NVIDIA H100 80GB HBM3", True, 4) == 450.0  # NVLink 4: 900 GB/s both ways
    assert link_gbps("AMD Instinct MI300X", True, 2) == 64.0  # one Infinity Fabric link to the one peer
    assert link_gbps("AMD Instinct MI300X", True, 8) == 448.0  # seven links
    assert link_gbps("a CPU", False, 2) == CPU_LOOPBACK_GBPS
    assert link_gbps("NVIDIA Unknown Card", True, 2) is None


def test_the_time_is_the_bytes_over_the_link_or_none_with_a_note(wan):
    split = _cost(wan, ParallelConfig(cfg=2, ulysses=2)).parallel
    on_h100 = on_hardware(split, "NVIDIA H100 80GB HBM3", True)
    assert on_h100.communication_seconds == pytest.approx(split.communication_bytes / 450e9)
    unknown = on_hardware(split, "NVIDIA Unknown Card", True)
    assert unknown.communication_seconds is None and "no link bandwidth" in unknown.notes[-1]


def test_a_parallel_worker_reports_its_split_and_the_ingress_prices_it_from_the_report():
    worker = GenerationWorker(default_model="tiny", parallel=ParallelConfig(cfg=2, ulysses=2))
    diag = worker.diagnostics("wan")
    assert diag["parallel"] == {"config": "cfg=2,ulysses=2", "world_size": 4}
    # the ingress rebuilds the policy from the report and prices with estimate_weights(policy)
    policy = VideoLoadPolicy.model_validate(json.loads(json.dumps(diag["load_policy"])))
    assert estimate_weights(policy)["parallel"] == ParallelConfig(cfg=2, ulysses=2)
    assert GenerationWorker(default_model="tiny").diagnostics("wan")["parallel"] is None


def test_tokens_that_do_not_split_are_a_4xx_naming_the_field():
    from videogen.serve.errors import http_status

    worker = GenerationWorker(default_model="tiny", parallel=ParallelConfig(ulysses=2))
    request = VideoRequest(family="wan", task=T2V, prompt="x", num_frames=9, height=48, width=48, seed=0)
    with pytest.raises(InvalidRequestError) as caught:  # 3 latent frames x 3 x 3 patches = 27 tokens
        worker.estimate(request)
    assert caught.value.code == ErrorCode.INVALID_REQUEST and http_status(caught.value) == 422
    assert caught.value.field == "num_frames" and "27 video tokens" in caught.value.message
    plan = worker.estimate(request.model_copy(update={"height": 32, "width": 32}))
    assert plan.estimate.parallel.world_size == 2 and plan.admission.rung is not None


def _estimate(capsys, *argv: str) -> tuple[int, dict | str]:
    code = main(["estimate", "--family", "wan", *argv])
    out = capsys.readouterr()
    return code, json.loads(out.out) if "--json" in argv and code == 0 else out.err


def test_the_estimate_cli_prices_a_rank_and_names_parallel_when_refused(capsys):
    code, out = _estimate(capsys, "--model", "tiny", "--parallel", "cfg=2,ulysses=2", "--json")
    assert code == 0 and out["parallel"]["world_size"] == 4 and out["admission"]["rung"]
    assert out["estimate"]["parallel"]["parallel"] == "cfg=2,ulysses=2"
    assert out["estimate"]["parallel"]["link_gbps"] == CPU_LOOPBACK_GBPS  # this CPU box: gloo on the loopback
    code, err = _estimate(capsys, "--model", "tiny", "--parallel", "cfg=3")
    assert code == 2 and "--parallel" in err and "cfg" in err
    code, err = _estimate(capsys, "--model", "tiny", "--parallel", "ulysses=3")  # 2 heads
    assert code == 2 and "--parallel ulysses" in err
    code = main(["estimate", "--family", "hunyuan-video", "--model", "arch:hunyuanvideo-t2v", "--parallel", "cfg=2"])
    assert code == 2 and "--parallel cfg" in capsys.readouterr().err
