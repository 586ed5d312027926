"""The ingress's startup objects leave the collector's full passes (``serve.startup_heap``), and so do the cost
model's measurements a first pricing makes later; a fresh interpreter, so the test process's own collector is left
as it is."""

from __future__ import annotations

import json
import subprocess
import sys

CHILD = """
import gc, json, weakref
from videogen.serve.startup_heap import freeze_startup_heap
class Node:
    pass
kept = [Node() for _ in range(1000)]  # alive at the freeze: frozen
a, b = Node(), Node()
a.other, b.other = b, a  # a cycle that is garbage before the freeze: collected, not frozen forever
cycle = weakref.ref(a)
del a, b
frozen = freeze_startup_heap()
import sys
later = [Node() for _ in range(10)]  # made after startup: still walked by the collector
tracked = {id(o) for o in gc.get_objects()}
print(json.dumps({
    "frozen": frozen,
    "torch": "torch" in sys.modules,
    "kept_walked": sum(id(o) in tracked for o in kept),
    "later_walked": sum(id(o) in tracked for o in later),
    "cycle_freed": cycle() is None,
}))
"""


def test_what_startup_left_is_frozen_and_what_comes_later_is_not():
    out = subprocess.run([sys.executable, "-c", CHILD], capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stderr
    seen = json.loads(out.stdout.strip().splitlines()[-1])
    assert seen["torch"] and seen["frozen"] > 100_000, seen  # torch (the cost model's) is loaded and frozen with it
    assert seen["kept_walked"] == 0 and seen["later_walked"] == 10, seen
    assert seen["cycle_freed"], seen


PRICING_CHILD = """
import gc, json, sys
from videogen.serve.config import VideoGenAppConfig
from videogen.serve.startup_heap import freeze_new_measurements, freeze_startup_heap
from videogen.video.job_cost import estimate_job
from videogen.video.model_source import ModelSource

ingress = sys.argv[1] == "ingress"
served = VideoGenAppConfig(families={"wan": {"model": "tiny"}}).default_model("wan")
source = ModelSource(family="wan", value=served.source)
if ingress:
    freeze_startup_heap()
frozen_at_start = gc.get_freeze_count()
params = {"num_frames": 9, "height": 32, "width": 32, "num_inference_steps": 2, "guidance_scale": 5.0}
priced = estimate_job(source, "text-to-video", params, "bfloat16")
unfrozen_after_pricing = len(gc.get_objects())
froze = freeze_new_measurements()
again = freeze_new_measurements()  # nothing new measured since
print(json.dumps({"priced": priced is not None, "frozen_at_start": frozen_at_start, "unfrozen_after_pricing":
    unfrozen_after_pricing, "froze": froze, "again": again, "unfrozen": len(gc.get_objects())}))
"""


def _run(role: str) -> dict:
    out = subprocess.run([sys.executable, "-c", PRICING_CHILD, role], capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stderr
    return json.loads(out.stdout.strip().splitlines()[-1])


def test_a_first_pricing_is_frozen_with_the_startup_heap_in_the_ingress_only():
    seen = _run("ingress")
    assert seen["priced"] and seen["frozen_at_start"] > 100_000
    # The pricing built and kept its meta-device models: tens of thousands of objects a full pass would walk.
    assert seen["unfrozen_after_pricing"] > 10_000, seen
    assert seen["froze"] and not seen["again"]
    assert seen["unfrozen"] < seen["unfrozen_after_pricing"] / 10, seen
    # A process that never froze its startup heap (a worker, the CLI) keeps a collectable heap.
    other = _run("worker")
    assert other["frozen_at_start"] == 0 and not other["froze"] and other["unfrozen"] > 100_000, other
