"""VideoHardwareProfile: detection, synthetic profiles, VRAM tiers, bf16 support; and import hygiene."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from videogen.video.hardware import TIERS, VideoHardwareProfile, gfx_base, gfx_has_bf16
from videogen.video.policy import VideoLoadPolicy

REPO = Path(__file__).resolve().parents[2]
NO_ENV: dict[str, str] = {}

# The ROCm environment (videogen.rocm_env) must be set before torch initialises HIP.
TORCH_FREE_MODULES = (
    "videogen.video.hardware",
    "videogen.video.policy_overrides",
    "videogen.video.policy",
    "videogen.video.placement",
    "videogen.video.foundation",
)


def test_import_does_not_import_torch():
    imports = "; ".join(f"import {name}" for name in TORCH_FREE_MODULES)
    code = f"import sys; {imports}; assert 'torch' not in sys.modules, 'torch imported'"
    result = subprocess.run([sys.executable, "-c", code], cwd=REPO, capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr


@pytest.mark.parametrize(
    "vram,tier",
    [
        (11.75, "12-24"),
        (11.0, "lt12"),
        (23.6, "24-48"),
        (47.5, "48-80"),
        (79.2, "80-96"),
        (95.6, "ge96"),
        (90, "80-96"),
    ],
)
def test_tier_boundaries_tolerate_gib_reporting(vram, tier):
    # Cards report slightly under their marketed size (an "80 GB" H100 is ~79.2 GiB).
    assert VideoHardwareProfile.synthetic("cuda", vram).vram_tier == tier


def test_all_tiers_named():
    assert set(TIERS) == {"cpu", "lt12", "12-24", "24-48", "48-80", "80-96", "ge96"}


def test_gpu_of_unknown_size_is_lowest_tier():
    assert VideoHardwareProfile.synthetic("rocm", 64).model_copy(update={"total_vram_gb": None}).vram_tier == "lt12"


@pytest.mark.parametrize(
    "arch,base,bf16",
    [
        ("gfx942:sramecc+:xnack-", "gfx942", True),
        (" GFX1100 ", "gfx1100", True),
        ("gfx908", "gfx908", False),
        ("gfx90a", "gfx90a", True),
        ("gfx1030", "gfx1030", False),
        (None, None, None),
        ("", None, None),
    ],
)
def test_gfx_helpers(arch, base, bf16):
    assert gfx_base(arch) == base
    assert gfx_has_bf16(arch) is bf16


@pytest.mark.parametrize(
    "backend,kw,expected",
    [
        ("cuda", {"compute_capability": "8.0"}, True),
        ("cuda", {"compute_capability": "7.5"}, False),
        ("cuda", {"compute_capability": None}, None),
        ("cuda", {"compute_capability": "x.y"}, None),
        ("rocm", {"gfx_arch": None}, None),
        ("mps", {}, False),
        ("cpu", {}, True),
    ],
)
def test_bf16_supported(backend, kw, expected):
    assert VideoHardwareProfile.synthetic(backend, **kw).bf16_supported() is expected


def test_detect_on_this_machine():
    import torch

    profile = VideoHardwareProfile.detect()
    assert profile.torch_version == torch.__version__
    assert profile.system_ram_gb > 0
    if torch.cuda.is_available():  # pragma: no cover - CPU CI
        assert profile.backend in ("rocm", "cuda") and profile.total_vram_gb > 0
    else:
        assert profile.backend == "cpu"
        assert profile.total_vram_gb is None and profile.vram_tier == "cpu"
        policy = VideoLoadPolicy.derive(profile, environ=NO_ENV)
        assert (policy.placement, policy.dtype) == ("cpu", "float32")


def test_synthetic_defaults():
    rocm = VideoHardwareProfile.synthetic("rocm", 192)
    assert rocm.device_name == "AMD Instinct MI300X" and rocm.gfx_arch == "gfx942" and rocm.hip_version
    cuda = VideoHardwareProfile.synthetic("cuda", 80)
    assert "H100" in cuda.device_name and cuda.compute_capability == "9.0" and cuda.cuda_version
    assert VideoHardwareProfile.synthetic("rocm", 64, gfx_arch="gfx942:sramecc+:xnack-").gfx_arch == "gfx942"
    with pytest.raises(ValueError):
        VideoHardwareProfile.synthetic("tpu", 16)


def test_synthetic_apu_arch_is_shared_and_named():
    apu = VideoHardwareProfile.synthetic("rocm", 96, gfx_arch="gfx1151")
    assert apu.shared_memory and apu.device_name == "AMD Radeon 8060S Graphics"
    assert not VideoHardwareProfile.synthetic("rocm", 96, gfx_arch="gfx1151", shared_memory=False).shared_memory
