"""A soundtrack through ``write_mp4``: muxed as AAC by the bundled ffmpeg and decoded back (no ffprobe, no PyAV)."""

from __future__ import annotations

import numpy as np
import pytest

from videogen.video.encode import read_mp4, write_mp4
from videogen.video.soundtrack import Soundtrack, read_audio_track, soundtrack_of


def _tone(rate: int, seconds: float, channels: int) -> np.ndarray:
    t = np.arange(int(rate * seconds)) / rate
    return np.stack([0.5 * np.sin(2 * np.pi * 440 * (c + 1) * t) for c in range(channels)]).astype(np.float32)


def test_the_track_decodes_back_as_written(tmp_path):
    frames = np.full((12, 32, 32, 3), 128, np.uint8)
    track = Soundtrack(_tone(24000, 0.5, 2), 24000)
    write_mp4(frames, tmp_path / "a.mp4", fps=24, audio=track)
    back = read_audio_track(tmp_path / "a.mp4")
    assert (back.codec, back.sample_rate, back.channels) == ("aac", 24000, 2)
    assert back.seconds == pytest.approx(0.5, abs=0.01)
    # the same tone: AAC is lossy, but the waveform correlates with what went in
    n = min(back.samples.shape[1], track.samples.shape[1])
    assert np.corrcoef(back.samples[0, 2000:n], track.samples[0, 2000:n])[0, 1] > 0.9
    assert read_mp4(tmp_path / "a.mp4")[0].shape == frames.shape  # the picture is the same as without sound


def test_a_rate_aac_cannot_take_is_resampled_and_a_silent_video_has_no_track(tmp_path):
    frames = np.zeros((4, 16, 16, 3), np.uint8)
    write_mp4(frames, tmp_path / "odd.mp4", fps=8, audio=Soundtrack(_tone(9000, 0.5, 1), 9000))
    back = read_audio_track(tmp_path / "odd.mp4")
    assert (back.sample_rate, back.channels) == (48000, 1) and back.seconds == pytest.approx(0.5, abs=0.03)
    write_mp4(frames, tmp_path / "silent.mp4", fps=8)
    assert read_audio_track(tmp_path / "silent.mp4") is None
    assert sorted(p.name for p in tmp_path.iterdir()) == ["odd.mp4", "silent.mp4"]  # no WAV left beside them


def test_a_pipelines_audio_output_becomes_a_track():
    import torch

    batch = torch.zeros(1, 2, 100)  # [batch, channels, samples], as LTX-2's vocoder returns it
    assert soundtrack_of(batch, 24000).describe() == {"sample_rate": 24000, "channels": 2, "seconds": 0.0042}
    assert soundtrack_of(np.zeros(50), 8000).channels == 1
    with pytest.raises(ValueError):
        soundtrack_of(np.zeros((2, 0)), 8000)
