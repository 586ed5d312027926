"""Operator overrides of the load policy: config and VIDEOGEN_POLICY_* variables, parsing, refusals."""

from __future__ import annotations

import pytest

from videogen.video import foundation
from videogen.video.hardware import VideoHardwareProfile
from videogen.video.policy import VideoLoadPolicy
from videogen.video.policy_overrides import OVERRIDABLE_FIELDS, validate_policy_overrides

NO_ENV: dict[str, str] = {}


def policy_for(backend, vram, spec=None, overrides=None, environ=NO_ENV, **kw):
    profile = VideoHardwareProfile.synthetic(backend, vram, **kw)
    return VideoLoadPolicy.derive(profile, spec, overrides=overrides, environ=environ)


def test_config_overrides():
    policy = policy_for(
        "rocm",
        192,
        overrides={
            "dtype": "fp16",
            "placement": "model_cpu_offload",
            "vae_tiling": "yes",
            "cpu_memory_cap_gb": 64,
            "concurrency": 2,
        },
    )
    assert policy.dtype == "float16"
    assert policy.placement == "model_cpu_offload"
    assert policy.vae_tiling is True
    assert policy.cpu_memory_cap_gb == 64.0
    assert policy.concurrency == 2
    assert policy.overrides == {
        "dtype": "float16",
        "placement": "model_cpu_offload",
        "vae_tiling": True,
        "cpu_memory_cap_gb": 64.0,
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
    assert set(policy.overrides) == {
        "dtype",
        "placement",
        "vae_tiling",
        "vae_slicing",
        "cpu_memory_cap_gb",
        "concurrency",
    }
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


def test_gpu_placement_on_cpu_host_means_cpu():
    policy = policy_for("cpu", None, overrides={"placement": "gpu"})
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


def test_gpu_device_override_without_gpu_raises():
    with pytest.raises(ValueError, match="no GPU here"):
        policy_for("cpu", None, overrides={"device": "cuda"})


def test_offload_on_cpu_device_raises():
    with pytest.raises(ValueError, match="needs a GPU device"):
        policy_for("rocm", 64, overrides={"device": "cpu", "placement": "group_offload"})


@pytest.mark.parametrize(
    "overrides,parsed",
    [
        ({" DType ": "torch.BF16", "vae_slicing": "off"}, {"dtype": "bfloat16", "vae_slicing": False}),
        ({"cpu_memory_cap_gb": "unlimited", "concurrency": 2.0}, {"cpu_memory_cap_gb": None, "concurrency": 2}),
        ({"device": "CUDA:1", "placement": "Group_Offload"}, {"device": "cuda:1", "placement": "group_offload"}),
    ],
)
def test_validate_policy_overrides_parses_without_profile(overrides, parsed, monkeypatch):
    monkeypatch.setenv("VIDEOGEN_POLICY_CONCURRENCY", "7")  # config-side validation ignores the environment
    assert validate_policy_overrides(overrides) == parsed


@pytest.mark.parametrize("value", [True, float("nan"), float("inf"), "0"])
def test_memory_cap_rejects_non_positive_or_non_numbers(value):
    with pytest.raises(ValueError, match="cpu_memory_cap_gb"):
        validate_policy_overrides({"cpu_memory_cap_gb": value})


def test_foundation_reexports_the_public_names():
    assert set(foundation.__all__) >= {
        "VideoHardwareProfile",
        "VideoLoadPolicy",
        "apply_load_policy",
        "validate_policy_overrides",
        "TIERS",
        "DTYPES",
        "PLACEMENTS",
        "OVERRIDABLE_FIELDS",
        "ENV_PREFIX",
        "gfx_has_bf16",
        "APU_GFX_ARCHS",
        "TIER_TABLE",
    }
    assert foundation.VideoLoadPolicy is VideoLoadPolicy and foundation.OVERRIDABLE_FIELDS == OVERRIDABLE_FIELDS
    assert foundation.OVERRIDABLE_FIELDS == (
        "device",
        "dtype",
        "placement",
        "vae_tiling",
        "vae_slicing",
        "cpu_memory_cap_gb",
        "concurrency",
        "attention_backend",
        "step_cache",
        "step_cache_allowed",
        "compile",
        "weights",
        "gguf_file",
        "quantized_rungs",
    )
