"""The application config: what an operator chooses, validated once.

``VideoGenAppConfig`` is the argument of ``build_app`` (``serve run
serve_app:build_app k=v``, or a Serve config YAML's ``args``). It names the
families to serve, the model source of each (``tiny``, a local directory or a
Hugging Face id already in the cache), named models beside a family's default
(``models``: several checkpoints of one family, each its own worker deployment),
deployment overrides, the state directory and an optional API key. Clients never
choose a path: they may pick a configured model by name, and only what is
configured here is served.

The ingress is bound with the validated ``VideoGenAppConfig`` itself (as Ray
Serve LLM binds its ``LLMConfig``); a worker gets ``WorkerSettings`` (serve.replica_settings), the slice
of it one served model's replicas need, derived by ``deployment_options``. Either
way a replica reads typed attributes and never picks a default of its own:
every default lives on ``VideoGenAppConfig``.
"""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from videogen.errors import InvalidRequestError
from videogen.paths import default_state_dir
from videogen.serve.artifacts.config import ArtifactsConfig
from videogen.serve.model_configs import (
    MODEL_NAME_PATTERN,
    FamilyConfig,
    ModelConfig,
    ServedModel,
    check_deployment_keys,
)
from videogen.video.registry import FAMILY_IDS

API_KEY_ENV = "VIDEOGEN_API_KEY"
API_KEYS_ENV = "VIDEOGEN_API_KEYS"
DATABASE_URL_ENV = "VIDEOGEN_DATABASE_URL"
Role = Literal["admin", "user"]
JournalMode = Literal["WAL", "DELETE", "TRUNCATE"]


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
        description="family id -> FamilyConfig (the family's default model, named by the family id); also accepts "
        "a list of ids or 'a,b' (tiny models), or id -> model string",
    )
    models: dict[str, ModelConfig] = Field(
        default_factory=dict,
        description="name -> ModelConfig: more models of a family beside its entry in families, each on its own "
        "worker deployment; a request picks one with 'model' (default: the family's default model)",
    )
    state_dir: str = Field(
        default_factory=default_state_dir,
        description="SQLite job store and videos, shared by every node (with PostgreSQL and s3: each node's scratch; "
        "a $VARIABLE unset where the app is built is expanded on each node)",
    )
    sqlite_journal_mode: JournalMode = Field(
        default="WAL", description="WAL on a local disk; DELETE when state_dir is on a network file system"
    )
    database_url: str | None = Field(
        default=None,
        pattern=r"^postgres(ql)?://",
        description="the job store on PostgreSQL (postgresql://user:password@host:5432/db), shared by every node; "
        f"none: SQLite under state_dir (one node); also read from ${DATABASE_URL_ENV} in every replica (a secret)",
    )
    artifacts: ArtifactsConfig = Field(
        default_factory=ArtifactsConfig,
        description="where videos, pictures and uploaded inputs are kept: local (under state_dir) or s3 (a bucket)",
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
    worker_cpu_niceness: Annotated[int, Field(ge=0, le=19)] | Literal["idle"] = Field(
        default=0,
        description="added to every worker thread's nice value (0-19), or 'idle' (Linux's SCHED_IDLE: generation "
        "runs only on cores nothing else wants): on CPU-only nodes, generation yields the cores to the ingress and "
        "Serve's proxy (serve.cpu_priority)",
    )
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
        default=64, ge=1, description="queued jobs per served model; beyond it POST answers 503 with Retry-After"
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
        description="/v1/videos 'model' names -> a served family id (its default model) or model name, e.g. "
        "{'wan2.1-t2v-1.3b': 'wan'} (a family id and a model name are always accepted as they are)",
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
    shutdown_timeout_s: float | None = Field(
        default=None,
        ge=1,
        le=24 * 3600,
        description="a worker replica stopping (scale-down, shutdown, redeploy) waits this long for its running job, "
        "then Serve kills it and the job is re-queued; default: the job's own bound (job_timeout_s + 60 s), so a "
        "scale-down never kills a running job",
    )

    @property
    def worker_shutdown_timeout_s(self) -> float:
        """How long a stopping worker replica waits for its job (Serve's ``graceful_shutdown_timeout_s``): a job
        never runs past ``job_timeout_s`` (the worker fails it there), so by default a stop outlasts any job."""
        return self.shutdown_timeout_s if self.shutdown_timeout_s is not None else self.job_timeout_s + 60.0

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

    @field_validator("models")
    @classmethod
    def _model_names(cls, value: dict[str, ModelConfig]) -> dict[str, ModelConfig]:
        for name in value:
            if not re.fullmatch(MODEL_NAME_PATTERN, name):
                raise ValueError(f"models: {name!r} is not a model name; allowed: {MODEL_NAME_PATTERN}")
            # A family id names the family's entry in families (its default), never another model.
            if name in FAMILY_IDS:
                raise ValueError(f"models: {name!r} is a family id; name the model otherwise (e.g. '{name}-14b')")
        return value

    @model_validator(mode="after")
    def _at_least_one(self) -> VideoGenAppConfig:
        if not self.families and not self.models:
            raise ValueError(f"families: serve at least one of {list(FAMILY_IDS)} (or a named model in models)")
        return self

    @model_validator(mode="after")
    def _one_default_per_family(self) -> VideoGenAppConfig:
        """Exactly one default per family: its entry in families, else the named model marked default (or the
        family's only named model), so a request without 'model' always has one place to go."""
        named: dict[str, list[str]] = {}
        for name, cfg in self.models.items():
            named.setdefault(cfg.family, []).append(name)
        for family, names in named.items():
            marked = [n for n in names if self.models[n].default]
            if family in self.families and marked:
                raise ValueError(
                    f"models.{marked[0]}.default: {family}'s default is its entry families.{family}; "
                    f"drop default: true, or drop {family} from families"
                )
            if family not in self.families and (len(marked) > 1 or (not marked and len(names) > 1)):
                raise ValueError(
                    f"models: {family} has named models {names} and no entry in families; mark exactly one "
                    f"default: true (marked: {marked})"
                )
        return self

    @field_validator("api_keys")
    @classmethod
    def _strong_keys(cls, value: dict[str, ApiKeyConfig]) -> dict[str, ApiKeyConfig]:
        return _check_api_keys(value, "api_keys")

    @field_validator("worker_defaults", "ingress")
    @classmethod
    def _known_keys(cls, value: dict[str, Any], info) -> dict[str, Any]:
        return check_deployment_keys(info.field_name, value)

    @field_validator("state_dir")
    @classmethod
    def _absolute(cls, value: str) -> str:
        # Resolved where the app is built; a variable unset here is each node's (paths.node_state_dir).
        expanded = os.path.expandvars(value)
        return expanded if "$" in expanded else str(Path(expanded).expanduser().resolve())

    @model_validator(mode="after")
    def _arch_presets(self) -> VideoGenAppConfig:
        """An ``arch:`` model must name a preset of its own family; said when the app is built, not at load."""
        from videogen.video.model_source import ModelSource

        for served in self.served_models.values():
            source = ModelSource(family=served.family, value=served.source)
            if source.is_arch:
                try:
                    source.arch_preset()
                except Exception as exc:  # noqa: BLE001 - ModelUnavailableError: unknown preset or another family's
                    where = f"families.{served.name}" if served.name in self.families else f"models.{served.name}"
                    raise ValueError(f"{where}.model: {getattr(exc, 'message', exc)}") from None
        return self

    @model_validator(mode="after")
    def _aliases_name_served_models(self) -> VideoGenAppConfig:
        targets = [*self.served, *self.models]
        wrong = {a: f for a, f in self.model_aliases.items() if f not in targets}
        if wrong:
            raise ValueError(f"model_aliases: {wrong} name nothing served here; served: {targets}")
        clash = sorted(set(self.model_aliases) & {*targets, *FAMILY_IDS})
        if clash:
            raise ValueError(f"model_aliases: {clash} already name a family or a model; an alias needs its own name")
        return self

    @model_validator(mode="after")
    def _num_gpus(self) -> VideoGenAppConfig:
        if self.num_gpus != "auto" and self.num_gpus < 0:
            raise ValueError("num_gpus: must be >= 0 or 'auto'")
        return self

    @property
    def served(self) -> list[str]:
        """The served family ids: those in families, then those served only by named models."""
        return list(dict.fromkeys([*self.families, *(m.family for m in self.models.values())]))

    @property
    def served_models(self) -> dict[str, ServedModel]:
        """Every served model by the name requests use: each family's entry (named by the family id), then the
        named models. Computed, not stored: the frozen config stays the one source."""
        out = {f: ServedModel(name=f, family=f, default=True, config=c) for f, c in self.families.items()}
        for name, cfg in self.models.items():
            alone = cfg.family not in self.families and sum(m.family == cfg.family for m in self.models.values()) == 1
            out[name] = ServedModel(name=name, family=cfg.family, default=cfg.default or alone, config=cfg)
        return out

    def model_names(self, family: str) -> list[str]:
        """The names serving ``family``, its default first."""
        models = [m for m in self.served_models.values() if m.family == family]
        return [m.name for m in sorted(models, key=lambda m: not m.default)]

    def default_model(self, family: str) -> ServedModel:
        """The family's default model (KeyError when the family is not served)."""
        return self.served_models[self.model_names(family)[0]] if family in self.served else self.served_models[family]

    def resolve_model(self, family: str, name: str | None) -> ServedModel:
        """The model a request of a served ``family`` runs on: ``name``, or the family's default. An unknown
        name, or another family's, is refused naming ``model`` and the family's served names."""
        if name is None:
            return self.default_model(family)
        served = self.served_models.get(name)
        if served is None or served.family != family:
            allowed = self.model_names(family)
            why = f"is a {served.family} model" if served else "is not served here"
            raise InvalidRequestError(
                "model", f"{name!r} {why}; {family} models: {', '.join(allowed)}", allowed=allowed
            )
        return served

    def model_of(self, family: str, model_name: str | None) -> str:
        """The served model name a stored job or replica report belongs to: its own, else (a row written before
        named models, when each family had one model) its family's default; a family no longer served: its id."""
        if model_name:
            return model_name
        return self.default_model(family).name if family in self.served else family

    def queue_bound(self, name: str) -> int:
        """A served model's queue bound (a family id: its default's): its own ``max_queued_jobs``, else the app's."""
        served = self.served_models.get(name)
        if served is None and name in self.served:
            served = self.default_model(name)
        return (served.config.max_queued_jobs if served is not None else None) or self.max_queued_jobs
