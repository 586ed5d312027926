"""Video-to-video on the four families that offer it, through diffusers' own pipelines on the tiny models.

The input clip decides the job's frames (without ``num_frames``: the clip's length at the job's fps, down to the
family's frame rule) and is conformed to the job's size; ``strength`` decides how many of the steps run
(``int(steps x strength)``) and so how far the output moves from the input.

"Close to the input" is measured against the input as the model sees it: the tiny VAEs have random weights, so
no output (at any strength) reproduces the input's pixels; their own round trip of the conformed clip is what
a strength-0 output would be, and a low strength must land nearer to it than strength 1.0 does.
"""

from __future__ import annotations

import base64
import json

import numpy as np
import pytest
import testkit
import torch
from family_support import PROMPT, T2V, V2V, V2V_FAMILIES, load_tiny, moved

from videogen.errors import InvalidRequestError
from videogen.video.encode import read_mp4
from videogen.video.families import get_adapter, get_spec
from videogen.video.registry import FAMILY_IDS
from videogen.video.request import VideoRequest
from videogen.video.tiny.cache import tiny_meta
from videogen.video.video_to_video import clip_b64
from videogen.video.worker import GenerationWorker

PIPELINES = {
    "text-to-video-sd": "VideoToVideoSDPipeline",
    "wan": "WanVideoToVideoPipeline",
    "cogvideox": "CogVideoXVideoToVideoPipeline",
    "animatediff": "AnimateDiffVideoToVideoPipeline",
    # LTX's clip goes in as latents + denoise_strength: its pipeline checks are in test_ltx_conditions.py
    "ltx-video": "LTXConditionPipeline",
    # SkyReels-V2's extends the clip (diffusion forcing, no strength): test_family_skyreels_v2.py
    "skyreels-v2": "SkyReelsV2DiffusionForcingVideoToVideoPipeline",
    # Lucy Edit's edit conditions every step on the clip (no strength, no text-to-video): test_family_lucy_edit.py
    "lucy-edit": "LucyEditPipeline",
    # Helios continues the clip (no strength): test_family_helios.py
    "helios": "HeliosPipeline",
    # Cosmos continues the clip from its last 5 frames (no strength): test_family_cosmos.py
    "cosmos": "Cosmos2_5_PredictBasePipeline",
}
DEFAULT_STRENGTH = {"text-to-video-sd": 0.6, "wan": 0.8, "cogvideox": 0.8, "animatediff": 0.8}
# A 12-frame clip at 8 fps: at the job's fps (Wan 16, the others 8), down to the frame rule.
FRAMES_OF_A_12_FRAME_CLIP = {"text-to-video-sd": 12, "wan": 21, "cogvideox": 9, "animatediff": 12}
_VAE_3D = ("wan", "cogvideox")


