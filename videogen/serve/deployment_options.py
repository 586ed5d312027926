"""Deployment options and replica settings, derived in one place.

``worker_deployment_options`` is the only function that decides a worker
replica's resources, ``runtime_env``, autoscaling, health checks and shutdown;
``ingress_deployment_options`` does the same for the ingress. Operator
overrides (``worker_defaults``, then the served model's own ``deployment``:
``families.<id>.deployment`` or ``models.<name>.deployment``) are deep merged
on top, and ``runtime_env.env_vars`` is merged key by key on purpose: Serve
replaces a whole ``ray_actor_options`` dict when a YAML sets one, which would
silently drop the ROCm variables that must be in the replica before torch is
imported. ``worker_settings`` builds a worker's typed constructor argument;
the ingress is bound with the ``VideoGenAppConfig`` itself.
"""

from __future__ import annotations

import copy
import os
from typing import Any

from videogen.paths import CACHE_DIR_ENV
from videogen.rocm_env import RAY_OWNED_VARS, default_rocm_env, rocm_env_vars
from videogen.serve.config import VideoGenAppConfig
from videogen.serve.queue_autoscaling import queue_policy
from videogen.serve.replica_settings import WorkerSettings

# Env vars forwarded from the process that builds the app to every worker replica
# when set there (the tiny-model cache and the offline Hugging Face cache).
FORWARDED_ENV = (CACHE_DIR_ENV, "HF_HOME", "HF_HUB_CACHE", "HF_HUB_OFFLINE", "VIDEOGEN_ANIMATEDIFF_BASE")

WORKER_DEFAULTS: dict[str, Any] = {
    # One generation at a time per replica (and per GPU).
    "max_ongoing_requests": 1,
    "autoscaling_config": {
        "min_replicas": 1,  # 0 is allowed: the family then scales to zero when idle
        "initial_replicas": None,  # = min_replicas unless set
        "max_replicas": 1,
        "target_ongoing_requests": 1,
        "upscale_delay_s": 5,
        # Loading a video model takes minutes: do not give a warm replica back too soon.
        "downscale_delay_s": 600,
        "look_back_period_s": 15,
    },
    "health_check_period_s": 10,
    "health_check_timeout_s": 30,
    # Scaling down waits for the running job (graceful_shutdown_timeout_s: the config's worker_shutdown_timeout_s,
    # set in worker_deployment_options).
    "graceful_shutdown_wait_loop_s": 2,
}

# Serve runs a replica's user code on an event loop thread of its own, and a handle's router on yet another, by
# default; every submission then crosses threads (and the GIL) four times more: HTTP in, our handler, the dispatch
# to the worker's handle, its answer. The ingress's code never blocks its loop (store calls go to threads), so it
# runs both on the replica's loop, as Serve's own throughput-optimized mode does (RAY_SERVE_THROUGHPUT_OPTIMIZED;
# these two of its settings only: its gRPC handles and log buffering would change what operators see). On the
# 2-core box: 204 -> 250 submissions/s (benchmarks/results/cpu/submit-profile.md, "Round four").
INGRESS_ENV_VARS = {"RAY_SERVE_RUN_USER_CODE_IN_SEPARATE_THREAD": "0", "RAY_SERVE_RUN_ROUTER_IN_SEPARATE_LOOP": "0"}

INGRESS_DEFAULTS: dict[str, Any] = {
    "num_replicas": 1,
    # SSE streams and handle.generate() calls each hold a request open.
    "max_ongoing_requests": 256,
    "ray_actor_options": {"num_cpus": 0.1, "runtime_env": {"env_vars": INGRESS_ENV_VARS}},
    "health_check_period_s": 10,
    "health_check_timeout_s": 30,
    "graceful_shutdown_timeout_s": 20,
}


def detect_gpu_count() -> int:
    """GPUs the cluster has (when Ray is up), else GPUs this machine exposes; no torch import."""
    try:
        import ray

        if ray.is_initialized():
            return int(ray.cluster_resources().get("GPU", 0))
    except Exception:  # noqa: BLE001 - Ray missing or half initialised: ask the machine  # pragma: no cover
        pass
    if os.path.exists("/dev/kfd") and os.path.isdir("/dev/dri"):
        return 1  # ROCm
    if os.path.exists("/dev/nvidiactl") or os.path.exists("/proc/driver/nvidia/version"):
        return 1
    return 0


