"""``build_app``: the one way a VideoGen Serve application is put together.

``build_app(VideoGenAppConfig | dict)`` binds one ``VideoWorker`` deployment
per served model (``VideoWorker_<family>`` for a family's entry,
``VideoWorker_<name>`` for a named model) and the ``VideoGenIngress`` in front
of them, which dispatches each job to its model's deployment by name. Every deployment option and every
replica setting comes from ``videogen.serve.deployment_options``. Used by
``serve_app.py`` (``serve run serve_app:app``), by the Serve config YAMLs in
``deploy/`` (``import_path: videogen.serve.builder:build_app`` with ``args``)
and by tests.
"""

from __future__ import annotations

from typing import Any

from ray import serve
from ray.serve import Application

from videogen.serve.config import VideoGenAppConfig
from videogen.serve.deployment_options import (
    ingress_deployment_options,
    resolve_num_gpus,
    worker_deployment_options,
    worker_settings,
)


def build_app(args: VideoGenAppConfig) -> Application:
    """Build the VideoGen application from a config (a ``VideoGenAppConfig`` or a dict of its fields)."""
    # Imported here: the deployment classes pull in FastAPI and the core, which a
    # process that only validates a config (or inspects the options) does not need.
    from videogen.serve.ingress import VideoGenIngress
    from videogen.serve.parallel_replica import check_served_parallel
    from videogen.serve.service.auth import refuse_keyless_exposure, serve_http_host
    from videogen.serve.worker_deployment import VideoWorker

    cfg = args if isinstance(args, VideoGenAppConfig) else VideoGenAppConfig.model_validate(dict(args or {}))
    # Closed by default: no key anywhere and a proxy beyond loopback is refused here, before anything deploys.
    refuse_keyless_exposure(cfg, serve_http_host())
    gpus = resolve_num_gpus(cfg.num_gpus)
    workers: dict[str, Any] = {}
    for name, served in cfg.served_models.items():
        fam = served.config  # a split the model cannot run is refused here, naming families.<name>.parallel
        check_served_parallel(name, served.family, fam.model, fam.parallel, fam.policy)
        options = worker_deployment_options(name, cfg, num_gpus=gpus)
        workers[name] = serve.deployment(VideoWorker).options(**options).bind(worker_settings(name, cfg))
    ingress = serve.deployment(VideoGenIngress).options(**ingress_deployment_options(cfg))
    # The ingress is bound with the validated config itself: one source of truth, typed.
    return ingress.bind(cfg, workers)
