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

    @property
    def tflops(self) -> float:
        return self.measured_tflops if self.measured_tflops is not None else self.datasheet_tflops

    @property
    def source(self) -> str:
        return "measured" if self.measured_tflops is not None else "datasheet"


DEVICE_PEAKS: tuple[DevicePeak, ...] = (
    # NVIDIA
    DevicePeak("B200", 2250.0),
    DevicePeak("H200", 989.0, measured_tflops=790.0, memory_gb=139.8),  # bf16 matmul measured on the project's H200
    DevicePeak("H100 PCIe", 756.0, memory_gb=79.2),
    DevicePeak("H100 NVL", 835.0),
    DevicePeak("H100", 989.0, memory_gb=79.2),  # SXM ("NVIDIA H100 80GB HBM3")
    DevicePeak("H20", 148.0),
    DevicePeak("A100", 312.0, memory_gb=79.2),  # the 80 GB card (a 40 GB one: pass --vram)
    DevicePeak("L40S", 362.0, memory_gb=44.4),
    DevicePeak("L40", 181.0),
    DevicePeak("L4", 121.0),
    DevicePeak("A10G", 70.0),
    DevicePeak("RTX 4090", 165.0, memory_gb=23.6),
    # AMD
    DevicePeak("MI355X", 2300.0),
    DevicePeak("MI325X", 1307.0, memory_gb=255.7),
    DevicePeak("MI300X", 1307.0, memory_gb=191.5),
    DevicePeak("MI300A", 981.0),
    DevicePeak("MI250X", 383.0, memory_gb=63.9),
    DevicePeak("MI250", 362.0),
    DevicePeak("MI210", 181.0, memory_gb=63.9),
    DevicePeak("7900 XTX", 123.0, memory_gb=23.9),
)


def device_peak(device_name: str | None) -> DevicePeak | None:
    """The table entry for ``device_name``; None when the device is not listed."""
    if not device_name:
        return None
    name = device_name.lower()
    for entry in DEVICE_PEAKS:
        if entry.match.lower() in name:
            return entry
    return None


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
