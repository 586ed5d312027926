"""apply_load_policy on a real tiny diffusers pipeline: every placement, and the VAE memory switches."""

from __future__ import annotations

import pytest

from videogen.video.hardware import VideoHardwareProfile
from videogen.video.placement import apply_load_policy, set_vae_memory
from videogen.video.policy import VideoLoadPolicy
from videogen.video.registry import get_spec

NO_ENV: dict[str, str] = {}


def policy_for(backend, vram, spec=None, **kw):
    return VideoLoadPolicy.derive(VideoHardwareProfile.synthetic(backend, vram, **kw), spec, environ=NO_ENV)


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
            patch_size=(1, 2, 2),
            num_attention_heads=2,
            attention_head_dim=12,
            in_channels=16,
            out_channels=16,
            text_dim=32,
            freq_dim=256,
            ffn_dim=32,
            num_layers=2,
            cross_attn_norm=True,
            qk_norm="rms_norm_across_heads",
            rope_max_seq_len=32,
        )
        return TinyVideoPipeline(transformer, vae)

    return build


def _run(pipe):
    import torch

    with torch.no_grad():
        out = pipe.transformer(
            hidden_states=torch.randn(1, 16, 2, 4, 4),
            timestep=torch.tensor([1]),
            encoder_hidden_states=torch.randn(1, 4, 32),
            return_dict=False,
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


def test_set_vae_memory_tolerates_unimplemented_switches():
    calls = []

    class HalfVAE:
        def enable_tiling(self):
            raise NotImplementedError

        def disable_tiling(self):
            calls.append("disable_tiling")

        def disable_slicing(self):
            calls.append("disable_slicing")

    set_vae_memory(HalfVAE(), tiling=True, slicing=True)  # neither raises
    set_vae_memory(HalfVAE(), tiling=False, slicing=False)
    assert calls == ["disable_tiling", "disable_slicing"]
