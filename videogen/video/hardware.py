"""The accelerator this process sees: ``VideoHardwareProfile``.

``VideoHardwareProfile.detect()`` describes device 0 (ROCm first, then CUDA, MPS, or
CPU only); ``VideoHardwareProfile.synthetic()`` builds a plausible profile without
hardware, for tests and tools. The profile knows its VRAM tier and whether bf16 is
usable; what to *do* with that is ``videogen.video.policy``'s job.

Nothing here imports torch at module import time: the ROCm environment
(``videogen.rocm_env``) must be in place before torch initialises HIP.
"""

from __future__ import annotations

import os
import platform
import re
from typing import Any, Literal

from pydantic import BaseModel

Backend = Literal["rocm", "cuda", "mps", "cpu"]

TIERS: tuple[str, ...] = ("cpu", "lt12", "12-24", "24-48", "48-80", "80-96", "ge96")

GIB = float(1 << 30)

# Tier boundaries in GB of *total* VRAM (as torch reports it, bytes / 2**30).
# A card sold as "24 GB" reports 23.6-24 GiB and an "80 GB" H100 about 79.2 GiB,
# so a boundary is met within this slack; otherwise every card would land one
# tier below its name. The load policy compares model sizes with the same slack.
_TIER_BOUNDS: tuple[tuple[float, str], ...] = ((96, "ge96"), (80, "80-96"), (48, "48-80"), (24, "24-48"), (12, "12-24"))
TIER_SLACK = 0.96

# ROCm: integrated GPUs whose "VRAM" is carved out of system RAM.
# gfx1151 Strix Halo, gfx1150/gfx1152 Strix/Krackan Point, gfx1103 Phoenix/Hawk Point,
# gfx1035/gfx1036/gfx1037 Rembrandt/Raphael/Mendocino, gfx90c Renoir/Cezanne, gfx902 Raven.
APU_GFX_ARCHS = frozenset(
    {"gfx1151", "gfx1150", "gfx1152", "gfx1103", "gfx1035", "gfx1036", "gfx1037", "gfx90c", "gfx902"}
)

# ROCm archs with usable bf16: CDNA2 (gfx90a), CDNA3 (gfx94x), CDNA4 (gfx95x), RDNA3/3.5 (gfx11xx), RDNA4 (gfx12xx).
_BF16_GFX = re.compile(r"^gfx(90a|94[0-9a-f]|95[0-9a-f]|11[0-9a-f]{2}|12[0-9a-f]{2})$")


def gfx_base(arch: str | None) -> str | None:
    """``"gfx942:sramecc+:xnack-"`` -> ``"gfx942"``."""
    if not arch:
        return None
    base = arch.strip().split(":", 1)[0].strip().lower()
    return base or None


def gfx_has_bf16(arch: str | None) -> bool | None:
    """True/False for a known ROCm arch, None when the arch is unknown."""
    base = gfx_base(arch)
    if base is None:
        return None
    return bool(_BF16_GFX.match(base))


def system_ram_gb() -> float:
    """Physical RAM, lowered to a cgroup (container) limit when one is set."""
    total = 0.0
    try:
        total = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / GIB
    except (ValueError, OSError, AttributeError):
        try:
            import psutil  # type: ignore[import-not-found]

            total = psutil.virtual_memory().total / GIB
        except Exception:  # noqa: BLE001 - RAM unknown (no /proc, no psutil): reported as 0
            total = 0.0
    # cgroup v2 first, then v1; only the first file that exists counts.
    for path in ("/sys/fs/cgroup/memory.max", "/sys/fs/cgroup/memory/memory.limit_in_bytes"):
        try:
            with open(path) as fh:
                raw = fh.read().strip()
        except OSError:
            continue
        if raw.isdigit():  # "max" means no limit
            limit = int(raw) / GIB
            if 0 < limit < total:
                total = limit
        break
    return round(total, 2)


def _cpu_name() -> str:
    try:
        with open("/proc/cpuinfo") as fh:
            for line in fh:
                if line.lower().startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine() or "cpu"


