"""Wan tiny model (t2v and Wan 2.1-style i2v): its own frame/size rules. Generic checks: test_families.py."""

from __future__ import annotations

from family_support import assert_moves, tiny_fixture

tiny = tiny_fixture("wan")


def test_frames_to_4k_plus_1_and_sizes_to_multiples_of_16(tiny):
    # ties round up; 64 stays
    requested = {"num_frames": 10, "height": 40, "width": 64}
    assert_moves(tiny, requested, {"num_frames": (10, 9), "height": (40, 48)}, generate=True)
