"""A worker replica that splits each job across several ranks (``families.<id>.parallel``), placed by Ray.

Serve gives the replica a placement group of one bundle per rank, packed on one node
(``deployment_options._place_ranks``) and runs the replica actor (rank 0) in bundle 0. ``ParallelReplica`` starts
ranks 1..N-1 as ``RankWorker`` actors in the other bundles, each with the bundle's resources (so Ray assigns each its
own GPU and sets its visible devices: nothing here sets ``CUDA_VISIBLE_DEVICES``/``HIP_VISIBLE_DEVICES``), and all
ranks meet on the node's loopback (``video.parallel.groups``). The actors are owned by the replica: when Serve stops
or replaces it, Ray stops them with it, so a replica restarts with its whole group.

Every rank runs the same calls in the same order: load, make parallel (``ParallelRank.prepare``), warm up, and
per job ``GenerationWorker.generate`` with the same request and seed. Rank 0 alone reports progress and writes the
video; the job store's cancel and the job's deadline are read by rank 0 and agreed by all ranks at every step
(``AgreedStop``), so no rank is left inside a collective.

A rank that dies (its process killed, its node's OOM killer) is seen through a call that never returns while the
actor lives (``lifeline``): the replica reports itself unhealthy (Serve replaces it with a new group) and a job
it was running goes back to the queue (``RankLost``). The same happens when the ranks fall out of step (rank 0 ended a
job and another rank did not within ``RANKS_SETTLE_S``): a group out of step cannot run another job.
"""

from __future__ import annotations

import logging
import random
import threading
from typing import TYPE_CHECKING, Any

from videogen.errors import InvalidRequestError, ModelUnavailableError
from videogen.rocm_env import apply_rocm_env
from videogen.serve.cpu_priority import lower_cpu_priority
from videogen.serve.replica_settings import WorkerSettings, generation_worker
from videogen.video.parallel.config import ParallelConfig

if TYPE_CHECKING:
    from videogen.video.request import VideoRequest

logger = logging.getLogger("videogen.serve.parallel")

RANK_ADDR = "127.0.0.1"  # the ranks of a replica are packed on one node: they meet on its loopback only
# After rank 0 ends a job, how long the other ranks may take to end theirs (they decode their copy of the video
# and write none; a rank stuck in a collective never ends): past it, the group is out of step and the replica is replaced.
RANKS_SETTLE_S = 120.0
LOST_RANK_GRACE_S = 10.0  # after rank 0's call failed: how long Ray may take to notice a rank's process is gone


class RankLost(RuntimeError):
    """A rank of this replica died, or the ranks fell out of step: the job goes back to the queue and the
    replica is replaced with its whole group."""


def config_field(name: str, family: str) -> str:
    """Where a served model's split is configured: its family's entry, or a named model's."""
    return f"families.{name}.parallel" if name == family else f"models.{name}.parallel"


def check_served_parallel(name: str, family: str, model: str | None, parallel: ParallelConfig, policy: dict) -> None:
    """Refuse at build time a split the model cannot run (``ValueError`` naming ``families.<name>.parallel.<f>``
    or ``models.<name>.parallel.<f>``).

    Read from the model's configs, no weights (an ``arch:`` preset, the tiny model, a local directory, the HF
    cache); when the model is only on the worker nodes, what the family alone decides (CFG) is checked here and
    the rest by each replica when it loads (a load error naming the same field)."""
    if parallel.world_size == 1:
        return
    from videogen.video.model_source import ModelSource
    from videogen.video.parallel.validate import ParallelFacts, check_parallel
    from videogen.video.registry import get_spec

    source = ModelSource(family=family, value=model)
    try:
        facts = ParallelFacts.from_source(source, get_spec(family).tasks[0])
    except ModelUnavailableError:
        facts = None
    where = config_field(name, family)
    try:
        if facts is None:
            check_parallel(parallel.model_copy(update={"ulysses": 1, "ring": 1}), _family_facts(family), where=where)
        else:
            check_parallel(parallel, facts, policy.get("attention_backend"), where)
    except InvalidRequestError as exc:  # its message starts with the field
        raise ValueError(f"{exc.message} (allowed: {exc.allowed})") from exc