# synthetic() defaults per backend, by total VRAM: (upper bound, name, gfx arch / compute capability).
_SYNTHETIC_ROCM = (
    (12, "AMD Radeon RX 7600", "gfx1102"),
    (24, "AMD Radeon RX 7800 XT", "gfx1101"),
    (48, "AMD Radeon RX 7900 XTX", "gfx1100"),
    (80, "AMD Instinct MI210", "gfx90a"),
    (96, "AMD Instinct MI250X", "gfx90a"),
    (float("inf"), "AMD Instinct MI300X", "gfx942"),
)
_SYNTHETIC_CUDA = (
    (12, "NVIDIA GeForce RTX 4060", "8.9"),
    (24, "NVIDIA GeForce RTX 4080", "8.9"),
    (48, "NVIDIA GeForce RTX 4090", "8.9"),
    (80, "NVIDIA RTX 6000 Ada Generation", "8.9"),
    (96, "NVIDIA H100 80GB HBM3", "9.0"),
    (float("inf"), "NVIDIA H200", "9.0"),
)

# synthetic(): a device name that matches an explicitly requested gfx arch.
_SYNTHETIC_GFX_NAMES = {
    "gfx1151": "AMD Radeon 8060S Graphics",
    "gfx1150": "AMD Radeon 890M Graphics",
    "gfx1103": "AMD Radeon 780M Graphics",
    "gfx90c": "AMD Radeon Graphics",
    "gfx908": "AMD Instinct MI100",
    "gfx906": "AMD Instinct MI50",
    "gfx1030": "AMD Radeon RX 6800 XT",
    "gfx90a": "AMD Instinct MI210",
    "gfx942": "AMD Instinct MI300X",
    "gfx950": "AMD Instinct MI355X",
    "gfx1100": "AMD Radeon RX 7900 XTX",
    "gfx1201": "AMD Radeon RX 9070 XT",
}


