"""Dense bf16/fp16 matrix throughput per device, for turning FLOPs into seconds.

Keyed by a substring of the device name torch reports (``torch.cuda.get_device_name``;
ROCm reports "AMD Instinct MI300X" and the like), matched case-insensitively, first match
wins (so "H100 PCIe" is listed before "H100"). ``datasheet`` values are the vendor's
nominal dense (no sparsity) bf16/fp16 tensor-core figures with fp32 accumulation;
``measured`` values were measured on such a machine (a large bf16 matmul) and are what a
real kernel reaches. Unknown devices give None: no time estimate rather than a wrong one.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class DevicePeak:
    match: str
    datasheet_tflops: float
    measured_tflops: float | None = None

    @property
    def tflops(self) -> float:
        return self.measured_tflops if self.measured_tflops is not None else self.datasheet_tflops

    @property
    def source(self) -> str:
        return "measured" if self.measured_tflops is not None else "datasheet"


DEVICE_PEAKS: tuple[DevicePeak, ...] = (
    # NVIDIA
    DevicePeak("B200", 2250.0),
    DevicePeak("H200", 989.0, measured_tflops=790.0),  # bf16 matmul measured on the project's H200
    DevicePeak("H100 PCIe", 756.0),
    DevicePeak("H100 NVL", 835.0),
    DevicePeak("H100", 989.0),  # SXM ("NVIDIA H100 80GB HBM3")
    DevicePeak("H20", 148.0),
    DevicePeak("A100", 312.0),
    DevicePeak("L40S", 362.0),
    DevicePeak("L40", 181.0),
    DevicePeak("L4", 121.0),
    DevicePeak("A10G", 70.0),
    DevicePeak("RTX 4090", 165.0),
    # AMD
    DevicePeak("MI355X", 2300.0),
    DevicePeak("MI325X", 1307.0),
    DevicePeak("MI300X", 1307.0),
    DevicePeak("MI300A", 981.0),
    DevicePeak("MI250X", 383.0),
    DevicePeak("MI250", 362.0),
    DevicePeak("MI210", 181.0),
    DevicePeak("7900 XTX", 123.0),
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
