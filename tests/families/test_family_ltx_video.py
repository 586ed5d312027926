"""LTX-Video tiny t2v/i2v: its own input rules and pipeline arguments. Generic checks: test_families.py."""

from __future__ import annotations

import pytest
from family_support import T2V, assert_moves, tiny_fixture

tiny = tiny_fixture("ltx-video")


def test_passes_frame_rate(tiny):
    prepared = tiny.prepare(seed=0, fps=12)
    assert prepared.kwargs["frame_rate"] == 12
    # the tiny VAE is not timestep-conditioned: no decode noise settings
    assert "decode_timestep" not in prepared.kwargs


@pytest.mark.parametrize("tiny", [T2V], indirect=True)
def test_frames_to_8k_plus_1_and_sizes_to_multiples_of_32(tiny):
    assert_moves(tiny, {"num_frames": 12}, {"num_frames": (12, 9)})
    assert_moves(tiny, {"height": 40, "width": 100}, {"height": (40, 32), "width": (100, 96)})
