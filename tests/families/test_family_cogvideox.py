"""CogVideoX tiny model (t2v sin-cos positions, i2v rotary): its own rules. Generic checks: test_families.py."""

from __future__ import annotations

from family_support import assert_moves, tiny_fixture

tiny = tiny_fixture("cogvideox")


def test_prompt_length_follows_the_transformer(tiny):
    prepared = tiny.prepare(seed=0)
    assert prepared.kwargs["max_sequence_length"] == tiny.pipe.transformer.config.max_text_seq_length == 16


def test_frames_and_size_moved_to_valid_values(tiny):
    """8k+1 frames (the VAE turns an even latent count into 4n frames), multiples of 16 (ties round up)."""
    requested = {"num_frames": 10, "height": 40, "width": 64}
    assert_moves(tiny, requested, {"num_frames": (10, 9), "height": (40, 48)}, generate=True)
