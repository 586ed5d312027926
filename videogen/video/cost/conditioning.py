"""The conditioning media of one job, as far as their cost goes, and what they add to it.

``task_media`` records them in the job's settled params (``Conditioning.to_params``, under ``PARAMS_KEY``), so
every estimate of the job (the ingress, the worker, ``videogen estimate``) prices the media it really carries:
how many reference images, and each keyframe condition's start frame and length. ``conditioning_load`` turns
them into what the pipeline does with them, by the family's facts (``CostFacts``):

- reference images (Wan VACE, ``WanVACEPipeline.prepare_video_latents`` / ``prepare_masks`` /
  ``prepare_latents``): each is VAE-encoded as one frame at the job's size and put in front of the video's latents
  as one more latent frame, in the denoised stream and in the VACE control stream alike;
- keyframe conditions (LTX, ``LTXConditionPipeline.prepare_latents``): each is VAE-encoded whole (an image: one
  frame). One at frame 0 overwrites the video's first latent frames in place; one later joins the sequence as
  extra tokens: an image's one latent frame, a clip's first ``num_prefix_latent_frames`` (its later latent frames
  overwrite the video's in place).

Nothing here imports torch: the ingress records the shapes before any model exists.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from videogen.video.cost.facts import CostFacts

# The key of the job's params the conditioning is recorded under.
PARAMS_KEY = "conditioning"


@dataclass(frozen=True)
class Conditioning:
    """How many reference images a job has, and each keyframe condition's (start frame, pixel frames)."""

    reference_images: int = 0
    keyframes: tuple[tuple[int, int], ...] = ()

    def to_params(self) -> dict[str, Any]:
        """The JSON form kept in the job's params (empty when the job has neither)."""
        out: dict[str, Any] = {}
        if self.reference_images:
            out["reference_images"] = self.reference_images
        if self.keyframes:
            out["keyframes"] = [{"frame_index": index, "frames": frames} for index, frames in self.keyframes]
        return out

    @classmethod
    def from_params(cls, params: Mapping[str, Any]) -> Conditioning:
        recorded = params.get(PARAMS_KEY) or {}
        return cls(
            reference_images=int(recorded.get("reference_images", 0)),
            keyframes=tuple((int(k["frame_index"]), int(k["frames"])) for k in recorded.get("keyframes", ())),
        )


@dataclass(frozen=True)
class ConditioningLoad:
    """What the conditioning adds to a job: latent frames (at the video's latent size) in the denoised sequence,
    and the pixel frames of each extra VAE encode (at the job's size)."""

    latent_frames: int = 0
    encodes: tuple[int, ...] = ()
    notes: tuple[str, ...] = ()


def conditioning_load(facts: CostFacts, task: str, conditioning: Conditioning, temporal: int) -> ConditioningLoad:
    """The load ``conditioning`` puts on ``task`` by the family's ``facts`` (``temporal``: the VAE's temporal
    compression, which turns a clip's frames into latent frames)."""
    latent_frames, encodes, notes = 0, [], []
    references = conditioning.reference_images if task in facts.reference_image_tasks else 0
    if references:
        latent_frames += references
        encodes += [1] * references
        notes.append(
            f"{references} reference image(s): each VAE-encoded as one frame and denoised as one more latent frame "
            "in front of the video's"
        )
    prefix = facts.keyframe_token_frames.get(task)
    if prefix is not None and conditioning.keyframes:
        added = 0
        for frame_index, frames in conditioning.keyframes:
            encodes.append(frames)
            if frame_index > 0:  # at 0 it overwrites the first latent frames in place
                added += min((frames - 1) // temporal + 1, prefix)
        latent_frames += added
        notes.append(
            f"{len(conditioning.keyframes)} keyframe condition(s): each VAE-encoded; those after frame 0 add "
            f"{added} latent frame(s) of tokens to the denoised sequence"
        )
    return ConditioningLoad(latent_frames, tuple(encodes), tuple(notes))


__all__ = ["PARAMS_KEY", "Conditioning", "ConditioningLoad", "conditioning_load"]
