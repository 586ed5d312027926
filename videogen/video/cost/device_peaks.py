"""The one device table: dense bf16/fp16 matrix throughput and memory per device.

Keyed by a substring of the device name torch reports (``torch.cuda.get_device_name``;
ROCm reports "AMD Instinct MI300X" and the like), matched case-insensitively, first match
wins (so "H100 PCIe" is listed before "H100"). ``datasheet`` values are the vendor's
nominal dense (no sparsity) bf16/fp16 tensor-core figures with fp32 accumulation;
``measured`` values were measured on such a machine (a large bf16 matmul) and are what a
real kernel reaches. ``memory_gb`` is the total memory as torch reports it (bytes / 2**30:
an "80 GB" H100 shows 79.2), for estimating on a named card without one (``videogen estimate
--gpu``); None where it was not recorded. Unknown devices give None: no time estimate rather
than a wrong one. The time a real job takes is these peaks at the efficiency that
``published_runs`` derives; a device outside the table measures its own matmul rate instead
(``measure_matmul_tflops``).

``link_gbps`` is what one device sends to the other ranks of a replica, in GB/s, one direction: the vendors'
NVLink / Infinity Fabric / PCIe figures count both directions together (H100's "900 GB/s" is 450 out while 450 come
in), and a collective's time is the bytes a rank sends over its outgoing direction (``cost.parallel_cost``).
``peer_link_gbps`` is set where there is no switch (AMD's Infinity Fabric mesh: one link per peer): a group of n
ranks then reaches at most (n-1) x that; None: a switch (NVSwitch, a PCIe switch) gives every peer the whole link.
Nominal figures, like the datasheet FLOP/s: a lower bound on the time, never a measured rate. None: not recorded
(no communication time rather than a wrong one).
"""

from __future__ import annotations

import time
from dataclasses import dataclass


@dataclass(frozen=True)
class DevicePeak:
    match: str
    datasheet_tflops: float
    measured_tflops: float | None = None
    memory_gb: float | None = None
    link_gbps: float | None = None
    peer_link_gbps: float | None = None

    @property
    def tflops(self) -> float:
        return self.measured_tflops if self.measured_tflops is not None else self.datasheet_tflops

    @property
    def source(self) -> str:
        return "measured" if self.measured_tflops is not None else "datasheet"


# Link sources: NVIDIA's H100/H200 datasheets (NVLink 900 GB/s, PCIe Gen5 128 GB/s), A100 datasheet (NVLink 600 GB/s),
# HGX B200 (NVLink 5, 1.8 TB/s per GPU), L40S/L4/A10G (PCIe Gen4 x16, 64 GB/s); AMD's MI300X/MI325X datasheets (7
# Infinity Fabric links of 128 GB/s, 896 GB/s peak aggregate) and MI355X (7 links of 153.6 GB/s, 1075 GB/s). All
# bidirectional: halved here. Where two link kinds exist the slower one a whole replica relies on is listed.
_NVLINK4 = 450.0  # 18 NVLink 4 links x 50 GB/s = 900 GB/s both ways, through NVSwitch on an HGX board
_PCIE4 = 32.0  # PCIe Gen4 x16: 64 GB/s both ways (cards without NVLink; peer traffic crosses the host's switch)
_PCIE5 = 64.0  # PCIe Gen5 x16: 128 GB/s both ways
_XGMI_MI300 = 64.0  # one Infinity Fabric link, 128 GB/s both ways; MI300X/MI325X have 7, one to each peer of 8

