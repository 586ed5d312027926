"""Replica affinity for LoRA adapters, through Ray Serve's model multiplexing.

A job's adapter set (its adapters' names, sorted and joined: ``lora_config.adapter_set_id``; '' for none) is
its *multiplexed model id*: the dispatcher calls the worker with ``handle.options(multiplexed_model_id=...)``,
and a worker replica that ran a job with that set tells Serve it holds it (an ``@serve.multiplexed`` loader,
``adapter_set_loader``). Serve's router then prefers a replica holding the set, falling back (after about a
second) to the replicas holding the fewest sets, then to any. Serve only routes by the id: the adapters
themselves are loaded by the job (``videogen.video.worker_loras``), and the worker's own least-recently-used
list of adapters decides what stays loaded. A set Serve still counts may have lost an adapter to that list;
such a job then loads it again (the routing is a preference, never a correctness condition). Jobs without
adapters keep Serve's usual routing, and the worker still claims each job from the store by its id.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from typing import Any

logger = logging.getLogger("videogen.serve.worker")


def adapter_set_loader(capacity: int) -> Callable[[str], Awaitable[str]]:
    """An ``@serve.multiplexed`` loader for adapter sets, holding up to ``capacity`` of them on this replica.
    Called within a request, it registers the request's set with Serve; it loads nothing itself."""
    from ray import serve

    async def adapter_set_held(adapter_set: str) -> str:
        return adapter_set

    return serve.multiplexed(max_num_models_per_replica=capacity)(adapter_set_held)


async def note_adapter_set(loader: Callable[[str], Awaitable[str]] | None) -> str:
    """The current request's adapter set ('' for none), registered with Serve as held by this replica."""
    try:
        from ray import serve

        adapter_set = serve.get_multiplexed_model_id()
    except Exception:  # noqa: BLE001 - outside a Serve request (unit tests): no routing to tell
        return ""
    if adapter_set and loader is not None:
        try:
            await loader(adapter_set)
        except Exception:  # noqa: BLE001 - affinity is a preference: the job runs either way
            logger.warning("could not register adapter set %s with Serve", adapter_set, exc_info=True)
    return adapter_set


def routed(handle: Any, adapter_set: str) -> Any:
    """``handle`` routing to a replica holding ``adapter_set`` where one exists (itself for '')."""
    return handle.options(multiplexed_model_id=adapter_set) if adapter_set else handle
