"""Speed levers on the tiny models: attention backend probe and fallback, every step cache on every family
(work done and drift), regional compile at warm-up, and how the policy and requests carry them."""

from __future__ import annotations

import functools
import math

import numpy as np
import pytest
import torch

from videogen.errors import InvalidRequestError
from videogen.video import speed, speed_measure
from videogen.video.policy_overrides import ATTENTION_BACKENDS, STEP_CACHE_KINDS
from videogen.video.registry import SPECS
from videogen.video.request import VideoRequest
from videogen.video.spec import StepCacheSupport
from videogen.video.speed import StepCacheSetting
from videogen.video.worker import GenerationWorker

STEPS = 8  # enough steps for every cache to skip some: each keeps the first ones (and some the last) in full
CACHES = [kind for kind in STEP_CACHE_KINDS if kind != "off"]
CASES = [(family, task) for family, spec in SPECS.items() for task in spec.tasks]
# Random tiny models change more between steps than trained ones: First-Block Cache's default threshold
# (0.05) would never skip on them; 0.3 skips on every family that takes it.
TINY_SETTINGS = {"first_block": {"threshold": 0.3}}


@pytest.fixture(scope="module")
def worker():
    return GenerationWorker(default_model="tiny")


def _request(family, task, png_b64, step_cache=None):
    return VideoRequest(
        family=family,
        task=task,
        prompt="a cat running on the beach",
        seed=5,
        num_inference_steps=STEPS,
        image=png_b64 if task in ("image-to-video", "first-last-frame") else None,
        last_image=png_b64 if task == "first-last-frame" else None,
        video=_clip(SPECS[family].defaults.fps) if task in ("video-to-video", *_VACE_CLIP) else None,
        # Wan VACE: a reference image; inpainting keeps the clip where its mask (the PNG, binarised) is black
        reference_images=[png_b64] if task == "reference-to-video" else None,
        mask=png_b64 if task == "video-inpaint" else None,
        conditions=[{"image": png_b64, "frame_index": 0}] if task == "keyframes" else None,  # the PNG first
        step_cache=step_cache,
    )


_VACE_CLIP = ("video-inpaint", "control-to-video")  # the Wan VACE tasks that take a clip


@functools.cache
def _clip(fps: int) -> str:
    """A 9-frame 32x32 clip (random pixels, fixed seed) at ``fps``: video-to-video's input at the tiny shape."""
    from videogen.video.video_to_video import clip_b64

    return clip_b64(np.random.default_rng(0).integers(0, 255, (9, 32, 32, 3), dtype=np.uint8), fps)


def _run(worker, family, task, png_b64, tmp_path, step_cache=None):
    """(result, projection calls) of one job."""
    loaded = worker.warm(family, task)
    with speed_measure.projection_calls(loaded.pipe) as calls:
        result = worker.generate(_request(family, task, png_b64, step_cache), tmp_path / "out.mp4")
    return result, calls[0]


_OFF: dict = {}


def _off(worker, family, task, png_b64, tmp_path):
    if (family, task) not in _OFF:
        _OFF[family, task] = _run(worker, family, task, png_b64, tmp_path)
    return _OFF[family, task]


# -- attention backend -----------------------------------------------------------------------------------------
def test_attention_backend_names_are_diffusers_own():
    from diffusers.models.attention_dispatch import AttentionBackendName

    assert ATTENTION_BACKENDS == tuple(b.value for b in AttentionBackendName)


def test_auto_picks_native_on_the_cpu(worker):
    pipe = worker.warm("wan", "text-to-video").pipe
    report = speed.apply_attention_backend(pipe, "auto", backend="cpu", device="cpu", dtype=torch.float32)
    assert report.applied == "native" and report.tried == []
    levers = worker.warm("wan", "text-to-video").provenance["levers"]
    assert levers["attention_backend"]["applied"] == "native"  # what the loader applied and reported


def test_an_unusable_backend_falls_back_to_native_with_the_reason(worker):
    pipe = worker.warm("wan", "text-to-video").pipe
    report = speed.apply_attention_backend(pipe, "flash", backend="cpu", device="cpu", dtype=torch.float32)
    assert report.applied == "native" and "flash is not usable here" in report.reason
    assert report.tried[0]["backend"] == "flash" and report.tried[0]["reason"]
    speed.apply_attention_backend(pipe, "native", backend="cpu", device="cpu", dtype=torch.float32)


def test_hub_backends_are_never_chosen(worker):
    hub = [name for name in ATTENTION_BACKENDS if name.endswith("_hub")]
    candidates = {name for b in ("cuda", "rocm", "mps", "cpu") for name in speed.attention_candidates(b, "9.0")}
    assert hub and not candidates & set(hub)
    assert "downloads its kernels" in speed.probe_attention_backend("flash_hub", "cpu", torch.float32)
    pipe = worker.warm("wan", "text-to-video").pipe
    report = speed.apply_attention_backend(pipe, "flash_hub", backend="cpu", device="cpu", dtype=torch.float32)
    assert report.applied == "native" and report.tried[0]["backend"] == "flash_hub"