def clip_frames(kind: str, count: int, height: int = 32, width: int = 32) -> np.ndarray:
    """``a``: a yellow square moving across blue; ``b``: a still green square on beige."""
    frames = np.zeros((count, height, width, 3), np.uint8)
    for i in range(count):
        if kind == "a":
            frames[i] = (20, 30, 200)
            left = (2 + 2 * i) % max(1, width - 12)
            frames[i, height // 4 : height // 4 + 12, left : left + 12] = (250, 240, 20)
        else:
            frames[i] = (230, 200, 180)
            frames[i, 4 : height - 4, 4 : width - 4] = (10, 120, 10)
    return frames


def clip(kind: str = "a", count: int = 9, fps: int = 8, height: int = 32, width: int = 32) -> str:
    return clip_b64(clip_frames(kind, count, height, width), fps)


def request(family: str, **fields) -> VideoRequest:
    fields.setdefault("task", V2V)
    return VideoRequest(family=family, prompt=PROMPT, **fields)


@pytest.fixture(scope="module", params=V2V_FAMILIES)
def tiny(request, tmp_path_factory):
    return load_tiny(request.param, V2V, tmp_path_factory)


def _float_frames(tiny, prepared) -> np.ndarray:
    """The pipeline's own float output ``[F, H, W, 3]`` in 0..1 (before uint8 rounding)."""
    return np.asarray(tiny.pipe(**prepared.kwargs).frames, dtype=np.float64)[0]


def _vae_round_trip(tiny, frames) -> np.ndarray:
    """What the model sees of the conformed clip: its VAE's encode -> decode (the latents' mode)."""
    x = torch.from_numpy(np.stack([np.asarray(f) for f in frames])).float() / 127.5 - 1.0  # F H W C
    x = x.permute(0, 3, 1, 2)  # F C H W
    vae = tiny.pipe.vae
    with torch.no_grad():
        if tiny.family in _VAE_3D:
            video = x.permute(1, 0, 2, 3)[None]  # 1 C F H W
            out = vae.decode(vae.encode(video).latent_dist.mode()).sample[0].permute(1, 2, 3, 0)
        else:
            out = vae.decode(vae.encode(x).latent_dist.mode()).sample.permute(0, 2, 3, 1)
    return (out / 2 + 0.5).clamp(0, 1).numpy().astype(np.float64)


def _mse(a: np.ndarray, b: np.ndarray) -> float:
    return float(((a - b) ** 2).mean())


def test_the_four_families_offer_it_through_diffusers_own_pipelines():
    assert sorted([*V2V_FAMILIES, "ltx-video", "skyreels-v2", "lucy-edit", "helios", "cosmos"]) == sorted(PIPELINES)
    for family in FAMILY_IDS:
        spec = get_spec(family)
        assert spec.pipeline_classes.get(V2V) == PIPELINES.get(family)
        assert (V2V in spec.tasks) == (family in PIPELINES)
        if family in PIPELINES:
            assert spec.required_inputs[V2V] == ["prompt", "video"] and spec.default_model_ids[V2V]
    assert "deprecated" in get_spec("text-to-video-sd").support_note


def test_runs_through_the_real_pipeline_following_the_clip(tiny):
    assert type(tiny.pipe).__name__ == PIPELINES[tiny.family]
    fps = tiny.meta.request_defaults.get("fps", get_spec(tiny.family).defaults.fps)
    # A 9-frame 32x32 clip at the job's own fps is used as it is: nothing moved.
    prepared = tiny.adapter.prepare_inputs(request(tiny.family, video=clip(fps=fps), seed=1), tiny.pipe, tiny.meta)
    assert prepared.adjustments == []
    assert prepared.params["strength"] == prepared.kwargs["strength"] == DEFAULT_STRENGTH[tiny.family]
    assert prepared.params["denoising_steps"] == int(
        prepared.params["num_inference_steps"] * prepared.params["strength"]
    )
    video = prepared.kwargs["video"]
    assert len(video) == 9 and {f.size for f in video} == {(32, 32)}
    frames = tiny.adapter.extract_frames(tiny.pipe(**prepared.kwargs))
    assert frames.shape == (prepared.expected_frames, 32, 32, 3) == (9, 32, 32, 3)


def test_a_clip_of_another_length_rate_and_size_is_conformed_and_said(tiny):
    """12 frames of 64x40 at 8 fps into a 48x32 job: the output has the frames and size the adapter said."""
    fields = dict(video=clip(count=12, fps=8, height=40, width=64), height=32, width=48, seed=2)
    prepared = tiny.adapter.prepare_inputs(request(tiny.family, **fields), tiny.pipe, tiny.meta)
    expected = FRAMES_OF_A_12_FRAME_CLIP[tiny.family]
    assert prepared.params["num_frames"] == prepared.expected_frames == expected
    fps = prepared.params["fps"]
    at_job_rate = 11 * fps // 8 + 1  # the clip's 12 frames at the job's fps
    changes = moved(prepared)
    assert changes.pop("video.size") == ("64x40", "48x32")
    if fps != 8:
        assert changes.pop("video.fps") == (8.0, fps)
    if expected != at_job_rate:
        assert changes.pop("video.frames") == (at_job_rate, expected)  # cut down to the frame rule, and said
    assert changes == {}
    frames = tiny.adapter.extract_frames(tiny.pipe(**prepared.kwargs))
    assert frames.shape == (expected, 32, 48, 3)


def test_strength_decides_how_far_the_output_moves_from_the_input(tiny):
    steps = 10

    def run(kind: str, strength: float):
        fields = dict(video=clip(kind), strength=strength, num_inference_steps=steps, seed=7)
        prepared = tiny.adapter.prepare_inputs(request(tiny.family, **fields), tiny.pipe, tiny.meta)
        assert prepared.params["denoising_steps"] == int(steps * strength)
        return prepared, _float_frames(tiny, prepared)

    prepared, low_a = run("a", 0.1)
    _, high_a = run("a", 1.0)
    _, low_b = run("b", 0.1)
    _, high_b = run("b", 1.0)
    seen = _vae_round_trip(tiny, prepared.video)
    assert low_a.shape == high_a.shape == seen.shape
    near, far = _mse(low_a, seen), _mse(high_a, seen)
    print(f"{tiny.family}: MSE to the input as the VAE sees it: strength 0.1 {near:.3g}, 1.0 {far:.3g}")
    assert near < far
    # A low strength follows its input clip; at strength 1.0 the clip matters less (pure noise for flow matching).
    assert _mse(low_a, low_b) > _mse(high_a, high_b)
    # A different input clip, the same seed and strength: a different video.
    to_uint8 = lambda f: np.rint(f * 255).astype(np.uint8)  # noqa: E731
    assert not np.array_equal(to_uint8(low_a), to_uint8(low_b))


@pytest.mark.parametrize("family", [f for f in sorted(PIPELINES) if "strength" in get_spec(f).optional_inputs_for(V2V)])
def test_a_strength_that_runs_no_step_is_moved_to_one_step(family):
    adapter = get_adapter(family)
    prepared = adapter.resolve_params(
        request(family, video=clip(fps=get_spec(family).defaults.fps), strength=0.0, num_inference_steps=4),
        tiny_meta(family, V2V),
    )
    assert prepared.params["strength"] == 0.25 and prepared.params["denoising_steps"] == 1
    assert moved(prepared) == {"strength": (0.0, 0.25)}
    prepared = adapter.resolve_params(
        request(family, video=clip(fps=get_spec(family).defaults.fps), strength=0.3, num_inference_steps=3),
        tiny_meta(family, V2V),
    )
    used = prepared.params["strength"]
    assert used == pytest.approx(1 / 3) and int(3 * used) == prepared.params["denoising_steps"] == 1
    assert moved(prepared) == {"strength": (0.3, used)}
    prepared = adapter.resolve_params(
        request(family, video=clip(fps=get_spec(family).defaults.fps), strength=0.5, num_inference_steps=3),
        tiny_meta(family, V2V),
    )
    assert prepared.params["strength"] == 0.5 and prepared.params["denoising_steps"] == 1 and moved(prepared) == {}


@pytest.mark.parametrize("family", sorted(PIPELINES))
def test_bad_or_missing_video_is_refused_naming_it(family):
    adapter, meta = get_adapter(family), tiny_meta(family, V2V)
    for video in (None, testkit.png_b64(), "not base64 at all!", base64.b64encode(b"\x00" * 64).decode()):
        with pytest.raises(InvalidRequestError) as err:
            adapter.resolve_params(request(family, video=video), meta)
        assert err.value.field == "video", video
    if T2V not in get_spec(family).tasks:  # an edit-only family (Lucy Edit): no text-to-video to refuse them
        return
    with pytest.raises(InvalidRequestError) as err:  # text-to-video takes no clip ...
        adapter.resolve_params(request(family, task=T2V, video=clip()), tiny_meta(family, T2V))
    assert err.value.field == "video"
    with pytest.raises(InvalidRequestError) as err:  # ... and no strength
        adapter.resolve_params(request(family, task=T2V, strength=0.5), tiny_meta(family, T2V))
    assert err.value.field == "strength"


@pytest.mark.parametrize("family", [f for f in FAMILY_IDS if f not in PIPELINES])
def test_families_without_it_refuse_the_task(family):
    with pytest.raises(InvalidRequestError) as err:
        get_adapter(family).resolve_params(request(family, video=clip()), tiny_meta(family, T2V))
    assert err.value.field == "task"


@pytest.mark.parametrize("family", [f for f in sorted(PIPELINES) if T2V in get_spec(f).tasks])
def test_tiny_video_to_video_has_the_text_to_video_weights(family, tmp_path_factory):
    t2v, v2v = load_tiny(family, T2V, tmp_path_factory), load_tiny(family, V2V, tmp_path_factory)
    modules = {n: m for n, m in v2v.pipe.components.items() if isinstance(m, torch.nn.Module)}
    assert {"vae", "text_encoder"} <= set(modules)
    for name, module in modules.items():
        theirs = t2v.pipe.components[name].state_dict()
        ours = module.state_dict()
        assert ours.keys() == theirs.keys(), name
        assert all(torch.equal(ours[k], theirs[k]) for k in ours), name


@pytest.fixture(scope="module")
def worker():
    return GenerationWorker(default_model="tiny")


@pytest.mark.parametrize("family", sorted(V2V_FAMILIES))
def test_the_worker_writes_the_restyled_clip(worker, family, tmp_path, monkeypatch):
    from videogen.video import video_input

    decodes: list[int] = []
    decode = video_input.decode_video
    monkeypatch.setattr(video_input, "decode_video", lambda *a, **k: decodes.append(1) or decode(*a, **k))
    events = []
    job = request(
        family,
        video=clip(count=12, fps=8, height=40, width=64),
        height=32,
        width=48,
        strength=0.5,
        num_inference_steps=4,
        seed=3,
    )
    result = worker.generate(job, tmp_path / "v2v.mp4", on_progress=events.append)
    assert decodes == [1]  # decoded once per job, conformed once, carried to the pipeline
    assert result.model["pipeline_class"] == PIPELINES[family]
    expected = FRAMES_OF_A_12_FRAME_CLIP[family]
    frames, fps = read_mp4(tmp_path / "v2v.mp4")
    assert frames.shape == (expected, 32, 48, 3) and result.num_frames == expected
    assert fps == result.fps == result.params["fps"]
    assert result.params["strength"] == 0.5 and result.params["denoising_steps"] == 2
    steps = [(e.step, e.total_steps) for e in events if e.stage == "denoising" and e.step]
    assert steps and steps[-1] == (2, 2)  # the progress counts the steps that run
    assert "video.size" in {a.field for a in result.adjustments}


def test_cli_generate_video_to_video(tmp_path, capsys):
    source = tmp_path / "clip.mp4"
    source.write_bytes(base64.b64decode(clip(count=10, fps=8, height=48, width=64)))
    out = tmp_path / "out.mp4"
    args = ["generate", "--family", "wan", "--task", "video-to-video", "--video", str(source), "--strength", "0.6"]
    args += ["--model", "tiny", "--prompt", "a fox", "--steps", "5", "--seed", "4", "-o", str(out), "--json"]
    code, stdout, stderr = testkit.run_cli(capsys, *args)
    assert code == 0, stderr
    payload = json.loads(stdout)
    frames, _ = read_mp4(out)
    # 10 frames at 8 fps -> 19 at Wan's 16 fps -> 17 (4k+1); 64x48 -> the tiny 32x32, centre-cropped
    assert payload["frames"] == 17 and frames.shape == (17, 32, 32, 3)
    assert {a["field"] for a in payload["adjustments"]} >= {"video.fps", "video.frames", "video.size"}
    code, _, stderr = testkit.run_cli(capsys, *[a if a != str(source) else __file__ for a in args])
    assert code == 2 and "--video" in stderr


def test_a_cancel_at_a_step_leaves_before_decoding(tiny, monkeypatch):
    """The worker's cancel ends a video-to-video call at its first step too: the clip was encoded, nothing decoded."""
    from videogen.errors import GenerationCancelled
    from videogen.video.stage_clock import step_callback_kwargs

    decodes: list[int] = []
    decode = tiny.pipe.vae.decode
    monkeypatch.setattr(tiny.pipe.vae, "decode", lambda *a, **k: decodes.append(1) or decode(*a, **k))
    steps: list[int] = []

    def cancel(step_index: int) -> None:
        steps.append(step_index)
        raise GenerationCancelled("cancelled")

    fps = get_spec(tiny.family).defaults.fps
    prepared = tiny.adapter.prepare_inputs(
        request(tiny.family, video=clip(fps=fps), strength=1.0, num_inference_steps=3, seed=0), tiny.pipe, tiny.meta
    )
    with pytest.raises(GenerationCancelled):
        tiny.pipe(**prepared.kwargs, **step_callback_kwargs(tiny.pipe, cancel))
    assert steps == [0] and decodes == []
    tiny.pipe(**prepared.kwargs, **step_callback_kwargs(tiny.pipe, steps.append))  # not cancelled: it decodes
    assert steps == [0, 0, 1, 2] and decodes


@pytest.mark.parametrize(
    ("task", "field"), [("text-to-video", "image"), ("text-to-video", "last_image"), ("image-to-video", "last_image")]
)
def test_an_input_the_task_does_not_take_is_refused_naming_it(task, field, png_b64):
    from videogen.errors import InvalidRequestError
    from videogen.video.families import get_adapter
    from videogen.video.model_meta import ModelMeta
    from videogen.video.request import VideoRequest

    inputs = {field: png_b64, **({"image": png_b64} if task == "image-to-video" else {})}
    request = VideoRequest(family="wan", task=task, prompt="x", **inputs)
    with pytest.raises(InvalidRequestError) as err:
        get_adapter("wan").resolve_params(request, ModelMeta.for_tiny("wan", task))
    assert err.value.field == field and "first-last-frame" in err.value.message


def test_the_estimate_counts_the_steps_the_strength_runs_and_the_clip_encode():
    """Half the strength runs half the denoising steps; the input clip's VAE encode is priced (text-to-video has none)."""
    from videogen.video.job_cost import estimate_job
    from videogen.video.model_source import ModelSource

    source = ModelSource(family="wan", value="tiny")
    adapter = get_adapter("wan")

    def estimate(task: str, **fields):
        request = VideoRequest(family="wan", task=task, prompt=PROMPT, num_inference_steps=10, seed=1, **fields)
        params = adapter.resolve_params(request, tiny_meta("wan", task)).params
        return params, estimate_job(source, task, params, "float32")[0]

    _, half = estimate(V2V, video=clip(), strength=0.5)
    settled, full = estimate(V2V, video=clip(), strength=1.0)
    _, t2v = estimate(T2V, **{k: settled[k] for k in ("num_frames", "height", "width", "fps")})
    assert half.params["denoising_steps"] == 5 and full.params["denoising_steps"] == 10
    assert half.flops["denoise_total"] == pytest.approx(full.flops["denoise_total"] / 2)
    assert half.flops["vae_encode"] > 0 and t2v.flops["vae_encode"] == 0
    assert full.flops["denoise_total"] == pytest.approx(t2v.flops["denoise_total"])  # the same shape, 10 steps
