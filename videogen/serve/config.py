"""The application config: what an operator chooses, validated once.

``VideoGenAppConfig`` is the argument of ``build_app`` (``serve run
serve_app:build_app k=v``, or a Serve config YAML's ``args``). It names the
families to serve, the model source of each (``tiny``, a local directory or a
Hugging Face id already in the cache), deployment overrides, the state
directory and an optional API key. Clients never choose a model or a path:
only what is configured here is served.

The ingress is bound with the validated ``VideoGenAppConfig`` itself (as Ray
Serve LLM binds its ``LLMConfig``); a worker gets ``WorkerSettings``, the slice
of it one family's replicas need, derived by ``deployment_options``. Either
way a replica reads typed attributes and never picks a default of its own:
every default lives on ``VideoGenAppConfig``.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from videogen.paths import default_state_dir
from videogen.video.registry import FAMILY_IDS
from videogen.video.spec import Task

# Deployment options an operator may override per family (``FamilyConfig.deployment``),
# for all workers (``worker_defaults``) or for the ingress (``ingress``).
DEPLOYMENT_OPTION_KEYS = frozenset(
    {
        "num_replicas",
        "max_ongoing_requests",
        "max_queued_requests",
        "autoscaling_config",
        "ray_actor_options",
        "placement_group_bundles",
        "placement_group_strategy",
        "max_replicas_per_node",
        "health_check_period_s",
        "health_check_timeout_s",
        "graceful_shutdown_wait_loop_s",
        "graceful_shutdown_timeout_s",
        "logging_config",
    }
)

API_KEY_ENV = "VIDEOGEN_API_KEY"
API_KEYS_ENV = "VIDEOGEN_API_KEYS"
Role = Literal["admin", "user"]
JournalMode = Literal["WAL", "DELETE", "TRUNCATE"]


def _check_deployment_keys(where: str, value: dict[str, Any]) -> dict[str, Any]:
    unknown = sorted(set(value) - DEPLOYMENT_OPTION_KEYS)
    if unknown:
        raise ValueError(f"{where}: unknown deployment option(s) {unknown}; allowed: {sorted(DEPLOYMENT_OPTION_KEYS)}")
    return value


class FamilyConfig(BaseModel):
    """One served family."""

    model_config = ConfigDict(extra="forbid")

    model: str | None = Field(
        default="tiny",
        description="'tiny' (built-in random weights), a local model directory, a Hugging Face id already in "
        "the cache, or null for the family's default real model ids",
    )
    deployment: dict[str, Any] = Field(
        default_factory=dict, description="Serve deployment options for this family's worker"
    )
    warm: list[Task] | None = Field(
        default=None,
        description="tasks whose pipeline each replica loads at start (default: every task the family offers; [] = on first job)",
    )

    max_queued_jobs: int | None = Field(
        default=None, ge=1, description="this family's queue bound (default: the app's)"
    )
    policy: dict[str, Any] = Field(
        default_factory=dict,
        description="load-policy overrides for this family's replicas (dtype, placement, vae_tiling, vae_slicing, "
        "cpu_memory_cap_gb, concurrency, device); they beat VIDEOGEN_POLICY_* variables",
    )

    @field_validator("deployment")
    @classmethod
    def _known_keys(cls, value: dict[str, Any]) -> dict[str, Any]:
        return _check_deployment_keys("deployment", value)

    @field_validator("policy")
    @classmethod
    def _valid_policy(cls, value: dict[str, Any]) -> dict[str, Any]:
        from videogen.video.foundation import validate_policy_overrides

        return validate_policy_overrides(value)


class ApiKeyConfig(BaseModel):
    """Who a key is: its owner name (jobs are theirs), its role and, optionally, its own limits."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str = Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_.@-]+$")
    role: Role = "user"
    max_queued_jobs: int | None = Field(default=None, ge=1)
    submissions_per_minute: int | None = Field(default=None, ge=1)


def _check_api_keys(keys: dict[str, ApiKeyConfig], where: str) -> dict[str, ApiKeyConfig]:
    for key in keys:
        if len(key) < 16:
            raise ValueError(f"{where}: a key must be at least 16 characters (keys are bearer secrets)")
    return keys


