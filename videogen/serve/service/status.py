"""The runtime and models views, answered from what the worker replicas reported.

Neither calls a worker: a family scaled to zero stays at zero when someone
asks what it runs on. Hardware, load policy and effective support are known
once a replica of the served model has started and reported them to the store.
Each family's entry is its default model's; ``served_models`` lists every served
model (a family's entry and the named ones) with its own support.
"""

from __future__ import annotations

import time
from typing import Any

from videogen.errors import VideoGenError
from videogen.serve.config import ServedModel, VideoGenAppConfig
from videogen.serve.deployment_options import worker_deployment_name
from videogen.serve.service.report_cache import ReplicaReports
from videogen.serve.store.job_store import JobStore
from videogen.serve.store.replicas import ReplicaRecord, ReplicaState
from videogen.video.model_limits import request_limits
from videogen.video.model_meta import ModelMeta
from videogen.video.model_source import ModelSource
from videogen.video.registry import SPECS, static_model_facts
from videogen.video.spec import TASKS


class StatusViews:
    def __init__(
        self,
        settings: VideoGenAppConfig,
        store: JobStore,
        dispatcher_id: str,
        auth: Any = None,
        store_health: Any = None,
    ):
        self.settings = settings
        self.store_health = store_health  # the replica's StoreHealth: the runtime view says the store's outages
        self.auth = auth  # the replica's KeyRing: runtime says whether the service is open
        self.store = store
        self.dispatcher_id = dispatcher_id
        self.started_at = time.time()
        # What submissions validate with, read at most once a second (the views below read the store themselves).
        self.reports = ReplicaReports(store.replicas)

    def _live(self, rep: ReplicaRecord, now: float) -> bool:
        # Replicas touch their row every heartbeat_timeout_s / 6 (at most 5 s).
        return rep.state != ReplicaState.STOPPED and now - rep.last_seen < max(self.settings.heartbeat_timeout_s, 15.0)

    def replicas_of(self, family: str, model: str, replicas: list[ReplicaRecord] | None = None) -> list[ReplicaRecord]:
        """The reports of the served model ``model``'s replicas (of ``replicas``, else the store's as ``reports``
        holds them), newest first."""
        reps = self.reports.list(family) if replicas is None else replicas
        return [r for r in reps if r.family == family and self.settings.model_of(family, r.model_name) == model]

    def model_meta(self, family: str, task: str, model: str | None = None) -> ModelMeta:
        """What the served model's workers reported for this task's model (``model``: a served name; None: the
        family's default), else what the config implies; its LoRA adapters are always the config's. Worked out once
        per read of the reports (``self.reports``) and shared: never changed by a caller."""
        served = self.settings.served_models[model] if model else self.settings.default_model(family)

        def meta(reports: list[ReplicaRecord]) -> ModelMeta:
            reported = self._reported_meta(family, task, served, reports).with_recipes(served.config.recipes)
            return reported.with_loras(served.config.loras)

        return self.reports.derive(family, ("model_meta", task, served.name), meta)

    def _reported_meta(self, family: str, task: str, served, reports: list[ReplicaRecord]) -> ModelMeta:
        for rep in self.replicas_of(family, served.name, reports):
            meta = rep.models.model_meta.get(task) if rep.models else None
            if meta and "error" not in meta:
                return ModelMeta.model_validate(meta)
        source = ModelSource(family=family, value=served.source)
        if source.is_tiny or source.is_arch:  # known without weights (a tiny variant, an arch: preset): say it now
            try:
                return source.model_meta(task)
            except VideoGenError:  # a task the variant does not offer: the support view says so
                return ModelMeta()
        return ModelMeta()

    @staticmethod
    def _serve_status() -> dict[str, Any]:
        """Deployment statuses from the controller (never calls a replica)."""
        try:
            import ray
            from ray import serve

            if not ray.is_initialized():  # built outside Ray (tests): never start a local cluster to ask
                return {}
            app = serve.status().applications.get(serve.get_replica_context().app_name)
            if app is None:
                return {}
            return {
                name: {
                    "status": str(getattr(d.status, "value", d.status)),
                    "replica_states": {str(getattr(k, "value", k)): v for k, v in d.replica_states.items()},
                    "message": d.message,
                }
                for name, d in app.deployments.items()
            }
        except Exception as exc:  # noqa: BLE001
            return {"_error": {"status": "UNKNOWN", "message": f"{type(exc).__name__}: {exc}"}}

    def runtime(self, details: bool = True) -> dict[str, Any]:
        """Hardware, policy, versions and every family's replicas; without ``details`` (a non-admin caller)
        no host names, addresses, pids, file paths or environment."""
        from videogen.video.worker import runtime_snapshot  # the core's versions and env; no torch import

        now = self.store.db.now()  # the clock last_seen is in (PostgreSQL: the server's)
        statuses = self._serve_status()
        replicas = self.store.replicas.list()
        counts = self.store.jobs.counts()
        by_model = self.store.jobs.counts_by_model()
        unknown = {"status": "UNKNOWN", "replica_states": {}, "message": ""}
        families: dict[str, Any] = {}
        base: ReplicaRecord | None = None
        for family in self.settings.served:
            live = [r for r in replicas if r.family == family and self._live(r, now)]
            models: dict[str, Any] = {}
            for name in self.settings.model_names(family):  # the default first
                model = self.settings.served_models[name]
                deployment = worker_deployment_name(name)
                dep = statuses.get(deployment) or statuses.get("_error") or unknown
                jobs: dict[str, int] = {}
                for (fam, stored), statuses_of in by_model.items():
                    if fam == family and self.settings.model_of(fam, stored) == name:
                        for status, n in statuses_of.items():
                            jobs[status] = jobs.get(status, 0) + n
                models[name] = {
                    "deployment": deployment,
                    "model": model.source,
                    "default": model.default,
                    "status": dep.get("status"),
                    "replica_states": dep.get("replica_states", {}),
                    "message": dep.get("message", ""),
                    "jobs": jobs,
                }
            default = next(iter(models.values()))
            families[family] = {
                **{k: default[k] for k in ("deployment", "model", "status", "replica_states", "message")},
                "replicas": [r.model_dump(mode="json", include=_REPLICA_FIELDS) for r in live],
                "jobs": counts.get(family, {}),
                "models": models,
            }
            if live and (base is None or live[0].last_seen > base.last_seen):
                base = live[0]
        if base is None and replicas:
            base = replicas[0]  # the most recent report, even from a stopped replica
        diag = (base.diagnostics if base else None) or {}
        ingress_runtime = runtime_snapshot()
        view = {
            "hardware_profile": diag.get("hardware_profile"),
            "load_policy": diag.get("load_policy"),
            "auth": self.auth.describe() if self.auth is not None else None,
            "runtime": diag.get("runtime") or ingress_runtime,
            "reported_by": base.replica_id if base else None,
            "note": None if base else "no worker replica has reported yet: hardware is known once a worker starts",
            "ingress": {
                "dispatcher": self.dispatcher_id,
                "started_at": self.started_at,
                "runtime": ingress_runtime,
                "store": self.store_health.describe() if self.store_health is not None else None,
            },
            "served_families": self.settings.served,
            "families": families,
            "state_dir": str(self.store.state_dir),
            "artifacts": self.store.artifacts.describe(),
        }
        return view if details else public_runtime(view)

    def models(self, details: bool = True) -> dict[str, Any]:
        """Every family, served or not, with its default model's effective support, and every served model
        (``served_models``: a family's entry and its named models, each with its own); without ``details`` (a
        non-admin caller) a model in a local directory is named only as such."""
        now = self.store.db.now()  # the clock last_seen is in (PostgreSQL: the server's)
        replicas = self.store.replicas.list()
        served = self.settings.served
        models = []
        for fid, spec in SPECS.items():
            entry = static_model_facts(spec)
            if fid not in served:
                entry.update(
                    served=False,
                    effective_support_level="not_supported",
                    task_support={t: "not_supported" for t in TASKS},
                    support_reasons={"*": [f"{fid} is not served by this deployment; served: {', '.join(served)}"]},
                )
                models.append(entry)
                continue
            entry.update(self._support(spec, self.settings.default_model(fid), replicas, now, details))
            entry["served"] = True
            entry["model_names"] = self.settings.model_names(fid)
            models.append(entry)
        served_models = []
        for model in self.settings.served_models.values():
            spec = SPECS[model.family]
            served_models.append(
                {
                    "name": model.name,
                    "family": model.family,
                    "default": model.default,
                    "source": model.source if details else _public_model(model.source),
                    "tasks": list(spec.tasks),
                    **{k: v for k, v in self._support(spec, model, replicas, now, details).items() if k in _SUPPORT},
                }
            )
        return {"models": models, "served_families": served, "served_models": served_models}

    def _support(
        self, spec, model: ServedModel, replicas: list[ReplicaRecord], now: float, details: bool
    ) -> dict[str, Any]:
        """A served model's support as its newest replica resolved it on its own hardware (the family's facts
        with it), else "unknown" with the reason; and the request defaults and limits it validates with."""
        reps = sorted(
            (r for r in self.replicas_of(spec.id, model.name, replicas) if r.models),
            key=lambda r: (self._live(r, now), r.last_seen),
            reverse=True,
        )
        if reps:
            entry = dict(reps[0].models.describe)
            entry["reported_by"] = reps[0].replica_id
            entry["hardware"] = ((reps[0].diagnostics or {}).get("hardware_profile") or {}).get("device_name")
        else:
            entry = dict(
                effective_support_level="unknown",
                task_support={t: ("unknown" if t in spec.tasks else "not_supported") for t in TASKS},
                support_reasons={
                    "*": [
                        "no worker replica of this model has started yet (it may be scaled to zero); "
                        "support is resolved by the worker on its own hardware when it starts"
                    ]
                },
                model={"source": model.source if details else _public_model(model.source)},
            )
        entry["deployment"] = worker_deployment_name(model.name)
        entry.update(self._request_facts(spec, model.name))
        # the adapters a request may name here: scales, experts, description; never their paths
        entry["loras"] = {name: a.offer().public() for name, a in model.config.loras.items()}
        entry["recipes"] = {  # the operator's; a model directory's own show in its tasks' model meta
            name: r.model_dump(exclude_none=True) for name, r in model.config.recipes.items()
        }
        return entry

    def _request_facts(self, spec, model: str) -> dict[str, Any]:
        """Per offered task, the defaults a request gets on the served model ``model`` (a tiny model's beat the
        family's) and the frames and sizes it accepts: what the ingress validates with (``model_meta``)."""
        defaults, limits = {}, {}
        for task in spec.tasks:
            meta = self.model_meta(spec.id, task, model)
            defaults[task] = {**spec.defaults.model_dump(), **meta.request_defaults}
            limits[task] = request_limits(spec, task, meta)  # the model's own frames and size grid where it has them
        return {"request_defaults": defaults, "request_limits": limits}


