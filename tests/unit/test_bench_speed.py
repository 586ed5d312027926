"""benchmarks/bench_speed.py runs on the tiny Wan model and its figures agree with each other.

No timed assertion: only that it runs and its numbers are consistent (stages add up, TFLOP/s is FLOPs over
seconds, the baseline's drift against itself is nil, every lever is either measured or says why not).
"""

from __future__ import annotations

import importlib.util
import json
import math
import statistics
from pathlib import Path

import pytest

from videogen.video.policy_overrides import STEP_CACHE_KINDS
from videogen.video.registry import get_spec

BENCH = Path(__file__).resolve().parents[2] / "benchmarks" / "bench_speed.py"
STEPS = 2


def _bench():
    spec = importlib.util.spec_from_file_location("bench_speed", BENCH)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _no_infinity(name: str):
    raise AssertionError(f"non-standard JSON constant {name}")


@pytest.fixture(scope="module")
def report(tmp_path_factory):
    out = tmp_path_factory.mktemp("bench")
    _bench().main(["--family", "wan", "--model", "tiny", "--steps", str(STEPS), "--runs", "1", "--out", str(out)])
    text = (out / "bench_speed.json").read_text()
    assert (out / "bench_speed.md").read_text().startswith("# bench_speed: wan text-to-video (tiny)")
    return json.loads(text, parse_constant=_no_infinity)


def test_every_lever_is_measured_or_says_why_not(report):
    measured = {row["name"] for row in report["rows"]}
    skipped = {s["lever"]: s["reason"] for s in report["skipped"]}
    assert {"videogen", "raw diffusers"} <= measured
    for kind in STEP_CACHE_KINDS[1:]:
        name = f"step_cache={kind}"
        supported = get_spec("wan").step_caches.unsupported_reason(kind, "text-to-video") is None
        assert (name in measured) == supported and (name in skipped) == (not supported)
    assert "attention_backend" in skipped or "attention_backend=native" in measured  # CPU: auto is native
    assert "compile" in skipped  # not by default on a CPU
    assert {"vae_tiling=True", "vae_slicing=True"} <= measured
    assert all(skipped.values())


def test_the_figures_agree(report):
    flops, device = report["flops"], report["device"]
    assert flops["per_step"] > 0 and flops["text_encode"] > 0 and device["peak_tflops"] > 0
    assert report["request"]["num_inference_steps"] == STEPS
    for row in report["rows"]:
        assert row["denoise_s"] == pytest.approx(STEPS * row["per_step_s"])
        assert row["tflops_per_s"] == pytest.approx(flops["per_step"] / row["per_step_s"] / 1e12)
        assert row["peak_ratio"] == pytest.approx(row["tflops_per_s"] / device["peak_tflops"])
        parts = row["text_encode_s"] + row["denoise_s"] + row["decode_s"] + row["encode_s"] + row["other_s"]
        assert parts == pytest.approx(row["job_s"])
        assert row["speedup"] > 0 and len(row["job_s_runs"]) == report["request"]["runs"]
        assert row["job_s"] == min(row["job_s_runs"])
        assert row["peak_memory_mb"] > 0 and row["projection_calls"] > 0  # no compiled row by default
        assert row["psnr_db"] == "inf" or row["psnr_db"] > 0


def test_the_baseline_against_itself(report):
    rows = {row["name"]: row for row in report["rows"]}
    videogen, raw = rows["videogen"], rows["raw diffusers"]
    assert videogen["psnr_db"] == "inf" and videogen["work_fraction"] == 1.0 and videogen["speedup"] == 1.0
    assert raw["psnr_db"] == "inf" and raw["encode_s"] == 0.0  # the same pipeline and seed: the same frames
    assert raw["projection_calls"] == videogen["projection_calls"]
    runs = zip(videogen["job_s_runs"], videogen["encode_s_runs"], raw["job_s_runs"], strict=True)
    assert report["videogen_vs_raw_pct"] == pytest.approx(
        100 * (statistics.median((v - e) / r for v, e, r in runs) - 1)
    )
    assert not math.isnan(report["videogen_vs_raw_pct"])
