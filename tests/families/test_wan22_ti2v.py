"""Wan 2.2 TI2V-5B in miniature (``tiny:wan2.2-ti2v-5b``): one model for text- and image-to-video through diffusers'
own ``WanPipeline`` / ``WanImageToVideoPipeline`` with ``expand_timesteps``, on Wan 2.2's 48-channel VAE (/16 in
space: sizes are multiples of 32, a fact of the model read from its configs, not of the family).

"The first frame is closer to the given image than a text-to-video run's" is checked against the image as this model
can show it at all: its VAE's round trip. The tiny VAE's random weights pass on little of a pixel difference (see
``test_first_last_frame.py``), so distances to the raw image favour neither run; image-to-video writes the image's
latents into the first latent frame, so its first frame is that round trip exactly, and text-to-video's is not.
"""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch
from family_support import I2V, PROMPT, T2V, image_b64, load_tiny, moved
from safetensors.torch import load_file

from videogen.errors import InvalidRequestError
from videogen.video.checkpoint_facts import directory_facts
from videogen.video.families import get_adapter, get_spec
from videogen.video.hardware import VideoHardwareProfile
from videogen.video.model_source import ModelSource
from videogen.video.request import VideoRequest
from videogen.video.support import describe_model

VARIANT = "wan2.2-ti2v-5b"
TI2V = f"tiny:{VARIANT}"


@pytest.fixture(scope="module")
def ti2v(tmp_path_factory):
    """The variant's text- and image-to-video models, built and saved offline, loaded through from_pretrained."""
    return {task: load_tiny("wan", task, tmp_path_factory, variant=VARIANT) for task in (T2V, I2V)}


def _mse(a, b) -> float:
    return float(((np.asarray(a, np.float64) - np.asarray(b, np.float64)) ** 2).mean())


def test_one_model_runs_both_tasks_through_the_real_pipelines(ti2v):
    for task, expected in ((T2V, "WanPipeline"), (I2V, "WanImageToVideoPipeline")):
        tiny = ti2v[task]
        assert type(tiny.pipe).__name__ == expected == get_spec("wan").pipeline_classes[task]
        assert tiny.pipe.config.expand_timesteps and getattr(tiny.pipe, "image_encoder", None) is None
        assert tiny.pipe.vae.config.z_dim == 48 and tiny.pipe.transformer.config.in_channels == 48
        prepared, frames = tiny.generate(seed=0)
        assert prepared.adjustments == [] and frames.shape == (prepared.expected_frames, 32, 32, 3) == (9, 32, 32, 3)
    # one model: both tasks' directories hold the same weights
    t2v_dir, i2v_dir = ti2v[T2V].model_dir, ti2v[I2V].model_dir
    for name in ("transformer", "vae"):
        first = load_file(next((t2v_dir / name).glob("*.safetensors")))
        second = load_file(next((i2v_dir / name).glob("*.safetensors")))
        assert first.keys() == second.keys() and all(torch.equal(first[k], second[k]) for k in first)
    # and like the published checkpoint (one directory, a WanPipeline), the text-to-video directory serves
    # image-to-video: the family's class for the task, with the checkpoint's expand_timesteps
    assert json.loads((t2v_dir / "model_index.json").read_text())["_class_name"] == "WanPipeline"
    from_t2v_dir = ti2v[I2V].adapter.load(I2V, t2v_dir, torch.float32)
    from_t2v_dir.set_progress_bar_config(disable=True)
    assert type(from_t2v_dir).__name__ == "WanImageToVideoPipeline" and from_t2v_dir.config.expand_timesteps
    prepared = ti2v[I2V].prepare(seed=0)
    np.testing.assert_array_equal(
        ti2v[I2V].adapter.extract_frames(from_t2v_dir(**prepared.kwargs)), ti2v[I2V].generate(seed=0)[1]
    )


