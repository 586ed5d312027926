"""Built-in tiny models: real diffusers pipelines with small random weights.

Each family module here exposes ``build_pipeline(task) -> DiffusionPipeline``
(random weights from a fixed seed, built offline) and may expose
``CALL_KWARGS: dict[task, dict]`` (extra pipeline kwargs the tiny components
need). ``ensure_tiny_model`` builds once, saves with ``save_pretrained``
(safetensors) and returns the directory, which is then loaded through the
same loader as real weights.
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
from importlib import import_module
from pathlib import Path

from videogen.video.registry import family_module, get_spec

# Bump when a tiny architecture changes so stale caches are rebuilt.
TINY_VERSION = "2"
SEED = 0

# What a tiny model generates by default: small enough for well under a second on a CPU.
TINY_REQUEST_DEFAULTS = {"num_frames": 9, "height": 32, "width": 32, "num_inference_steps": 2}

def tiny_root() -> Path:
    base = os.environ.get("VIDEOGEN_CACHE_DIR") or os.path.join(os.path.expanduser("~"), ".cache", "videogen")
    return Path(base) / "tiny" / f"v{TINY_VERSION}"


def tiny_model_dir(family: str, task: str) -> Path:
    return tiny_root() / family / task


def build_tiny_pipeline(family: str, task: str):
    """Build the tiny pipeline in memory (fixed seed)."""
    import torch

    spec = get_spec(family)
    if task not in spec.pipeline_classes:
        raise ValueError(f"{family} has no {task}")
    module = import_module(f"videogen.video.tiny.{family_module(family)}")
    torch.manual_seed(SEED)
    return module.build_pipeline(task)


def tiny_call_kwargs(family: str, task: str) -> dict:
    module = import_module(f"videogen.video.tiny.{family_module(family)}")
    return dict(getattr(module, "CALL_KWARGS", {}).get(task, {}))


def ensure_tiny_model(family: str, task: str) -> Path:
    """The tiny model's directory, built and saved on first use (safe under concurrency)."""
    target = tiny_model_dir(family, task)
    if (target / "model_index.json").exists() and (target / "videogen.json").exists():
        return target
    target.parent.mkdir(parents=True, exist_ok=True)
    pipe = build_tiny_pipeline(family, task)
    # Build beside the target and rename: concurrent builders never see a half-written model.
    tmp = Path(tempfile.mkdtemp(prefix=f".{task}-", dir=target.parent))
    try:
        pipe.save_pretrained(tmp, safe_serialization=True)
        meta = {
            "family": family,
            "task": task,
            "tiny": True,
            "tiny_version": TINY_VERSION,
            "call_kwargs": tiny_call_kwargs(family, task),
            "request_defaults": TINY_REQUEST_DEFAULTS,
        }
        (tmp / "videogen.json").write_text(json.dumps(meta, indent=2))
        try:
            os.rename(tmp, target)
        except OSError:
            if not (target / "videogen.json").exists():
                raise
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return target
