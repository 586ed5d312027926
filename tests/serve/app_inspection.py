"""Reading a built Serve application without Ray running (a test helper).

It reads Ray-private attributes (``_bound_deployment``, ``_deployment_config``),
which is why it lives with the tests and not in the package: a Ray upgrade
that moves them breaks a test, never the service.
"""

from __future__ import annotations

from typing import Any

from ray.serve import Application


def describe_app(app: Application) -> dict[str, dict[str, Any]]:
    """Deployment name -> what Serve will run it with; ``init_args`` leaves out the bound children."""
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
            "init_args": [a for a in dep.init_args if not _holds_apps(a)],
        }
        replica = dep._replica_config
        if replica.placement_group_bundles:  # a multi-device replica: one bundle per rank
            out[dep.name]["placement_group_bundles"] = replica.placement_group_bundles
            out[dep.name]["placement_group_strategy"] = replica.placement_group_strategy
        for arg in dep.init_args:
            for child in arg.values() if isinstance(arg, dict) else [arg]:
                if isinstance(child, Application):
                    visit(child)

    visit(app)
    return out


def _holds_apps(arg: Any) -> bool:
    return isinstance(arg, dict) and any(isinstance(v, Application) for v in arg.values())
