"""What the metrics record for a job's end, without Ray (``metrics._record`` captured)."""

from __future__ import annotations

import pytest

from videogen.serve import metrics
from videogen.video.request import Adjustment


@pytest.fixture()
def recorded(monkeypatch):
    calls: list[tuple[str, str, float, dict]] = []
    monkeypatch.setattr(metrics, "_record", lambda name, method, value, tags: calls.append((name, method, value, tags)))
    return calls


def _oom_fallbacks(calls) -> float:
    return sum(value for name, _, value, _ in calls if name == "videogen_oom_fallbacks")


def test_oom_fallbacks_are_counted_from_the_typed_cause_not_the_wording(recorded):
    fallback = Adjustment(
        field="placement",
        requested="gpu",
        used="gpu+tiling",
        cause="out_of_memory",
        reason="out of memory at gpu (CUDA out of memory); retried at gpu+tiling",
    )
    worded = Adjustment(
        field="placement",
        requested="gpu",
        used="gpu+tiling",
        reason="the cost model says it would run out of memory at gpu",
    )  # admission, not an OOM
    metrics.job_finished("wan", "text-to-video", "succeeded", 1.0, adjustments=[fallback.model_dump(), worded])
    assert _oom_fallbacks(recorded) == 1


def test_a_job_that_ran_out_of_memory_again_after_a_fallback_counts_it(recorded):
    failed = {
        "code": "generation_failed",
        "message": "out of device memory at gpu and again at gpu+tiling",
        "details": {"rung": "gpu+tiling", "retried_from": "gpu"},
    }
    metrics.job_finished("wan", "text-to-video", "failed", 1.0, error=failed)
    metrics.job_finished(
        "wan",
        "text-to-video",
        "failed",
        1.0,
        error={"code": "generation_failed", "message": "out of memory", "details": {}},
    )
    assert _oom_fallbacks(recorded) == 1


def test_an_adjustment_without_a_cause_dumps_as_before():
    plain = Adjustment(field="num_frames", requested=10, used=9, reason="4k+1")
    assert plain.model_dump() == {"field": "num_frames", "requested": 10, "used": 9, "reason": "4k+1"}
    assert Adjustment(**plain.model_dump(), cause="out_of_memory").model_dump()["cause"] == "out_of_memory"
