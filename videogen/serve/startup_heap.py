"""The ingress's startup objects, taken out of the garbage collector's full passes.

A full collection walks every object the process tracks, and the ingress holds about 400,000 from its startup alone
(torch, for the cost model; FastAPI, pydantic, Ray): one full pass took 650-800 ms on the 2-core box, holding the
GIL, while every submission and every open SSE stream of the replica waits. Python runs one whenever enough new
objects have survived, and Ray's core worker asks for one on its own schedule; in the submission benchmark such
pauses were the ~400 ms tail of the events' latency (p95 20 ms, p99 400 ms, max 432 ms: one pause, every stream).
``gc.freeze()`` moves what is alive at the end of startup to a generation the collector never walks: a full pass
then only looks at what came later (about 0 ms right after). Frozen objects that die are still freed by their
reference counts; only cycles among them would stay, and startup's are collected just before the freeze.
Workers are not frozen: their pipelines are loaded and unloaded (tasks, LoRA sets) and must stay collectable.
"""

from __future__ import annotations

import gc


def freeze_startup_heap() -> int:
    """Collect startup's garbage, then freeze what is left; how many objects are frozen now."""
    import torch  # noqa: F401 - the cost model's: its first priced request would load it later, unfrozen

    gc.collect()
    gc.freeze()
    return gc.get_freeze_count()
