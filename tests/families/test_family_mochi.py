"""Mochi 1 tiny t2v: what is the family's own. Its 6k+1 frames are the VAE's; guidance runs both branches as one batch;
its cost probe counts a full prompt as a real forward does; the pipeline's latents, and its VAE's decode law.

Generic checks (frames, seeds, cancel): test_families.py. FLOPs per step at the default size against FlopCounterMode on
the meta-device preset, through this family's probe: test_cost_model.py; the preset's counts against the published
10B: test_arch_presets.py.
"""

from __future__ import annotations

import pytest
import torch
from family_support import moved, tiny_fixture
from torch.nn.attention import SDPBackend, sdpa_kernel
from torch.utils.flop_counter import FlopCounterMode

from videogen.video.arch.catalog import get_preset
from videogen.video.cost import calibrate, probes
from videogen.video.cost.measure import measure, module_tensors
from videogen.video.cost.meta_models import meta_module
from videogen.video.cost.shapes import cfg_passes, latent_shape
from videogen.video.cost.vae_tiles import decode_tiles
from videogen.video.families.mochi.cost_probe import denoiser_call

FAMILY = "mochi"
PRESET = "mochi-1-preview"
tiny = tiny_fixture(FAMILY)


def test_frames_are_6k_plus_1_as_the_vae_decodes_them(tiny):
    # a request's count off the grid is moved and said; the pipeline decodes exactly the count used
    prepared, frames = tiny.generate(seed=2, num_frames=10)
    assert moved(prepared) == {"num_frames": (10, 13)}
    assert prepared.kwargs["num_frames"] == 13 and frames.shape == (13, 32, 32, 3)
    # the grid is the VAE's: 10 frames handed straight to the pipeline come back as 7 (2 latent frames)
    off_grid = {**prepared.kwargs, "num_frames": 10, "generator": torch.Generator().manual_seed(2)}
    assert tiny.adapter.extract_frames(tiny.pipe(**off_grid)).shape == (7, 32, 32, 3)
    # the tiny model's own default (every tiny model's 9 frames) is not the request's: it runs at 7, unsaid
    assert tiny.meta.request_defaults["num_frames"] == 9
    default = tiny.resolve(seed=0)
    assert default.params["num_frames"] == 7 and default.adjustments == []
    assert moved(tiny.resolve(seed=0, num_frames=9)) == {"num_frames": (9, 7)}


def test_guidance_runs_both_branches_as_one_batch(tiny, monkeypatch):
    """CFG above 1: one transformer call a step at batch 2 (the cost facts' "batched": two batch-1 passes)."""
    batches: list[int] = []
    forward = tiny.pipe.transformer.forward
    monkeypatch.setattr(
        tiny.pipe.transformer,
        "forward",
        lambda *a, **k: batches.append(k["hidden_states"].shape[0]) or forward(*a, **k),
    )
    for scale, expected in ((1.0, [1]), (4.5, [2])):  # a step's call
        batches.clear()
        tiny.generate(seed=0, guidance_scale=scale, num_inference_steps=2)
        assert batches == expected * 2
        assert cfg_passes(get_preset(PRESET), scale) == sum(expected)


def test_one_step_is_moved_to_two(tiny):
    """diffusers' linear_quadratic_schedule(1, ...) divides by zero: one step would be a 500, not a video."""
    from diffusers.pipelines.mochi.pipeline_mochi import linear_quadratic_schedule

    with pytest.raises(ZeroDivisionError):
        linear_quadratic_schedule(1, 0.025)
    prepared = tiny.prepare(seed=0, num_inference_steps=1)
    assert moved(prepared) == {"num_inference_steps": (1, 2)} and prepared.kwargs["num_inference_steps"] == 2


def test_the_meta_probe_counts_a_full_prompt_as_a_real_forward_does(tiny):
    """The attention keeps each row's valid prompt tokens (``torch.nonzero``, which the meta device cannot answer): the
    probe answers all of them valid, which is a real forward's count with a full mask; a shorter prompt costs less."""
    real = tiny.pipe.transformer
    with torch.device("meta"):
        meta = type(real).from_config(real.config)
    call, _ = denoiser_call(meta, batch=1, frames=2, height=4, width=4, text_tokens=16)
    with torch.no_grad(), FlopCounterMode(display=False) as counter:
        call()
    assert "_create_rope" not in vars(meta.rope)  # the rope's own method back after the call

    def real_flops(valid: int) -> int:
        mask = torch.zeros(1, 16, dtype=torch.bool)
        mask[:, :valid] = True
        inputs = {
            "hidden_states": torch.randn(1, 12, 2, 4, 4),
            "encoder_hidden_states": torch.randn(1, 16, real.config.text_embed_dim),
            "timestep": torch.tensor([500.0]),
            "encoder_attention_mask": mask,
            "return_dict": False,
        }
        # the math backend: the CPU's fused attention kernel is not counted by FlopCounterMode, its matmuls are
        with torch.no_grad(), sdpa_kernel(SDPBackend.MATH), FlopCounterMode(display=False) as real_counter:
            real(**inputs)
        return real_counter.get_total_flops()

    assert counter.get_total_flops() == real_flops(16) > real_flops(4)


def test_latents_are_the_pipelines(tiny):
    preset = get_preset(PRESET)
    for frames, height, width in ((85, 480, 848), (163, 480, 848), (13, 240, 416)):
        ours = latent_shape(preset, frames, height, width)
        theirs = tiny.pipe.prepare_latents(1, 12, height, width, frames, torch.float32, torch.device("meta"), None)
        assert tuple(theirs.shape) == (1, ours.channels, ours.frames, ours.height, ours.width)
    assert latent_shape(preset, 85, 480, 848).frames == 15


def test_the_vae_decode_law_and_its_tiles():
    """FLOPs exact off the calibration points; the peak within 3 % where the convolutions split their input (the
    default size's decode), above the VAE's own below it; a tiled decode is the sum of its tiles' plain decodes."""
    preset = get_preset(PRESET)
    vae = meta_module(preset.component("vae"))
    model = calibrate.vae_decode_model(preset)

    def direct(frames: int, height: int, width: int):
        call, inputs = probes.vae_decode_call(vae, frames=frames, height=height, width=width)
        return measure(call, exclude=[*module_tensors(vae), *inputs])

    for (f, h, w), split in (((10, 60, 106), True), ((5, 30, 53), False)):
        own, point = direct(f, h, w), calibrate.vae_variables(f, h * w)
        assert model.flops(**point) == pytest.approx(own.flops, rel=1e-6)
        if split:
            assert model.peak(**point) == pytest.approx(own.peak_bytes, rel=0.03)
        else:
            assert own.peak_bytes < model.peak(**point) < 1.45 * own.peak_bytes
    f, h, w = 3, 40, 40  # 320x320 px: 2 x 2 tiles of 256 px
    tiles = decode_tiles(vae, FAMILY, f, h, w, tiling=True, slicing=False)
    assert len(tiles) == 4
    z = torch.empty(1, 12, f, h, w, device="meta", dtype=torch.bfloat16)
    vae.enable_tiling()
    try:
        tiled = measure(lambda: vae.decode(z, return_dict=False), exclude=[*module_tensors(vae), z])
    finally:
        vae.disable_tiling()
    planned = sum(model.flops(**calibrate.vae_variables(t.frames, t.height * t.width)) for t in tiles)
    assert planned == pytest.approx(tiled.flops, rel=1e-6)