# -- step caches -----------------------------------------------------------------------------------------------
def test_every_family_declares_every_step_cache():
    """Each cache either works for a task or says why not: there is no third answer."""
    for spec in SPECS.values():
        for kind in CACHES:
            for task in spec.tasks:
                declared = task in spec.step_caches.works.get(kind, ())
                reason = spec.step_caches.unsupported_reason(kind, task)
                assert declared == (reason is None), (spec.id, kind, task)
                assert declared or "not declared" not in reason, (spec.id, kind, task)
            assert set(spec.step_caches.works) <= set(CACHES)


def _cache_cases() -> list:
    """Every (family, task, cache) a family declares it takes, and per family one it does not: refusing is one code
    path (``StepCacheSupport.unsupported_reason``, checked for every combination above without a run), so running
    all 127 refused combinations proved no more than one per family, at a tiny generation each."""
    cases, refused_in = [], set()
    for family, task in CASES:
        for kind in CACHES:
            supported = SPECS[family].step_caches.unsupported_reason(kind, task) is None
            if supported or family not in refused_in:
                refused_in |= set() if supported else {family}
                cases.append(pytest.param(family, task, kind, id=f"{family}-{task}-{kind}"))
    return cases


@pytest.mark.parametrize(("family", "task", "kind"), _cache_cases())
def test_step_cache_on_every_family(worker, family, task, kind, png_b64, tmp_path):
    """Supported: fewer projections run, and the frames stay within the stated drift. Unsupported: an
    adjustment saying why, and the job runs exactly as with no cache."""
    off, off_calls = _off(worker, family, task, png_b64, tmp_path)
    setting = StepCacheSetting(kind=kind, **TINY_SETTINGS.get(kind, {}))
    result, calls = _run(worker, family, task, png_b64, tmp_path, setting)
    why_not = SPECS[family].step_caches.unsupported_reason(kind, task)
    moved = [a for a in result.adjustments if a.field == "step_cache"]
    if why_not is None:
        drift = speed_measure.psnr_db(result.frames, off.frames)
        print(f"{family} {task} {kind}: {calls}/{off_calls} projections, PSNR {drift:.1f} dB")
        assert result.params["step_cache"] == kind and not moved
        assert calls < off_calls
        assert drift >= speed.STEP_CACHE_MIN_PSNR_DB[kind]
    else:
        assert result.params["step_cache"] == "off"
        assert [(a.requested, a.used, a.reason) for a in moved] == [(kind, "off", why_not)]
        assert calls == off_calls and np.array_equal(result.frames, off.frames)
    # the next job does not inherit the cache
    assert not any(getattr(m, "is_cache_enabled", False) for m in speed.denoisers(worker.warm(family, task).pipe))


def test_a_cache_diffusers_refuses_is_reported_not_raised():
    """First-Block Cache needs a head and a tail block; on a one-block model diffusers refuses it."""
    from types import SimpleNamespace

    from diffusers import WanTransformer3DModel

    one_block = WanTransformer3DModel(
        patch_size=(1, 2, 2),
        num_attention_heads=2,
        attention_head_dim=12,
        in_channels=16,
        out_channels=16,
        text_dim=32,
        freq_dim=32,
        ffn_dim=32,
        num_layers=1,
        rope_max_seq_len=32,
    )
    pipe = SimpleNamespace(transformer=one_block, current_timestep=None)
    support = StepCacheSupport(works={"first_block": ("text-to-video",)})
    report = speed.set_step_cache(pipe, StepCacheSetting(kind="first_block"), support=support, task="text-to-video")
    assert report.applied == "off" and report.reason.startswith("diffusers refused it")
    assert not one_block.is_cache_enabled


def test_a_denoiser_without_cache_support_is_reported():
    from types import SimpleNamespace

    pipe = SimpleNamespace(unet=torch.nn.Linear(2, 2))
    support = StepCacheSupport(works={"taylorseer": ("text-to-video",)})
    report = speed.set_step_cache(pipe, StepCacheSetting(kind="taylorseer"), support=support, task="text-to-video")
    assert report.applied == "off" and "no CacheMixin" in report.reason


def test_a_request_outside_the_allowed_step_caches_is_refused(png_b64, tmp_path):
    strict = GenerationWorker(default_model="tiny", policy_overrides={"step_cache_allowed": "first_block"})
    with pytest.raises(InvalidRequestError) as err:
        strict.generate(_request("wan", "text-to-video", None, StepCacheSetting(kind="taylorseer")), tmp_path / "a.mp4")
    assert err.value.field == "step_cache" and set(err.value.allowed) == {"off", "first_block"}


