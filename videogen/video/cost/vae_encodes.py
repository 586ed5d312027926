"""The VAE encodes one request makes, each priced by its fitted law (``calibrate``).

Two sources: the task's own conditioning (``PipelineFacts``: image-to-video's image or clip, video-to-video's clip,
Wan VACE's kept and regenerated video), and the job's conditioning media (``conditioning.ConditioningLoad``: a
reference image or a keyframe image is one frame, a keyframe clip its frames), all at the job's size. They run one
after another: their FLOPs add up, the largest peak is the stage's.
"""

from __future__ import annotations

from dataclasses import dataclass

from videogen.video.arch.preset import ArchPreset
from videogen.video.cost import calibrate
from videogen.video.cost.conditioning import ConditioningLoad
from videogen.video.cost.shapes import PipelineFacts


@dataclass(frozen=True)
class VaeEncode:
    """``runs`` encodes of ``frames`` pixel frames of ``pixels`` pixels each, by ``model``'s fitted law."""

    model: calibrate.VaeModel
    frames: int
    pixels: int
    runs: int = 1

    @property
    def flops(self) -> float:
        return self.model.flops(**calibrate.vae_variables(self.frames, self.pixels)) * self.runs

    @property
    def peak(self) -> float:
        return self.model.peak(**calibrate.vae_variables(self.frames, self.pixels))


def vae_encodes(
    preset: ArchPreset,
    task: str,
    num_frames: int,
    pixels: int,
    facts: PipelineFacts,
    load: ConditioningLoad,
) -> list[VaeEncode]:
    """Every encode of a request of ``num_frames`` frames of ``pixels`` pixels; empty when the VAE only decodes."""
    encodes = []
    own = calibrate.vae_encode_model(preset, task, num_frames)
    if own is not None:
        encodes.append(VaeEncode(own, facts.vae_encode_frames, pixels, facts.vae_encode_runs))
    for frames in sorted(set(load.encodes)):  # the same length, the same law: counted once, run as often
        model = calibrate.vae_encode_fit(preset, single=frames == 1)
        encodes.append(VaeEncode(model, frames, pixels, load.encodes.count(frames)))
    return encodes


__all__ = ["VaeEncode", "vae_encodes"]
