"""``build_app``: the one way a VideoGen Serve application is put together.

``build_app(VideoGenAppConfig | dict)`` binds one ``VideoWorker`` deployment
per configured family (named ``VideoWorker_<family>``) and the
``VideoGenIngress`` in front of them. Every deployment option comes from
``videogen.serve.deployment_options``. Used by ``serve_app.py``
(``serve run serve_app:app``), by the Serve config YAMLs in ``deploy/``
(``import_path: videogen.serve.builder:build_app`` with ``args``) and by tests.
"""

from __future__ import annotations

from typing import Any

from ray import serve
from ray.serve import Application

from videogen.serve.config import VideoGenAppConfig
from videogen.serve.deployment_options import (
    ingress_deployment_options,
    ingress_settings,
    resolve_num_gpus,
    worker_deployment_options,
    worker_settings,
)


def build_app(args: VideoGenAppConfig) -> Application:
    """Build the VideoGen application from a config (a ``VideoGenAppConfig`` or a dict of its fields)."""
    from videogen.serve.ingress import VideoGenIngress
    from videogen.serve.worker_deployment import VideoWorker

    cfg = args if isinstance(args, VideoGenAppConfig) else VideoGenAppConfig.model_validate(dict(args or {}))
    gpus = resolve_num_gpus(cfg.num_gpus)
    workers: dict[str, Any] = {}
    for family in cfg.families:
        options = worker_deployment_options(family, cfg, num_gpus=gpus)
        workers[family] = serve.deployment(VideoWorker).options(**options).bind(worker_settings(family, cfg))
    ingress = serve.deployment(VideoGenIngress).options(**ingress_deployment_options(cfg))
    return ingress.bind(ingress_settings(cfg), workers)


def describe_app(app: Application) -> dict[str, dict[str, Any]]:
    """Deployment name -> what Serve will run it with, read from a built app without Ray running."""
    out: dict[str, dict[str, Any]] = {}

    def visit(node: Application) -> None:
        dep = node._bound_deployment
        cfg = dep._deployment_config
        auto = cfg.autoscaling_config
        out[dep.name] = {
            "ray_actor_options": dep.ray_actor_options,
            "num_replicas": cfg.num_replicas,
            "autoscaling_config": auto.model_dump() if auto is not None else None,
            "max_ongoing_requests": cfg.max_ongoing_requests,
            "health_check_period_s": cfg.health_check_period_s,
            "health_check_timeout_s": cfg.health_check_timeout_s,
            "graceful_shutdown_timeout_s": cfg.graceful_shutdown_timeout_s,
            "init_args": [a for a in dep.init_args if not isinstance(a, dict) or not any(isinstance(v, Application) for v in a.values())],
        }
        for arg in dep.init_args:
            children = arg.values() if isinstance(arg, dict) else [arg]
            for child in children:
                if isinstance(child, Application):
                    visit(child)

    visit(app)
    return out
