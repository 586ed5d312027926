"""SkyReels-V2 tiny: diffusion forcing (windows, ar_step, causal_block_size, overlap_history: settled, refused
naming the field, counted by the progress, priced by the cost model), video-to-video extending a clip, first-last-frame
closing the last window with the last image, and the plain checkpoints that have none of it.

The tiny DF model's window is 9 frames (3 latent frames): 13 frames are two windows, the fewest that prove the
overlap. Generic checks (frames, seeds, cancel, refusals of text- and image-to-video): test_families.py.
"""

from __future__ import annotations

import itertools
import time

import numpy as np
import pytest
import torch
from family_support import FLF, I2V, T2V, V2V, image_b64, load_tiny, moved, tiny_fixture
from pydantic import ValidationError

from videogen.errors import InvalidRequestError
from videogen.video.families import get_adapter
from videogen.video.families.skyreels_v2 import forcing
from videogen.video.request import VideoRequest
from videogen.video.stage_clock import StageClock, step_callback_kwargs
from videogen.video.video_to_video import clip_b64

FAMILY = "skyreels-v2"
tiny = tiny_fixture(FAMILY, (T2V,))


def _run(tiny, prepared, on_step=None) -> np.ndarray:
    """The worker's call: the adapter's ``run`` with a step callback."""
    kwargs = {**prepared.kwargs, **step_callback_kwargs(tiny.pipe, on_step or (lambda _: None))}
    return tiny.adapter.extract_frames(tiny.adapter.run(tiny.pipe, kwargs, prepared.params))


def test_the_windows_and_calls_are_the_pipelines_own():
    from diffusers import SkyReelsV2DiffusionForcingPipeline

    matrix = SkyReelsV2DiffusionForcingPipeline.generate_timestep_matrix
    grid = itertools.product((3, 5, 10), (1, 4, 30), (0, 1, 5), (1, 5), (0, 1, 5))
    # and the docs' example: 25 latent frames in 5 blocks of 5, 30 steps, ar_step 5: "30 + (5-1) x 5 = 50" calls
    for latent, steps, ar, block, clean in [*grid, (25, 30, 5, 5, 0)]:
        if latent % block or clean >= latent:
            continue
        ready = clean - clean % block  # what the pipelines keep of a clean prefix: whole blocks
        rows = matrix(None, latent, torch.arange(steps, 0, -1) * 30, latent, ar, ready, block)[0]
        assert forcing.window_calls(latent, clean, block, steps, ar) == len(rows), (latent, steps, ar, block, clean)
    # the docs' example: 257 frames at base_num_frames 97 and overlap 17 run in three windows of 25 latent frames
    assert forcing.windows(T2V, 65, 25, 5) == [forcing.Window(25, 0), forcing.Window(25, 5), forcing.Window(25, 5)]


def test_a_long_video_runs_in_windows_and_the_progress_says_which(tiny):
    prepared = tiny.prepare(seed=0, num_frames=13, ar_step=1)
    # two windows of 3 latent frames: the first staggers its 3 blocks (2 steps + 2 x ar_step 1), the second denoises
    # the one new block after its 2 overlap frames (5 frames, the default 17 within the 9-frame window)
    assert prepared.params["denoising_blocks"] == [4, 2] and prepared.params["denoising_steps"] == 6
    assert prepared.kwargs["overlap_history"] == 5 and prepared.kwargs["base_num_frames"] == 9
    events = []
    clock = StageClock(events.append)
    clock.block_steps = prepared.params["denoising_blocks"]
    started, calls = time.time(), []

    def on_step(index: int) -> None:
        calls.append(index)
        clock.denoising_step(index + 1, prepared.params["denoising_steps"], started)

    frames = _run(tiny, prepared, on_step)
    assert frames.shape == (13, 32, 32, 3)
    assert calls == list(range(6))  # every transformer call counted, across both windows
    # the overlap's added noise (addnoise_condition) comes from torch's global generator: seeded from the job
    torch.manual_seed(123)
    np.testing.assert_array_equal(_run(tiny, tiny.prepare(seed=0, num_frames=13, ar_step=1)), frames)
    assert [(e.step, e.block, e.total_blocks) for e in events] == [(1, 1, 2), (2, 1, 2), (3, 1, 2), (4, 1, 2)] + [
        (5, 2, 2),
        (6, 2, 2),
    ]
    clock.block_steps = [6]  # one window: no block reported
    clock.denoising_step(1, 6, started)
    assert events[-1].block is None and events[-1].total_blocks is None


