"""SANA-Video tiny t2v/i2v: its own input rules and pipeline arguments. Generic checks: test_families.py."""

from __future__ import annotations

import pytest
from family_support import T2V, assert_moves, tiny_fixture

tiny = tiny_fixture("sana-video")


def test_frames_go_to_the_frames_argument(tiny):
    prepared = tiny.prepare(seed=0, num_frames=13)
    assert prepared.kwargs["frames"] == 13 and "num_frames" not in prepared.kwargs
    assert prepared.expected_frames == 13
    # tiny-only settings come from the model's metadata, not the adapter
    assert prepared.kwargs["use_resolution_binning"] is False
    assert "use_resolution_binning" not in tiny.adapter.family_call_kwargs(tiny.task, tiny.pipe, prepared.params)


@pytest.mark.parametrize("tiny", [T2V], indirect=True)
def test_frames_to_4k_plus_1_and_sizes_to_multiples_of_32(tiny):
    assert_moves(tiny, {"num_frames": 10}, {"num_frames": (10, 9)}, frames_kwarg="frames")
    assert_moves(tiny, {"height": 40, "width": 100}, {"height": (40, 32), "width": (100, 96)})
