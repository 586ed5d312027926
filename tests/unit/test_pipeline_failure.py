"""A pipeline's raw exception, classified: a device fault passes through (the replica is replaced), VideoGen's own
errors pass through, anything else becomes a PipelineFailedError naming the values the job ran with."""

from __future__ import annotations

from types import SimpleNamespace

from videogen.errors import InvalidRequestError, PipelineFailedError
from videogen.video.pipeline_failure import is_device_fault, pipeline_failure

LOADED = SimpleNamespace(provenance={"pipeline_class": "WanPipeline"})
PARAMS = {"num_frames": 81, "height": 480, "width": 832, "num_inference_steps": 50, "seed": 3}


def test_a_device_fault_is_left_as_it_is():
    fault = RuntimeError("CUDA error: an illegal memory access was encountered")
    assert is_device_fault(fault) and pipeline_failure(fault, LOADED, PARAMS) is fault
    own = InvalidRequestError("width", "too wide")
    assert not is_device_fault(own) and pipeline_failure(own, LOADED, PARAMS) is own


def test_any_other_error_names_the_pipeline_and_the_shape_it_ran_at():
    raw = ValueError("shapes cannot be multiplied (2x3 and 4x5)\nsecond line")
    err = pipeline_failure(raw, LOADED, PARAMS)
    assert isinstance(err, PipelineFailedError) and not is_device_fault(raw)
    assert err.message.startswith("WanPipeline failed at num_frames=81, height=480, width=832, num_inference_steps=50")
    assert "ValueError: shapes cannot be multiplied (2x3 and 4x5))" in err.message and "second line" not in err.message
    assert err.field == "num_frames"
    assert err.details["params"] == {k: PARAMS[k] for k in ("num_frames", "height", "width", "num_inference_steps")}
