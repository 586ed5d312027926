"""HunyuanVideo tiny t2v/i2v: its own input rules, prompt template and dropped frames.

Generic checks: test_families.py.
"""

from __future__ import annotations

import pytest
from family_support import I2V, T2V, assert_moves, tiny_fixture

tiny = tiny_fixture("hunyuan-video")


@pytest.mark.parametrize("tiny", [I2V], indirect=True)
def test_tiny_model_carries_its_prompt_template(tiny):
    template = tiny.meta.call_kwargs["prompt_template"]
    assert template["image_emb_end"] - template["image_emb_start"] == template["image_emb_len"]


@pytest.mark.parametrize("tiny", [I2V], indirect=True)
def test_image_to_video_drops_the_4_conditioning_frames(tiny):
    prepared = tiny.prepare(seed=0, num_frames=13)
    assert prepared.kwargs["num_frames"] == 13 and prepared.expected_frames == 9


@pytest.mark.parametrize("tiny", [T2V], indirect=True)
def test_frames_to_4k_plus_1_and_sizes_to_multiples_of_16(tiny):
    assert_moves(tiny, {"num_frames": 10}, {"num_frames": (10, 9)})
    assert_moves(tiny, {"height": 36, "width": 44}, {"height": (36, 32), "width": (44, 48)})


@pytest.mark.parametrize("tiny", [T2V], indirect=True)
def test_a_negative_prompt_is_reported_as_not_applied(tiny):
    moved = {a.field: a for a in tiny.resolve(seed=0, negative_prompt="blurry").adjustments}
    assert moved["negative_prompt"].requested == "blurry" and moved["negative_prompt"].used is None
    assert "negative_prompt" not in {a.field for a in tiny.resolve(seed=0).adjustments}
