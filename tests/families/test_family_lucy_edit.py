"""Lucy Edit tiny video-to-video: what is the family's own. The clip's latents ride beside the noise at every step (no
strength: a request naming one is refused, every step runs, and the estimate prices them all with the clip's encode);
the clip decides the frames and is conformed to the job's size, a multiple of 32.

Generic checks: the worker writes the edited MP4 (test_worker.py), step caches (test_speed.py), quantized weights,
accepted-means-runs, text- and image-to-video refused naming the task (test_families.py); the preset's counts against
the checkpoint (test_arch_presets.py) and its FLOPs per step against FlopCounterMode (test_cost_model.py).
"""

from __future__ import annotations

import numpy as np
import pytest
import torch
from family_support import PROMPT, V2V, load_tiny, moved
from test_video_to_video import clip

from videogen.errors import GenerationCancelled, InvalidRequestError
from videogen.video.job_cost import estimate_job
from videogen.video.model_source import ModelSource
from videogen.video.request import VideoRequest
from videogen.video.stage_clock import step_callback_kwargs

FAMILY = "lucy-edit"
FPS = 24  # the family's: a clip at it is used frame for frame


@pytest.fixture(scope="module")
def tiny(tmp_path_factory):
    return load_tiny(FAMILY, V2V, tmp_path_factory)


def _request(**fields) -> VideoRequest:
    fields.setdefault("video", clip(fps=FPS))
    return VideoRequest(family=FAMILY, task=V2V, prompt=PROMPT, **fields)


def _prepare(tiny, **fields):
    return tiny.adapter.prepare_inputs(_request(**fields), tiny.pipe, tiny.meta)


def test_every_step_sees_the_clips_latents_beside_the_noise(tiny, monkeypatch):
    """The transformer takes 2 x 48 channels: the noise, stepped, and the clip's latents, the same at every call; the
    output follows the clip (another clip, the same seed: another video) and the seed (the same: the same frames)."""
    prepared = _prepare(tiny, seed=1, num_inference_steps=2)
    assert prepared.adjustments == [] and "strength" not in prepared.kwargs
    assert len(prepared.kwargs["video"]) == 9 and {f.size for f in prepared.kwargs["video"]} == {(32, 32)}
    inputs: list[torch.Tensor] = []
    forward = tiny.pipe.transformer.forward
    monkeypatch.setattr(
        tiny.pipe.transformer, "forward", lambda *a, **k: inputs.append(k["hidden_states"]) or forward(*a, **k)
    )
    frames = tiny.adapter.extract_frames(tiny.pipe(**prepared.kwargs))
    monkeypatch.undo()
    assert frames.shape == (prepared.expected_frames, 32, 32, 3) == (9, 32, 32, 3)
    assert len(inputs) == 2 * 2  # two steps, conditional and unconditional
    assert {tuple(x.shape) for x in inputs} == {(1, 96, 3, 2, 2)}
    assert all(torch.equal(x[:, 48:], inputs[0][:, 48:]) for x in inputs)  # the clip: never noised
    assert not torch.equal(inputs[0][:, :48], inputs[-1][:, :48])  # the noise: stepped
    _, again = tiny.generate(video=clip(fps=FPS), seed=1, num_inference_steps=2)
    _, other = tiny.generate(video=clip("b", fps=FPS), seed=1, num_inference_steps=2)
    np.testing.assert_array_equal(frames, again)
    assert not np.array_equal(frames, other)


def test_strength_is_refused_and_every_step_runs(tiny):
    with pytest.raises(InvalidRequestError) as err:
        tiny.adapter.resolve_params(_request(strength=0.5), tiny.meta)
    assert err.value.field == "strength" and "LucyEditPipeline" in err.value.message
    # one step is one step: no strength to settle, nothing moved, the job's steps are all of them
    prepared = tiny.adapter.resolve_params(_request(num_inference_steps=1), tiny.meta)
    assert prepared.adjustments == [] and prepared.params["num_inference_steps"] == 1
    assert "strength" not in prepared.params and "denoising_steps" not in prepared.params


def test_the_clip_decides_the_frames_and_is_conformed_to_the_job(tiny):
    """12 frames of 64x40 at 8 fps into a 64x32 job: 34 frames at 24 fps, down to 4k+1 (33), each said."""
    prepared, frames = tiny.generate(video=clip(count=12, fps=8, height=40, width=64), height=32, width=64, seed=2)
    assert moved(prepared) == {"video.size": ("64x40", "64x32"), "video.fps": (8.0, 24), "video.frames": (34, 33)}
    assert prepared.params["num_frames"] == prepared.expected_frames == 33 and frames.shape == (33, 32, 64, 3)
    # sizes are multiples of 32 (Wan 2.2's /16 VAE and 2x2 patches); frames 5..121
    taller = tiny.adapter.resolve_params(_request(height=48), tiny.meta)
    assert moved(taller) == {"height": (48, 64), "video.size": ("32x32", "32x64")}
    for frames_asked in (1, 125):
        with pytest.raises(InvalidRequestError) as err:
            tiny.adapter.resolve_params(_request(num_frames=frames_asked), tiny.meta)
        assert err.value.field == "num_frames"


def test_the_estimate_prices_every_step_and_the_clips_encode(tiny):
    def estimate(**fields):
        params = tiny.adapter.resolve_params(_request(seed=1, **fields), tiny.meta).params
        return estimate_job(ModelSource(family=FAMILY, value="tiny"), V2V, params, "float32")[0]

    ten, five = estimate(num_inference_steps=10), estimate(num_inference_steps=5)
    unguided = estimate(num_inference_steps=10, guidance_scale=1.0)
    assert ten.flops["denoise_total"] == pytest.approx(2 * five.flops["denoise_total"])
    assert ten.flops["denoise_total"] == pytest.approx(2 * unguided.flops["denoise_total"])  # two calls a step
    assert ten.flops["vae_encode"] == five.flops["vae_encode"] > 0


def test_a_cancel_at_a_step_leaves_before_decoding(tiny, monkeypatch):
    decodes: list[int] = []
    decode = tiny.pipe.vae.decode
    monkeypatch.setattr(tiny.pipe.vae, "decode", lambda *a, **k: decodes.append(1) or decode(*a, **k))

    def cancel(step_index: int) -> None:
        raise GenerationCancelled(f"cancelled at {step_index}")

    prepared = _prepare(tiny, seed=0, num_inference_steps=3)
    with pytest.raises(GenerationCancelled, match="cancelled at 0"):
        tiny.adapter.run(tiny.pipe, {**prepared.kwargs, **step_callback_kwargs(tiny.pipe, cancel)}, prepared.params)
    assert decodes == []
