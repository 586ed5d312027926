"""What a Helios checkpoint says beyond its family: whether it runs the pyramid, in how many stages, step-distilled.

Read from an ``arch:`` preset or a model directory (``checkpoint_facts``, into ``ModelMeta.family_facts``): the
pipeline class a checkpoint is saved with (``model_limits.pipeline_class``) and its scheduler. Helios-Base is a
``HeliosPipeline`` (one stage); Helios-Mid and Helios-Distilled are ``HeliosPyramidPipeline``s whose scheduler has 3
stages, Helios-Distilled's the step-distilled ``HeliosDMDScheduler`` (its pipeline config's ``is_distilled`` goes with
it). What each implies:

- a pyramid checkpoint's defaults are its docs' call: 20 steps per stage and guidance 5.0 (Mid), 2 per stage and 1.0
  (Distilled), under what its directory says;
- its sizes are multiples of 64: the latents are halved (stages - 1) times before the first stage and patched 2x2
  there (VAE /8 x 2 x 4), and any other side comes back from the halvings at another size than its history's;
- a step-distilled checkpoint runs without classifier-free guidance (diffusers warns that a larger scale is ignored,
  and still runs both passes): a guidance above 1 is moved to 1.0, and said.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

from videogen.video import model_limits
from videogen.video.families.helios.chunks import CHUNK_KWARG, CHUNK_LATENT_FRAMES
from videogen.video.families.helios.spec import PYRAMID, SPEC
from videogen.video.model_meta import ModelMeta

STAGES = "pyramid_stages"
DISTILLED = "step_distilled"
DMD_SCHEDULER = "HeliosDMDScheduler"
# HeliosScheduler's and HeliosDMDScheduler's default, and both published pyramid checkpoints'
DEFAULT_STAGES = 3
_GRID = 16  # VAE /8 x the transformer's 2x2 patch
# The docs' calls: steps per stage and guidance, for a pyramid checkpoint with and without step distillation.
_PYRAMID_DEFAULTS = {False: (20, 5.0), True: (2, 1.0)}


def checkpoint_facts(preset, task: str) -> dict[str, Any]:
    """A pyramid checkpoint's stages and whether it is step-distilled (its scheduler's class); none for another."""
    if preset.pipeline_classes.get(task) != PYRAMID:
        return {}
    scheduler = preset.scheduler_for(task)
    return {
        STAGES: int(scheduler.config.get("stages", DEFAULT_STAGES)),
        DISTILLED: scheduler.class_name == DMD_SCHEDULER,
    }


@dataclass(frozen=True)
class Checkpoint:
    """How the model behind a job runs: its pipeline's stages, step distillation and chunk size."""

    pyramid: bool
    stages: int
    distilled: bool
    chunk_latent_frames: int

    @classmethod
    def of(cls, task: str, meta: ModelMeta) -> Checkpoint:
        pyramid = model_limits.pipeline_class(SPEC, task, meta) == PYRAMID
        facts = meta.family_facts or {}
        return cls(
            pyramid=pyramid,
            stages=int(facts.get(STAGES, DEFAULT_STAGES)) if pyramid else 1,
            distilled=pyramid and bool(facts.get(DISTILLED)),
            chunk_latent_frames=int(meta.call_kwargs.get(CHUNK_KWARG, CHUNK_LATENT_FRAMES)),
        )

    @property
    def size_multiple(self) -> int:
        """Pixel sides are multiples of this: 16, and a pyramid's 2^(stages-1) halvings on top."""
        return _GRID * 2 ** (self.stages - 1)

    def meta(self, meta: ModelMeta) -> ModelMeta:
        """``meta`` with this checkpoint's defaults under the directory's own, and its size grid."""
        if not self.pyramid:
            return meta
        steps, guidance = _PYRAMID_DEFAULTS[self.distilled]
        own = {"num_inference_steps": steps * self.stages, "guidance_scale": guidance}
        multiple = math.lcm(model_limits.size_multiple(SPEC, meta), self.size_multiple)
        return meta.model_copy(
            update={"request_defaults": {**own, **meta.request_defaults}, "resolution_multiple": multiple}
        )


__all__ = ["DEFAULT_STAGES", "DISTILLED", "DMD_SCHEDULER", "STAGES", "Checkpoint", "checkpoint_facts"]
