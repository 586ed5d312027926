"""Hardware profile, load-policy derivation and applying a policy to a real tiny pipeline."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from videogen.video.foundation import (
    TIERS,
    VideoHardwareProfile,
    VideoLoadPolicy,
    apply_load_policy,
)
from videogen.video.registry import get_spec

REPO = Path(__file__).resolve().parents[1]
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


# -- import hygiene -------------------------------------------------------------------------------


def test_import_does_not_import_torch():
    code = "import sys, videogen.video.foundation; assert 'torch' not in sys.modules, 'torch imported'"
    result = subprocess.run([sys.executable, "-c", code], cwd=REPO, capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr


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


@pytest.mark.parametrize(
    "vram,tier",
    [(11.75, "12-24"), (11.0, "lt12"), (23.6, "24-48"), (47.5, "48-80"), (79.2, "80-96"), (95.6, "ge96"), (90, "80-96")],
)
def test_tier_boundaries_tolerate_gib_reporting(vram, tier):
    # Cards report slightly under their marketed size (an "80 GB" H100 is ~79.2 GiB).
    assert VideoHardwareProfile.synthetic("cuda", vram).vram_tier == tier


def test_all_tiers_named():
    assert set(TIERS) == {"cpu", "lt12", "12-24", "24-48", "48-80", "80-96", "ge96"}


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


@pytest.mark.parametrize("arch", ["gfx908", "gfx906", "gfx1030"])
def test_bf16_falls_back_on_old_rocm_arch(arch):
    policy = policy_for("rocm", 32, get_spec("wan"), gfx_arch=arch)
    assert policy.dtype == "float16"
    assert any("bfloat16 not supported" in r and arch in r for r in policy.reasons)


@pytest.mark.parametrize("arch", ["gfx90a", "gfx942", "gfx950", "gfx1100", "gfx1201"])
def test_bf16_kept_on_capable_rocm_arch(arch):
    assert policy_for("rocm", 64, get_spec("wan"), gfx_arch=arch).dtype == "bfloat16"


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


# -- overrides ------------------------------------------------------------------------------------


def test_config_overrides():
    policy = policy_for(
        "rocm",
        192,
        overrides={"dtype": "fp16", "placement": "model_cpu_offload", "vae_tiling": "yes", "cpu_memory_cap_gb": 64,
                   "concurrency": 2},
    )
    assert policy.dtype == "float16"
    assert policy.placement == "model_cpu_offload"
    assert policy.vae_tiling is True
    assert policy.cpu_memory_cap_gb == 64.0
    assert policy.concurrency == 2
    assert policy.overrides == {
        "dtype": "float16", "placement": "model_cpu_offload", "vae_tiling": True, "cpu_memory_cap_gb": 64.0,
        "concurrency": 2,
    }
    assert any("config" in r for r in policy.reasons)


def test_env_overrides():
    env = {
        "VIDEOGEN_POLICY_DTYPE": "float32",
        "VIDEOGEN_POLICY_PLACEMENT": "sequential_offload",
        "VIDEOGEN_POLICY_VAE_TILING": "0",
        "VIDEOGEN_POLICY_VAE_SLICING": "true",
        "VIDEOGEN_POLICY_CPU_MEMORY_CAP_GB": "none",
        "VIDEOGEN_POLICY_CONCURRENCY": "3",
        "VIDEOGEN_POLICY_UNRELATED": "x",
    }
    policy = policy_for("cuda", 16, environ=env)
    assert policy.dtype == "float32"
    assert policy.placement == "sequential_offload"
    assert (policy.vae_tiling, policy.vae_slicing) == (False, True)
    assert policy.cpu_memory_cap_gb is None
    assert policy.concurrency == 3
    assert set(policy.overrides) == {"dtype", "placement", "vae_tiling", "vae_slicing", "cpu_memory_cap_gb", "concurrency"}
    assert any("VIDEOGEN_POLICY_DTYPE" in r for r in policy.reasons)


def test_empty_env_value_is_ignored():
    policy = policy_for("cuda", 16, environ={"VIDEOGEN_POLICY_DTYPE": "  "})
    assert policy.overrides == {}


def test_config_beats_env():
    env = {"VIDEOGEN_POLICY_DTYPE": "float32", "VIDEOGEN_POLICY_CONCURRENCY": "4"}
    policy = policy_for("rocm", 64, overrides={"dtype": "bfloat16"}, environ=env)
    assert policy.dtype == "bfloat16"
    assert policy.concurrency == 4  # env still applies where config says nothing
    assert policy.overrides == {"dtype": "bfloat16", "concurrency": 4}


def test_env_read_from_process_when_not_given(monkeypatch):
    monkeypatch.setenv("VIDEOGEN_POLICY_PLACEMENT", "group_offload")
    policy = VideoLoadPolicy.derive(VideoHardwareProfile.synthetic("rocm", 192))
    assert policy.placement == "group_offload" and policy.overrides == {"placement": "group_offload"}


def test_placement_cpu_override_moves_device():
    policy = policy_for("rocm", 8, overrides={"placement": "cpu"})
    assert (policy.placement, policy.device) == ("cpu", "cpu")


@pytest.mark.parametrize(
    "field,value,allowed",
    [
        ("dtype", "int8", "bfloat16"),
        ("placement", "disk", "sequential_offload"),
        ("vae_tiling", "maybe", "true/false"),
        ("vae_slicing", 3, "true/false"),
        ("cpu_memory_cap_gb", "-1", "positive"),
        ("cpu_memory_cap_gb", "lots", "positive"),
        ("concurrency", "0", ">= 1"),
        ("concurrency", 1.5, ">= 1"),
        ("device", "tpu", "cuda"),
    ],
)
def test_invalid_override_raises(field, value, allowed):
    with pytest.raises(ValueError) as info:
        policy_for("rocm", 64, overrides={field: value})
    assert field in str(info.value) and allowed in str(info.value)
    with pytest.raises(ValueError) as info:
        policy_for("rocm", 64, environ={f"VIDEOGEN_POLICY_{field.upper()}": str(value)})
    assert field in str(info.value)


def test_unknown_override_field_raises():
    with pytest.raises(ValueError, match="allowed fields"):
        policy_for("rocm", 64, overrides={"warp_speed": 9})


def test_offload_override_without_gpu_raises():
    with pytest.raises(ValueError, match="placement"):
        policy_for("cpu", None, overrides={"placement": "model_cpu_offload"})


# -- detect ---------------------------------------------------------------------------------------


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


# -- applying a policy to a real tiny pipeline ----------------------------------------------------


@pytest.fixture(scope="module")
def tiny_pipeline_factory():
    torch = pytest.importorskip("torch")
    from diffusers import AutoencoderKLWan, DiffusionPipeline, WanTransformer3DModel

    class TinyVideoPipeline(DiffusionPipeline):
        model_cpu_offload_seq = "transformer->vae"

        def __init__(self, transformer, vae):
            super().__init__()
            self.register_modules(transformer=transformer, vae=vae)

    def build():
        torch.manual_seed(0)
        vae = AutoencoderKLWan(
            base_dim=3, z_dim=16, dim_mult=[1, 1, 1, 1], num_res_blocks=1, temperal_downsample=[False, True, True]
        )
        transformer = WanTransformer3DModel(
            patch_size=(1, 2, 2), num_attention_heads=2, attention_head_dim=12, in_channels=16, out_channels=16,
            text_dim=32, freq_dim=256, ffn_dim=32, num_layers=2, cross_attn_norm=True,
            qk_norm="rms_norm_across_heads", rope_max_seq_len=32,
        )
        return TinyVideoPipeline(transformer, vae)

    return build


def _run(pipe):
    import torch

    with torch.no_grad():
        out = pipe.transformer(
            hidden_states=torch.randn(1, 16, 2, 4, 4), timestep=torch.tensor([1]),
            encoder_hidden_states=torch.randn(1, 4, 32), return_dict=False,
        )[0]
        frames = pipe.vae.decode(torch.randn(1, 16, 2, 4, 4)).sample
    assert out.shape == (1, 16, 2, 4, 4)
    assert frames.shape == (1, 3, 5, 32, 32)


def _on_cpu(policy, **update):
    # This machine has no GPU: same policy, onload device "cpu".
    return policy.model_copy(update={"device": "cpu", **update})


def test_apply_cpu_policy(tiny_pipeline_factory):
    pipe = tiny_pipeline_factory()
    pipe.vae.enable_tiling()
    policy = VideoLoadPolicy.derive(VideoHardwareProfile.synthetic("cpu"), environ=NO_ENV)
    apply_load_policy(pipe, policy)
    assert pipe.device.type == "cpu"
    assert pipe.vae.use_tiling is False and pipe.vae.use_slicing is False  # the policy is authoritative
    _run(pipe)


def test_apply_gpu_placement_with_tiling(tiny_pipeline_factory):
    pipe = tiny_pipeline_factory()
    policy = _on_cpu(policy_for("rocm", 64))
    assert policy.placement == "gpu" and policy.vae_tiling and not policy.vae_slicing
    apply_load_policy(pipe, policy)
    assert pipe.vae.use_tiling is True and pipe.vae.use_slicing is False
    _run(pipe)


def test_apply_model_cpu_offload(tiny_pipeline_factory):
    pipe = tiny_pipeline_factory()
    policy = _on_cpu(policy_for("rocm", 32))
    assert policy.placement == "model_cpu_offload"
    apply_load_policy(pipe, policy)
    assert pipe._offload_device.type == "cpu"
    assert hasattr(pipe.transformer, "_hf_hook")
    _run(pipe)


def test_apply_group_offload(tiny_pipeline_factory):
    from diffusers.hooks.group_offloading import _is_group_offload_enabled

    pipe = tiny_pipeline_factory()
    policy = _on_cpu(policy_for("rocm", 16, get_spec("wan")))
    assert policy.placement == "group_offload"
    apply_load_policy(pipe, policy)
    assert _is_group_offload_enabled(pipe.transformer)
    assert not _is_group_offload_enabled(pipe.vae)  # the VAE stays on the onload device
    assert pipe.vae.use_tiling and pipe.vae.use_slicing
    _run(pipe)


def test_apply_sequential_offload_installs_hooks(tiny_pipeline_factory):
    pipe = tiny_pipeline_factory()
    policy = _on_cpu(policy_for("rocm", 8))
    assert policy.placement == "sequential_offload"
    apply_load_policy(pipe, policy)
    # Weights leave for the meta device and come back per submodule on forward. (A forward
    # with a *cpu* execution device trips accelerate's re-offload on this torch; on a GPU it runs.)
    assert hasattr(pipe.transformer.patch_embedding, "_hf_hook")
    assert pipe.transformer.patch_embedding.weight.device.type == "meta"


def test_apply_tolerates_vae_without_tiling(tiny_pipeline_factory):
    import torch

    pipe = tiny_pipeline_factory()

    class PlainVAE(torch.nn.Module):  # a VAE offering neither tiling nor slicing
        def __init__(self):
            super().__init__()
            self.conv = torch.nn.Conv2d(3, 3, 1)

        dtype = property(lambda self: self.conv.weight.dtype)  # what DiffusionPipeline.to reads

    pipe.register_modules(vae=PlainVAE())
    apply_load_policy(pipe, _on_cpu(policy_for("rocm", 8)).model_copy(update={"placement": "gpu"}))
    assert next(pipe.vae.parameters()).device.type == "cpu"
