"""Tiny models on disk: built once per family/task, saved with ``save_pretrained``
(safetensors) under the VideoGen cache, then loaded like real weights.

A tiny model directory carries its ``videogen.json`` (``ModelMeta``): tiny request
defaults and the extra pipeline kwargs the tiny components need.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path

from videogen.paths import cache_root
from videogen.video.families import get_spec, tiny_builder, tiny_call_kwargs
from videogen.video.model_meta import MODEL_META_FILE, ModelMeta

# Bump when a tiny architecture changes so stale caches are rebuilt.
TINY_VERSION = "4"
SEED = 0


def tiny_root() -> Path:
    return Path(cache_root()) / "tiny" / f"v{TINY_VERSION}"


def tiny_model_dir(family: str, task: str) -> Path:
    return tiny_root() / family / task


def tiny_meta(family: str, task: str) -> ModelMeta:
    """What a tiny model's directory says about itself (the one place it is put together)."""
    return ModelMeta.for_tiny(family, task, tiny_version=TINY_VERSION, call_kwargs=tiny_call_kwargs(family, task))


def build_tiny_pipeline(family: str, task: str):
    """Build the tiny pipeline in memory (random weights from a fixed seed, offline)."""
    import torch

    get_spec(family).check_task(task)
    torch.manual_seed(SEED)
    return tiny_builder(family)(task)


def ensure_tiny_model(family: str, task: str) -> Path:
    """The tiny model's directory, built and saved on first use (safe under concurrency)."""
    target = tiny_model_dir(family, task)
    if (target / "model_index.json").exists() and (target / MODEL_META_FILE).exists():
        return target
    target.parent.mkdir(parents=True, exist_ok=True)
    pipe = build_tiny_pipeline(family, task)
    # Build beside the target and rename: concurrent builders never see a half-written model.
    tmp = Path(tempfile.mkdtemp(prefix=f".{task}-", dir=target.parent))
    try:
        pipe.save_pretrained(tmp, safe_serialization=True)
        tiny_meta(family, task).write(tmp)
        try:
            os.rename(tmp, target)
        except OSError:
            if not (target / MODEL_META_FILE).exists():
                raise
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return target