def test_an_off_multiple_size_moves_to_a_multiple_of_32_and_is_reported(ti2v):
    for task in (T2V, I2V):
        tiny = ti2v[task]
        assert tiny.meta.resolution_multiple == 32  # stated before the model is built: the ingress checks with it
        prepared, frames = tiny.generate(seed=0, height=48, width=80)  # Wan 2.1 takes both (multiples of 16)
        assert moved(prepared) == {"height": (48, 64), "width": (80, 96)}
        assert all("multiple of 32" in a.reason for a in prepared.adjustments)
        assert (prepared.kwargs["height"], prepared.kwargs["width"]) == (64, 96)
        assert frames.shape == (9, 64, 96, 3)
        # a tiny model takes any positive multiple, and nothing under one
        with pytest.raises(InvalidRequestError) as refused:
            tiny.resolve(height=16)
        assert refused.value.field == "height" and refused.value.allowed == {"min": 32, "max": 1920}
    # the multiple is the model's, read from its checkpoint's configs (VAE /16 x transformer patch 2), not Wan's
    assert directory_facts(ti2v[T2V].model_dir, "wan", T2V) == {"resolution_multiple": 32}
    assert ModelSource(family="wan", value="arch:wan2.2-ti2v-5b").model_meta(I2V).resolution_multiple == 32
    for plain in ("tiny", "arch:wan2.1-t2v-1.3b"):  # Wan 2.1's /8 VAE: the family's 16
        assert ModelSource(family="wan", value=plain).model_meta(T2V).resolution_multiple is None
    assert get_spec("wan").resolution_multiple == 16


def test_image_to_video_writes_the_image_into_the_first_frame(ti2v):
    """Same seed and prompt: image-to-video's first latent frame is the image's latents and its first frame the
    image as the VAE renders it; text-to-video's are neither."""
    t2v, i2v = ti2v[T2V], ti2v[I2V]
    image = image_b64()
    conditioned = i2v.prepare(seed=5, image=image)
    plain = t2v.prepare(seed=5)
    vae = i2v.pipe.vae
    pixels = i2v.pipe.video_processor.preprocess(conditioned.kwargs["image"], 32, 32).unsqueeze(2)  # [1, 3, 1, H, W]
    with torch.no_grad():
        image_latents = vae.encode(pixels).latent_dist.mode()  # as the pipeline encodes it (argmax)
        seen = (vae.decode(image_latents).sample[0, :, 0].permute(1, 2, 0) / 2 + 0.5).clamp(0, 1).numpy()
        latents = {
            name: tiny.pipe(**{**p.kwargs, "output_type": "latent"}).frames
            for name, tiny, p in (("i2v", i2v, conditioned), ("t2v", t2v, plain))
        }
    # latents_mean 0 / latents_std 1 in the tiny VAE: the pipeline's normalised latents are the VAE's own
    assert torch.allclose(latents["i2v"][:, :, 0], image_latents[:, :, 0], atol=1e-5)
    assert not torch.allclose(latents["t2v"][:, :, 0], image_latents[:, :, 0], atol=1e-2)
    first = {
        name: np.asarray(tiny.pipe(**p.kwargs).frames[0][0])
        for name, tiny, p in (("i2v", i2v, conditioned), ("t2v", t2v, plain))
    }
    assert _mse(first["i2v"], seen) < 1e-10 < 1e-6 < _mse(first["t2v"], seen)
    # the rest of the video is denoised, not copied: the last frame is not the image
    assert _mse(np.asarray(i2v.pipe(**conditioned.kwargs).frames[0][-1]), seen) > 1e-6


def test_videogen_models_shows_the_variant_with_its_tasks_and_size_grid():
    profile = VideoHardwareProfile.detect()
    described = describe_model(get_spec("wan"), profile, ModelSource(family="wan", value=TI2V))
    assert {t for t, level in described["task_support"].items() if level == "ready"} == {T2V, I2V}
    assert described["model"]["tiny_variant"] == VARIANT
    limits = described["request_limits"]
    assert set(limits) == {T2V, I2V}
    assert {limits[t]["size"]["multiple"] for t in limits} == {32}
    assert limits[I2V]["pipeline_class"] == "WanImageToVideoPipeline"
    # every other family says it has no such tiny model
    other = describe_model(get_spec("cogvideox"), profile, ModelSource(family="cogvideox", value=TI2V))
    assert set(other["task_support"].values()) == {"not_supported"} and other["request_limits"] == {}
    request = VideoRequest(family="wan", task=T2V, prompt=PROMPT, height=48)
    plain = ModelSource(family="wan", value="tiny").model_meta(T2V)
    assert get_adapter("wan").resolve_params(request, plain).params["height"] == 48  # Wan 2.1's grid: kept
