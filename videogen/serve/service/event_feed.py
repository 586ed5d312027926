"""Wakes this ingress's SSE streams as soon as their job has a new event in the store.

The store stays the one source of truth: a stream always reads its events from
the log, and a wake-up only tells it to read now instead of at its fallback
interval. Two paths wake a stream:

- ``notify(job_id)``, called by this replica right after it wrote an event itself;
- one watcher thread per replica that learns from the store which watched jobs
  got events (``store.events.open_watch``). On SQLite it runs while streams are
  open and asks every ``WATCH_POLL_S`` (``ChangeWatch``: one ``PRAGMA
  data_version`` read when nothing changed); on PostgreSQL it runs from the start
  and waits on the replica's one ``LISTEN`` connection (``NotifyWatch``). Either
  way it sees every writer, so events from the workers and from the other ingress
  replicas (on any node) wake streams here too, and a restarted replica needs
  nothing but the store.

A stream subscribes *before* its first read and clears its flag before every
read, so an event committed at any time either is in that read or sets the flag.

On PostgreSQL a notification also carries the event (``store.events.Notice``): the feed keeps the last
``NOTICES_KEPT`` of each watched job, and a stream woken by them applies them onto the record it has
(``frames_after``) instead of reading the log: no read, no thread hop, for each event of a live job. It reads the
log as before when a notice does not follow on from its last event (it fell behind, the row was too long to send),
when it was woken without notices (SQLite's watch, this replica's own writes, a listener that reconnected) and at
its fallback interval.

``StreamSlots`` bounds the streams open on this replica, per API key and in all
(``max_sse_streams_per_key``, ``max_sse_streams``): beyond either, a new one is
refused with 429; a stream that ends, is closed, or is dropped frees its slot.
"""

from __future__ import annotations

import asyncio
import logging
import threading
import time
import weakref
import zlib
from collections import deque
from collections.abc import AsyncGenerator, Callable, Iterator
from contextlib import contextmanager
from typing import Any

from videogen.errors import RateLimitedError
from videogen.serve.store.events import Notice, open_watch
from videogen.serve.store.job_store import JobStore

logger = logging.getLogger("videogen.serve")

# How often the watcher asks the store while streams are open: a look costs a few
# microseconds when nothing changed (about 1% of a core at this rate, per replica).
WATCH_POLL_S = 0.002
# A stream refused for want of a slot is told to try again after this long.
STREAM_RETRY_AFTER_S = 5.0
# The notices kept per watched job (``frames_after``): a stream further behind reads the log.
NOTICES_KEPT = 64


def until_fallback_read(job_id: str, period_s: float, now: float) -> float:
    """Seconds from ``now`` (monotonic) until the job's next fallback re-read, in (0, ``period_s``].

    The re-reads fall on a grid of ``period_s`` offset per job: all of a job's streams wake at the same tick and
    share one read (``event_reads``), where each stream re-reading a second after its own last read made one read
    per stream. Served with 500 streams on 50 jobs (43 of them queued: no event wakes their streams), the ingress
    made about 430 fallback reads a second, 40% of its sampled time, and on PostgreSQL they queued up in front of
    the reads of new events (``benchmarks/results/cpu/submit-profile.md``, round seven). The offsets spread the
    jobs' ticks over the period, so the reads do not all come at once.
    """
    offset = zlib.crc32(job_id.encode()) % 1024 / 1024 * period_s
    return period_s - (now - offset) % period_s


class Subscription:
    """One stream's interest in one job: a flag set when the job may have new events; ``stale`` when they came
    without notices (the log must be read)."""

    def __init__(self, job_id: str):
        self.job_id = job_id
        self.loop = asyncio.get_running_loop()
        self._flag = asyncio.Event()
        self.stale = False

    def clear(self) -> bool:
        """Clear the flag (before a read); whether a wake since the last clear came without notices."""
        self._flag.clear()
        stale, self.stale = self.stale, False
        return stale

    async def wait(self, timeout_s: float) -> bool:
        """True when woken, False when ``timeout_s`` passed first."""
        try:
            await asyncio.wait_for(self._flag.wait(), timeout_s)
            return True
        except asyncio.TimeoutError:
            return False


def _wake_all(subs: list[Subscription]) -> None:
    """Set the flags of ``subs`` (all on one event loop), in one call on that loop; safe from any thread."""
    loop = subs[0].loop
    try:
        running = asyncio.get_running_loop()
    except RuntimeError:
        running = None
    flags = [sub._flag for sub in subs]
    if running is loop:
        for flag in flags:
            flag.set()
        return
    try:
        loop.call_soon_threadsafe(lambda: [flag.set() for flag in flags])
    except RuntimeError:  # that loop is closed: its streams are gone
        pass


class StreamSlot:
    """One open stream's place; ``release`` is idempotent and safe from any thread (a finaliser calls it too)."""

    def __init__(self, slots: StreamSlots, key: str):
        self._slots, self.key, self._held = slots, key, True

    def release(self) -> None:
        with self._slots.lock:
            if self._held:
                self._held = False
                self._slots.release(self.key)


class SlotStream:
    """A stream's chunks holding its slot, freed when the chunks end (``chunks`` releases it itself), when it is
    closed, started or not, or when it is dropped unread (the client left before the answer started)."""

    def __init__(self, chunks: AsyncGenerator[str, None], slot: StreamSlot):
        self._chunks, self._slot = chunks, slot
        weakref.finalize(self, slot.release)

    def __aiter__(self) -> SlotStream:
        return self

    async def __anext__(self) -> str:
        return await self._chunks.__anext__()

    async def aclose(self) -> None:
        self._slot.release()
        await self._chunks.aclose()


