"""What a model's checkpoint says about the requests it takes, read from its own files rather than its family's spec.

Two facts, the ``ModelMeta`` fields ``model_limits`` reads: the pipeline class that runs a task on it (a FramePack
checkpoint's own ``HunyuanVideoFramepackPipeline`` for image-to-video, where the family's is
``HunyuanVideoImageToVideoPipeline``: ``VideoModelSpec.checkpoint_tasks``), and its size grid, the pixels one
transformer token covers: the VAE's spatial compression (as the family's pipeline reads it, ``cost.shapes``) times
the transformer's spatial patch, where that is coarser than the family's multiple (Wan 2.2 TI2V-5B: 16 x 2 = 32).
Each is left out when it is the family's, so a model like its family's default has an empty say.
"""

from __future__ import annotations

import functools
import json
import math
from pathlib import Path
from typing import Any

from videogen.video.families import family_checkpoint_facts
from videogen.video.registry import get_spec
from videogen.video.spec import VideoModelSpec

# What a directory whose configs the cost model cannot read falls back on: the family's rules.
_UNREADABLE = (OSError, ValueError, KeyError, TypeError, AttributeError, ImportError, RuntimeError)


def resolution_multiple(spec: VideoModelSpec, preset) -> int | None:
    """The size multiple ``preset``'s VAE and transformer need where coarser than ``spec``'s; None otherwise."""
    from videogen.video.cost.shapes import compression, denoiser_patch

    grid = compression(preset)[0] * denoiser_patch(preset)[1]
    multiple = math.lcm(spec.resolution_multiple, grid)
    return None if multiple == spec.resolution_multiple else multiple


def preset_facts(preset, task: str) -> dict[str, Any]:
    """What an ``arch:`` preset (or a preset read from a directory) says for ``task`` beyond its family."""
    spec = get_spec(preset.family)
    facts: dict[str, Any] = {}
    runs = preset.pipeline_classes.get(task)
    if runs and runs != spec.pipeline_classes.get(task):
        facts["pipeline_class"] = runs
    multiple = resolution_multiple(spec, preset)
    if multiple is not None:
        facts["resolution_multiple"] = multiple
    own = family_checkpoint_facts(preset.family, preset, task)
    if own:
        facts["family_facts"] = own
    return facts


def directory_facts(model_dir: Path, family: str, task: str) -> dict[str, Any]:
    """What a diffusers model directory says for ``task`` beyond its family (read once per version of its
    ``model_index.json``); empty for a directory without one."""
    try:
        stamp = (Path(model_dir) / "model_index.json").stat().st_mtime_ns
    except OSError:
        return {}
    return dict(_directory_facts(str(model_dir), stamp, family, task))


@functools.lru_cache(maxsize=64)
def _directory_facts(model_dir: str, stamp: int, family: str, task: str) -> tuple[tuple[str, Any], ...]:
    from videogen.video.arch.from_dir import preset_from_model_dir

    del stamp  # part of the cache key only: a rewritten directory is read again
    spec = get_spec(family)
    try:
        checkpoint_class = json.loads((Path(model_dir) / "model_index.json").read_text()).get("_class_name")
        # the checkpoint's own class where the family says it serves the task, else the family's
        preset = preset_from_model_dir(model_dir, family, task, preset_id=f"{family}:{task}@{model_dir}")
        preset = preset.model_copy(update={"pipeline_classes": {task: spec.pipeline_class_for(task, checkpoint_class)}})
        return tuple(preset_facts(preset, task).items())
    except _UNREADABLE:
        return ()


__all__ = ["directory_facts", "preset_facts", "resolution_multiple"]
