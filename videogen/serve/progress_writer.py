"""A running job's progress, written to the store from a thread of its own.

The denoising loop hands each update to ``ProgressWriter.put`` and goes on: it
never waits on SQLite (a write takes the database's write lock, which another
replica may hold). The writer thread writes the updates in the order they were
put, with one exception that keeps it from falling behind: an ordinary update
replaces the ordinary update still waiting right before it (the latest wins).
Updates put with ``keep=True`` (stage changes, the last step) are never
replaced or dropped. ``close()`` writes whatever is still waiting and stops the
thread, so the job's final status, written after it, comes after every
progress write. (Even a write that came late could not undo the final status:
the store only takes progress for a job still running under the writer's claim.)
"""

from __future__ import annotations

import logging
import threading
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from videogen.video.progress import Progress, StageTiming

logger = logging.getLogger("videogen.serve.worker")

# How long close() waits for the writes still queued (each waits on SQLite's busy timeout at worst).
CLOSE_TIMEOUT_S = 60.0


@dataclass
class _Update:
    progress: Progress
    stages: list[StageTiming] | None
    keep: bool


class ProgressWriter:
    """Writes ``write(progress, stages)`` calls on its own thread, in order, the latest ordinary one winning."""

    def __init__(self, write: Callable[[Progress, list[StageTiming] | None], Any], name: str = "videogen-progress"):
        self._write = write
        self._pending: deque[_Update] = deque()
        self._cond = threading.Condition()
        self._closed = False
        self.written = 0  # writes done (tests, logs)
        self.failed = 0
        self._thread = threading.Thread(target=self._run, name=name, daemon=True)
        self._thread.start()

    def put(self, progress: Progress, stages: list[StageTiming] | None = None, *, keep: bool = False) -> None:
        """Queue an update; returns at once. ``keep`` updates are never replaced by later ones."""
        update = _Update(progress, stages, keep)
        with self._cond:
            if self._closed:
                raise RuntimeError("the progress writer is closed")
            if self._pending and not keep and not self._pending[-1].keep:
                self._pending[-1] = update
            else:
                self._pending.append(update)
            self._cond.notify()

    def close(self, timeout_s: float = CLOSE_TIMEOUT_S) -> None:
        """Write what is queued, then stop; safe to call twice."""
        with self._cond:
            self._closed = True
            self._cond.notify()
        if self._thread is not threading.current_thread():
            self._thread.join(timeout_s)
            if self._thread.is_alive():
                logger.warning("progress writes still pending after %.0fs; the job ends without waiting", timeout_s)

    def _run(self) -> None:
        while True:
            with self._cond:
                while not self._pending and not self._closed:
                    self._cond.wait()
                if not self._pending:
                    return
                update = self._pending.popleft()
            try:
                self._write(update.progress, update.stages)
                self.written += 1
            except Exception:  # progress is shown, not needed: the job goes on
                self.failed += 1
                logger.exception("progress write failed")