DEVICE_PEAKS: tuple[DevicePeak, ...] = (
    # NVIDIA
    DevicePeak("B200", 2250.0, link_gbps=900.0),  # NVLink 5: 1.8 TB/s both ways
    # the measured figure: a bf16 matmul on the project's H200
    DevicePeak("H200", 989.0, measured_tflops=790.0, memory_gb=139.8, link_gbps=_NVLINK4),
    # NVLink bridges join H100 NVL cards in pairs only (600 GB/s both ways): a replica over more meets over PCIe Gen5
    DevicePeak("H100 PCIe", 756.0, memory_gb=79.2, link_gbps=_PCIE5),
    DevicePeak("H100 NVL", 835.0, link_gbps=_PCIE5),
    DevicePeak("H100", 989.0, memory_gb=79.2, link_gbps=_NVLINK4),  # SXM ("NVIDIA H100 80GB HBM3")
    DevicePeak("H20", 148.0, link_gbps=_NVLINK4),
    # the 80 GB SXM card, NVLink 3: 600 GB/s both ways (a 40 GB one: pass --vram; a PCIe A100 is _PCIE4)
    DevicePeak("A100", 312.0, memory_gb=79.2, link_gbps=300.0),
    DevicePeak("L40S", 362.0, memory_gb=44.4, link_gbps=_PCIE4),
    DevicePeak("L40", 181.0, link_gbps=_PCIE4),
    DevicePeak("L4", 121.0, link_gbps=_PCIE4),
    DevicePeak("A10G", 70.0, link_gbps=_PCIE4),
    # no peer-to-peer on GeForce cards: NCCL stages through host memory, so this is an upper bound on its rate
    DevicePeak("RTX 4090", 165.0, memory_gb=23.6, link_gbps=_PCIE4),
    # AMD: a mesh, one Infinity Fabric link to each peer (no switch)
    DevicePeak("MI355X", 2300.0, link_gbps=7 * 76.8, peer_link_gbps=76.8),
    DevicePeak("MI325X", 1307.0, memory_gb=255.7, link_gbps=7 * _XGMI_MI300, peer_link_gbps=_XGMI_MI300),
    DevicePeak("MI300X", 1307.0, memory_gb=191.5, link_gbps=7 * _XGMI_MI300, peer_link_gbps=_XGMI_MI300),
    DevicePeak("MI300A", 981.0),
    DevicePeak("MI250X", 383.0, memory_gb=63.9),
    DevicePeak("MI250", 362.0),
    DevicePeak("MI210", 181.0, memory_gb=63.9),
    DevicePeak("7900 XTX", 123.0, memory_gb=23.9, link_gbps=_PCIE4),
)

# Ranks on a CPU-only host meet over gloo on the loopback. Measured on the project's 2-core CPU machines (two ranks,
# 16-64 MB a rank): all_to_all_single sent 0.8-1.1 GB/s a rank, all_gather 0.1-0.3 GB/s (bf16 and fp32 alike).
# The all-to-all figure is taken, as the collective that runs every attention layer.
CPU_LOOPBACK_GBPS = 1.0


def device_peak(device_name: str | None) -> DevicePeak | None:
    """The table entry for ``device_name``; None when the device is not listed."""
    if not device_name:
        return None
    name = device_name.lower()
    for entry in DEVICE_PEAKS:
        if entry.match.lower() in name:
            return entry
    return None


def link_gbps(device_name: str | None, is_gpu: bool, group_size: int) -> float | None:
    """GB/s one rank sends to the others of a group of ``group_size`` ranks, one direction (module docstring);
    a CPU host: the loopback; None: a GPU whose link the table does not record."""
    if not is_gpu:
        return CPU_LOOPBACK_GBPS
    entry = device_peak(device_name)
    if entry is None or entry.link_gbps is None:
        return None
    if entry.peer_link_gbps is None:
        return entry.link_gbps
    return min(entry.link_gbps, max(group_size - 1, 1) * entry.peer_link_gbps)


def device_peak_tflops(device_name: str | None) -> float | None:
    entry = device_peak(device_name)
    return entry.tflops if entry is not None else None


def measure_matmul_tflops(device: str = "cpu", dtype: str = "float32", size: int = 1024, reps: int = 5) -> float:
    """TFLOP/s of a ``size``³ matmul in ``dtype`` on ``device`` ('cpu', 'cuda', 'mps'), best of ``reps`` calls:
    what this device's dense math reaches, for a device the table does not list (a CPU, an unlisted GPU)."""
    import torch

    torch_dtype = getattr(torch, dtype)
    a = torch.randn(size, size, device=device).to(torch_dtype)
    b = torch.randn(size, size, device=device).to(torch_dtype)
    sync = getattr(getattr(torch, device, None), "synchronize", None) if device != "cpu" else None
    a @ b  # the first call pays for kernel selection
    best = float("inf")
    for _ in range(reps):
        if sync:
            sync()
        started = time.perf_counter()
        a @ b
        if sync:
            sync()
        best = min(best, time.perf_counter() - started)
    return 2 * size**3 / max(best, 1e-9) / 1e12
