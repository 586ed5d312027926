"""LTX-Video keyframes, extension and video-to-video through diffusers' own ``LTXConditionPipeline`` on the tiny model.

Keyframes: each condition becomes an ``LTXVideoCondition``. A condition at frame 0 (an image, or a clip: extension
forwards) overwrites the first latent frames with its own latents; with strength 1 they are never denoised, only
re-noised by ``image_cond_noise_scale`` (0.15 x t^2) each step. A later image becomes extra tokens at its frame; a
later clip's first two latent frames become tokens and the rest overwrite the latents from ``frame_index // 8 + 2``
(so a clip starts on the 8-frame latent grid: moved there and said). Those are checked on the latents the pipeline
returns (``output_type="latent"``) against the condition latents it encoded (recorded by a spy around diffusers'
own ``retrieve_latents``, which it calls for every condition).

Not asserted, because it does not hold on the tiny model: "the decoded frame at ``frame_index`` is closer to the
condition image than an unconditioned run's". The tiny VAE's posterior has a standard deviation of ~1.2 against
~0.3 between two very different images' means, so what the pipeline encodes (it samples) is mostly that noise, and
the random decoder maps every latent to about the same distance from any input (its own round trip of an image is
as far from it, MSE ~0.17, as an unconditioned video). ``test_pixels_say_nothing_here`` prints the comparison and
asserts that reason. Video-to-video encodes the clip's mode (no sampling), so its strength ordering holds in pixels.
"""

from __future__ import annotations

import base64
import io
import json

import numpy as np
import pydantic
import pytest
import torch
from family_support import PROMPT, V2V, load_tiny, moved
from testkit import run_cli

from videogen.errors import InvalidRequestError, UnsupportedTaskError
from videogen.video.encode import read_mp4
from videogen.video.families import get_spec
from videogen.video.request import VideoRequest
from videogen.video.video_to_video import clip_b64
from videogen.video.worker import GenerationWorker

KF = "keyframes"
FAMILY = "ltx-video"


def _pixels(kind: str) -> np.ndarray:
    """``a``: a yellow square on blue; ``b``: a green square on beige (32x32)."""
    pixels = np.zeros((32, 32, 3), np.uint8)
    pixels[:] = (20, 30, 200) if kind == "a" else (230, 200, 180)
    pixels[8:24, 8:24] = (250, 240, 20) if kind == "a" else (10, 120, 10)
    return pixels


def _png(kind: str) -> str:
    from PIL import Image

    buf = io.BytesIO()
    Image.fromarray(_pixels(kind)).save(buf, format="PNG")
    return base64.b64encode(buf.getvalue()).decode("ascii")


A, B = _png("a"), _png("b")
CLIP_A = clip_b64(np.stack([_pixels("a")] * 9), 24)  # 9 frames at LTX's 24 fps: one 8k+1 clip


def request(**fields) -> VideoRequest:
    fields.setdefault("task", KF)
    # without CFG unless asked (one transformer pass a step: these tests measure conditioning, not guidance)
    fields = {"seed": 7, "num_inference_steps": 4, "guidance_scale": 1.0, **fields}
    return VideoRequest(family=FAMILY, prompt=PROMPT, **fields)


@pytest.fixture(scope="module")
def tiny(tmp_path_factory):
    return load_tiny(FAMILY, KF, tmp_path_factory)


@pytest.fixture(scope="module")
def v2v(tmp_path_factory):
    return load_tiny(FAMILY, V2V, tmp_path_factory)


@pytest.fixture
def encoded(monkeypatch):
    """The condition latents ``LTXConditionPipeline`` encodes, in call order (a spy: diffusers' function runs)."""
    from diffusers.pipelines.ltx import pipeline_ltx_condition as module

    seen: list[torch.Tensor] = []
    original = module.retrieve_latents
    monkeypatch.setattr(module, "retrieve_latents", lambda *a, **k: seen.append(original(*a, **k)) or seen[-1])
    return seen


