"""The local Hugging Face cache, read offline: VideoGen finds weights there and never downloads them.

A leaf module: the model sources and a family's own checks (Cosmos' guardrail) both read the cache through it.
"""

from __future__ import annotations

import os
from pathlib import Path


def hf_cached_snapshot(model_id: str, marker: str | None = None) -> Path | None:
    """The snapshot directory of a repo already in the HF cache, looked up offline (nothing is downloaded): found by
    its ``model_index.json`` (a lone component, e.g. a motion adapter: its ``config.json``), or by ``marker``, a file
    of the repo a caller needs (a repo that is neither, e.g. Cosmos' guardrail)."""
    from huggingface_hub import try_to_load_from_cache

    cache_dir = os.environ.get("HF_HUB_CACHE")  # read per call, so an operator's setting always applies
    for name in (marker,) if marker else ("model_index.json", "config.json"):
        found = try_to_load_from_cache(model_id, name, cache_dir=cache_dir)
        if isinstance(found, str):
            return Path(found).parents[len(Path(name).parts) - 1]
    return None


def hf_cached_repo(model_id: str, revision: str = "main") -> Path | None:
    """The snapshot directory a cached repo's ``revision`` ref points at, when no file of the repo is known ahead
    (a LoRA repo: one ``.safetensors`` of any name); read from the cache's own layout, nothing is downloaded."""
    from huggingface_hub import constants
    from huggingface_hub.file_download import repo_folder_name

    repo = Path(os.environ.get("HF_HUB_CACHE") or constants.HF_HUB_CACHE) / repo_folder_name(
        repo_id=model_id, repo_type="model"
    )
    ref = repo / "refs" / revision
    if not ref.is_file():
        return None
    snapshot = repo / "snapshots" / ref.read_text().strip()
    return snapshot if snapshot.is_dir() else None


__all__ = ["hf_cached_repo", "hf_cached_snapshot"]
