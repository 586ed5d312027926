"""``ParallelRank``: one rank of a multi-device replica, from joining the group to a pipeline made parallel."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from videogen.video.parallel.cfg import enable_cfg_parallel
from videogen.video.parallel.config import ParallelConfig
from videogen.video.parallel.groups import DEFAULT_TIMEOUT_S, RankGroups, join_replica, leave_replica
from videogen.video.parallel.sequence import enable_sequence_parallel
from videogen.video.parallel.stop import AgreedStop
from videogen.video.parallel.validate import (
    ParallelFacts,
    attention_backend_of,
    check_parallel,
    denoiser_modules,
)


class ParallelRank:
    """This process as rank ``rank`` of a replica split as ``config``; every rank runs the same calls in order."""

    def __init__(self, groups: RankGroups):
        self.groups = groups

    @classmethod
    def join(
        cls,
        config: ParallelConfig,
        rank: int,
        addr: str,
        port: int,
        device: str | Any = "cpu",
        timeout_s: float = DEFAULT_TIMEOUT_S,
    ) -> ParallelRank:
        """Join the replica's process group (returns when every rank has joined)."""
        return cls(join_replica(config, rank, addr, port, device=device, timeout_s=timeout_s))

    @property
    def config(self) -> ParallelConfig:
        return self.groups.config

    @property
    def is_writer(self) -> bool:
        """Rank 0 alone reports progress and events and writes the video."""
        return self.groups.is_writer

    def prepare(self, pipe: Any, family: str, where: str = "parallel") -> dict[str, Any]:
        """Check that ``pipe`` can run split this way (``InvalidRequestError`` naming ``<where>.<field>``), then
        split it: context parallelism on its transformers, the CFG hook on its denoisers. Once per loaded pipeline,
        after its attention backend is set and before its first call. Returns what was applied (for the load
        report)."""
        facts = ParallelFacts.from_pipeline(family, pipe)
        denoisers = list(denoiser_modules(pipe).values())
        backend = attention_backend_of(denoisers[0]) if denoisers else None
        notes = check_parallel(self.config, facts, backend, where)
        sequence = enable_sequence_parallel(pipe, self.groups)
        layout = "sequential" if facts.cfg_mode == "sequential" else "batched"
        cfg = enable_cfg_parallel(pipe, self.groups, layout) if self.config.cfg == 2 else []
        return {
            "parallel": self.config.describe(),
            "world_size": self.config.world_size,
            "rank": self.groups.rank,
            "support": facts.support,
            "sequence_parallel": sequence,
            "cfg_parallel": {"layout": layout, "components": cfg} if cfg else None,
            "attention_backend": backend,
            "notes": notes,
        }

    def should_cancel(self, local: Callable[[], bool] | None = None) -> AgreedStop:
        """The ``should_cancel`` to give ``generate`` on this rank: ``local`` (rank 0: the job store's cancel and
        the job's deadline; other ranks: None) agreed across ranks each time it is asked."""
        return AgreedStop(self.groups, local)

    def same_seed(self, seed: int) -> int:
        """Rank 0's seed on every rank (every rank must draw the same noise)."""
        return int(self.groups.from_rank_zero(seed))

    def close(self) -> None:
        leave_replica()
