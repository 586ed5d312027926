"""One rank's process groups: ``torch.distributed`` joined on the node's loopback, and the device mesh.

The mesh has the dimensions ``MESH_DIMS`` (``cfg``, ``ring``, ``ulysses``): the CFG exchange runs in the
``cfg`` dimension's group, diffusers' context parallelism in the ``ring`` x ``ulysses`` submesh. NCCL (RCCL on
ROCm, which torch also calls ``nccl``) on GPUs, gloo on the CPU.

The rendezvous is on loopback only: the ranks of a replica are packed on one node (Ray's ``STRICT_PACK``), and a
``torch.distributed`` store must never listen beyond it.
"""

from __future__ import annotations

import ipaddress
import socket
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from videogen.video.parallel.config import MESH_DIMS, ParallelConfig

# How long a collective may wait for the other ranks before it fails (a dead rank must fail the job, not hang it).
DEFAULT_TIMEOUT_S = 600.0


@dataclass
class RankGroups:
    """This process's place in a replica: its rank, its device and the mesh over the replica's ranks."""

    config: ParallelConfig
    rank: int
    device: Any  # torch.device
    mesh: Any  # torch.distributed.device_mesh.DeviceMesh over MESH_DIMS

    @property
    def world_size(self) -> int:
        return self.config.world_size

    @property
    def is_writer(self) -> bool:
        """Rank 0 alone reports progress and events and writes the video; the others compute with it."""
        return self.rank == 0

    @property
    def cfg_group(self):
        """The ranks that hold the other CFG branch of this rank's tokens."""
        return self.mesh.get_group("cfg")

    @property
    def cfg_rank(self) -> int:
        """0: the conditional branch (and the first half of a batch), 1: the unconditional one."""
        return self.mesh.get_local_rank("cfg")

    @property
    def sequence_mesh(self):
        """The ``ring`` x ``ulysses`` submesh diffusers' context parallelism runs in."""
        return self.mesh["ring", "ulysses"]

    def from_rank_zero(self, value: Any) -> Any:
        """Rank 0's ``value`` on every rank (e.g. a seed drawn at random: every rank must denoise the same noise)."""
        import torch.distributed as dist

        box = [value]
        dist.broadcast_object_list(box, src=0, device=self.device if self.device.type != "cpu" else None)
        return box[0]


def check_loopback(addr: str) -> None:
    if addr != "localhost" and not ipaddress.ip_address(addr).is_loopback:
        raise ValueError(f"rendezvous address {addr!r}: the ranks of a replica meet on the node's loopback only")


def free_loopback_port(addr: str = "127.0.0.1") -> int:
    """A port free on ``addr`` now, for rank 0 to host the rendezvous on (the OS picks it)."""
    check_loopback(addr)
    with socket.socket(socket.AF_INET6 if ":" in addr else socket.AF_INET) as sock:
        sock.bind((addr, 0))
        return sock.getsockname()[1]


def join_replica(
    config: ParallelConfig,
    rank: int,
    addr: str,
    port: int,
    device: str | Any = "cpu",
    timeout_s: float = DEFAULT_TIMEOUT_S,
) -> RankGroups:
    """Join the replica's process group as ``rank`` (rank 0 hosts the store at ``addr:port``) and build the mesh.

    Every rank calls this with the same ``config``, ``addr`` and ``port``; it returns once all have joined."""
    import torch
    import torch.distributed as dist
    from torch.distributed.device_mesh import init_device_mesh

    check_loopback(addr)
    if not 0 <= rank < config.world_size:
        raise ValueError(f"rank {rank} is outside the replica's {config.world_size} ranks")
    device = torch.device(device)
    if device.type == "cuda":
        # The device Ray assigned this rank's actor (it sees only that one, as Ray Serve LLM's workers do).
        torch.cuda.set_device(device)
    host = f"[{addr}]" if ":" in addr else addr
    dist.init_process_group(
        backend="nccl" if device.type == "cuda" else "gloo",
        init_method=f"tcp://{host}:{port}",
        rank=rank,
        world_size=config.world_size,
        timeout=timedelta(seconds=timeout_s),
    )
    mesh = init_device_mesh(device.type, config.mesh_shape, mesh_dim_names=MESH_DIMS)
    return RankGroups(config=config, rank=rank, device=device, mesh=mesh)


def leave_replica() -> None:
    """Destroy this process's process group (the replica is stopping)."""
    import torch.distributed as dist

    if dist.is_initialized():
        dist.destroy_process_group()