def test_causal_blocks_must_be_whole_and_the_models_own_comes_back(tiny):
    prepared = tiny.prepare(seed=0, causal_block_size=3, ar_step=2)  # 9 frames: one window of 3 latent frames
    assert moved(prepared) == {"ar_step": (2, 0)}  # one block: nothing to lag behind, said
    assert _run(tiny, prepared).shape == (9, 32, 32, 3)
    assert tiny.pipe.transformer.config.num_frame_per_block == 1  # the pipeline wrote 3 there; the model's is back
    with pytest.raises(InvalidRequestError) as err:  # windows of 3 latent frames, 2 carried over: only 1 fits both
        tiny.resolve(num_frames=13, causal_block_size=3)
    assert err.value.field == "causal_block_size" and err.value.allowed == [1]


def test_overlap_history_is_settled_within_the_window(tiny):
    with pytest.raises(InvalidRequestError) as err:
        tiny.resolve(num_frames=13, overlap_history=9)  # the whole 9-frame window: no window would add a frame
    assert err.value.field == "overlap_history" and err.value.allowed == {"min": 1, "max": 8}
    long = tiny.resolve(num_frames=13, overlap_history=6)
    assert moved(long) == {"overlap_history": (6, 5)}  # whole latent frames: 4k+1
    short = tiny.resolve(overlap_history=5)  # 9 frames fit one window
    assert [(a.field, a.used) for a in short.adjustments] == [("overlap_history", None)]
    assert short.params["forcing"]["overlap_history"] is None
    with pytest.raises(ValidationError):  # the request model's own bounds (a 422 naming the field over HTTP)
        VideoRequest(family=FAMILY, prompt="a fox", ar_step=-1)


def test_other_families_refuse_the_forcing_fields():
    with pytest.raises(InvalidRequestError) as err:
        get_adapter("wan").resolve_params(VideoRequest(family="wan", prompt="a fox", overlap_history=17))
    assert err.value.field == "overlap_history"


def test_video_to_video_extends_the_clip(tmp_path_factory):
    tiny = load_tiny(FAMILY, V2V, tmp_path_factory)
    frames = np.random.default_rng(0).integers(0, 255, (5, 32, 32, 3), dtype=np.uint8)
    request = tiny.request(video=clip_b64(frames, 24), num_frames=13, seed=0)
    prepared = tiny.adapter.prepare_inputs(request, tiny.pipe, tiny.meta)
    # the clip opens the output; the pipeline generates its last 5 frames again and 8 new ones after them
    assert prepared.kwargs["num_frames"] == 13 and prepared.kwargs["overlap_history"] == 5
    out = _run(tiny, prepared)
    assert out.shape == (13, 32, 32, 3) == (prepared.expected_frames, 32, 32, 3)
    clip = np.stack([np.asarray(frame) for frame in prepared.video])
    assert np.abs(out[:5].astype(int) - clip.astype(int)).max() <= 1  # kept, not regenerated
    # diffusers' own output: the clip, the overlap decoded again, the new frames; only the second is left out
    again = tiny.adapter.prepare_inputs(request, tiny.pipe, tiny.meta)
    raw = tiny.adapter.extract_frames(tiny.pipe(**again.kwargs))
    assert raw.shape[0] == 5 + 13
    np.testing.assert_array_equal(out, np.concatenate([raw[:5], raw[10:]]))
    with pytest.raises(InvalidRequestError) as err:
        tiny.adapter.resolve_params(tiny.request(video=clip_b64(frames, 24), num_frames=5), tiny.meta)
    assert err.value.field == "num_frames" and err.value.allowed == {"min": 9, "max": 1021}
    with pytest.raises(InvalidRequestError) as err:
        tiny.adapter.resolve_params(tiny.request(video=clip_b64(frames, 24), strength=0.5), tiny.meta)
    assert err.value.field == "strength"


