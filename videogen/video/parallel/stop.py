"""One stop decision for all ranks: each rank's own flag, reduced (MAX) across the replica at the same point.

A cancel or a timeout is seen by one rank (rank 0 reads the job store); if that rank alone left the pipeline,
the others would wait in the next step's collective until the timeout. Reducing the flag at every step end makes
every rank leave at the same step, none of them inside a collective.
"""

from __future__ import annotations

from collections.abc import Callable

from videogen.video.parallel.groups import RankGroups


def agreed_stop(local: bool, groups: RankGroups) -> bool:
    """True on every rank when any rank's ``local`` is True. Every rank must call it at the same point."""
    import torch
    import torch.distributed as dist

    flag = torch.tensor([1 if local else 0], dtype=torch.int32, device=groups.device)
    dist.all_reduce(flag, op=dist.ReduceOp.MAX)
    return bool(flag.item())


class AgreedStop:
    """A ``should_cancel`` for ``GenerationWorker.generate`` on a rank: this rank's own predicate, agreed across
    the replica each time it is asked.

    The worker asks before loading, at each denoising step and after decoding; every rank runs the same
    ``generate``, so every rank asks the same number of times. ``asked`` counts them (for logs and tests)."""

    def __init__(self, groups: RankGroups, local: Callable[[], bool] | None = None):
        self.groups = groups
        self.local = local or (lambda: False)
        self.asked = 0

    def __call__(self) -> bool:
        self.asked += 1
        return agreed_stop(bool(self.local()), self.groups)
