"""Stable Video Diffusion tiny i2v: what is the family's own. It has no text: the prompt is accepted, not used, and
said; its guidance is the last frame's, both branches in one batch; fps conditions the UNet as fps - 1; a checkpoint's
trained length is its default; its cost probe counts what a real forward does, and its temporal-decoder VAE is priced
as one plain decode whatever the admission rung.

Generic checks (frames, seeds, cancel, the image followed, text-to-video refused): test_families.py. FLOPs per step at
the default size against FlopCounterMode on the meta-device preset: test_cost_model.py; the presets' counts against
the published 1.5B: test_arch_presets.py.
"""

from __future__ import annotations

import pytest
import torch
from family_support import PROMPT, image_b64, moved, tiny_fixture
from torch.nn.attention import SDPBackend, sdpa_kernel
from torch.utils.flop_counter import FlopCounterMode

from videogen.video.arch.catalog import get_preset
from videogen.video.checkpoint_facts import directory_facts, preset_facts
from videogen.video.cost import calibrate, probes
from videogen.video.cost.measure import measure, module_tensors
from videogen.video.cost.meta_models import meta_module
from videogen.video.cost.shapes import cfg_passes, latent_shape
from videogen.video.cost.vae_tiles import decode_tiles
from videogen.video.families import get_adapter
from videogen.video.families.stable_video_diffusion.cost_probe import denoiser_call
from videogen.video.model_meta import ModelMeta
from videogen.video.request import VideoRequest

FAMILY = "stable-video-diffusion"
I2V = "image-to-video"
tiny = tiny_fixture(FAMILY)


def test_the_prompt_is_accepted_not_used_and_said(tiny):
    prepared = tiny.prepare(seed=0, negative_prompt="blurry")
    assert moved(prepared) == {"prompt": (PROMPT, None), "negative_prompt": ("blurry", None)}
    assert all("no text encoder" in a.reason for a in prepared.adjustments)
    assert not {"prompt", "negative_prompt", "guidance_scale"} & set(prepared.kwargs)  # the pipeline takes none
    assert prepared.kwargs["image"].size == (32, 32)


def test_guidance_is_the_last_frames_and_fps_conditions_as_fps_minus_1(tiny, monkeypatch):
    """Above 1 both branches run as one batch of two (the cost facts' "batched"); the time ids are fps - 1, the motion
    bucket and the noise augmentation, the pipeline's own."""
    calls: list[tuple[int, list[float]]] = []
    forward = tiny.pipe.unet.forward

    def recording(sample, *args, **kwargs):
        calls.append((sample.shape[0], kwargs["added_time_ids"][0].tolist()))
        return forward(sample, *args, **kwargs)

    monkeypatch.setattr(tiny.pipe.unet, "forward", recording)
    preset = get_preset("svd-img2vid-xt")
    for scale, batch in ((1.0, 1), (3.0, 2)):
        calls.clear()
        prepared, _ = tiny.generate(seed=0, guidance_scale=scale, fps=12)
        assert prepared.kwargs["max_guidance_scale"] == scale and prepared.kwargs["fps"] == 12
        assert [b for b, _ in calls] == [batch] * 2 and batch == cfg_passes(preset, scale)
        assert calls[0][1] == pytest.approx([11.0, 127.0, 0.02])


def test_a_checkpoints_trained_length_is_its_default():
    adapter = get_adapter(FAMILY)
    request = VideoRequest(family=FAMILY, task=I2V, prompt=PROMPT, image=image_b64())
    assert adapter.resolve_params(request, ModelMeta()).params["num_frames"] == 25  # the family's (SVD-XT's)
    for preset_id, frames in (("svd-img2vid", 14), ("svd-img2vid-xt", 25)):
        preset = get_preset(preset_id)
        meta = preset.model_meta(I2V).model_copy(update=preset_facts(preset, I2V))
        assert meta.family_facts == {"num_frames": frames}
        prepared = adapter.resolve_params(request, meta)
        assert prepared.params["num_frames"] == frames and moved(prepared) == {"prompt": (PROMPT, None)}
        asked = adapter.resolve_params(request.model_copy(update={"num_frames": 20}), meta)
        assert asked.params["num_frames"] == 20  # the request's own wins
        own = meta.model_copy(update={"request_defaults": {"num_frames": 8}})  # and a directory's videogen.json
        assert adapter.resolve_params(request, own).params["num_frames"] == 8


def test_the_tiny_models_facts_are_its_files(tiny):
    assert tiny.meta.family_facts == {"num_frames": 9} == {"num_frames": tiny.pipe.unet.config.num_frames}
    assert directory_facts(tiny.model_dir, FAMILY, I2V)["family_facts"] == tiny.meta.family_facts


def test_the_meta_probe_counts_what_a_real_forward_does(tiny):
    real = tiny.pipe.unet
    with torch.device("meta"):
        meta = type(real).from_config(real.config)
    call, _ = denoiser_call(meta.to("meta"), batch=1, frames=3, height=4, width=4, text_tokens=0, image_tokens=1)
    with torch.no_grad(), FlopCounterMode(display=False) as counter:
        call()
    inputs = {
        "sample": torch.randn(1, 3, real.config.in_channels, 4, 4),
        "timestep": torch.tensor([0.5]),
        "encoder_hidden_states": torch.randn(1, 1, real.config.cross_attention_dim),
        "added_time_ids": torch.tensor([[6.0, 127.0, 0.02]]),
        "return_dict": False,
    }
    # the math backend: the CPU's fused attention kernel is not counted by FlopCounterMode, its matmuls are
    with torch.no_grad(), sdpa_kernel(SDPBackend.MATH), FlopCounterMode(display=False) as real_counter:
        real(**inputs)
    assert counter.get_total_flops() == real_counter.get_total_flops() > 0


def test_latents_are_the_pipelines(tiny):
    preset = get_preset("svd-img2vid-xt")
    for frames, height, width in ((25, 576, 1024), (14, 320, 576)):
        ours = latent_shape(preset, frames, height, width)
        # prepare_latents takes the UNet's input channels (noise + image latents) and halves them
        theirs = tiny.pipe.prepare_latents(1, frames, 8, height, width, torch.float32, torch.device("meta"), None)
        assert tuple(theirs.shape) == (1, ours.frames, ours.channels, ours.height, ours.width)


def test_the_vae_decode_law_and_its_one_plain_call():
    """FLOPs exact off the calibration points, the peak within 10 %; neither tiling nor slicing exists on the temporal
    decoder (placement skips them), so every rung prices the pipeline's one call of every frame."""
    preset = get_preset("svd-img2vid-xt")
    vae = meta_module(preset.component("vae"))
    model = calibrate.vae_decode_model(preset)
    for f, h, w in ((25, 72, 128), (7, 40, 72)):
        call, inputs = probes.vae_decode_call(vae, frames=f, height=h, width=w)
        own, point = measure(call, exclude=[*module_tensors(vae), *inputs]), calibrate.vae_variables(f, h * w)
        assert model.flops(**point) == pytest.approx(own.flops, rel=1e-6)
        assert model.peak(**point) == pytest.approx(own.peak_bytes, rel=0.10)
        for tiling, slicing in ((False, False), (True, True)):
            tiles = decode_tiles(vae, FAMILY, f, h, w, tiling=tiling, slicing=slicing)
            assert [(t.frames, t.height, t.width) for t in tiles] == [(f, h, w)]