class VideoHardwareProfile(BaseModel):
    backend: Backend
    device_name: str
    gfx_arch: str | None = None  # ROCm gcnArchName base, e.g. "gfx942"
    total_vram_gb: float | None = None  # None on cpu
    free_vram_gb: float | None = None
    shared_memory: bool = False  # GPU memory shared with the CPU (APUs, Apple silicon)
    system_ram_gb: float
    torch_version: str
    hip_version: str | None = None
    cuda_version: str | None = None
    device_count: int = 0
    compute_capability: str | None = None  # CUDA "major.minor", e.g. "8.9"

    @classmethod
    def detect(cls) -> VideoHardwareProfile:
        """Describe the accelerator this process sees (device 0 of what Ray made visible)."""
        import torch

        ram = system_ram_gb()
        hip = getattr(torch.version, "hip", None)
        cuda = getattr(torch.version, "cuda", None)
        try:
            has_gpu = bool(torch.cuda.is_available())
        except Exception:  # noqa: BLE001 - a broken driver must not break startup
            has_gpu = False
        if has_gpu:
            props = torch.cuda.get_device_properties(0)
            total = props.total_memory / GIB
            free: float | None
            try:
                free = torch.cuda.mem_get_info(0)[0] / GIB
            except Exception:  # noqa: BLE001 - free memory is a hint: unknown rather than a failed detect
                free = None
            integrated = bool(getattr(props, "is_integrated", False))
            if hip:
                arch = gfx_base(getattr(props, "gcnArchName", None))
                shared = integrated or arch in APU_GFX_ARCHS or "MI300A" in props.name
                return cls(
                    backend="rocm",
                    device_name=props.name,
                    gfx_arch=arch,
                    total_vram_gb=round(total, 2),
                    free_vram_gb=None if free is None else round(free, 2),
                    shared_memory=shared,
                    system_ram_gb=ram,
                    torch_version=torch.__version__,
                    hip_version=str(hip),
                    cuda_version=None,
                    device_count=torch.cuda.device_count(),
                )
            return cls(
                backend="cuda",
                device_name=props.name,
                total_vram_gb=round(total, 2),
                free_vram_gb=None if free is None else round(free, 2),
                shared_memory=integrated,
                system_ram_gb=ram,
                torch_version=torch.__version__,
                cuda_version=None if cuda is None else str(cuda),
                device_count=torch.cuda.device_count(),
                compute_capability=f"{props.major}.{props.minor}",
            )
        mps = getattr(torch.backends, "mps", None)
        try:
            has_mps = bool(mps is not None and mps.is_available())
        except Exception:  # noqa: BLE001 - a broken MPS backend must not break startup
            has_mps = False
        if has_mps:
            total = ram
            try:
                total = torch.mps.recommended_max_memory() / GIB
            except Exception:  # noqa: BLE001 - older torch: the whole RAM stands in
                pass
            return cls(
                backend="mps",
                device_name=f"Apple {platform.machine()} (MPS)",
                total_vram_gb=round(total, 2),
                free_vram_gb=None,
                shared_memory=True,
                system_ram_gb=ram,
                torch_version=torch.__version__,
                device_count=1,
            )
        return cls(
            backend="cpu",
            device_name=_cpu_name(),
            system_ram_gb=ram,
            torch_version=torch.__version__,
            hip_version=None if hip is None else str(hip),
            cuda_version=None if cuda is None else str(cuda),
            device_count=0,
        )

    @classmethod
    def synthetic(cls, backend: str, total_vram_gb: float | None = None, **kw: Any) -> VideoHardwareProfile:
        """A plausible profile without hardware, for tests and tools; ``kw`` overrides any field."""
        values: dict[str, Any] = {"backend": backend, "system_ram_gb": 128.0, "device_count": 1}
        if backend == "rocm":
            vram = 192.0 if total_vram_gb is None else float(total_vram_gb)
            name, arch = next((n, a) for bound, n, a in _SYNTHETIC_ROCM if vram < bound)
            values.update(
                device_name=name,
                gfx_arch=arch,
                total_vram_gb=vram,
                torch_version="2.7.1+rocm6.4",
                hip_version="6.4.43482",
            )
        elif backend == "cuda":
            vram = 80.0 if total_vram_gb is None else float(total_vram_gb)
            name, cc = next((n, c) for bound, n, c in _SYNTHETIC_CUDA if vram < bound)
            values.update(
                device_name=name,
                compute_capability=cc,
                total_vram_gb=vram,
                torch_version="2.7.1+cu128",
                cuda_version="12.8",
            )
        elif backend == "mps":
            vram = 48.0 if total_vram_gb is None else float(total_vram_gb)
            values.update(
                device_name="Apple M3 Max (MPS)", total_vram_gb=vram, shared_memory=True, torch_version="2.7.1"
            )
        elif backend == "cpu":
            values.update(
                device_name="AMD EPYC 9654 96-Core Processor",
                total_vram_gb=None,
                device_count=0,
                torch_version="2.7.1+cpu",
            )
        else:
            raise ValueError(f"backend: unknown backend {backend!r}; allowed: rocm, cuda, mps, cpu")
        if values.get("total_vram_gb") is not None:
            values["free_vram_gb"] = round(values["total_vram_gb"] * 0.97, 2)
        if "gfx_arch" in kw:
            kw["gfx_arch"] = gfx_base(kw["gfx_arch"])
            if values["backend"] == "rocm" and "device_name" not in kw:
                values["device_name"] = _SYNTHETIC_GFX_NAMES.get(kw["gfx_arch"] or "", "AMD Radeon Graphics")
        if values["backend"] == "rocm" and "shared_memory" not in kw:
            values["shared_memory"] = gfx_base(kw.get("gfx_arch", values.get("gfx_arch"))) in APU_GFX_ARCHS
        values.update(kw)
        return cls(**values)

    @property
    def vram_tier(self) -> str:
        """``cpu``, ``lt12``, ``12-24``, ``24-48``, ``48-80``, ``80-96`` or ``ge96`` by total VRAM."""
        if self.backend == "cpu":
            return "cpu"
        if self.total_vram_gb is None:
            return "lt12"  # a GPU whose size we cannot read: assume the worst
        for bound, tier in _TIER_BOUNDS:
            if self.total_vram_gb >= bound * TIER_SLACK:
                return tier
        return "lt12"

    @property
    def is_gpu(self) -> bool:
        return self.backend in ("rocm", "cuda", "mps")

    def bf16_supported(self) -> bool | None:
        """Whether bf16 is usable here; None when unknown (keep what the model recommends)."""
        if self.backend == "rocm":
            return gfx_has_bf16(self.gfx_arch)
        if self.backend == "cuda":
            if not self.compute_capability:
                return None
            try:
                major = int(str(self.compute_capability).split(".", 1)[0])
            except ValueError:
                return None
            return major >= 8
        if self.backend == "mps":
            return False  # conv3d/attention in bf16 is unreliable on MPS; fp16 is the safe choice
        return True
