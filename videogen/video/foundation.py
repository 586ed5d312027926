"""Hardware profile and load policy: where a video pipeline's weights live.

``VideoHardwareProfile.detect()`` describes the accelerator this process sees
(ROCm first, CUDA, MPS, or CPU only). ``VideoLoadPolicy.derive()`` turns a
profile (and optionally a family's ``VideoModelSpec``) into a placement, dtype
and VAE memory settings; operators can override any of it from config or from
``VIDEOGEN_POLICY_<FIELD>`` environment variables. ``apply_load_policy`` then
places a loaded diffusers pipeline accordingly.

Nothing here imports torch at module import time: the ROCm environment
(``videogen.rocm_env``) must be in place before torch initialises HIP.
"""

from __future__ import annotations

import logging
import os
import platform
import re
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, Literal

from pydantic import BaseModel

if TYPE_CHECKING:  # pragma: no cover
    from videogen.video.registry import VideoModelSpec

logger = logging.getLogger(__name__)

Backend = Literal["rocm", "cuda", "mps", "cpu"]
DType = Literal["bfloat16", "float16", "float32"]
Placement = Literal["gpu", "model_cpu_offload", "group_offload", "sequential_offload", "cpu"]

DTYPES: tuple[str, ...] = ("bfloat16", "float16", "float32")
PLACEMENTS: tuple[str, ...] = ("gpu", "model_cpu_offload", "group_offload", "sequential_offload", "cpu")
TIERS: tuple[str, ...] = ("cpu", "lt12", "12-24", "24-48", "48-80", "80-96", "ge96")

_GIB = float(1 << 30)

# Tier boundaries in GB of *total* VRAM (as torch reports it, bytes / 2**30).
# A card sold as "24 GB" reports 23.6-24 GiB and an "80 GB" H100 about 79.2 GiB,
# so a boundary is met within this slack; otherwise every card would land one
# tier below its name.
_TIER_BOUNDS: tuple[tuple[float, str], ...] = ((96, "ge96"), (80, "80-96"), (48, "48-80"), (24, "24-48"), (12, "12-24"))
_TIER_SLACK = 0.96

# ROCm: integrated GPUs whose "VRAM" is carved out of system RAM.
# gfx1151 Strix Halo, gfx1150/gfx1152 Strix/Krackan Point, gfx1103 Phoenix/Hawk Point,
# gfx1035/gfx1036/gfx1037 Rembrandt/Raphael/Mendocino, gfx90c Renoir/Cezanne, gfx902 Raven.
APU_GFX_ARCHS = frozenset({"gfx1151", "gfx1150", "gfx1152", "gfx1103", "gfx1035", "gfx1036", "gfx1037", "gfx90c", "gfx902"})

# ROCm archs with usable bf16: CDNA2 (gfx90a), CDNA3 (gfx94x), CDNA4 (gfx95x), RDNA3/3.5 (gfx11xx), RDNA4 (gfx12xx).
_BF16_GFX = re.compile(r"^gfx(90a|94[0-9a-f]|95[0-9a-f]|11[0-9a-f]{2}|12[0-9a-f]{2})$")

# CPU-memory cap: the share of system RAM the process may fill with CPU-resident
# weights (offloaded modules, pinned staging buffers), by VRAM tier. Small cards
# keep most weights in RAM, so they get the biggest share; on large cards the
# weights live on the GPU and RAM is only a loading stage, so the cap is small.
# The cap never falls below the share the chosen placement needs (a model that
# is too big for its tier and gets offloaded anyway gets the offload share).
_TIER_CPU_SHARE = {"lt12": 0.75, "12-24": 0.6, "24-48": 0.5, "48-80": 0.3, "80-96": 0.2, "ge96": 0.1}
_PLACEMENT_CPU_SHARE = {"sequential_offload": 0.75, "group_offload": 0.6, "model_cpu_offload": 0.5, "gpu": 0.0}
# APUs: weights sit in the shared pool as "GPU" memory; keep the CPU side as small as ge96.
_APU_CPU_SHARE = 0.1

# Full-GPU residency needs roughly twice what a model needs under model CPU offload
# (``VideoModelSpec.min_vram_gb`` is the latter; HunyuanVideo: 24 with offload, ~48 resident).
_RESIDENT_FACTOR = 2.0


def _gfx_base(arch: str | None) -> str | None:
    """``"gfx942:sramecc+:xnack-"`` -> ``"gfx942"``."""
    if not arch:
        return None
    base = arch.strip().split(":", 1)[0].strip().lower()
    return base or None


