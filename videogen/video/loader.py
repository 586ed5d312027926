"""Load a family's pipeline for a task: class resolved at run time, safetensors only,
no remote code, no network; the load policy applied; provenance attached."""

from __future__ import annotations

import os
import time

from videogen.video.adapters import get_adapter
from videogen.video.foundation import VideoLoadPolicy, apply_load_policy
from videogen.video.model_source import ModelSource

# Weights come from local directories or an already-filled cache only.
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")


def quiet_library_progress() -> None:
    """diffusers/transformers draw their own load bars; ours is the job's progress."""
    import diffusers.utils.logging
    import transformers.utils.logging

    diffusers.utils.logging.disable_progress_bar()
    transformers.utils.logging.disable_progress_bar()


def load_pipeline(source: ModelSource, task: str, policy: VideoLoadPolicy):
    """Returns the placed pipeline with ``_videogen_source`` and ``_videogen_model_meta`` set."""
    adapter = get_adapter(source.family)
    adapter.pipeline_class(task)  # unsupported family/task: a clear error before touching disk
    quiet_library_progress()
    model_dir = source.local_dir(task)
    started = time.perf_counter()
    pipe = adapter.load(task, model_dir, policy.torch_dtype())
    apply_load_policy(pipe, policy)
    pipe.set_progress_bar_config(disable=True)  # progress is reported through callbacks
    pipe._videogen_model_meta = source.model_meta(task)
    pipe._videogen_source = {
        "family": source.family,
        "task": task,
        "model": "tiny" if source.is_tiny else source.model_id_for(task),
        "source": source.kind,
        "path": str(model_dir),
        "pipeline_class": type(pipe).__name__,
        "dtype": policy.dtype,
        "policy": policy.model_dump(),
        "load_seconds": round(time.perf_counter() - started, 3),
    }
    return pipe
