"""benchmarks/bench_serving.py runs against the shared app and writes a self-consistent report.

A smoke test: two short jobs and one short "long" job. It checks how the
numbers relate to each other, never how large they are (speed figures live
in the benchmark's output, not in tests).
"""

from __future__ import annotations

import importlib.util
import json
import math

import pytest
from serve_helpers import ROOT

from videogen.video.progress import STAGES

pytestmark = pytest.mark.serve


def _bench():
    spec = importlib.util.spec_from_file_location("bench_serving", ROOT / "benchmarks" / "bench_serving.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_the_serving_benchmark_report_adds_up(served_app, tmp_path):
    bench = _bench()
    out = tmp_path / "results"
    result = bench.main(
        [
            "--url",
            served_app.base_url,
            "--family",
            "wan",
            "--jobs",
            "2",
            "--warmup",
            "1",
            "--long-steps",
            "3",
            "--long-runs",
            "1",
            "--long-frames",
            "9",
            "--long-size",
            "32",
            "--threads",
            "0",
            "--out",
            str(out),
            "--label",
            "smoke",
        ]
    )
    saved = json.loads((out / "serving-smoke.json").read_text())
    assert saved == json.loads(json.dumps(result))
    markdown = (out / "serving-smoke.md").read_text()

    jobs = saved["short"]["jobs"]
    assert [j["job"] for j in jobs] == [0, 1]
    for job in jobs:
        assert job["e2e_s"] > job["stage_sum_s"] > 0 and job["direct_s"] >= job["direct_stage_sum_s"] > 0
        assert math.isclose(job["fixed_cost_s"], job["e2e_s"] - job["stage_sum_s"])
        assert math.isclose(sum(job["stages"].values()), job["stage_sum_s"])
        assert list(job["stages"]) == list(STAGES)
        # The phases and the stages' span cover the end-to-end time (two clocks read together).
        assert math.isclose(sum(job["breakdown"].values()), job["e2e_s"], abs_tol=0.05)
        assert set(job["breakdown"]) == {*bench.PHASES, "stages_span_s"}
        # The SSE stream brought every stage, in order, and ended on the terminal event.
        seen = [s for i, s in enumerate(job["event_stages"]) if i == 0 or s != job["event_stages"][i - 1]]
        assert seen == ["queued", *STAGES, "done"]
        assert job["events"] == len(job["event_stages"])

    summary = saved["short"]["summary"]
    fixed_ms = sorted(j["fixed_cost_s"] * 1000 for j in jobs)
    assert summary["fixed_cost_ms"]["p50"] == round((fixed_ms[0] + fixed_ms[1]) / 2, 2)
    assert summary["fixed_cost_ms"]["min"] == round(fixed_ms[0], 2) and summary["fixed_cost_ms"]["max"] == round(
        fixed_ms[1], 2
    )
    assert set(summary["breakdown_p50_ms"]) == set(bench.PHASES)

    long = saved["long"]
    assert long["request"]["num_inference_steps"] == 3 and long["calibration"] is None and len(long["runs"]) == 1
    run = long["runs"][0]
    assert math.isclose(run["ratio"], run["e2e_s"] / run["direct_s"])
    assert long["summary"]["ratio"] == round(run["e2e_s"] / run["direct_s"], 4)

    targets = saved["targets"]
    assert targets["fixed_cost_ms_p50"]["value"] == summary["fixed_cost_ms"]["p50"]
    assert targets["fixed_cost_ms_p50"]["met"] == (summary["fixed_cost_ms"]["p50"] <= bench.TARGET_FIXED_COST_MS)
    assert targets["long_ratio"]["value"] == long["summary"]["ratio"]
    assert f"**{summary['fixed_cost_ms']['p50']} ms**" in markdown and "# Serving benchmark (smoke)" in markdown


def test_the_submission_benchmark_report_adds_up(served_app, tmp_path):
    spec = importlib.util.spec_from_file_location("bench_submit", ROOT / "benchmarks" / "bench_submit.py")
    bench = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(bench)
    out = tmp_path / "results"
    args = ["--url", served_app.base_url, "--families", "wan", "--clients", "3", "--jobs", "5", "--rounds", "2"]
    args += ["--streams", "6"]
    result = bench.main([*args, "--stream-steps", "2", "--fixed-jobs", "1", "--out", str(out), "--label", "smoke"])
    assert json.loads((out / "submit-smoke.json").read_text()) == json.loads(json.dumps(result))
    run = result["runs"]["url"]
    submit, streams = run["submit"], run["streams"]
    assert submit["status_codes"] == {"202": 10} and submit["ended"] == {"succeeded": 10}  # two rounds of 5, pooled
    assert math.isclose(submit["submissions_per_s"], 10 / submit["wall_s"], rel_tol=0.01)
    assert len(submit["submissions_per_s_by_round"]) == 2
    latency = submit["latency_ms"]
    assert 0 < latency["p50"] <= latency["p95"] <= latency["p99"] <= latency["max"]
    # The same rounds offered at the target rate (200 a second): all accepted and run; the submit target reads them.
    paced = run["paced"]
    assert paced["rate"] == 200 and paced["status_codes"] == {"202": 10} and paced["ended"] == {"succeeded": 10}
    assert len(paced["achieved_per_s_by_round"]) == 2 and 0 < paced["latency_ms"]["p50"] <= paced["latency_ms"]["max"]
    assert run["targets"]["submit_p95_ms"]["value"] == paced["latency_ms"]["p95"]
    # Every stream was held before its job ran, then read that job's events after the snapshot, to the end.
    assert streams["held_at_once"] == 6 and streams["refused"] == 0 and streams["jobs"] == 1
    assert streams["events_timed"] == streams["events"] - 6 > 0
    for name, target in run["targets"].items():
        assert target["met"] == (
            target["value"] >= target["target"] if name == "submissions_per_s" else target["value"] <= target["target"]
        )
    assert run["targets"]["event_p99_ms"]["value"] == streams["event_latency_ms"]["p99"]
    markdown = (out / "submit-smoke.md").read_text()
    assert "# Submission benchmark (smoke)" in markdown and f"| submit p95 ms | {latency['p95']} |" in markdown