def test_the_policy_step_cache_is_the_default_for_a_job(png_b64, tmp_path):
    cached = GenerationWorker(default_model="tiny", policy_overrides={"step_cache": "taylorseer"})
    result = cached.generate(_request("wan", "text-to-video", None), tmp_path / "a.mp4")
    assert result.params["step_cache"] == "taylorseer"


def test_psnr():
    frames = np.zeros((2, 4, 4, 3), np.uint8)
    assert speed_measure.psnr_db(frames, frames) == math.inf
    assert speed_measure.psnr_db(frames + 1, frames) == pytest.approx(20 * math.log10(255))


# -- compile ---------------------------------------------------------------------------------------------------
@pytest.fixture
def eager_compile(monkeypatch):
    """torch.compile's "eager" backend: Dynamo traces and guards as usual, but no code is generated."""
    monkeypatch.setattr(speed, "COMPILE_KWARGS", {"backend": "eager"})


def test_regional_compile_warms_up_and_matches_eager(eager_compile, worker, tmp_path):
    compiled = GenerationWorker(default_model="tiny", policy_overrides={"compile": "regional"})
    loaded = compiled.warm("wan", "text-to-video")
    report = loaded.provenance["levers"]["compile"]
    assert report["applied"] == "regional" and report["seconds"] > 0  # paid at warm-up, not by a job
    blocks = loaded.pipe.transformer.blocks
    assert speed.compiled_modules(loaded.pipe) == list(blocks) and len(blocks) >= 2
    request = VideoRequest(family="wan", prompt="a cat", seed=2, num_inference_steps=3)
    want = worker.generate(request, tmp_path / "eager.mp4").frames
    got = compiled.generate(request, tmp_path / "compiled.mp4")
    assert np.array_equal(got.frames, want)
    assert got.model["levers"]["compile"]["applied"] == "regional"
    # a step cache's hooks break the compiled graph by design; the job still runs, and the same as eager
    cached = request.model_copy(
        update={"num_inference_steps": STEPS, "step_cache": StepCacheSetting(kind="first_block", threshold=0.3)}
    )
    want = worker.generate(cached, tmp_path / "eager-cached.mp4")
    got = compiled.generate(cached, tmp_path / "compiled-cached.mp4")
    assert got.params["step_cache"] == want.params["step_cache"] == "first_block"
    assert np.array_equal(got.frames, want.frames)


def test_a_compile_that_fails_at_warm_up_runs_eager(monkeypatch, tmp_path):
    def broken_backend(graph_module, example_inputs):
        raise RuntimeError("no compiler here")

    monkeypatch.setattr(speed, "COMPILE_KWARGS", {"backend": broken_backend})
    torch._dynamo.reset()
    compiled = GenerationWorker(default_model="tiny", policy_overrides={"compile": "regional"})
    loaded = compiled.warm("wan", "text-to-video")
    report = loaded.provenance["levers"]["compile"]
    assert report["applied"] == "off" and "runs eager" in report["reason"]
    assert speed.compiled_modules(loaded.pipe) == []
    result = compiled.generate(VideoRequest(family="wan", prompt="a cat", seed=2), tmp_path / "a.mp4")
    assert result.num_frames == 9


def test_compile_off_and_no_repeated_blocks():
    from types import SimpleNamespace

    assert speed.apply_compile(SimpleNamespace(transformer=torch.nn.Linear(2, 2)), "off").applied == "off"
    report = speed.apply_compile(SimpleNamespace(transformer=torch.nn.Linear(2, 2)), "regional")
    assert report.applied == "off" and "no repeated blocks" in report.reason


# -- the effective policy ---------------------------------------------------------------------------------------
def test_levers_are_in_the_effective_policy_and_overridable(monkeypatch):
    policy = GenerationWorker(default_model="tiny").diagnostics("wan")["load_policy"]
    assert {policy[k] for k in ("attention_backend", "step_cache", "compile")} == {"auto", "off"}
    assert tuple(policy["step_cache_allowed"]) == STEP_CACHE_KINDS
    monkeypatch.setenv("VIDEOGEN_POLICY_STEP_CACHE", "first_block")
    monkeypatch.setenv("VIDEOGEN_POLICY_ATTENTION_BACKEND", "native")
    overridden = GenerationWorker(
        default_model="tiny", policy_overrides={"compile": "regional", "step_cache_allowed": "taylorseer"}
    ).diagnostics("wan")["load_policy"]
    assert overridden["step_cache"] == "first_block" and overridden["attention_backend"] == "native"
    assert overridden["compile"] == "regional"
    assert set(overridden["step_cache_allowed"]) == {"off", "taylorseer", "first_block"}  # the default stays allowed
    assert overridden["overrides"]["compile"] == "regional"
