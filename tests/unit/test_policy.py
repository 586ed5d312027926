"""VideoLoadPolicy.derive: tier rules, the model's size and dtype, shared memory, CPU-only hosts."""

from __future__ import annotations

import pytest

from videogen.video.hardware import VideoHardwareProfile
from videogen.video.policy import VideoLoadPolicy
from videogen.video.registry import get_spec

NO_ENV: dict[str, str] = {}

# (total VRAM GB, tier, placement, vae_tiling, vae_slicing) with no model spec.
TIER_CASES = [
    (8, "lt12", "sequential_offload", True, True),
    (16, "12-24", "model_cpu_offload", True, True),
    (24, "24-48", "model_cpu_offload", True, False),
    (40, "24-48", "model_cpu_offload", True, False),
    (64, "48-80", "gpu", True, False),
    (80, "80-96", "gpu", False, False),
    (90, "80-96", "gpu", False, False),
    (96, "ge96", "gpu", False, False),
    (192, "ge96", "gpu", False, False),
]


def policy_for(backend, vram, spec=None, overrides=None, environ=NO_ENV, **kw):
    profile = VideoHardwareProfile.synthetic(backend, vram, **kw)
    return VideoLoadPolicy.derive(profile, spec, overrides=overrides, environ=environ)


# -- tiers ----------------------------------------------------------------------------------------


@pytest.mark.parametrize("backend", ["rocm", "cuda"])
@pytest.mark.parametrize("vram,tier,placement,tiling,slicing", TIER_CASES)
def test_tier_rules(backend, vram, tier, placement, tiling, slicing):
    profile = VideoHardwareProfile.synthetic(backend, vram)
    assert profile.vram_tier == tier
    assert not profile.shared_memory
    policy = VideoLoadPolicy.derive(profile, environ=NO_ENV)
    assert policy.tier == tier
    assert policy.device == "cuda"  # ROCm is "cuda" to torch too
    assert policy.placement == placement
    assert (policy.vae_tiling, policy.vae_slicing) == (tiling, slicing)
    assert policy.concurrency == 1
    assert policy.cpu_memory_cap_gb is not None and 0 < policy.cpu_memory_cap_gb <= profile.system_ram_gb
    assert policy.overrides == {}
    assert any(tier in r for r in policy.reasons)


@pytest.mark.parametrize("backend", ["rocm", "cuda"])
def test_cpu_cap_shrinks_as_vram_grows_and_ge96_is_gpu_first(backend):
    caps = []
    for tier_vram in (8, 16, 32, 64, 88, 192):
        caps.append(policy_for(backend, tier_vram, system_ram_gb=256.0).cpu_memory_cap_gb)
    assert caps == sorted(caps, reverse=True) and len(set(caps)) == len(caps), caps
    top = policy_for(backend, 192, system_ram_gb=256.0)
    assert (top.placement, top.vae_tiling, top.vae_slicing) == ("gpu", False, False)
    assert top.cpu_memory_cap_gb == min(caps) == pytest.approx(25.6)
    # lt12 keeps most weights in RAM: the biggest cap.
    assert caps[0] == max(caps) == pytest.approx(192.0)


def test_unknown_ram_means_no_cap():
    assert policy_for("rocm", 64, system_ram_gb=0.0).cpu_memory_cap_gb is None


def test_reasons_in_decision_order():
    policy = policy_for("rocm", 16, get_spec("wan"), gfx_arch="gfx1030", device_count=2, overrides={"concurrency": 2})
    assert [r.split(" ")[0] for r in policy.reasons] == [
        "AMD",  # the device and its tier
        "wan",  # the model's size: group offload
        "bfloat16",  # the dtype
        "2",  # GPUs visible
        "concurrency=2",  # the override
        "concurrency",  # and its warning
    ], policy.reasons


# -- model spec -----------------------------------------------------------------------------------


@pytest.mark.parametrize("backend", ["rocm", "cuda"])
def test_spec_too_big_for_card_gets_sequential_offload(backend):
    hunyuan = get_spec("hunyuan-video")  # min_vram_gb 24
    policy = policy_for(backend, 16, hunyuan)
    assert policy.placement == "sequential_offload"
    assert policy.vae_tiling and policy.vae_slicing
    assert any("hunyuan-video" in r for r in policy.reasons)


def test_spec_tight_on_12_24_gets_group_offload():
    wan = get_spec("wan")  # min_vram_gb 12
    assert policy_for("rocm", 16, wan).placement == "group_offload"
    assert policy_for("rocm", 22, wan).placement == "model_cpu_offload"
    assert policy_for("rocm", 16, get_spec("animatediff")).placement == "model_cpu_offload"