def resolve_num_gpus(value: float | str) -> float:
    if value == "auto":
        return 1 if detect_gpu_count() > 0 else 0
    return float(value) if not float(value).is_integer() else int(value)


def deep_merge(base: dict[str, Any], override: dict[str, Any]) -> dict[str, Any]:
    """``override`` wins; nested dicts are merged; a None value removes the key."""
    out = copy.deepcopy(base)
    for key, value in override.items():
        if value is None:
            out.pop(key, None)
        elif isinstance(value, dict) and isinstance(out.get(key), dict):
            out[key] = deep_merge(out[key], value)
        else:
            out[key] = copy.deepcopy(value)
    return out


def worker_env_vars(cfg: VideoGenAppConfig, overrides: dict[str, str] | None = None) -> dict[str, str]:
    """What goes into a worker's ``runtime_env.env_vars``: the ROCm mapping, forwarded caches, config, overrides."""
    configured = {**cfg.env_vars, **(overrides or {})}
    env: dict[str, str] = {}
    for key in FORWARDED_ENV:
        if os.environ.get(key):
            env[key] = os.environ[key]
    env.setdefault("HF_HUB_OFFLINE", "1")  # nothing is downloaded at run time
    env.update(configured)
    # The ROCm mapping as the replica will see it (MIOpen's db follows a configured
    # VIDEOGEN_CACHE_DIR); any ROCm variable set explicitly above wins.
    rocm = rocm_env_vars({**os.environ, **env})
    if CACHE_DIR_ENV in configured:  # configured for the workers: their MIOpen db lives there
        derived = default_rocm_env({CACHE_DIR_ENV: configured[CACHE_DIR_ENV]})
        for key in ("MIOPEN_USER_DB_PATH", "MIOPEN_CUSTOM_CACHE_DIR"):
            rocm[key] = derived[key]
    env = {**rocm, **env}
    clash = RAY_OWNED_VARS & env.keys()
    if clash:
        raise ValueError(f"env_vars: {sorted(clash)} are set by Ray for the GPUs it assigns; do not set them")
    return {k: str(v) for k, v in env.items()}


def worker_deployment_name(name: str) -> str:
    """The worker deployment of a served model: ``VideoWorker_<family>`` for a family's entry, as always, and
    ``VideoWorker_<name>`` for a named model (names never equal a family id, so they never clash)."""
    return f"VideoWorker_{name}"


def _finish_scaling(options: dict[str, Any]) -> dict[str, Any]:
    """num_replicas and autoscaling_config are exclusive: a fixed count wins."""
    if options.get("num_replicas") not in (None, "auto"):
        options.pop("autoscaling_config", None)
    else:
        options.pop("num_replicas", None)
        auto = options.get("autoscaling_config")
        if auto is not None:
            if auto.get("initial_replicas") is None:
                auto.pop("initial_replicas", None)
            auto["max_replicas"] = max(int(auto.get("max_replicas", 1)), int(auto.get("min_replicas", 0)), 1)
    return options


def worker_deployment_options(name: str, cfg: VideoGenAppConfig, num_gpus: float | None = None) -> dict[str, Any]:
    """All Serve options of one served model's worker deployment (``name``: a family id for its entry)."""
    fam = cfg.served_models[name].config
    gpus = resolve_num_gpus(cfg.num_gpus) if num_gpus is None else num_gpus
    base = deep_merge(
        WORKER_DEFAULTS,
        {
            "name": worker_deployment_name(name),
            # Serve picks the replicas a scale-down stops without looking at their load, then waits this long
            # for their ongoing call (the running job) before force-killing them: by default as long as a job
            # may run (a stuck one is failed by the worker at job_timeout_s), so a scale-down never kills a job.
            # An operator who wants fast redeploys sets shutdown_timeout_s; a job cut off there is re-queued.
            "graceful_shutdown_timeout_s": cfg.worker_shutdown_timeout_s,
            # Scale on the store's queued + running jobs too (serve.queue_autoscaling); an operator's
            # autoscaling_config.policy replaces it (null: Serve's own handle-queue policy).
            "autoscaling_config": {"policy": queue_policy(cfg.served_models[name].family, name, cfg)},
            "ray_actor_options": {
                "num_gpus": gpus,
                # The GPU does the work; on a CPU-only box keep the reservation small
                # so seven families fit beside each other.
                "num_cpus": 1 if gpus else 0.1,
            },
        },
    )
    merged = deep_merge(deep_merge(base, cfg.worker_defaults), fam.deployment)
    # runtime_env.env_vars: merged key by key (ours, then the operator's), never replaced.
    user_env = {}
    for layer in (cfg.worker_defaults, fam.deployment):
        user_env.update(((layer.get("ray_actor_options") or {}).get("runtime_env") or {}).get("env_vars") or {})
    actor = merged.setdefault("ray_actor_options", {})
    runtime_env = dict(actor.get("runtime_env") or {})
    runtime_env["env_vars"] = worker_env_vars(cfg, user_env)
    actor["runtime_env"] = runtime_env
    return _finish_scaling(_place_ranks(merged, fam.parallel.world_size))


