"""Tiny models on disk: built once per family/task (and named variant, ``tiny:<name>``), saved with
``save_pretrained`` (safetensors) under the VideoGen cache, then loaded like real weights.

A tiny model directory carries its ``videogen.json`` (``ModelMeta``): tiny request
defaults and the extra pipeline kwargs the tiny components need.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path

from videogen.paths import cache_root
from videogen.video.families import (
    get_spec,
    tiny_builder,
    tiny_call_kwargs,
    tiny_extra_models,
    tiny_family_facts,
    tiny_variant,
)
from videogen.video.model_meta import LATENT_UPSAMPLER_DIR, MODEL_META_FILE, ModelMeta

# Bump when a tiny architecture changes so stale caches are rebuilt (a new variant has its own directory).
TINY_VERSION = "6"
SEED = 0


def tiny_root() -> Path:
    return Path(cache_root()) / "tiny" / f"v{TINY_VERSION}"


def tiny_model_dir(family: str, task: str, variant: str | None = None) -> Path:
    if variant is None:
        return tiny_root() / family / task
    # "@" cannot start a task id, so a variant's directory never meets a plain task's
    return tiny_root() / family / f"@{tiny_variant(family, variant).name}" / task


def _check_task(family: str, task: str, variant: str | None) -> None:
    get_spec(family).check_task(task)
    if variant is not None and task not in tiny_variant(family, variant).tasks:
        from videogen.errors import UnsupportedTaskError

        offered = list(tiny_variant(family, variant).tasks)
        raise UnsupportedTaskError(
            f"tiny:{variant} offers {', '.join(offered)}, not {task}", field="task", allowed=offered
        )


def tiny_meta(family: str, task: str, variant: str | None = None) -> ModelMeta:
    """What a tiny model's directory says about itself (the one place it is put together)."""
    extra = {"family_facts": tiny_family_facts(family) or None} if variant is None else {}
    if variant is not None:
        named = tiny_variant(family, variant)
        runs = get_spec(family).pipeline_class_for(task, named.checkpoint_class)
        extra = {
            "experts": named.experts,
            "pipeline_class": runs if runs != get_spec(family).pipeline_classes[task] else None,
            "resolution_multiple": named.resolution_multiple,
        }
    return ModelMeta.for_tiny(
        family,
        task,
        tiny_version=TINY_VERSION,
        call_kwargs=tiny_call_kwargs(family, task, variant),
        latent_upsampler=variant is None and LATENT_UPSAMPLER_DIR in tiny_extra_models(family),
        **extra,
    )


def build_tiny_pipeline(family: str, task: str, variant: str | None = None):
    """Build the tiny pipeline in memory (random weights from a fixed seed, offline)."""
    import torch

    _check_task(family, task, variant)
    torch.manual_seed(SEED)
    build = tiny_builder(family) if variant is None else tiny_variant(family, variant).build
    return build(task)


def ensure_tiny_model(family: str, task: str, variant: str | None = None) -> Path:
    """The tiny model's directory, built and saved on first use (safe under concurrency)."""
    target = tiny_model_dir(family, task, variant)
    if (target / "model_index.json").exists() and (target / MODEL_META_FILE).exists():
        return target
    _check_task(family, task, variant)
    target.parent.mkdir(parents=True, exist_ok=True)
    pipe = build_tiny_pipeline(family, task, variant)
    # Build beside the target and rename: concurrent builders never see a half-written model.
    tmp = Path(tempfile.mkdtemp(prefix=f".{task}-", dir=target.parent))
    try:
        pipe.save_pretrained(tmp, safe_serialization=True)
        if variant is None:  # the models its directory holds beside the pipeline (LTX-Video's latent upsampler)
            for folder, build in tiny_extra_models(family).items():
                build().save_pretrained(tmp / folder, safe_serialization=True)
        tiny_meta(family, task, variant).write(tmp)
        try:
            os.rename(tmp, target)
        except OSError:
            if not (target / MODEL_META_FILE).exists():
                raise
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return target