class StreamSlots:
    """The SSE streams open on this ingress replica, per key and in all."""

    def __init__(self, max_streams: int, max_per_key: int):
        self.max_streams, self.max_per_key = max_streams, max_per_key
        self.lock = threading.Lock()
        self.total = 0
        self.per_key: dict[str, int] = {}

    def take(self, key: str) -> StreamSlot:
        """A slot for one more stream of ``key``; ``RateLimitedError`` (429) naming the limit when none is free."""
        with self.lock:
            mine = self.per_key.get(key, 0)
            if mine >= self.max_per_key:
                raise RateLimitedError(
                    f"key {key!r} has {mine} event streams open on this ingress replica, its limit "
                    f"(max_sse_streams_per_key={self.max_per_key}); close one, or poll the job instead",
                    retry_after_s=STREAM_RETRY_AFTER_S,
                    limit="max_sse_streams_per_key",
                    open_streams=mine,
                )
            if self.total >= self.max_streams:
                raise RateLimitedError(
                    f"this ingress replica has {self.total} event streams open, its limit "
                    f"(max_sse_streams={self.max_streams}); retry later, or poll the job instead",
                    retry_after_s=STREAM_RETRY_AFTER_S,
                    limit="max_sse_streams",
                    open_streams=self.total,
                )
            self.total += 1
            self.per_key[key] = mine + 1
        return StreamSlot(self, key)

    def release(self, key: str) -> None:
        """Called by ``StreamSlot.release`` with ``lock`` held."""
        self.total -= 1
        left = self.per_key.get(key, 1) - 1
        if left > 0:
            self.per_key[key] = left
        else:
            self.per_key.pop(key, None)


class EventFeed:
    def __init__(self, store: JobStore, poll_s: float = WATCH_POLL_S):
        self.store = store
        self.poll_s = poll_s
        self._subs: dict[str, set[Subscription]] = {}
        self._notices: dict[str, deque[Notice]] = {}  # of the watched jobs, oldest first
        self._lock = threading.Lock()
        self._active = threading.Event()  # set while any stream is subscribed
        self._thread: threading.Thread | None = None
        # Opened before any stream subscribes: every event it counts as already seen
        # was committed before a stream's first read, so that read has it.
        self._watch = open_watch(store.db)
        if self._watch.blocks:  # a LISTEN connection is read from the start, streams or not
            self._start_watcher()

    @contextmanager
    def subscribe(self, job_id: str) -> Iterator[Subscription]:
        """Watch ``job_id`` for the duration of the block (needs the running event loop)."""
        sub = Subscription(job_id)
        with self._lock:
            self._subs.setdefault(job_id, set()).add(sub)
            self._active.set()
            self._start_watcher()
        try:
            yield sub
        finally:
            with self._lock:
                subs = self._subs.get(job_id)
                if subs is not None:
                    subs.discard(sub)
                    if not subs:
                        del self._subs[job_id]
                        self._notices.pop(job_id, None)
                if not self._subs:
                    self._active.clear()

    def notify(self, job_id: str, notices: list[Notice] | None = None) -> None:
        """Wake the streams of ``job_id``: this replica just wrote one of its events, or the store's watch heard of
        some (with ``notices``, what they were; without, the streams read the log)."""
        with self._lock:
            subs = list(self._subs.get(job_id, ()))
            if notices and subs:
                self._notices.setdefault(job_id, deque(maxlen=NOTICES_KEPT)).extend(notices)
        for sub in subs:
            sub.stale = sub.stale or not notices
        # One wake-up per event loop for all of them: the job's streams then wake in the same pass of the loop and
        # share one read of the new events (event_reads), instead of trickling in and reading one by one.
        by_loop: dict[asyncio.AbstractEventLoop, list[Subscription]] = {}
        for sub in subs:
            by_loop.setdefault(sub.loop, []).append(sub)
        for together in by_loop.values():
            _wake_all(together)

    def frames_after(
        self, job_id: str, seq: int, known: Any, encode: Callable[[int, Any], str]
    ) -> list[tuple[int, Any, str]] | None:
        """The job's events after ``seq`` as (seq, record, frame), from its notices alone, applied onto ``known``
        (the record at ``seq``; None: only a full row can follow it): empty when none came after it; None when
        they cannot be had without the log (one does not follow on from the one before, or has no row)."""
        with self._lock:
            notices = [n for n in self._notices.get(job_id, ()) if n.seq > seq]
        frames = []
        for notice in notices:
            if notice.previous != seq:
                return None
            if notice.record is None:
                record = notice.record_onto(known)
                if record is None:
                    return None
                notice.record, notice.frame = record, encode(notice.seq, record)
            seq, known = notice.seq, notice.record
            frames.append((seq, known, notice.frame))
        return frames

    def watched(self) -> list[str]:
        with self._lock:
            return list(self._subs)

    # -- the watcher thread ------------------------------------------------------------------
    def _start_watcher(self) -> None:
        if self._thread is None or not self._thread.is_alive():
            self._thread = threading.Thread(target=self._run_watcher, name="videogen-sse-watch", daemon=True)
            self._thread.start()

    def _run_watcher(self) -> None:
        try:
            while not self._watch.closed:
                if not self._watch.blocks:
                    self._active.wait()  # parked while no stream is open
                for job_id in self._watch.poll(self.watched):
                    self.notify(job_id, self._watch.notices.get(job_id))
                if not self._watch.blocks:
                    time.sleep(self.poll_s)
        except Exception:  # streams still read at their fallback interval; the next one restarts it
            logger.exception("the SSE watcher stopped; streams fall back to re-reading the store")