def gfx_has_bf16(arch: str | None) -> bool | None:
    """True/False for a known ROCm arch, None when the arch is unknown."""
    base = _gfx_base(arch)
    if base is None:
        return None
    return bool(_BF16_GFX.match(base))


def _system_ram_gb() -> float:
    """Physical RAM, lowered to a cgroup (container) limit when one is set."""
    total = 0.0
    try:
        total = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / _GIB
    except (ValueError, OSError, AttributeError):
        try:
            import psutil  # type: ignore[import-not-found]

            total = psutil.virtual_memory().total / _GIB
        except Exception:
            total = 0.0
    for path in ("/sys/fs/cgroup/memory.max", "/sys/fs/cgroup/memory/memory.limit_in_bytes"):
        try:
            with open(path) as fh:
                raw = fh.read().strip()
        except OSError:
            continue
        if raw.isdigit():
            limit = int(raw) / _GIB
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
    def detect(cls) -> "VideoHardwareProfile":
        """Describe the accelerator this process sees (device 0 of what Ray made visible)."""
        import torch

        ram = _system_ram_gb()
        hip = getattr(torch.version, "hip", None)
        cuda = getattr(torch.version, "cuda", None)
        try:
            has_gpu = bool(torch.cuda.is_available())
        except Exception:  # a broken driver must not break startup
            has_gpu = False
        if has_gpu:
            props = torch.cuda.get_device_properties(0)
            total = props.total_memory / _GIB
            free: float | None
            try:
                free = torch.cuda.mem_get_info(0)[0] / _GIB
            except Exception:
                free = None
            integrated = bool(getattr(props, "is_integrated", False))
            if hip:
                arch = _gfx_base(getattr(props, "gcnArchName", None))
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
        except Exception:
            has_mps = False
        if has_mps:
            total = ram
            try:
                total = torch.mps.recommended_max_memory() / _GIB
            except Exception:
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
    def synthetic(cls, backend: str, total_vram_gb: float | None = None, **kw: Any) -> "VideoHardwareProfile":
        """A plausible profile without hardware, for tests and tools; ``kw`` overrides any field."""
        values: dict[str, Any] = {"backend": backend, "system_ram_gb": 128.0, "device_count": 1}
        if backend == "rocm":
            vram = 192.0 if total_vram_gb is None else float(total_vram_gb)
            name, arch = next((n, a) for bound, n, a in _SYNTHETIC_ROCM if vram < bound)
            values.update(
                device_name=name, gfx_arch=arch, total_vram_gb=vram, torch_version="2.7.1+rocm6.4", hip_version="6.4.43482"
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
            values.update(device_name="Apple M3 Max (MPS)", total_vram_gb=vram, shared_memory=True, torch_version="2.7.1")
        elif backend == "cpu":
            values.update(device_name="AMD EPYC 9654 96-Core Processor", total_vram_gb=None, device_count=0,
                          torch_version="2.7.1+cpu")
        else:
            raise ValueError(f"backend: unknown backend {backend!r}; allowed: rocm, cuda, mps, cpu")
        if values.get("total_vram_gb") is not None:
            values["free_vram_gb"] = round(values["total_vram_gb"] * 0.97, 2)
        if "gfx_arch" in kw:
            kw["gfx_arch"] = _gfx_base(kw["gfx_arch"])
            if values["backend"] == "rocm" and "device_name" not in kw:
                values["device_name"] = _SYNTHETIC_GFX_NAMES.get(kw["gfx_arch"] or "", "AMD Radeon Graphics")
        if values["backend"] == "rocm" and "shared_memory" not in kw:
            values["shared_memory"] = _gfx_base(kw.get("gfx_arch", values.get("gfx_arch"))) in APU_GFX_ARCHS
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
            if self.total_vram_gb >= bound * _TIER_SLACK:
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


# --- tier table -----------------------------------------------------------------------------
# tier: (placement, vae_tiling, vae_slicing)
TIER_TABLE: dict[str, tuple[str, bool, bool]] = {
    "lt12": ("sequential_offload", True, True),
    "12-24": ("model_cpu_offload", True, True),  # group_offload when the model is tight for the card
    "24-48": ("model_cpu_offload", True, False),
    "48-80": ("gpu", True, False),
    "80-96": ("gpu", False, False),
    "ge96": ("gpu", False, False),
}
# Conservativeness order, most GPU-resident first.
_PLACEMENT_ORDER = ("gpu", "model_cpu_offload", "group_offload", "sequential_offload")

OVERRIDABLE_FIELDS: tuple[str, ...] = (
    "device",
    "dtype",
    "placement",
    "vae_tiling",
    "vae_slicing",
    "cpu_memory_cap_gb",
    "concurrency",
)
ENV_PREFIX = "VIDEOGEN_POLICY_"

_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off"}
_DTYPE_ALIASES = {"bf16": "bfloat16", "fp16": "float16", "half": "float16", "fp32": "float32", "float": "float32"}
_DEVICE_RE = re.compile(r"^(cpu|mps|cuda(:\d+)?)$")


def _parse_override(field: str, value: Any) -> Any:
    """Validate one operator override; raise ValueError naming the field and allowed values."""

    def bad(allowed: str) -> ValueError:
        return ValueError(f"invalid load-policy override {field}={value!r}; allowed: {allowed}")

    if field == "dtype":
        text = str(value).strip().lower().removeprefix("torch.")
        text = _DTYPE_ALIASES.get(text, text)
        if text not in DTYPES:
            raise bad(", ".join(DTYPES))
        return text
    if field == "placement":
        text = str(value).strip().lower()
        if text not in PLACEMENTS:
            raise bad(", ".join(PLACEMENTS))
        return text
    if field == "device":
        text = str(value).strip().lower()
        if not _DEVICE_RE.match(text):
            raise bad("cuda, cuda:N, mps, cpu")
        return text
    if field in ("vae_tiling", "vae_slicing"):
        if isinstance(value, bool):
            return value
        text = str(value).strip().lower()
        if text in _TRUE:
            return True
        if text in _FALSE:
            return False
        raise bad("true/false (1/0, yes/no, on/off)")
    if field == "cpu_memory_cap_gb":
        if value is None or (isinstance(value, str) and value.strip().lower() in ("none", "null", "unlimited")):
            return None
        if isinstance(value, bool):
            raise bad("a positive number of GB, or none")
        try:
            number = float(value)
        except (TypeError, ValueError):
            raise bad("a positive number of GB, or none") from None
        if not number > 0 or number == float("inf"):
            raise bad("a positive number of GB, or none")
        return number
    if field == "concurrency":
        if isinstance(value, bool):
            raise bad("an integer >= 1")
        if isinstance(value, float):
            if value != int(value):
                raise bad("an integer >= 1")
            number = int(value)
        elif isinstance(value, int):
            number = value
        else:
            try:
                number = int(str(value).strip())
            except ValueError:
                raise bad("an integer >= 1") from None
        if number < 1:
            raise bad("an integer >= 1")
        return number
    raise ValueError(f"unknown load-policy override {field!r}; allowed fields: {', '.join(OVERRIDABLE_FIELDS)}")


def _collect_overrides(
    overrides: Mapping[str, Any] | None, environ: Mapping[str, str] | None
) -> tuple[dict[str, Any], dict[str, str]]:
    """Parsed overrides and where each came from; config beats environment."""
    environ = os.environ if environ is None else environ
    parsed: dict[str, Any] = {}
    sources: dict[str, str] = {}
    for field in OVERRIDABLE_FIELDS:
        raw = environ.get(ENV_PREFIX + field.upper())
        if raw is None or raw.strip() == "":
            continue
        parsed[field] = _parse_override(field, raw)
        sources[field] = ENV_PREFIX + field.upper()
    for key, raw in (overrides or {}).items():
        field = str(key).strip().lower()
        if field not in OVERRIDABLE_FIELDS:
            raise ValueError(f"unknown load-policy override {key!r}; allowed fields: {', '.join(OVERRIDABLE_FIELDS)}")
        parsed[field] = _parse_override(field, raw)
        sources[field] = "config"
    return parsed, sources


def validate_policy_overrides(overrides: Mapping[str, Any]) -> dict[str, Any]:
    """Config-side overrides, parsed and checked (ValueError naming the field) without a profile."""
    return _collect_overrides(overrides, environ={})[0]


def _more_conservative(a: str, b: str) -> str:
    return a if _PLACEMENT_ORDER.index(a) >= _PLACEMENT_ORDER.index(b) else b


class VideoLoadPolicy(BaseModel):
    tier: str
    device: str  # torch device string: "cuda" (ROCm uses "cuda" too), "mps", "cpu"
    dtype: DType
    placement: Placement
    vae_tiling: bool
    vae_slicing: bool
    cpu_memory_cap_gb: float | None
    concurrency: int  # generation concurrency; 1 on any GPU
    overrides: dict[str, Any]  # fields the operator overrode, with their values
    reasons: list[str]  # short human notes on why

    @classmethod
    def derive(
        cls,
        profile: VideoHardwareProfile,
        spec: "VideoModelSpec | None" = None,
        overrides: Mapping[str, Any] | None = None,
        environ: Mapping[str, str] | None = None,
    ) -> "VideoLoadPolicy":
        parsed, sources = _collect_overrides(overrides, environ)
        tier = profile.vram_tier
        reasons: list[str] = []
        ram = max(float(profile.system_ram_gb), 0.0)

        if not profile.is_gpu:
            device, dtype, placement = "cpu", "float32", "cpu"
            tiling = slicing = False
            cap: float | None = None  # everything lives in RAM; no separate cap
            reasons.append("no GPU: float32 on the CPU, one generation at a time")
        else:
            device = "mps" if profile.backend == "mps" else "cuda"
            vram = profile.total_vram_gb
            placement, tiling, slicing = TIER_TABLE[tier]
            reasons.append(f"{profile.device_name}: {vram if vram is not None else '?'} GB total VRAM, tier {tier}")
            share = _TIER_CPU_SHARE[tier]
            if profile.shared_memory:
                # The "VRAM" is system RAM: offloading would copy weights within the same memory.
                placement = "gpu"
                tiling = slicing = True  # activation peaks (VAE decode) compete with the OS for one pool
                share = _APU_CPU_SHARE
                reasons.append(
                    "shared memory (APU/unified): weights stay in one place on the GPU, no CPU offload; "
                    "VAE tiling and slicing keep decode peaks down"
                )
                if spec is not None and vram is not None and vram < spec.min_vram_gb:
                    reasons.append(
                        f"{spec.id} wants about {spec.min_vram_gb:g} GB but the GPU may use {vram:g} GB; "
                        "raise the shared-memory (GTT/UMA) limit if loading fails"
                    )
            elif spec is not None and vram is not None:
                if vram < spec.min_vram_gb * _TIER_SLACK:
                    if placement != "sequential_offload":
                        reasons.append(
                            f"{spec.id} wants about {spec.min_vram_gb:g} GB even with model offload: sequential offload"
                        )
                    placement = "sequential_offload"
                    tiling = slicing = True
                elif placement == "model_cpu_offload" and tier == "12-24" and vram < 1.5 * spec.min_vram_gb:
                    placement = "group_offload"
                    reasons.append(
                        f"{spec.id} (about {spec.min_vram_gb:g} GB with model offload) is tight here: group offload"
                    )
                elif placement == "gpu" and vram < _RESIDENT_FACTOR * spec.min_vram_gb * _TIER_SLACK:
                    placement = _more_conservative(placement, "model_cpu_offload")
                    tiling = True
                    reasons.append(
                        f"{spec.id} needs about {_RESIDENT_FACTOR * spec.min_vram_gb:g} GB fully resident: model CPU offload"
                    )
            share = max(share, _PLACEMENT_CPU_SHARE.get(placement, 0.0)) if not profile.shared_memory else share
            cap = round(ram * share, 1) if ram > 0 else None

            # dtype: the model's recommendation, unless the GPU lacks bf16.
            dtype = spec.recommended_dtype if spec is not None else "bfloat16"
            bf16 = profile.bf16_supported()
            if dtype == "bfloat16" and bf16 is False:
                dtype = "float16"
                what = (
                    f"{profile.gfx_arch}" if profile.backend == "rocm"
                    else f"compute capability {profile.compute_capability}" if profile.backend == "cuda"
                    else profile.backend
                )
                reasons.append(f"bfloat16 not supported on {what}: float16")
            elif bf16 is None and dtype == "bfloat16":
                reasons.append("bf16 support unknown for this GPU; keeping bfloat16")
            else:
                reasons.append(f"dtype {dtype}" + (" (model recommendation)" if spec is not None else ""))
            if profile.backend in ("rocm", "cuda") and profile.device_count > 1:
                reasons.append(f"{profile.device_count} GPUs visible; this replica uses device 0")
        concurrency = 1

        values: dict[str, Any] = {
            "device": device,
            "dtype": dtype,
            "placement": placement,
            "vae_tiling": tiling,
            "vae_slicing": slicing,
            "cpu_memory_cap_gb": cap,
            "concurrency": concurrency,
        }
        if parsed:
            if not profile.is_gpu and parsed.get("placement", "cpu") not in ("cpu", "gpu"):
                raise ValueError(
                    f"invalid load-policy override placement={parsed['placement']!r}: no GPU here; allowed: cpu"
                )
            if not profile.is_gpu and parsed.get("device", "cpu") != "cpu":
                raise ValueError(f"invalid load-policy override device={parsed['device']!r}: no GPU here; allowed: cpu")
            values.update(parsed)
            if parsed.get("placement") == "cpu" and "device" not in parsed:
                values["device"] = "cpu"
            if not profile.is_gpu and values["placement"] == "gpu":
                values["placement"] = "cpu"
            if values["device"] == "cpu" and values["placement"] not in ("cpu", "gpu"):
                raise ValueError(
                    f"invalid load-policy override: placement {values['placement']!r} needs a GPU device, "
                    "but device is cpu; allowed placements on cpu: cpu"
                )
            for field, value in parsed.items():
                reasons.append(f"{field}={value!r} set by {sources[field]}")
            if values["concurrency"] > 1 and profile.is_gpu:
                reasons.append("concurrency > 1 on one GPU: generations share its memory and may run out")
        return cls(tier=tier, overrides=dict(parsed), reasons=reasons, **values)

    def torch_dtype(self):
        import torch

        return getattr(torch, self.dtype)


# --- applying a policy --------------------------------------------------------------------------


def _set_vae_memory(vae: Any, *, tiling: bool, slicing: bool) -> None:
    """Switch VAE tiling/slicing, tolerating VAEs that lack either."""
    for enabled, on, off, what in (
        (tiling, "enable_tiling", "disable_tiling", "tiling"),
        (slicing, "enable_slicing", "disable_slicing", "slicing"),
    ):
        method = getattr(vae, on if enabled else off, None)
        if method is None:
            if enabled:
                logger.info("VAE %s has no %s; skipped", type(vae).__name__, what)
            continue
        try:
            method()
        except NotImplementedError:
            if enabled:
                logger.info("VAE %s does not implement %s; skipped", type(vae).__name__, what)


def _apply_group_offload(pipe: Any, device: str) -> None:
    """Block-level group offloading for every model component; the VAE stays on the GPU.

    The VAE is small next to the transformer, and group offloading with streams on
    an autoencoder whose first pass runs tiled is known not to work (diffusers warns).
    """
    import torch
    from diffusers.hooks import apply_group_offloading

    onload = torch.device(device)
    components = {k: v for k, v in getattr(pipe, "components", {}).items() if isinstance(v, torch.nn.Module)}
    unsupported = [k for k, v in components.items() if k != "vae" and getattr(v, "_supports_group_offloading", True) is False]
    if unsupported:
        logger.warning("group offload unsupported by %s; using model CPU offload instead", ", ".join(unsupported))
        pipe.enable_model_cpu_offload(device=device)
        return
    kwargs = {
        "onload_device": onload,
        "offload_device": torch.device("cpu"),
        "offload_type": "block_level",
        "num_blocks_per_group": 1,
        "use_stream": onload.type == "cuda",  # HIP streams on ROCm: overlap transfers with compute
    }
    for name, module in components.items():
        if name == "vae":
            module.to(onload)
        elif hasattr(module, "enable_group_offload"):
            module.enable_group_offload(**kwargs)
        else:  # e.g. transformers text encoders
            apply_group_offloading(module=module, **kwargs)


def apply_load_policy(pipe: Any, policy: VideoLoadPolicy) -> None:
    """Place a loaded diffusers pipeline per ``policy`` and set VAE tiling/slicing."""
    vae = getattr(pipe, "vae", None)
    if vae is not None:
        # Before placement: group offloading checks tiling on the modules it hooks.
        _set_vae_memory(vae, tiling=policy.vae_tiling, slicing=policy.vae_slicing)
    placement = policy.placement
    if placement == "cpu":
        pipe.to("cpu")
    elif placement == "gpu":
        pipe.to(policy.device)
    elif placement == "model_cpu_offload":
        pipe.enable_model_cpu_offload(device=policy.device)
    elif placement == "sequential_offload":
        pipe.enable_sequential_cpu_offload(device=policy.device)
    elif placement == "group_offload":
        _apply_group_offload(pipe, policy.device)
    else:  # pragma: no cover - pydantic guards the literal
        raise ValueError(f"placement: unknown placement {placement!r}; allowed: {', '.join(PLACEMENTS)}")
