"""What keeps the service from being overrun or filling its disk.

- ``check_disk()`` before a job is queued: new jobs are refused (507) while
  ``state_dir`` is over ``max_state_dir_gb`` or its disk has less than
  ``min_free_disk_gb`` free: the disk is never filled by accepted work. (The
  queue bounds, per family and per key, are checked in the transaction that
  inserts the job: ``videogen.serve.store.bounds``.)
- ``sweep()``: ended jobs older than ``retention_days`` are deleted, records,
  events and files; run by each ingress replica every ``SWEEP_INTERVAL_S``.
"""

from __future__ import annotations

import asyncio
import logging
import shutil
import time
from pathlib import Path

from videogen.errors import StorageFullError
from videogen.serve.config import VideoGenAppConfig
from videogen.serve.store.housekeeping import DELETE_BATCH, delete_jobs, ended_before
from videogen.serve.store.job_store import JobStore

logger = logging.getLogger("videogen.serve")

GB = 1024**3
SWEEP_INTERVAL_S = 300.0
# An ended job's event log is compacted this long after it ended (at the next sweep): live streams finish first.
COMPACT_AFTER_S = 60.0
# Walking state_dir for its size is not free: the figure is reused this long.
USAGE_CACHE_S = 10.0
# The disk's free space (a statvfs per look, ~3 % of a busy ingress's time when asked per submission): reused this long.
FREE_CACHE_S = 1.0


def _dir_bytes(path: Path) -> int:
    total = 0
    for item in path.rglob("*"):
        try:
            if item.is_file():
                total += item.stat().st_size
        except OSError:  # deleted while walking
            pass
    return total


class Limits:
    def __init__(self, settings: VideoGenAppConfig, store: JobStore):
        self.settings = settings
        self.store = store
        self._usage: tuple[float, int] | None = None  # (when measured, bytes)
        self._free: tuple[float, int] | None = None  # (when measured, bytes free on state_dir's disk)

    # -- at submission (the queue bounds are checked atomically with the insert: store/bounds.py) ----------
    def state_dir_bytes(self) -> int:
        now = time.monotonic()
        if self._usage is None or now - self._usage[0] > USAGE_CACHE_S:
            self._usage = (now, _dir_bytes(self.store.state_dir))
        return self._usage[1]

    def free_bytes(self) -> int:
        now = time.monotonic()
        if self._free is None or now - self._free[0] > FREE_CACHE_S:
            self._free = (now, shutil.disk_usage(self.store.state_dir).free)
        return self._free[1]

    def check_disk(self) -> None:
        cap = self.settings.max_state_dir_gb
        if cap is not None:
            used = self.state_dir_bytes()
            if used > cap * GB:
                raise StorageFullError(
                    f"the state directory holds {used / GB:.2f} GB, over max_state_dir_gb={cap}; no new job is accepted "
                    f"until old ones expire (retention_days={self.settings.retention_days}) or an operator frees space",
                    used_bytes=used,
                    max_state_dir_gb=cap,
                )
        floor = self.settings.min_free_disk_gb
        if floor:
            free = self.free_bytes()
            if free < floor * GB:
                raise StorageFullError(
                    f"the state directory's disk has {free / GB:.2f} GB free, under min_free_disk_gb={floor}; "
                    "no new job is accepted until space is freed",
                    free_bytes=free,
                    min_free_disk_gb=floor,
                )

    # -- retention ----------------------------------------------------------------------------
    def sweep(self, now: float | None = None) -> list[str]:
        """Delete the ended jobs past retention (records, events, videos and pictures); their ids."""
        days = self.settings.retention_days
        if days is None:
            return []
        # The database's clock: the one finished_at was written in (PostgreSQL: the server's, not this node's).
        cutoff = (self.store.db.now() if now is None else now) - days * 86400
        removed: list[str] = []
        while True:
            ids = ended_before(self.store.db, cutoff)
            removed += delete_jobs(self.store, ids)  # files wherever they are kept (state_dir, a bucket), rows
            if len(ids) < DELETE_BATCH:
                break
        if removed:
            self._usage = None
            logger.info("retention: deleted %d job(s) ended before %s", len(removed), time.ctime(cutoff))
        return removed

    def compact_events(self, now: float | None = None) -> int:
        """Compact the event logs of jobs that ended more than ``COMPACT_AFTER_S`` ago to their final state."""
        return self.store.events.compact_ended((self.store.db.now() if now is None else now) - COMPACT_AFTER_S)

    async def sweep_loop(self, interval_s: float = SWEEP_INTERVAL_S) -> None:
        while True:
            for chore in (self.compact_events, self.sweep):
                try:
                    await asyncio.to_thread(chore)
                except Exception:  # the next pass tries again
                    logger.exception("housekeeping (%s) failed", chore.__name__)
            await asyncio.sleep(interval_s)
