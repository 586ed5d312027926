"""TextToVideoSD tiny model (t2v only): its own frame/size rules. Generic checks: test_families.py."""

from __future__ import annotations

from family_support import assert_moves, tiny_fixture

tiny = tiny_fixture("text-to-video-sd")


def test_any_frame_count_and_sizes_of_multiples_of_8(tiny):
    assert_moves(tiny, {"num_frames": 10, "height": 38, "width": 48}, {"height": (38, 40)}, generate=True)
