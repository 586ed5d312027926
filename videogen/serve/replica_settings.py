"""What one replica is built with: the slice of the app config a worker needs (``WorkerSettings``), bound to its
deployment by the builder, and the job store's database URL as a replica resolves it."""

from __future__ import annotations

import os
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from videogen.serve.artifacts.config import ArtifactsConfig
from videogen.serve.config import DATABASE_URL_ENV, JournalMode
from videogen.serve.cpu_priority import CpuNiceness
from videogen.video.lora_config import DEFAULT_MAX_LORAS_PER_REPLICA, LoraAdapter
from videogen.video.parallel.config import ParallelConfig
from videogen.video.recipes import SamplingRecipe
from videogen.video.spec import Task


def database_url_of(configured: str | None) -> str | None:
    """The job store's database a replica opens: the configured URL, else ``$VIDEOGEN_DATABASE_URL`` as this
    replica sees it (None: SQLite under state_dir). The URL holds a password: no message repeats it."""
    url = configured or os.environ.get(DATABASE_URL_ENV) or None
    if url and not url.startswith(("postgresql://", "postgres://")):
        raise ValueError(f"${DATABASE_URL_ENV} is not a PostgreSQL URL (postgresql://user:password@host:5432/db)")
    return url


# -- what a worker replica is built with ---------------------------------------------------------
class _Settings(BaseModel):
    # Frozen: a replica's settings are the app's, never edited in place.
    model_config = ConfigDict(extra="forbid", frozen=True)

    state_dir: str
    journal_mode: JournalMode
    artifacts: ArtifactsConfig = Field(default_factory=ArtifactsConfig)
    database_url: str | None = None


class WorkerSettings(_Settings):
    """A worker replica's constructor argument (one per served model)."""

    name: str = Field(description="the served model's name (a family's entry is named by the family id)")
    family: str
    model: str | None
    policy: dict[str, Any]
    warm: list[Task]
    heartbeat_s: float
    job_timeout_s: float
    loras: dict[str, LoraAdapter] = Field(default_factory=dict, description="the served model's LoRA adapters")
    max_loras_per_replica: int = DEFAULT_MAX_LORAS_PER_REPLICA
    recipes: dict[str, SamplingRecipe] = Field(default_factory=dict, description="the served model's recipes")
    cpu_niceness: CpuNiceness = Field(default=0, description="the app's worker_cpu_niceness")
    parallel: ParallelConfig = Field(default_factory=ParallelConfig, description="the served model's split")


_FROM_SETTINGS = object()


def generation_worker(settings: WorkerSettings, job_timeout_s: float | None | object = _FROM_SETTINGS):
    """The ``GenerationWorker`` a replica (or one rank of it) runs its model with: one place for both."""
    from videogen.video.worker import GenerationWorker

    return GenerationWorker(
        models={settings.family: settings.model},
        policy_overrides=settings.policy,
        job_timeout_s=settings.job_timeout_s if job_timeout_s is _FROM_SETTINGS else job_timeout_s,
        loras={settings.family: settings.loras},
        max_loras_per_replica=settings.max_loras_per_replica,
        recipes={settings.family: settings.recipes},
        parallel=settings.parallel if settings.parallel.world_size > 1 else None,
    )
