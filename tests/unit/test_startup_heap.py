"""The ingress's startup objects leave the collector's full passes (``serve.startup_heap``); a fresh interpreter,
so the test process's own collector is left as it is."""

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
