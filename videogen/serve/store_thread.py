"""A generation worker's store calls, on one thread kept at the serving path's CPU priority.

With ``worker_cpu_niceness`` a worker's threads run below the ingress (``cpu_priority``). Its store writes hold
the job store's write lock (SQLite's file lock; PostgreSQL's row and advisory locks for the transaction's
length), which the ingress's submissions need too: a write on a lowered thread that is preempted while it holds
the lock leaves every submission waiting until the scheduler comes back to it, behind the other workers' torch
threads (a priority inversion: served on the 2-core box, 32 clients, workers at nice +10, the workers' progress
writes held SQLite's lock 20 ms at p95 and 1.4 s in all over three 200-job bursts when made on lowered threads;
4.8 ms and 0.4 s from this thread, and the submissions went from 118 to 162 a second, p95 644 -> 445 ms). The
worker's store calls run on this one thread instead, which ``lower_cpu_priority`` leaves at the priority the
replica started with; it only ever waits on the store, so it takes next to no CPU from the serving path.
"""

from __future__ import annotations

import functools
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any, TypeVar

T = TypeVar("T")


class StoreThread:
    """One thread that runs the calls handed to it, one at a time, each caller waiting for its answer."""

    def __init__(self, name: str = "videogen-store"):
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix=name)
        self.native_id: int = self._executor.submit(threading.get_native_id).result()  # started now, kept

    def call(self, fn: Callable[..., T], /, *args: Any, **kwargs: Any) -> T:
        """``fn(*args, **kwargs)`` on the store thread (here, when called from it: a call never waits on itself)."""
        if threading.get_native_id() == self.native_id:
            return fn(*args, **kwargs)
        return self._executor.submit(fn, *args, **kwargs).result()

    def proxy(self, target: Any) -> Any:
        """``target`` whose every method runs on the store thread (``store.jobs``, ``store.replicas``)."""
        return _OnStoreThread(target, self)


class _OnStoreThread:
    def __init__(self, target: Any, thread: StoreThread):
        self._target, self._thread = target, thread

    def __getattr__(self, name: str) -> Any:
        value = getattr(self._target, name)
        return functools.partial(self._thread.call, value) if callable(value) else value