def _latents(tiny, conditions, **fields) -> torch.Tensor:
    """The denoised latents ``[1, C, F', H', W']`` the pipeline would decode; ``conditions=None``: the same call
    without any (the unconditioned run of the same seed)."""
    prepared = tiny.adapter.prepare_inputs(
        request(conditions=conditions or [{"image": A}], **fields), tiny.pipe, tiny.meta
    )
    kwargs = {**prepared.kwargs, "output_type": "latent"}
    if conditions is None:
        kwargs.pop("conditions")
    return tiny.pipe(**kwargs).frames


_PLAIN: dict[int, torch.Tensor] = {}


def _plain(tiny, num_frames: int) -> torch.Tensor:
    """The unconditioned run's latents (seed 7), computed once per length."""
    if num_frames not in _PLAIN:
        _PLAIN[num_frames] = _latents(tiny, None, num_frames=num_frames)
    return _PLAIN[num_frames]


def _mse(a, b) -> float:
    return float(((a - b) ** 2).mean())


def test_keyframes_and_video_to_video_run_on_the_condition_pipeline(tiny):
    spec = get_spec(FAMILY)
    assert spec.pipeline_classes[KF] == spec.pipeline_classes[V2V] == "LTXConditionPipeline"
    assert spec.default_model_ids[KF] == spec.default_model_ids[V2V] == "Lightricks/LTX-Video-0.9.5"
    assert spec.required_inputs[KF] == ["prompt", "conditions"]
    assert type(tiny.pipe).__name__ == "LTXConditionPipeline"
    # a first image, a clip (extension backwards: it ends on the last frame) and a 64x32 job of 17 frames
    conditions = [{"image": A}, {"video": CLIP_A, "frame_index": 8, "strength": 0.8}]
    job = request(conditions=conditions, num_frames=17, guidance_scale=3.0, num_inference_steps=2)
    prepared = tiny.adapter.prepare_inputs(job.model_copy(update={"width": 64}), tiny.pipe, tiny.meta)
    assert moved(prepared) == {"conditions[1].video.size": ("32x32", "64x32")}
    first, clip = prepared.kwargs["conditions"]
    assert type(first).__name__ == "LTXVideoCondition" and first.video is None and first.image.size == (64, 32)
    assert (first.frame_index, first.strength, clip.frame_index, clip.strength) == (0, 1.0, 8, 0.8)
    assert clip.image is None and len(clip.video) == 9
    frames = tiny.adapter.extract_frames(tiny.pipe(**prepared.kwargs))
    assert frames.shape == (prepared.expected_frames, 32, 64, 3) == (17, 32, 64, 3)


def test_a_hard_condition_holds_its_latents(tiny, encoded):
    """Strength 1 at frame 0 (an image; a clip: extension forwards): the output's first latent frames are the
    condition's latents up to the pipeline's re-noising, which the unconditioned run's are not."""
    held = _latents(tiny, [{"image": A}], num_frames=17)
    (image,) = encoded
    plain = _plain(tiny, 17)
    near, far = _mse(held[:, :, 0], image[:, :, 0]), _mse(plain[:, :, 0], image[:, :, 0])
    print(f"latent frame 0 MSE to the image's latents: conditioned {near:.3g}, unconditioned {far:.3g}")
    assert near < 0.05 < 1.0 < far  # measured ~0.006 (0.15 x t^2 noise at the last t, 0.725) against ~2
    clip_run = _latents(tiny, [{"video": CLIP_A}], num_frames=25)
    clip = encoded[-1]
    span = clip.shape[2]  # the clip's latent frames (9 frames: 3 on the tiny VAE's /4)
    plain = _plain(tiny, 25)
    assert _mse(clip_run[:, :, :span], clip) < 0.05 < 1.0 < _mse(plain[:, :, :span], clip)
    assert _mse(clip_run[:, :, span:], plain[:, :, span:]) < 0.01  # what follows is generated (and moved a little)