# What the runtime view shows of each live replica (hosts and pids: admins only, see ``public_runtime``).
_REPLICA_FIELDS = {
    "replica_id",
    "model_name",
    "node_id",
    "node_ip",
    "pid",
    "state",
    "started_at",
    "last_seen",
    "diagnostics",
}
# What a served model's entry in ``served_models`` repeats of its support (the family's static facts are in its
# family's entry).
_SUPPORT = (
    "effective_support_level",
    "task_support",
    "support_reasons",
    "model",
    "load_errors",
    "reported_by",
    "hardware",
    "deployment",
    "request_defaults",
    "request_limits",
    "loras",
    "recipes",
)
# What a non-admin caller may see of a replica's runtime: versions, not where or how it runs.
_PUBLIC_RUNTIME_KEYS = ("videogen", "python", "packages")


def _public_model(source: str | None) -> str | None:
    """A model source without a local path: tiny, arch:..., a Hugging Face id, or just 'local directory'."""
    if source and (source.startswith(("/", "~", ".")) or "\\" in source):
        return "local directory"
    return source


def _public_policy(policy: dict[str, Any] | None) -> dict[str, Any] | None:
    """The load policy without the operator's GGUF file path (in ``gguf_file``, ``overrides`` and ``reasons``)."""
    path = (policy or {}).get("gguf_file")
    if not path:
        return policy
    hidden = "(a local file)"
    public = {**policy, "gguf_file": hidden, "reasons": [r.replace(path, hidden) for r in policy.get("reasons", [])]}
    if "gguf_file" in (policy.get("overrides") or {}):
        public["overrides"] = {**policy["overrides"], "gguf_file": hidden}
    return public