def dispatch_window(name: str, cfg: VideoGenAppConfig) -> int:
    """How many of the served model ``name``'s jobs one ingress keeps in its worker handle at once: one per
    replica it may have, plus one waiting for the next free replica. The rest of the backlog waits in the store
    (``service.dispatch``), where the autoscaling policy counts it (``serve.queue_autoscaling``)."""
    options = worker_deployment_options(name, cfg, num_gpus=0)  # replica counts do not depend on the GPUs
    replicas = options.get("num_replicas") or (options.get("autoscaling_config") or {}).get("max_replicas", 1)
    return int(replicas) + 1


def rank_bundle(actor_options: dict[str, Any]) -> dict[str, float]:
    """What one rank of a multi-device replica reserves: the replica actor's own CPUs and GPUs (and any custom
    resources it asks for, e.g. an accelerator type), so rank 0 fits its bundle exactly as the others do."""
    bundle = {"CPU": actor_options.get("num_cpus", 1), "GPU": actor_options.get("num_gpus", 0)}
    bundle.update(actor_options.get("resources") or {})
    return {key: value for key, value in bundle.items() if value}


def _place_ranks(options: dict[str, Any], world_size: int) -> dict[str, Any]:
    """A replica splitting a job across ``world_size`` ranks asks Serve for one bundle per rank, packed on one
    node (the ranks meet on its loopback; Ulysses' all-to-all runs every layer): Serve places the replica actor
    (rank 0) in bundle 0, and the replica starts ranks 1..N-1 in the others (``serve.parallel_replica``), as Ray
    Serve LLM places a multi-GPU vLLM engine. Bundles an operator configured are kept as they are."""
    if world_size > 1 and not options.get("placement_group_bundles"):
        options["placement_group_bundles"] = [rank_bundle(options["ray_actor_options"])] * world_size
        options.setdefault("placement_group_strategy", "STRICT_PACK")
    return options


def ingress_deployment_options(cfg: VideoGenAppConfig) -> dict[str, Any]:
    options = deep_merge(INGRESS_DEFAULTS, {"name": "VideoGenIngress"})
    options = deep_merge(options, cfg.ingress)
    return _finish_scaling(options)


def worker_settings(name: str, cfg: VideoGenAppConfig) -> WorkerSettings:
    """A worker replica's constructor argument (``name``: the served model's, a family id for its entry)."""
    from videogen.video.registry import get_spec

    served = cfg.served_models[name]
    fam, family = served.config, served.family
    return WorkerSettings(
        name=name,
        family=family,
        model=fam.model,
        policy=fam.policy,
        state_dir=cfg.state_dir,
        journal_mode=cfg.sqlite_journal_mode,
        database_url=cfg.database_url,
        artifacts=cfg.artifacts,
        warm=list(fam.warm) if fam.warm is not None else list(get_spec(family).tasks),
        # Several beats fit in the ingress's timeout, so one slow write is not a death.
        heartbeat_s=max(1.0, min(5.0, cfg.heartbeat_timeout_s / 6)),
        job_timeout_s=cfg.job_timeout_s,
        loras=dict(fam.loras),
        max_loras_per_replica=fam.max_loras_per_replica,
        recipes=dict(fam.recipes),
        cpu_niceness=cfg.worker_cpu_niceness,
        parallel=fam.parallel,
    )
