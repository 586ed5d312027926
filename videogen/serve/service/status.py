"""The runtime and models views, answered from what the worker replicas reported.

Neither calls a worker: a family scaled to zero stays at zero when someone
asks what it runs on. Hardware, load policy and effective support are known
once a replica of the family has started and reported them to the store.
"""

from __future__ import annotations

import time
from typing import Any

from videogen.serve.config import VideoGenAppConfig
from videogen.serve.deployment_options import worker_deployment_name
from videogen.serve.store.job_store import JobStore
from videogen.serve.store.replicas import ReplicaRecord, ReplicaState
from videogen.video.model_meta import ModelMeta
from videogen.video.registry import SPECS, static_model_facts
from videogen.video.spec import TASKS


class StatusViews:
    def __init__(self, settings: VideoGenAppConfig, store: JobStore, dispatcher_id: str, auth: Any = None):
        self.settings = settings
        self.auth = auth  # the replica's KeyRing: runtime says whether the service is open
        self.store = store
        self.dispatcher_id = dispatcher_id
        self.started_at = time.time()

    def _live(self, rep: ReplicaRecord, now: float) -> bool:
        # Replicas touch their row every heartbeat_timeout_s / 6 (at most 5 s).
        return rep.state != ReplicaState.STOPPED and now - rep.last_seen < max(self.settings.heartbeat_timeout_s, 15.0)

    def model_meta(self, family: str, task: str) -> ModelMeta:
        """What the family's workers reported for this task's model, else what the config implies."""
        for rep in self.store.replicas.list(family=family):
            meta = rep.models.model_meta.get(task) if rep.models else None
            if meta and "error" not in meta:
                return ModelMeta.model_validate(meta)
        if self.settings.families[family].model == "tiny":
            return ModelMeta.for_tiny(family, task)
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

        now = time.time()
        statuses = self._serve_status()
        replicas = self.store.replicas.list()
        counts = self.store.jobs.counts()
        families: dict[str, Any] = {}
        base: ReplicaRecord | None = None
        for family, served in self.settings.families.items():
            live = [r for r in replicas if r.family == family and self._live(r, now)]
            unknown = {"status": "UNKNOWN", "replica_states": {}, "message": ""}
            deployment = worker_deployment_name(family)
            dep = statuses.get(deployment) or statuses.get("_error") or unknown
            families[family] = {
                "deployment": deployment,
                "model": served.model,
                "status": dep.get("status"),
                "replica_states": dep.get("replica_states", {}),
                "message": dep.get("message", ""),
                "replicas": [
                    r.model_dump(
                        mode="json",
                        include={
                            "replica_id",
                            "node_id",
                            "node_ip",
                            "pid",
                            "state",
                            "started_at",
                            "last_seen",
                            "diagnostics",
                        },
                    )
                    for r in live
                ],
                "jobs": counts.get(family, {}),
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
            "ingress": {"dispatcher": self.dispatcher_id, "started_at": self.started_at, "runtime": ingress_runtime},
            "served_families": self.settings.served,
            "families": families,
            "state_dir": str(self.store.state_dir),
        }
        return view if details else public_runtime(view)

    def models(self, details: bool = True) -> dict[str, Any]:
        """Every family, served or not, with its effective support; without ``details`` (a non-admin caller)
        a model in a local directory is named only as such."""
        now = time.time()
        replicas = self.store.replicas.list()
        served = self.settings.served
        models = []
        for fid, spec in SPECS.items():
            entry = static_model_facts(spec)
            if fid not in self.settings.families:
                entry.update(
                    served=False,
                    effective_support_level="not_supported",
                    task_support={t: "not_supported" for t in TASKS},
                    support_reasons={"*": [f"{fid} is not served by this deployment; served: {', '.join(served)}"]},
                )
                models.append(entry)
                continue
            reps = sorted(
                (r for r in replicas if r.family == fid and r.models),
                key=lambda r: (self._live(r, now), r.last_seen),
                reverse=True,
            )
            if reps:
                entry.update(reps[0].models.describe)
                entry["reported_by"] = reps[0].replica_id
                entry["hardware"] = ((reps[0].diagnostics or {}).get("hardware_profile") or {}).get("device_name")
            else:
                entry.update(
                    effective_support_level="unknown",
                    task_support={t: ("unknown" if t in spec.tasks else "not_supported") for t in TASKS},
                    support_reasons={
                        "*": [
                            "no worker replica of this family has started yet (it may be scaled to zero); "
                            "support is resolved by the worker on its own hardware when it starts"
                        ]
                    },
                    model={
                        "source": self.settings.families[fid].model
                        if details
                        else _public_model(self.settings.families[fid].model)
                    },
                )
            entry["served"] = True
            entry["deployment"] = worker_deployment_name(fid)
            entry.update(self._request_facts(spec))
            models.append(entry)
        return {"models": models, "served_families": served}

    def _request_facts(self, spec) -> dict[str, Any]:
        """Per offered task, the defaults a request gets on the model served (a tiny model's beat the family's)
        and the frames and sizes it accepts: what the ingress validates with (``model_meta``)."""
        defaults, limits = {}, {}
        rule = spec.frame_rule
        for task in spec.tasks:
            meta = self.model_meta(spec.id, task)
            defaults[task] = {**spec.defaults.model_dump(), **meta.request_defaults}
            limits[task] = {
                "num_frames": {
                    "min": rule.min_frames,
                    "max": rule.max_frames,
                    "multiple": rule.multiple,
                    "remainder": rule.remainder,
                    "rule": rule.describe(),
                },
                "size": {
                    "min": spec.resolution_multiple if meta.tiny else spec.min_size,
                    "max": spec.max_size,
                    "multiple": spec.resolution_multiple,
                },
            }
        return {"request_defaults": defaults, "request_limits": limits}


# What a non-admin caller may see of a replica's runtime: versions, not where or how it runs.
_PUBLIC_RUNTIME_KEYS = ("videogen", "python", "packages")


def _public_model(source: str | None) -> str | None:
    """A model source without a local path: tiny, arch:..., a Hugging Face id, or just 'local directory'."""
    if source and (source.startswith(("/", "~", ".")) or "\\" in source):
        return "local directory"
    return source


def public_runtime(view: dict[str, Any]) -> dict[str, Any]:
    """``runtime`` for a non-admin key: no host names, addresses, pids, paths or environment."""
    runtime = {k: v for k, v in (view.get("runtime") or {}).items() if k in _PUBLIC_RUNTIME_KEYS}
    families = {}
    for family, info in view["families"].items():
        replicas = [
            {
                "state": r.get("state"),
                "device_name": ((r.get("diagnostics") or {}).get("hardware_profile") or {}).get("device_name"),
            }
            for r in info.get("replicas", [])
        ]
        families[family] = {
            "model": _public_model(info.get("model")),
            "status": info.get("status"),
            "replica_states": info.get("replica_states", {}),
            "replicas": replicas,
            "jobs": info.get("jobs", {}),
        }
    return {
        "hardware_profile": view.get("hardware_profile"),
        "load_policy": view.get("load_policy"),
        "auth": view.get("auth"),
        "runtime": runtime,
        "served_families": view["served_families"],
        "families": families,
        "details": "hosts, pids, paths and environment are shown to admin keys only",
    }
