"""Sequence parallel: diffusers' own context parallelism on every transformer of a pipeline.

``enable_parallelism(config=ContextParallelConfig(ulysses_degree=..., ring_degree=..., mesh=...))`` makes each
rank hold a slice of the video tokens (the model's ``_cp_plan`` says where they are split and gathered) and
exchanges them inside attention (Ulysses: an all-to-all over heads; ring: key/value blocks passed around). Wan
2.2 A14B has two transformers (high- and low-noise experts): both get it, each with its own config object.
The mesh given is the replica's whole mesh; diffusers uses its ``ring`` and ``ulysses`` dimensions.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from videogen.video.parallel.groups import RankGroups
from videogen.video.parallel.validate import denoiser_modules


@contextmanager
def one_device_on_cpu_hosts() -> Iterator[None]:
    """Let diffusers 0.42.1's ``enable_parallelism`` run on a host without an accelerator.

    ``ModelMixin._resolve_parallel_config`` (diffusers/models/modeling_utils.py, called by ``enable_parallelism``)
    computes ``torch.device(device_type, rank % torch.accelerator.device_count())``, and that count is 0 on a
    CPU-only host: ZeroDivisionError (0.40 used the device module's count, 1 on CPU). Only there, and only while
    the call runs, the count reads 1, so the device is ``cpu:0``, which is what the CPU ranks run on. A host with
    an accelerator is left as it is. ``tests/unit/test_parallel_ranks.py`` checks that the unpatched call still
    fails on the CPU (drop this when it no longer does) and that the count is restored afterwards.
    """
    import torch

    if torch.accelerator.device_count() > 0:
        yield
        return
    original = torch.accelerator.device_count
    torch.accelerator.device_count = lambda: 1
    try:
        yield
    finally:
        torch.accelerator.device_count = original


def enable_sequence_parallel(pipe: Any, groups: RankGroups) -> list[str]:
    """Split every transformer's tokens across the replica's ``ring`` x ``ulysses`` ranks; the components done.

    Nothing to do for ``sequence_degree`` 1. Every rank must call this, in the same order (it builds groups).
    ``validate.check_parallel`` says beforehand whether the model can take it."""
    from diffusers import ContextParallelConfig

    config = groups.config
    if config.sequence_degree == 1:
        return []
    done = []
    for name, model in denoiser_modules(pipe).items():
        cp_config = ContextParallelConfig(ulysses_degree=config.ulysses, ring_degree=config.ring, mesh=groups.mesh)
        with one_device_on_cpu_hosts():
            model.enable_parallelism(config=cp_config)
        done.append(name)
    return done
