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

The cost model measures a model's components the first time a request for it is priced, on the meta device, and
keeps what it built (~140,000 objects for the seven original families' tiny models): held for the process's life,
they would make every later full pass walk them again (100-190 ms each under load, every few seconds in a burst:
the submissions' p95). ``freeze_new_measurements``, called after each pricing, freezes them once the cache grew.
"""

from __future__ import annotations

import gc
import threading

_frozen_measurements: int | None = None  # None: this process does not freeze its heap (a worker, a CLI)
_lock = threading.Lock()


def freeze_startup_heap() -> int:
    """Collect startup's garbage, then freeze what is left; how many objects are frozen now."""
    import torch  # noqa: F401 - the cost model's: its first priced request would load it later, unfrozen

    from videogen.video.cost.calibrate import measured_count

    global _frozen_measurements
    gc.collect()
    gc.freeze()
    _frozen_measurements = measured_count()
    return gc.get_freeze_count()


def freeze_new_measurements() -> bool:
    """In a process that froze its startup heap: freeze the cost model's measurements made since (with the rest of
    what is alive), after a young-generation pass takes the garbage the pricing left; whether it froze."""
    global _frozen_measurements
    if _frozen_measurements is None:
        return False
    from videogen.video.cost.calibrate import measured_count

    with _lock:
        count = measured_count()
        if count == _frozen_measurements:
            return False
        gc.collect(1)  # the young generations only: milliseconds, not a full pass
        gc.freeze()
        _frozen_measurements = count
        return True