def public_runtime(view: dict[str, Any]) -> dict[str, Any]:
    """``runtime`` for a non-admin key: no host names, addresses, pids, paths or environment."""
    runtime = {k: v for k, v in (view.get("runtime") or {}).items() if k in _PUBLIC_RUNTIME_KEYS}
    families = {}
    for family, info in view["families"].items():
        replicas = [
            {
                "state": r.get("state"),
                "model_name": r.get("model_name"),
                "device_name": ((r.get("diagnostics") or {}).get("hardware_profile") or {}).get("device_name"),
            }
            for r in info.get("replicas", [])
        ]
        models = {
            name: {
                "model": _public_model(m.get("model")),
                "default": m.get("default"),
                "status": m.get("status"),
                "replica_states": m.get("replica_states", {}),
                "jobs": m.get("jobs", {}),
            }
            for name, m in (info.get("models") or {}).items()
        }
        families[family] = {
            "model": _public_model(info.get("model")),
            "status": info.get("status"),
            "replica_states": info.get("replica_states", {}),
            "replicas": replicas,
            "jobs": info.get("jobs", {}),
            "models": models,
        }
    return {
        "hardware_profile": view.get("hardware_profile"),
        "load_policy": _public_policy(view.get("load_policy")),
        "auth": view.get("auth"),
        "runtime": runtime,
        "served_families": view["served_families"],
        "families": families,
        "details": "hosts, pids, paths and environment are shown to admin keys only",
    }