def _family_facts(family: str):
    from videogen.video.parallel.validate import ParallelFacts, _cfg_mode

    return ParallelFacts(family=family, cfg_mode=_cfg_mode(family), denoisers=())


def rank_device() -> str:
    """The device this rank computes on: the one GPU Ray assigned its actor, else the CPU."""
    import torch

    return "cuda" if torch.cuda.is_available() else "cpu"


def _prepare(worker: Any, rank: Any, settings: WorkerSettings, task: str, prepared: set[str]) -> dict[str, Any]:
    """Load ``task``'s pipeline and split it across the ranks, once (every rank calls this in the same order)."""
    loaded = worker.warm(settings.family, task)
    if task not in prepared:
        loaded.provenance["parallel"] = rank.prepare(
            loaded.pipe, settings.family, where=config_field(settings.name, settings.family)
        )
        prepared.add(task)
    return loaded.provenance["parallel"]


class RankWorker:
    """Rank 1..N-1 of a multi-device replica: a Ray actor in one bundle of the replica's placement group."""

    def __init__(self, settings: WorkerSettings, rank: int, port: int):
        apply_rocm_env()  # before torch, as in the replica itself
        lower_cpu_priority(settings.cpu_niceness)
        from videogen.video.parallel.rank import ParallelRank

        self.settings = settings
        # No job timeout here: rank 0 alone decides whether a job may run (its refusal ends every rank's call).
        self.worker = generation_worker(settings, job_timeout_s=None)
        self.rank = ParallelRank.join(settings.parallel, rank, RANK_ADDR, port, device=rank_device())
        self._prepared: set[str] = set()
        self._gone = threading.Event()

    def ready(self) -> int:
        return self.rank.groups.rank

    def lifeline(self) -> None:
        """Never returns while this actor lives: rank 0 learns of its death when this call fails."""
        self._gone.wait()

    def warm(self, task: str) -> dict[str, Any]:
        return _prepare(self.worker, self.rank, self.settings, task, self._prepared)

    def warm_up(self, task: str) -> None:
        self.worker.warm_up(self.settings.family, task)

    def generate(self, request: VideoRequest) -> int:
        """Compute this rank's share of the job; only rank 0 encodes and writes the video."""
        _prepare(self.worker, self.rank, self.settings, request.task, self._prepared)
        self.worker.generate(request, None, should_cancel=self.rank.should_cancel(None))
        return self.rank.groups.rank


