"""``VideoGenService``: everything one ingress replica does apart from HTTP, composed.

It keeps no state that matters in memory: jobs are in the store, and the
dispatcher's tasks only remember which jobs this replica is pushing.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Mapping
from typing import Any

from videogen.serve import metrics
from videogen.serve.config import VideoGenAppConfig
from videogen.serve.service.auth import KeyRing
from videogen.serve.service.dispatch import Dispatcher
from videogen.serve.service.jobs import JobService
from videogen.serve.service.limits import Limits
from videogen.serve.service.status import StatusViews
from videogen.serve.store.job_store import open_replica_store
from videogen.serve.store_health import StoreHealth


class VideoGenService:
    def __init__(self, settings: VideoGenAppConfig, workers: Mapping[str, Any], replica_label: str = "ingress"):
        self.settings = settings
        # This node's state_dir (a per-node variable expanded here), the config's database or $VIDEOGEN_DATABASE_URL.
        self.store = open_replica_store(
            settings.state_dir, settings.sqlite_journal_mode, settings.artifacts, settings.database_url
        )
        # Unique per replica start: a restarted ingress must not think it still holds its old leases.
        dispatcher_id = f"{replica_label}:{uuid.uuid4().hex[:8]}"
        self.keys = KeyRing(settings)
        self.dispatcher = Dispatcher(settings, self.store, workers, dispatcher_id)
        self.store_health = StoreHealth(f"ingress {dispatcher_id}")  # the store away: logged, not unhealthy
        self.status = StatusViews(settings, self.store, dispatcher_id, auth=self.keys, store_health=self.store_health)
        self.limits = Limits(settings, self.store)
        self.jobs = JobService(settings, self.store, self.dispatcher, self.status, limits=self.limits)
        self._sweeper: asyncio.Task | None = None
        self._gauges: asyncio.Task | None = None

    @property
    def started(self) -> bool:
        return self.dispatcher.started

    def ready(self) -> VideoGenService:
        """This service, its loops started (on the first call from the replica's running event loop)."""
        if not self.started:
            self.start()
        return self

    def start(self) -> None:
        """Start the dispatcher's lease and reaper loops (needs the replica's running event loop)."""
        self.dispatcher.start()
        if self._sweeper is None:
            self._sweeper = asyncio.get_running_loop().create_task(self.limits.sweep_loop())
        if self._gauges is None:  # the queue-depth gauges, counted on their own, not after every submission
            served = [(m.family, m.name) for m in self.settings.served_models.values()]
            self._gauges = asyncio.get_running_loop().create_task(metrics.queue_depth_loop(self.store, served))

    async def check_store(self) -> None:
        """The store answers (``/healthz``: 503 while it does not)."""
        await asyncio.to_thread(self.store.jobs.answers)

    async def check_health(self) -> None:
        """The replica's health check: the store answers, or is away for every replica alike (then logged, and
        not a reason to replace this replica); only a failure of the store's own to this replica raises."""
        await asyncio.to_thread(self.store_health.probe, self.store.jobs.answers)