def test_a_later_clip_lands_on_the_latent_grid(tiny, encoded):
    """A later clip's latent frames past its first two overwrite the job's from ``frame_index // ratio + 2``.
    At 16 of 25 frames (extension backwards: it ends on the last frame) its third latent frame is the job's last
    (the tiny VAE compresses time /4); asked at 13 it is moved to 8 (the real VAE's 8-frame grid) and said."""
    ratio = tiny.pipe.vae_temporal_compression_ratio
    plain = _plain(tiny, 25)
    for asked, used in ((16, 16), (13, 8)):
        job = request(conditions=[{"video": CLIP_A, "frame_index": asked}], num_frames=25)
        prepared = tiny.adapter.resolve_params(job, tiny.meta)
        assert moved(prepared) == ({} if asked == used else {"conditions[0].frame_index": (asked, used)})
        out = _latents(tiny, [{"video": CLIP_A, "frame_index": asked}], num_frames=25)
        clip = encoded[-1]
        at = used // ratio + 2
        near, far = _mse(out[:, :, at], clip[:, :, 2]), _mse(plain[:, :, at], clip[:, :, 2])
        print(f"clip asked at {asked}: latent frame {at} MSE to the clip's third {near:.3g}, unconditioned {far:.3g}")
        assert near < 0.05 < 1.0 < far
    assert at == 4 and "latent grid of 8 frames" in prepared.adjustments[0].reason
    # an image is tokens at its exact frame, and a clip cut to one frame (asked at 20: 5 frames of room) is one
    for condition in ({"image": A, "frame_index": 13}, {"video": CLIP_A, "frame_index": 20}):
        assert moved(tiny.adapter.resolve_params(request(conditions=[condition], num_frames=25), tiny.meta)) in (
            {},
            {"conditions[0].video.frames": (9, 1)},
        )


def test_a_later_image_steers_the_video(tiny):
    """An image at frame 8 is extra tokens only (nothing is overwritten): another image, the same seed, another
    video; the same image, the same video."""
    a, a_again, b = (
        _latents(tiny, [{"image": x, "frame_index": 8}], num_frames=17, num_inference_steps=2) for x in (A, A, B)
    )
    assert torch.equal(a, a_again)
    change = _mse(a, b)
    print(f"latent MSE, image B vs A at frame 8: {change:.3g}")
    assert change > 1e-7  # measured ~1e-5 (the random transformer's attention to 64 tokens); float noise is 0 here


def test_pixels_say_nothing_here(tiny):
    """Why decoded frames are not compared with the condition image (module docstring): printed, and the reason
    asserted: the tiny VAE's posterior noise dwarfs what tells two images apart."""
    vae = tiny.pipe.vae
    as_video = lambda kind: torch.from_numpy(_pixels(kind)).float().permute(2, 0, 1)[None, :, None] / 127.5 - 1  # noqa: E731
    with torch.no_grad():
        a, b = vae.encode(as_video("a")).latent_dist, vae.encode(as_video("b")).latent_dist
    spread, apart = float(a.std.mean()), float((a.mean - b.mean).abs().mean())
    print(f"tiny VAE: posterior std {spread:.3g}, |mean(a) - mean(b)| {apart:.3g}")
    assert spread > 2 * apart


def test_bad_conditions_are_refused_naming_the_field(tiny):
    with pytest.raises(InvalidRequestError) as err:  # past the end: 17 frames are 0..16
        tiny.adapter.resolve_params(request(conditions=[{"image": A, "frame_index": 17}], num_frames=17), tiny.meta)
    assert err.value.field == "conditions[0].frame_index" and err.value.allowed == {"min": 0, "max": 16}
    with pytest.raises(InvalidRequestError) as err:
        tiny.adapter.resolve_params(request(conditions=None), tiny.meta)
    assert err.value.field == "conditions"
    with pytest.raises(InvalidRequestError) as err:
        tiny.adapter.resolve_params(request(conditions=[{"image": "%% not base64"}]), tiny.meta)
    assert err.value.field == "conditions[0].image"
    with pytest.raises(pydantic.ValidationError) as err:  # the request model refuses it: the ingress answers 422
        request(conditions=[{"image": A, "video": CLIP_A}])
    from videogen.serve.errors import http_status, request_validation_error

    refusal = request_validation_error(err.value.errors())  # what the HTTP handler and the handle API answer
    assert http_status(refusal) == 422 and refusal.field == "conditions.0"
    assert "exactly one of image or video" in refusal.message