class VideoGenAppConfig(BaseModel):
    """Everything ``build_app`` needs. Every field has a default that runs on a CPU box.

    Frozen: the ingress replicas are bound with it as it is, and never edit it."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    app_name: str = Field(
        default="videogen", description="informational; the Serve app name comes from serve run / the YAML"
    )
    families: dict[str, FamilyConfig] = Field(
        default_factory=lambda: {f: FamilyConfig() for f in FAMILY_IDS},
        description="family id -> FamilyConfig; also accepts a list of ids or 'a,b' (tiny models), or id -> model string",
    )
    state_dir: str = Field(
        default_factory=default_state_dir, description="SQLite job store and videos; shared by every node"
    )
    sqlite_journal_mode: JournalMode = Field(
        default="WAL", description="WAL on a local disk; DELETE when state_dir is on a network file system"
    )
    api_key: str | None = Field(
        default=None, description=f"one admin key (named 'admin'); also read from ${API_KEY_ENV} in the ingress replica"
    )
    api_keys: dict[str, ApiKeyConfig] = Field(
        default_factory=dict,
        description=f"key -> {{name, role: admin|user, limits}}; merged with api_keys_file and ${API_KEYS_ENV} "
        "(a JSON/YAML mapping of the same shape), both read in the ingress replica so a secret never enters the config",
    )
    api_keys_file: str | None = Field(
        default=None, description="a YAML/JSON file (e.g. a mounted Kubernetes secret) mapping key -> {name, role}"
    )
    allow_unauthenticated: bool = Field(
        default=False,
        description="serve without any API key although Serve's HTTP proxy listens beyond loopback (logged as a "
        "warning and shown in /api/video/runtime); without it such an ingress refuses to start",
    )
    key_max_queued_jobs: int = Field(
        default=16, ge=1, description="queued jobs one key may have (a key's own limit wins)"
    )
    key_submissions_per_minute: int = Field(
        default=60, ge=1, description="jobs one key may submit per minute (a key's own limit wins); beyond: 429"
    )
    num_gpus: float | Literal["auto"] = Field(
        default="auto",
        description="GPUs per worker replica; 'auto' = 1 if the cluster (or this machine) has a GPU, else 0",
    )
    worker_defaults: dict[str, Any] = Field(default_factory=dict, description="deployment options for every worker")
    ingress: dict[str, Any] = Field(default_factory=dict, description="deployment options for the ingress")
    env_vars: dict[str, str] = Field(default_factory=dict, description="extra env vars for every worker replica")
    max_attempts: int = Field(default=2, ge=1, le=5, description="runs of a job whose worker died (2 = retried once)")
    heartbeat_timeout_s: float = Field(
        default=20.0, ge=3.0, le=50.0, description="a running job without a heartbeat this long is retried or failed"
    )
    job_timeout_s: float = Field(
        default=3 * 3600, ge=10, description="a job running longer fails (its replica is then replaced: it is hung)"
    )
    max_image_bytes: int | None = Field(
        default=None, ge=1024, description="per-request image limit (default: the core's limit)"
    )
    # -- limits (README "Limits and guarantees") --
    max_queued_jobs: int = Field(
        default=64, ge=1, description="queued jobs per family; beyond it POST answers 503 with Retry-After"
    )
    default_job_seconds: float = Field(
        default=30.0, gt=0, description="a queued job's expected seconds when it has no estimate (for Retry-After)"
    )
    max_body_bytes: int = Field(
        default=24 * 1024 * 1024, ge=4096, description="request bodies over this get 413 before they are read whole"
    )
    retention_days: float | None = Field(
        default=7.0,
        gt=0,
        description="videos and records of ended jobs are deleted this long after they end (null = keep)",
    )
    max_state_dir_gb: float | None = Field(
        default=None, gt=0, description="new jobs are refused (507) while state_dir uses more than this"
    )
    min_free_disk_gb: float = Field(
        default=1.0, ge=0, description="new jobs are refused (507) while state_dir's disk has less free space than this"
    )
    cors_origins: list[str] = Field(default_factory=list, description="origins allowed by CORS (empty = CORS off)")
    model_aliases: dict[str, str] = Field(
        default_factory=dict,
        description="/v1/videos 'model' names -> served family ids, e.g. {'wan2.1-t2v-1.3b': 'wan'} "
        "(a family id is always accepted as it is)",
    )
    queue_timeout_s: float | None = Field(
        default=24 * 3600,
        gt=0,
        description="a job still queued this long after submission fails with a reason (null = never)",
    )
    max_sse_streams: int = Field(default=256, ge=1, description="open event streams per ingress replica; beyond: 429")
    max_sse_streams_per_key: int = Field(
        default=16, ge=1, description="open event streams per API key per ingress; beyond: 429"
    )
    shutdown_timeout_s: float = Field(
        default=60.0,
        ge=1,
        le=3600,
        description="a worker replica stopping (shutdown, scale-down) waits this long for its job, then re-queues it",
    )

    @field_validator("families", mode="before")
    @classmethod
    def _normalise_families(cls, value: Any) -> Any:
        if value is None:
            return {f: {} for f in FAMILY_IDS}
        if isinstance(value, str):  # serve run ... families=wan,ltx-video
            value = [v.strip() for v in value.split(",") if v.strip()]
        if isinstance(value, (list, tuple)):
            out: dict[str, Any] = {}
            for item in value:
                if isinstance(item, str):
                    out[item] = {}
                elif isinstance(item, dict) and "family" in item:
                    item = dict(item)
                    out[item.pop("family")] = item
                else:
                    raise ValueError(f"families: each item is a family id or a mapping with 'family'; got {item!r}")
            value = out
        if isinstance(value, dict):
            out = {}
            for family, cfg in value.items():
                if cfg is None:
                    cfg = {}
                elif isinstance(cfg, str):
                    cfg = {"model": cfg}
                out[family] = cfg
            unknown = [f for f in out if f not in FAMILY_IDS]
            if unknown:
                raise ValueError(f"families: unknown family {unknown}; known families: {list(FAMILY_IDS)}")
            return out
        return value

    @field_validator("families")
    @classmethod
    def _at_least_one(cls, value: dict[str, FamilyConfig]) -> dict[str, FamilyConfig]:
        if not value:
            raise ValueError(f"families: serve at least one of {list(FAMILY_IDS)}")
        return value

    @field_validator("api_keys")
    @classmethod
    def _strong_keys(cls, value: dict[str, ApiKeyConfig]) -> dict[str, ApiKeyConfig]:
        return _check_api_keys(value, "api_keys")

    @field_validator("worker_defaults", "ingress")
    @classmethod
    def _known_keys(cls, value: dict[str, Any], info) -> dict[str, Any]:
        return _check_deployment_keys(info.field_name, value)

    @field_validator("state_dir")
    @classmethod
    def _absolute(cls, value: str) -> str:
        # Resolved where the app is built, so every replica sees the same path.
        return str(Path(os.path.expandvars(value)).expanduser().resolve())

    @model_validator(mode="after")
    def _arch_presets(self) -> VideoGenAppConfig:
        """An ``arch:`` model must name a preset of its own family; said when the app is built, not at load."""
        from videogen.video.model_source import ModelSource

        for family, fam in self.families.items():
            source = ModelSource(family=family, value=fam.model)
            if source.is_arch:
                try:
                    source.arch_preset()
                except Exception as exc:  # noqa: BLE001 - ModelUnavailableError: unknown preset or another family's
                    raise ValueError(f"families.{family}.model: {getattr(exc, 'message', exc)}") from None
        return self

    @model_validator(mode="after")
    def _aliases_name_served_families(self) -> VideoGenAppConfig:
        wrong = {a: f for a, f in self.model_aliases.items() if f not in self.families}
        if wrong:
            raise ValueError(f"model_aliases: {wrong} name families not served here; served: {list(self.families)}")
        return self

    @model_validator(mode="after")
    def _num_gpus(self) -> VideoGenAppConfig:
        if self.num_gpus != "auto" and self.num_gpus < 0:
            raise ValueError("num_gpus: must be >= 0 or 'auto'")
        return self

    @property
    def served(self) -> list[str]:
        return list(self.families)

    def queue_bound(self, family: str) -> int:
        """The family's queue bound: its own ``max_queued_jobs``, else the app's."""
        fam = self.families.get(family)
        return (fam.max_queued_jobs if fam is not None else None) or self.max_queued_jobs


# -- what a worker replica is built with ---------------------------------------------------------
class _Settings(BaseModel):
    # Frozen: a replica's settings are the app's, never edited in place.
    model_config = ConfigDict(extra="forbid", frozen=True)

    state_dir: str
    journal_mode: JournalMode


class WorkerSettings(_Settings):
    """A worker replica's constructor argument (one per family)."""

    family: str
    model: str | None
    policy: dict[str, Any]
    warm: list[Task]
    heartbeat_s: float
    job_timeout_s: float
