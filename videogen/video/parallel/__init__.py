"""One job on several devices: CFG-parallel and sequence-parallel (Ulysses, ring) ranks of one replica.

The modules, one job each: ``config`` (``ParallelConfig``: ``cfg`` x ``ulysses`` x ``ring`` ranks), ``validate``
(whether a model can take it, refused naming the field), ``groups`` (``torch.distributed`` on the node's loopback
and the device mesh), ``sequence`` (diffusers' ``enable_parallelism`` on every transformer), ``cfg`` (the two
guidance branches on two rank groups), ``stop`` (one stop decision for all ranks), ``rank`` (``ParallelRank``,
which ties them together).

How a replica uses it (the Ray wiring is the serve layer's): the replica's placement group holds one bundle per
rank on one node. Rank 0 (the replica itself) picks ``port = free_loopback_port()``, starts ranks 1..N-1 as actors in
the other bundles, and every rank then does the same, in the same order::

    rank = ParallelRank.join(config, rank_index, "127.0.0.1", port, device=...)  # all ranks meet here
    loaded = worker.warm(family, task)                    # the same pipeline on every rank
    report = rank.prepare(loaded.pipe, family, where=f"families.{family}.parallel")
    request = request.model_copy(update={"seed": rank.same_seed(seed)})  # or rank 0 sends it with the request
    worker.generate(request, path if rank.is_writer else None, on_progress=... if rank.is_writer else None,
                    should_cancel=rank.should_cancel(job_cancelled if rank.is_writer else None))

Only rank 0 reports progress and events and writes the video; a rank that dies fails the job (the others' next
collective fails at the group's timeout, or at once when Ray kills the group), and the replica restarts with its
whole group. ``validate.check_parallel`` with ``ParallelFacts.from_model_dir`` refuses a config at build time.
"""

from __future__ import annotations

from videogen.video.parallel.config import MESH_DIMS, ParallelConfig
from videogen.video.parallel.groups import RankGroups, free_loopback_port, join_replica, leave_replica
from videogen.video.parallel.rank import ParallelRank
from videogen.video.parallel.stop import AgreedStop, agreed_stop
from videogen.video.parallel.validate import ParallelFacts, check_parallel, check_tokens_split

__all__ = [
    "MESH_DIMS",
    "AgreedStop",
    "ParallelConfig",
    "ParallelFacts",
    "ParallelRank",
    "RankGroups",
    "agreed_stop",
    "check_parallel",
    "check_tokens_split",
    "free_loopback_port",
    "join_replica",
    "leave_replica",
]