def test_an_old_checkpoint_is_refused_before_it_runs(tiny):
    """LTX-Video 0.9.0/0.9.1 schedulers shift dynamically: LTXConditionPipeline's own timesteps would fail inside
    the call; the adapter says which checkpoint to use."""
    from diffusers import FlowMatchEulerDiscreteScheduler

    old = type(tiny.pipe)(
        **{**tiny.pipe.components, "scheduler": FlowMatchEulerDiscreteScheduler(use_dynamic_shifting=True)}
    )
    with pytest.raises(UnsupportedTaskError) as err:
        tiny.adapter.prepare_inputs(request(conditions=[{"image": A}]), old, tiny.meta)
    assert "0.9.5" in err.value.message
    kwargs = tiny.adapter.prepare_inputs(request(conditions=[{"image": A}]), tiny.pipe, tiny.meta).kwargs
    with pytest.raises(ValueError, match="mu"):  # what the check saves a user from
        old(**kwargs)


def test_video_to_video_noises_the_clips_latents_to_the_strength(v2v):
    assert type(v2v.pipe).__name__ == "LTXConditionPipeline"
    steps = 4

    def run(kind: str, strength: float):
        clip = clip_b64(np.stack([_pixels(kind)] * 9), 24)
        fields = dict(task=V2V, video=clip, strength=strength, num_inference_steps=steps)
        prepared = v2v.adapter.prepare_inputs(request(**fields), v2v.pipe, v2v.meta)
        seen = []
        frames = v2v.pipe(**prepared.kwargs, callback_on_step_end=lambda p, i, t, kw: seen.append(i) or {}).frames
        assert len(seen) == prepared.params["denoising_steps"] == int(steps * strength)  # what really ran
        return prepared, np.asarray(frames, dtype=np.float64)[0]

    prepared, low_a = run("a", 0.25)
    kwargs = prepared.kwargs
    # the clip is the latents, its strength denoise_strength: never LTX's condition ``video`` / ``strength``
    assert kwargs["denoise_strength"] == 0.25 and "video" not in kwargs and "strength" not in kwargs
    assert kwargs["latents"].shape == (1, 8, 3, 8, 8)  # 9 frames, 32x32 through the tiny VAE (/4, /4)
    _, high_a = run("a", 1.0)
    _, low_b = run("b", 0.25)
    _, high_b = run("b", 1.0)
    vae = v2v.pipe.vae
    with torch.no_grad():
        seen = vae.decode(kwargs["latents"]).sample[0].permute(1, 2, 3, 0)  # the input as the model sees it
    seen = (seen / 2 + 0.5).clamp(0, 1).numpy()
    near, far = _mse(low_a, seen), _mse(high_a, seen)
    print(f"MSE to the input as the VAE sees it: strength 0.25 {near:.3g}, 1.0 {far:.3g}")
    assert near < far
    assert _mse(low_a, low_b) > _mse(high_a, high_b)  # a low strength follows its clip; 1.0 ignores it


def test_the_worker_writes_keyframes_and_the_cli_runs_them(tmp_path, capsys):
    worker = GenerationWorker(default_model="tiny")
    job = request(conditions=[{"image": A}, {"image": B, "frame_index": 16}], num_frames=17, num_inference_steps=2)
    result = worker.generate(job, tmp_path / "kf.mp4")
    assert result.model["pipeline_class"] == "LTXConditionPipeline"
    frames, _ = read_mp4(tmp_path / "kf.mp4")
    assert frames.shape == (17, 32, 32, 3) and result.num_frames == 17
    first, last = tmp_path / "a.png", tmp_path / "b.png"
    first.write_bytes(base64.b64decode(A))
    last.write_bytes(base64.b64decode(B))
    out = tmp_path / "out.mp4"
    args = ["generate", "--family", FAMILY, "--task", KF, "--keyframe", f"0={first}", "--keyframe", f"16={last}"]
    args += ["--model", "tiny", "--prompt", "a fox", "--steps", "2", "--seed", "4", "-o", str(out), "--json"]
    # 17 frames: the tiny model's default 9 end at frame 8, and a keyframe at 16 would be refused naming
    # conditions[1].frame_index (test_bad_conditions_are_refused_naming_the_field)
    code, stdout, stderr = run_cli(capsys, *args, "--frames", "17")
    assert code == 0, stderr
    assert json.loads(stdout)["frames"] == 17 and read_mp4(out)[0].shape == (17, 32, 32, 3)