def test_first_last_frame_closes_its_window_with_the_last_image(tmp_path_factory, monkeypatch):
    from videogen.video.job_cost import estimate_job
    from videogen.video.model_source import ModelSource

    tiny = load_tiny(FAMILY, FLF, tmp_path_factory)
    assert type(tiny.pipe).__name__ == "SkyReelsV2DiffusionForcingImageToVideoPipeline"
    latent: list[int] = []
    forward = tiny.pipe.transformer.forward
    monkeypatch.setattr(
        tiny.pipe.transformer, "forward", lambda *a, **k: latent.append(k["hidden_states"].shape[2]) or forward(*a, **k)
    )
    with pytest.raises(InvalidRequestError) as err:  # two windows: diffusers' long path would fail inside the call
        tiny.resolve(num_frames=13, image=image_b64(), last_image=image_b64((48, 32)))
    assert err.value.field == "num_frames" and err.value.allowed == {"max": 9}
    prepared = tiny.prepare(seed=0, num_frames=9, image=image_b64(), last_image=image_b64((48, 32)))
    assert prepared.kwargs["last_image"] is not None and prepared.params["guidance_scale"] == 5.0
    calls = []
    out = _run(tiny, prepared, calls.append)
    assert out.shape == (9, 32, 32, 3)  # the last image's latent frame is dropped again before the decode
    windows = prepared.params["forcing"]["windows"]
    # one window: its 3 latent frames (the tiny model's 9-frame window) and the last image's
    assert windows == [[4, len(calls)]] and windows[0][0] == forcing.latent_frames(9) + 1
    # what the transformer saw: each window's latent frames, at each call, for both guidance branches
    assert sorted(latent) == sorted(n for n, count in windows for _ in range(2 * count))
    assert len(calls) == prepared.params["denoising_steps"] == sum(c for _, c in windows)
    # priced as such: two images VAE-encoded, the image-to-video scheduler's checkpoint defaults
    source = ModelSource(family=FAMILY, value="arch:skyreels-v2-df-1.3b-540p")
    request = VideoRequest(family=FAMILY, task=FLF, prompt="a fox", image=image_b64(), last_image=image_b64((48, 32)))
    plan = estimate_job(
        source, FLF, get_adapter(FAMILY).resolve_params(request, source.model_meta(FLF)).params, "bfloat16"
    )
    i2v = VideoRequest(family=FAMILY, task=I2V, prompt="a fox", image=image_b64())
    one = estimate_job(source, I2V, get_adapter(FAMILY).resolve_params(i2v, source.model_meta(I2V)).params, "bfloat16")
    assert plan[0].flops["vae_encode"] == pytest.approx(2 * one[0].flops["vae_encode"], rel=1e-9)
    assert plan[0].flops_per_step > one[0].flops_per_step  # one latent frame more in the (one) window


def test_plain_checkpoints_run_their_task_without_forcing(tmp_path_factory):
    plain = load_tiny(FAMILY, I2V, tmp_path_factory, variant="i2v")
    assert type(plain.pipe).__name__ == "SkyReelsV2ImageToVideoPipeline"
    prepared = plain.prepare(seed=0, image=image_b64())
    assert prepared.params["guidance_scale"] == 5.0 and "forcing" not in prepared.params  # the model cards' i2v
    assert _run(plain, prepared).shape == (9, 32, 32, 3)
    with pytest.raises(InvalidRequestError) as err:
        plain.resolve(ar_step=5)
    assert err.value.field == "ar_step"
    reason = plain.adapter.model_unavailable_reason(T2V, plain.model_dir)
    assert "SkyReelsV2ImageToVideoPipeline" in reason and "DF checkpoint" in reason


def test_a_long_job_is_priced_by_its_windows():
    from videogen.video.job_cost import estimate_job
    from videogen.video.model_source import ModelSource

    source = ModelSource(family=FAMILY, value="arch:skyreels-v2-df-1.3b-540p")
    adapter = get_adapter(FAMILY)

    def price(**fields):
        request = VideoRequest(family=FAMILY, prompt="a fox", **fields)
        params = adapter.resolve_params(request, source.model_meta(T2V)).params
        return params, estimate_job(source, T2V, params, "bfloat16")[0]

    one, window = price()  # the checkpoint's own: 544x960, one window of 97 frames, 30 steps
    assert (one["height"], one["width"], one["num_frames"], one["denoising_steps"]) == (544, 960, 97, 30)
    params, long = price(num_frames=257)  # the docs' example: three windows of 25 latent frames
    assert params["denoising_blocks"] == [30, 30, 30]
    assert long.flops["denoise_total"] == pytest.approx(90 * window.flops_per_step, rel=1e-9)
    assert long.flops["per_step"] == pytest.approx(window.flops_per_step, rel=1e-9)
    assert long.flops["vae_decode"] > 2.5 * window.flops["vae_decode"]  # the 257 frames decode once, together
    # 5 blocks of 5 latent frames a window: 30 + 4 x 5 calls in the first, 30 + 3 x 5 in the others (their first
    # block is the overlap, already clean)
    params, staggered = price(num_frames=257, ar_step=5, causal_block_size=5)
    assert params["denoising_blocks"] == [50, 45, 45]
    assert staggered.flops["denoise_total"] == pytest.approx(140 * window.flops_per_step, rel=1e-9)
    assert staggered.memory_gb == long.memory_gb  # the same windows