def test_spec_needing_more_than_resident_room_offloads_on_gpu_tier():
    hunyuan = get_spec("hunyuan-video")  # ~48 GB fully resident
    assert policy_for("cuda", 48, hunyuan).placement == "gpu"
    small = policy_for("cuda", 48, hunyuan.model_copy(update={"min_vram_gb": 40.0}))
    assert small.placement == "model_cpu_offload" and small.vae_tiling
    # The cap follows the offloading placement, not just the tier.
    assert small.cpu_memory_cap_gb == pytest.approx(64.0)


def test_spec_dtype_recommendation_is_used():
    assert policy_for("rocm", 192, get_spec("animatediff")).dtype == "float16"
    assert policy_for("rocm", 192, get_spec("wan")).dtype == "bfloat16"
    assert policy_for("cuda", 80, get_spec("wan")).dtype == "bfloat16"


# -- APUs, dtype fallbacks, cpu -------------------------------------------------------------------


@pytest.mark.parametrize("arch,dtype", [("gfx1151", "bfloat16"), ("gfx1103", "bfloat16"), ("gfx90c", "float16")])
def test_apu_keeps_weights_in_one_place(arch, dtype):
    profile = VideoHardwareProfile.synthetic(
        "rocm", 96, gfx_arch=f"{arch}:xnack-", device_name="AMD Radeon 8060S", system_ram_gb=128.0
    )
    assert profile.shared_memory and profile.gfx_arch == arch
    policy = VideoLoadPolicy.derive(profile, get_spec("wan"), environ=NO_ENV)
    assert policy.placement == "gpu"
    assert policy.vae_tiling and policy.vae_slicing
    assert policy.dtype == dtype
    assert policy.cpu_memory_cap_gb == pytest.approx(12.8)
    assert any("shared memory" in r for r in policy.reasons)


def test_small_apu_still_not_offloaded():
    policy = policy_for("rocm", 8, get_spec("hunyuan-video"), gfx_arch="gfx1103")
    assert policy.placement == "gpu"
    assert any("GTT" in r for r in policy.reasons)


def test_cuda_integrated_is_shared():
    policy = policy_for("cuda", 32, get_spec("wan"), shared_memory=True, compute_capability="8.7")
    assert policy.placement == "gpu" and policy.dtype == "bfloat16"


def test_mps_is_shared_and_half_precision():
    policy = policy_for("mps", 48, get_spec("wan"))
    assert (policy.device, policy.placement, policy.dtype) == ("mps", "gpu", "float16")
    assert any("bfloat16 not supported on mps" in r for r in policy.reasons)


@pytest.mark.parametrize("arch", ["gfx908", "gfx906", "gfx1030"])
def test_bf16_falls_back_on_old_rocm_arch(arch):
    policy = policy_for("rocm", 32, get_spec("wan"), gfx_arch=arch)
    assert policy.dtype == "float16"
    assert any("bfloat16 not supported" in r and arch in r for r in policy.reasons)


@pytest.mark.parametrize("arch", ["gfx90a", "gfx942", "gfx950", "gfx1100", "gfx1201"])
def test_bf16_kept_on_capable_rocm_arch(arch):
    assert policy_for("rocm", 64, get_spec("wan"), gfx_arch=arch).dtype == "bfloat16"


def test_bf16_unknown_arch_keeps_bfloat16():
    policy = policy_for("rocm", 64, get_spec("wan"), gfx_arch=None)
    assert policy.dtype == "bfloat16"
    assert any("unknown" in r for r in policy.reasons)


def test_bf16_falls_back_on_cuda_cc75():
    policy = policy_for("cuda", 16, get_spec("wan"), compute_capability="7.5", device_name="Tesla T4")
    assert policy.dtype == "float16"
    assert any("7.5" in r for r in policy.reasons)
    assert policy_for("cuda", 16, get_spec("wan"), compute_capability="8.0").dtype == "bfloat16"


def test_fp32_spec_untouched_by_fallback():
    spec = get_spec("wan").model_copy(update={"recommended_dtype": "float32"})
    assert policy_for("rocm", 32, spec, gfx_arch="gfx908").dtype == "float32"


def test_cpu_profile():
    profile = VideoHardwareProfile.synthetic("cpu")
    assert profile.vram_tier == "cpu" and profile.total_vram_gb is None
    policy = VideoLoadPolicy.derive(profile, get_spec("wan"), environ=NO_ENV)
    assert (policy.device, policy.dtype, policy.placement, policy.concurrency) == ("cpu", "float32", "cpu", 1)
    assert policy.tier == "cpu"
    import torch

    assert policy.torch_dtype() is torch.float32
