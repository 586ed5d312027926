"""A video's soundtrack (LTX-2's): the waveform a pipeline returns, the WAV handed to ffmpeg, and the track read back.

``write_mp4`` muxes a ``Soundtrack`` into the MP4 as AAC (``encode.py``); ``read_audio_track`` decodes a file's first
audio stream with the same ffmpeg (imageio-ffmpeg's binary: no ffprobe, no PyAV), for checks and tests.
"""

from __future__ import annotations

import os
import re
import subprocess
import wave
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

# The sample rates ffmpeg's AAC encoder takes; a soundtrack at another rate is resampled to 48 kHz.
AAC_SAMPLE_RATES = frozenset({7350, 8000, 11025, 12000, 16000, 22050, 24000, 32000, 44100, 48000, 64000, 88200, 96000})
AAC_FALLBACK_RATE = 48000
_STREAM = re.compile(r"Stream #\d+:\d+.*?: Audio: (\w+).*?, (\d+) Hz, ([^,]+)")
_LAYOUTS = {"mono": 1, "stereo": 2}


@dataclass(frozen=True)
class Soundtrack:
    """``samples``: float ``[channels, n]`` in [-1, 1] (clipped when written), at ``sample_rate`` Hz."""

    samples: np.ndarray
    sample_rate: int

    @property
    def channels(self) -> int:
        return int(self.samples.shape[0])

    @property
    def seconds(self) -> float:
        return self.samples.shape[1] / self.sample_rate

    def describe(self) -> dict[str, Any]:
        return {"sample_rate": self.sample_rate, "channels": self.channels, "seconds": round(self.seconds, 4)}


def soundtrack_of(audio, sample_rate: int) -> Soundtrack:
    """A pipeline's audio output (a tensor or array ``[batch, channels, n]``, ``[channels, n]`` or ``[n]``; the first
    video's) as a ``Soundtrack``."""
    if type(audio).__module__.startswith("torch"):
        audio = audio.detach().float().cpu().numpy()
    samples = np.asarray(audio, dtype=np.float32)
    if samples.ndim == 3:
        samples = samples[0]
    if samples.ndim == 1:
        samples = samples[None]
    if samples.ndim != 2 or samples.shape[1] == 0:
        raise ValueError(f"expected audio [channels, samples], got {samples.shape}")
    return Soundtrack(samples=samples, sample_rate=int(sample_rate))


def write_wav(track: Soundtrack, path: Path) -> None:
    """16-bit PCM WAV (what ffmpeg reads without a codec of its own), interleaved by frame."""
    pcm = np.clip(np.rint(track.samples.T * 32767.0), -32768, 32767).astype("<i2")
    with wave.open(str(path), "wb") as out:
        out.setnchannels(track.channels)
        out.setsampwidth(2)
        out.setframerate(track.sample_rate)
        out.writeframes(pcm.tobytes())


def aac_arguments(track: Soundtrack) -> list[str]:
    """ffmpeg output options that encode the second input's audio as AAC (resampled where AAC cannot take its rate)."""
    resample = [] if track.sample_rate in AAC_SAMPLE_RATES else ["-ar", str(AAC_FALLBACK_RATE)]
    return ["-map", "0:v:0", "-map", "1:a:0", "-c:a", "aac", "-b:a", "128k", *resample]


@dataclass(frozen=True)
class AudioStream:
    """A file's first audio stream as ffmpeg decoded it: its codec, rate, channels and samples (float, [-1, 1])."""

    codec: str
    sample_rate: int
    channels: int
    samples: np.ndarray  # [channels, n]

    @property
    def seconds(self) -> float:
        return self.samples.shape[1] / self.sample_rate


def read_audio_track(path: str | Path) -> AudioStream | None:
    """Decode the file's first audio stream to PCM; None when it has none."""
    import imageio_ffmpeg

    cmd = [imageio_ffmpeg.get_ffmpeg_exe(), "-hide_banner", "-nostats", "-i", str(path)]
    cmd += ["-map", "0:a:0", "-f", "s16le", "-acodec", "pcm_s16le", "-"]
    done = subprocess.run(cmd, capture_output=True, env={**os.environ, "LC_ALL": "C"}, check=False)
    text = done.stderr.decode("utf-8", "replace")
    match = _STREAM.search(text)
    if match is None:
        if done.returncode != 0 and "matches no streams" not in text:
            raise RuntimeError(f"ffmpeg could not read {path}: {text.strip()[-500:]}")
        return None
    if done.returncode != 0:
        raise RuntimeError(f"ffmpeg could not decode the audio of {path}: {text.strip()[-500:]}")
    codec, rate, layout = match.group(1), int(match.group(2)), match.group(3).strip()
    channels = _LAYOUTS.get(layout) or int(layout.split()[0])
    pcm = np.frombuffer(done.stdout, dtype="<i2").astype(np.float32) / 32768.0
    return AudioStream(codec=codec, sample_rate=rate, channels=channels, samples=pcm.reshape(-1, channels).T)