class ParallelReplica:
    """Rank 0's side: starts the other ranks, joins them, and runs every call on all of them at once.

    ``warm``, ``warm_up`` and ``generate`` take the same arguments as ``GenerationWorker``'s, so the replica calls
    this object where a one-device replica calls its worker."""

    def __init__(self, settings: WorkerSettings, worker: Any, replica_id: str):
        import ray
        from ray.util.placement_group import get_current_placement_group
        from ray.util.scheduling_strategies import PlacementGroupSchedulingStrategy

        from videogen.video.parallel.groups import free_loopback_port
        from videogen.video.parallel.rank import ParallelRank

        self.settings, self.worker = settings, worker
        world = settings.parallel.world_size
        group = get_current_placement_group()
        if group is None or len(group.bundle_specs) < world:
            raise RuntimeError(
                f"{config_field(settings.name, settings.family)} needs {world} ranks: the deployment's placement_group_bundles must "
                f"hold one bundle per rank (it has {0 if group is None else len(group.bundle_specs)})"
            )
        port = free_loopback_port(RANK_ADDR)
        actor = ray.remote(RankWorker)
        self.ranks = [
            actor.options(
                name=f"videogen-rank{index}-{replica_id}",
                # one thread for the rank's work, one for its lifeline
                max_concurrency=2,
                max_restarts=0,
                scheduling_strategy=PlacementGroupSchedulingStrategy(group, placement_group_bundle_index=index),
                **_actor_resources(group.bundle_specs[index]),
            ).remote(settings, index, port)
            for index in range(1, world)
        ]
        self.rank = ParallelRank.join(settings.parallel, 0, RANK_ADDR, port, device=rank_device())
        ray.get([r.ready.remote() for r in self.ranks])
        self._lifelines = [r.lifeline.remote() for r in self.ranks]
        self._prepared: set[str] = set()
        self.out_of_step: str | None = None
        logger.info("replica %s: %d ranks joined (%s)", replica_id, world, settings.parallel.describe())

    # -- health ----------------------------------------------------------------------
    def lost(self, wait_s: float = 0.0) -> str | None:
        """Why this group can no longer run a job (a rank died, or the ranks fell out of step); None when it can."""
        import ray

        ready, _ = ray.wait(self._lifelines, num_returns=1, timeout=wait_s)
        if ready:
            index = self._lifelines.index(ready[0]) + 1
            return f"rank {index} of {self.settings.parallel.world_size} died"
        return self.out_of_step

    # -- the calls every rank makes ------------------------------------------------------
    def _on_all(self, method: str, arg: Any, local) -> Any:
        """``local()`` here while every other rank runs ``method(arg)``; their ends checked before returning."""

        refs = [getattr(r, method).remote(arg) for r in self.ranks]
        try:
            result = local()
        except BaseException as exc:
            self._settle(refs, failed=exc)
            raise
        self._settle(refs)
        return result

    def _settle(self, refs: list, failed: BaseException | None = None) -> None:
        import ray

        if failed is not None and (why := self.lost(LOST_RANK_GRACE_S)):
            raise RankLost(why) from failed
        done, pending = ray.wait(refs, num_returns=len(refs), timeout=RANKS_SETTLE_S)
        if pending:
            self.out_of_step = f"{len(pending)} rank(s) did not end the call rank 0 ended ({type(failed).__name__})"
            raise RankLost(self.out_of_step) from failed
        for ref in done:
            try:
                ray.get(ref)
            except Exception as exc:  # noqa: BLE001 - the same error as rank 0's, or a rank lost: said once
                if failed is None:
                    if why := self.lost(LOST_RANK_GRACE_S):
                        raise RankLost(why) from exc
                    logger.warning("a rank ended its share with %s while rank 0 succeeded", exc)

    def warm(self, family: str, task: str):
        self._on_all("warm", task, lambda: _prepare(self.worker, self.rank, self.settings, task, self._prepared))
        return self.worker.warm(family, task)

    def warm_up(self, family: str, task: str):
        return self._on_all("warm_up", task, lambda: self.worker.warm_up(family, task))

    def generate(self, request: VideoRequest, output_path: Any, on_progress=None, should_cancel=None):
        """The job on every rank: rank 0's seed (drawn here when the request has none) and its stop decision."""
        if request.seed is None:  # every rank must denoise the same noise
            request = request.model_copy(update={"seed": random.randrange(2**31)})
        self.warm(request.family, request.task)  # a task not warmed at start is loaded and split on every rank
        agreed = self.rank.should_cancel(should_cancel)
        return self._on_all(
            "generate",
            request,
            lambda: self.worker.generate(request, output_path, on_progress=on_progress, should_cancel=agreed),
        )

    def close(self) -> None:
        import ray

        for rank in self.ranks:
            ray.kill(rank, no_restart=True)
        self.rank.close()


def _actor_resources(bundle: dict[str, float]) -> dict[str, Any]:
    """A rank actor reserves exactly its bundle: its CPUs, its GPU (Ray then makes it the only one it sees)."""
    extra = {k: v for k, v in bundle.items() if k not in ("CPU", "GPU") and not k.startswith(("bundle_group", "node:"))}
    return {"num_cpus": bundle.get("CPU", 0), "num_gpus": bundle.get("GPU", 0), "resources": extra}
