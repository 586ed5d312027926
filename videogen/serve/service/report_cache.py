"""The worker replicas' reports as a submission reads them: from the store at most once per ``REPORTS_TTL_S``,
parsed, and worked on, only when they changed.

Every submission is validated against its model's reported meta (``StatusViews.model_meta``) and priced on its
reported hardware (``EstimateService.worker_view``, ``plan``). A family's reports are tens of kilobytes of JSON;
they change when a replica starts and with its full report every 30 s, while its heartbeats only touch
``last_seen``. So the rows are read again after ``REPORTS_TTL_S`` (one query), parsed again only when a report's
text changed, and what was worked out from them (a model's meta, the newest hardware view, a priced request
shape) is kept until then.

A report written through this process's own store (``Replicas.version``) is seen at once; one written by
another process (a worker, another node) within ``REPORTS_TTL_S``. The runtime and models views, which show
liveness, read the store themselves.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Hashable
from dataclasses import dataclass, field
from typing import Any, TypeVar

from videogen.serve.store.replicas import ReplicaRecord, Replicas

REPORTS_TTL_S = 1.0
# What is worked out from one set of reports is forgotten beyond this many entries (request shapes priced).
MAX_DERIVED = 1024
T = TypeVar("T")


@dataclass
class _Reports:
    fingerprint: tuple  # (replica_id, model_name, diagnostics_json, models_json) of each row, newest first
    reports: list[ReplicaRecord]
    derived: dict[Hashable, Any] = field(default_factory=dict)
    read_at: float = 0.0  # time.monotonic() of the last read that found these reports
    version: int = 0  # the store's Replicas.version then


class ReplicaReports:
    """One family's reports (``list``) and what is worked out of them (``derive``)."""

    def __init__(self, replicas: Replicas, ttl_s: float = REPORTS_TTL_S, clock: Callable[[], float] = time.monotonic):
        self.replicas = replicas
        self.ttl_s = ttl_s
        self.clock = clock
        self.reads = 0  # rows read from the store
        self.parses = 0  # times changed reports were parsed
        self._lock = threading.Lock()
        self._by_family: dict[str, _Reports] = {}

    def _current(self, family: str) -> _Reports:
        now, version = self.clock(), self.replicas.version
        with self._lock:
            held = self._by_family.get(family)
        if held is not None and held.version == version and now - held.read_at < self.ttl_s:
            return held
        rows = self.replicas.rows(family)
        fingerprint = tuple((r["replica_id"], r["model_name"], r["diagnostics_json"], r["models_json"]) for r in rows)
        with self._lock:
            self.reads += 1
            held = self._by_family.get(family)
            if held is None or held.fingerprint != fingerprint:
                self.parses += 1
                held = self._by_family[family] = _Reports(fingerprint, [Replicas.record(r) for r in rows])
            held.read_at, held.version = now, version
        return held

    def list(self, family: str) -> list[ReplicaRecord]:
        """The family's reports, newest first (shared: never changed by a caller; ``last_seen`` and ``state``
        as of the last parse, not the last read)."""
        return self._current(family).reports

    def derive(self, family: str, key: Hashable, compute: Callable[[list[ReplicaRecord]], T]) -> T:
        """``compute(the family's reports)``, worked out once while they stay the same (an exception is not kept)."""
        current = self._current(family)
        try:
            return current.derived[key]
        except KeyError:
            value = compute(current.reports)
            if len(current.derived) >= MAX_DERIVED:
                current.derived.clear()
            current.derived[key] = value
            return value
