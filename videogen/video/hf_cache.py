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


__all__ = ["hf_cached_snapshot"]
