"""Which denoiser expert runs which step: Wan 2.2 A14B's two transformers.

A pipeline with a second expert (``ArchPreset.denoiser_2``, diffusers' ``transformer_2``) runs its first
denoiser (high noise) for every step whose timestep is >= ``boundary_ratio * num_train_timesteps`` and the
second (low noise) for the rest (``WanPipeline.__call__``, diffusers 0.42). The timesteps are the scheduler's
own for the request's step count, so the split follows its shift and spacing, not a fixed fraction.
"""

from __future__ import annotations

import functools
import json

from videogen.video.arch.preset import ArchPreset, SchedulerArch


@functools.lru_cache(maxsize=256)
def _timesteps(scheduler_json: str, steps: int) -> tuple[float, ...]:
    scheduler = SchedulerArch.model_validate_json(scheduler_json).build()
    scheduler.set_timesteps(steps, device="cpu")
    train = float(scheduler.config.num_train_timesteps)
    # (timesteps, then num_train_timesteps last): one cached answer per scheduler and step count
    return (*(float(t) for t in scheduler.timesteps), train)


def scheduler_timesteps(scheduler: SchedulerArch, steps: int) -> tuple[list[float], float]:
    """The timesteps ``scheduler`` runs for ``steps`` inference steps, and its ``num_train_timesteps``."""
    key = json.dumps(scheduler.model_dump(), sort_keys=True, default=str)
    *timesteps, train = _timesteps(key, steps)
    return list(timesteps), train


def expert_steps(preset: ArchPreset, task: str, steps: int) -> dict[str, int]:
    """Denoising steps per denoiser expert, high noise first (one expert: all of them)."""
    if preset.denoiser_2 is None or steps == 0:
        return {name: steps if name == preset.denoiser else 0 for name in preset.denoisers}
    timesteps, train = scheduler_timesteps(preset.scheduler_for(task), steps)
    boundary = float(preset.boundary_ratio) * train
    high = sum(1 for t in timesteps if t >= boundary)
    return {preset.denoiser: high, preset.denoiser_2: len(timesteps) - high}


def expert_preset(preset: ArchPreset, name: str) -> ArchPreset:
    """``preset`` as the cost model sees one expert running: ``name`` as its only denoiser."""
    if name == preset.denoiser:
        return preset
    # A copy, not validated again: the same components, the expert named as the denoiser (its calibration key).
    return preset.model_copy(update={"denoiser": name, "denoiser_2": None})


def same_architecture(preset: ArchPreset, name: str) -> bool:
    """Whether expert ``name`` is built exactly like the first denoiser (Wan 2.2 A14B's two are): one calibration."""
    first, other = preset.component(preset.denoiser), preset.component(name)
    return (first.library, first.class_name, first.config) == (other.library, other.class_name, other.config)
