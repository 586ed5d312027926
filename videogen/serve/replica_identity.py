"""Who a worker replica is: its Serve replica id, its Ray node, actor and the accelerators Ray assigned it."""

from __future__ import annotations

import os
import time
from typing import Any


def replica_identity() -> dict[str, Any]:
    """The replica's identity as the store records it (outside Serve or Ray: a local id, no node)."""
    import ray

    info: dict[str, Any] = {"pid": os.getpid()}
    try:
        from ray import serve

        ctx = serve.get_replica_context()
        info["replica_id"] = (
            f"{ctx.replica_id.deployment_id.app_name}#{ctx.replica_id.deployment_id.name}#{ctx.replica_id.unique_id}"
        )
        info["deployment"] = ctx.replica_id.deployment_id.name
        info["app"] = ctx.replica_id.deployment_id.app_name
    except Exception:  # noqa: BLE001 - outside Serve (unit tests)
        info["replica_id"] = f"local#{os.getpid()}#{time.time_ns()}"
    if not ray.is_initialized():
        # ray.get_runtime_context() would start (or attach to) a Ray cluster of its own: a worker built outside
        # Ray, as the tests build one, has no node to report.
        return info
    try:
        rc = ray.get_runtime_context()
        info["node_id"] = rc.get_node_id()
        info["actor_id"] = rc.get_actor_id()
        info["node_ip"] = ray.util.get_node_ip_address()
        info["accelerator_ids"] = {k: list(v) for k, v in rc.get_accelerator_ids().items() if v}
    except Exception:  # noqa: BLE001 - outside Ray: the identity has no node or actor
        pass
    return info
