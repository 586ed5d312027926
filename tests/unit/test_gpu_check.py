"""benchmarks/gpu_check.py runs end to end on the tiny models (as it does on a CPU), and its report holds together.

One in-process run of every section at the smallest settings; then the report's structure and its arithmetic: each
section ran or says why not, every figure is positive, every measured figure has its estimate beside it, ratios
are the quotients of the figures they name. No timed assertion: CPU speeds say nothing about a GPU.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest

BENCHMARKS = Path(__file__).resolve().parents[2] / "benchmarks"


@pytest.fixture(scope="module")
def gpu_check():
    sys.path.insert(0, str(BENCHMARKS))
    try:
        import gpu_check

        yield gpu_check
    finally:
        sys.path.remove(str(BENCHMARKS))


def _no_infinity(name: str):
    raise AssertionError(f"non-standard JSON constant {name}")


@pytest.fixture(scope="module")
def report(gpu_check, tmp_path_factory):
    out = tmp_path_factory.mktemp("gpu-check")
    gpu_check.main(["--tiny", "--out", str(out)])
    data = json.loads((out / "cpu" / "gpu-check.json").read_text(), parse_constant=_no_infinity)
    data["markdown"] = (out / "cpu" / "gpu-check.md").read_text()
    return data


def test_every_section_runs_on_the_tiny_models(report):
    from gpucheck.settings import SECTION_NAMES

    sections = report["sections"]
    assert list(sections) == list(SECTION_NAMES)
    failed = {name: s.get("error") for name, s in sections.items() if s["status"] != "ok"}
    assert failed == {}  # on a CPU nothing may fail: this run is what keeps the check from rotting
    for name, section in sections.items():
        assert section["conditions"] and section["rows"], name
        assert f"## {name}: ok" in report["markdown"]
    assert report["mp4_writer"] == "h264" and report["device"]["peak_tflops"] > 0


def test_baseline_figures_are_positive_and_agree(report):
    peak = report["device"]["peak_tflops"]
    for label in ("small", "mid"):
        section = report["sections"][f"baseline:{label}"]
        flops = section["facts"]["flops_per_step"]
        assert flops > 0 and section["facts"]["vae_decode_flops"] > 0
        assert [row["run"] for row in section["rows"]] == ["raw diffusers", "videogen"]
        for row in section["rows"]:
            parts = row["text_encode_s"] + row["denoise_s"] + row["decode_s"]
            assert 0 < row["s_per_step"] and 0 < parts <= row["job_s"] * 1.001
            assert row["tflops_per_s"] == pytest.approx(flops / row["s_per_step"] / 1e12, rel=1e-2, abs=1e-4)
            assert row["share_of_peak"] == pytest.approx(row["tflops_per_s"] / peak, rel=1e-2, abs=1e-4)
            # measured beside estimated; on a CPU the measure is RSS, which is no estimate's match: no ratio
            assert row["measured_peak_mb"] > 0 and row["estimated_peak_mb"] > 0
            assert row["measured_over_estimate"] is None
        assert section["facts"]["measured_pipeline_s"] > 0


def test_the_recipe_is_measured_and_the_full_schedule_extrapolated(report):
    for label in ("small", "large"):
        measured, *extrapolated = report["sections"][f"recipe:{label}"]["rows"]
        assert (measured["how"], measured["steps"], measured["guidance_scale"]) == ("measured", 4, 1.0)
        assert extrapolated[0]["steps"] == 50 and extrapolated[0]["how"].startswith("extrapolated")
        for row in extrapolated:
            assert row["speedup"] == pytest.approx(row["pipeline_s"] / measured["pipeline_s"], rel=1e-6)
            assert row["cost_model_speedup"] == pytest.approx(row["cost_model_flops"] / measured["cost_model_flops"])
        # 50 steps of two CFG passes against 4 of one: the cost model prices guidance 1 as one pass per step
        assert extrapolated[0]["cost_model_denoise_ratio"] == pytest.approx(50 * 2 / 4)
        assert extrapolated[0]["cost_model_speedup"] > 1


def test_weights_modes_load_and_hold_the_estimated_bytes(report):
    for label in ("small", "large"):
        rows = {row["weights"]: row for row in report["sections"][f"weights:{label}"]["rows"]}
        assert list(rows) == ["bf16", "fp8_storage", "int8"]
        for mode, row in rows.items():
            assert row["applied"] == mode and row["s_per_step"] > 0
            assert row["denoiser_bytes_measured"] == row["denoiser_bytes_estimated"] > 0
            assert row["measured_peak_mb"] > 0 and row["estimated_peak_mb"] > 0
            assert row["s_per_step_vs_bf16"] == pytest.approx(row["s_per_step"] / rows["bf16"]["s_per_step"])
        assert rows["int8"]["denoiser_bytes_measured"] < rows["bf16"]["denoiser_bytes_measured"]
        assert rows["fp8_storage"]["denoiser_bytes_measured"] < rows["bf16"]["denoiser_bytes_measured"]


def test_levers_and_rungs_are_each_measured_or_say_why_not(report):
    from videogen.video.policy_overrides import STEP_CACHE_KINDS

    backends = report["sections"]["attention_backends"]
    assert any(row["backend"] == "native" and row["usable"] for row in backends["rows"])
    caches = {row["cache"]: row for row in report["sections"]["step_caches"]["rows"]}
    assert list(caches) == list(STEP_CACHE_KINDS)
    for kind, row in caches.items():
        assert row.get("s_per_step", 0) > 0 or (row["applied"] == "off" and row["reason"]), kind
    compiled = report["sections"]["compile"]
    assert compiled["facts"]["applied"] == "regional" and compiled["facts"]["warm_up_compile_s"] > 0
    assert [row["run"] for row in compiled["rows"]] == ["eager", "regional compile"]
    rungs = report["sections"]["placement_rungs"]["rows"]
    assert [row["rung"] for row in rungs] == ["gpu", "gpu+tiling", "gpu+tiling+slicing"]  # the CPU-runnable ones
    assert all("error" not in row and row["measured_peak_mb"] > 0 and row["estimated_peak_mb"] > 0 for row in rungs)


def _report(tmp_path, budget_s=100.0):
    from gpucheck.runner import Report

    device = {"name": "test", "backend": "cpu", "peak_tflops": 1.0, "peak_source": "test", "memory": "test"}
    header = {"mode": "test", "device": device, "versions": {}, "targets": {}, "mp4_writer": "skip"}
    return Report(tmp_path, "check", header, budget_s=budget_s, grace_s=1.0)


def test_a_failing_section_is_recorded_and_the_next_still_runs(gpu_check, tmp_path):
    report, freed = _report(tmp_path), []
    report.plan(["broken", "fine", "late"])

    def broken():
        raise RuntimeError("out of something")

    report.run("broken", 1.0, broken, on_failure=lambda: freed.append(True))
    report.run("fine", 1.0, lambda: {"conditions": "c", "facts": {"x": 1}, "rows": [{"a": 1.5}]})
    data = json.loads((tmp_path / "check.json").read_text())  # rewritten after every section
    assert (
        data["sections"]["broken"]["status"] == "failed" and "out of something" in data["sections"]["broken"]["error"]
    )
    assert data["sections"]["fine"]["status"] == "ok" and freed == [True]
    assert data["sections"]["late"] == {"status": "pending"}
    assert "## broken: failed" in (tmp_path / "check.md").read_text()


def test_sections_past_the_deadline_are_skipped_or_interrupted(gpu_check, tmp_path):
    report = _report(tmp_path, budget_s=5.0)
    report.run("too big", 60.0, lambda: pytest.fail("must not start"))
    assert report.data["sections"]["too big"]["status"] == "skipped"
    assert "deadline" in report.data["sections"]["too big"]["reason"]
    report.running = ("stuck", 0.0, 5.0)  # what the watchdog finds when a section overruns
    report.interrupt()
    data = json.loads((tmp_path / "check.json").read_text())
    assert data["sections"]["stuck"]["status"] == "interrupted"


def test_the_mp4_fallback_replaces_the_writer_only_inside_its_block(gpu_check, tmp_path):
    import numpy as np
    from gpucheck import encoding

    from videogen.video import encode

    assert encoding.choose("auto") == "h264"  # imageio-ffmpeg is installed here; the GPU machine falls back
    original = encode.write_mp4
    with encoding.mp4_writer("skip"):
        assert encode.write_mp4(np.zeros((1, 8, 8, 3), np.uint8), tmp_path / "a.mp4", 8) == 0
    assert encode.write_mp4 is original and not (tmp_path / "a.mp4").exists()
