"""End to end through the shared worker, on the built-in tiny models.

Every family x task it offers: a real diffusers pipeline is built, saved, loaded
back through the loader, run, and the MP4 is decoded and checked. The CLI over
the same worker: ``test_cli.py``.
"""

from __future__ import annotations

import numpy as np
import pytest

from videogen.errors import GenerationCancelled, InvalidRequestError
from videogen.video.encode import mp4_info, read_mp4
from videogen.video.families import get_adapter
from videogen.video.model_meta import ModelMeta
from videogen.video.registry import SPECS
from videogen.video.request import VideoRequest
from videogen.video.task_media import warm_up_media
from videogen.video.tiny.cache import tiny_meta
from videogen.video.video_to_video import grey_clip_b64
from videogen.video.worker import STAGES, GenerationWorker

CASES = [(family, task) for family, spec in SPECS.items() for task in spec.tasks]


@pytest.fixture(scope="module")
def worker():
    return GenerationWorker(default_model="tiny")


def _request(family, task, png_b64, **kw):
    image = png_b64 if task in ("image-to-video", "first-last-frame") else None
    if task == "first-last-frame":  # the same PNG as the last frame too
        kw = {"last_image": png_b64, **kw}
    if task == "video-to-video":  # 9 frames of 32x32 at the job's fps; strength 1.0 runs every step
        fps = kw.get("fps") or SPECS[family].defaults.fps
        kw = {"video": grey_clip_b64(9, fps, size=32), **kw}
        if "strength" in SPECS[family].optional_inputs_for(task):  # not SkyReels-V2's: it extends the clip
            kw["strength"] = 1.0
    if task == "keyframes":  # the PNG as the first frame
        kw = {"conditions": [{"image": png_b64, "frame_index": 0}], **kw}
    if task in ("reference-to-video", "video-inpaint", "control-to-video"):  # grey clips, a mask that regenerates all
        fps = kw.get("fps") or SPECS[family].defaults.fps
        kw = {**warm_up_media(task, 9, fps), **kw}
    return VideoRequest(family=family, task=task, prompt="a cat running on the beach", image=image, seed=7, **kw)


@pytest.mark.parametrize(("family", "task"), CASES, ids=[f"{f}-{t}" for f, t in CASES])
def test_every_family_and_task_writes_a_decodable_mp4(worker, family, task, png_b64, tmp_path):
    events = []
    out = tmp_path / "out.mp4"
    request = _request(family, task, png_b64, fps=10)
    result = worker.generate(request, out, on_progress=events.append)
    frames, fps = read_mp4(out)
    # what the family makes of 9 frames (FramePack: whole sections, 37), settled without the worker
    expected = get_adapter(family).resolve_params(request, tiny_meta(family, task)).expected_frames
    assert frames.shape == (expected, 32, 32, 3)
    assert result.num_frames == expected and (result.width, result.height) == (32, 32)
    assert fps == 10 and result.bytes == out.stat().st_size
    info = mp4_info(out)
    assert info["codec"] == "h264" and info["pix_fmt"].startswith("yuv420p")
    assert [s.name for s in result.stages] == list(STAGES)
    assert all(s.seconds is not None and s.seconds >= 0 for s in result.stages)
    assert result.stages[0].detail["hardware_profile"]["backend"] == "cpu"
    steps = [e.step for e in events if e.stage == "denoising" and e.step]
    # 2 steps; a job in windows (SkyReels-V2 extending the clip: two of its tiny windows) counts every window's
    assert steps == list(range(1, result.params.get("denoising_steps", 2) + 1)) and len(steps) >= 2
    percents = [e.percent for e in events]
    assert percents == sorted(percents) and percents[-1] == 100.0
    assert result.model["pipeline_class"] == SPECS[family].pipeline_classes[task]


@pytest.mark.parametrize("family", ["wan", "animatediff"])
def test_same_seed_same_frames_other_seed_differs(worker, family, tmp_path):
    a = worker.generate(VideoRequest(family=family, prompt="a dog", seed=3), tmp_path / "a.mp4").frames
    b = worker.generate(VideoRequest(family=family, prompt="a dog", seed=3), tmp_path / "b.mp4").frames
    c = worker.generate(VideoRequest(family=family, prompt="a dog", seed=4), tmp_path / "c.mp4").frames
    assert np.array_equal(a, b)
    assert not np.array_equal(a, c)


def test_pipeline_loads_once_and_stays_warm(worker, tmp_path):
    worker.generate(VideoRequest(family="ltx-video", prompt="x", seed=1), tmp_path / "a.mp4")
    second = worker.generate(VideoRequest(family="ltx-video", prompt="x", seed=1), tmp_path / "b.mp4")
    loading = next(s for s in second.stages if s.name == "loading")
    assert loading.detail["cached"] is True


def test_a_rank_that_is_not_the_writer_computes_the_same_frames_and_writes_nothing(worker, tmp_path):
    written = worker.generate(VideoRequest(family="ltx-video", prompt="x", seed=2), tmp_path / "a.mp4")
    computed = worker.generate(VideoRequest(family="ltx-video", prompt="x", seed=2), None)
    assert np.array_equal(written.frames, computed.frames)
    assert computed.bytes == 0 and computed.output_path == "" and not computed.outputs
    assert {"encoding", "outputs"} & {s.name for s in computed.stages} == set()
    assert [p.name for p in tmp_path.iterdir() if p.suffix == ".mp4"] == ["a.mp4"]


def test_adjustments_are_recorded(worker, tmp_path):
    result = worker.generate(
        VideoRequest(family="wan", prompt="x", num_frames=10, height=40, seed=1), tmp_path / "a.mp4"
    )
    moved = {a.field: (a.requested, a.used) for a in result.adjustments}
    assert moved == {"num_frames": (10, 9), "height": (40, 48)}
    frames, _ = read_mp4(tmp_path / "a.mp4")
    assert frames.shape[:3] == (9, 48, 32)


def test_cancel_stops_denoising(worker, tmp_path):
    seen = []
    with pytest.raises(GenerationCancelled, match="step 2 of 50"):
        worker.generate(
            VideoRequest(family="cogvideox", prompt="x", num_inference_steps=50, seed=1),
            tmp_path / "a.mp4",
            on_progress=seen.append,
            should_cancel=lambda: any(e.step == 2 for e in seen),
        )
    assert max(e.step or 0 for e in seen) == 2
    assert "decoding" not in {e.stage for e in seen}
    assert not (tmp_path / "a.mp4").exists()


# text-to-video-sd: the older ``callback`` API; the rest: ``callback_on_step_end``.
@pytest.mark.parametrize("family", ["text-to-video-sd", "wan", "hunyuan-video"])
@pytest.mark.parametrize("cancel_at", [1, 3])
def test_cancel_at_any_step_ends_without_decoding(worker, family, cancel_at, tmp_path, monkeypatch):
    """Seen at a step, even the last one, a cancel ends the pipeline call: nothing is decoded or written,
    and the worker does the offload the pipeline would have done at its end."""
    seen, settled = [], []
    pipe = worker.warm(family, "text-to-video").pipe
    monkeypatch.setattr(pipe, "maybe_free_model_hooks", lambda: settled.append(1))
    with pytest.raises(GenerationCancelled, match=f"step {cancel_at} of 3"):
        worker.generate(
            VideoRequest(family=family, prompt="x", num_inference_steps=3, seed=1),
            tmp_path / "a.mp4",
            on_progress=seen.append,
            should_cancel=lambda: any(e.step == cancel_at for e in seen),
        )
    assert [e.step for e in seen if e.stage == "denoising" and e.step] == list(range(1, cancel_at + 1))
    assert "decoding" not in {e.stage for e in seen}
    assert not (tmp_path / "a.mp4").exists()
    assert settled == [1]
    # The worker is free again and the pipeline still generates.
    result = worker.generate(VideoRequest(family=family, prompt="x", num_inference_steps=3, seed=1), tmp_path / "b.mp4")
    assert result.num_frames == 9


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"family": "wan", "num_frames": 400}, "num_frames"),
        ({"family": "ltx-video", "width": 4000}, "width"),
        ({"family": "wan", "task": "image-to-video"}, "image"),
        ({"family": "animatediff", "task": "image-to-video"}, "task"),
        ({"family": "wan", "image": "bm90IGFuIGltYWdl"}, "image"),
        ({"family": "wan", "task": "image-to-video", "image": "%%%"}, "image"),
    ],
)
def test_bad_input_names_the_field(worker, kwargs, field, tmp_path):
    with pytest.raises(InvalidRequestError) as info:
        worker.generate(VideoRequest(prompt="x", **kwargs), tmp_path / "a.mp4")
    assert info.value.field == field


def test_cancel_after_the_last_step_still_cancels(worker, tmp_path):
    seen = []
    with pytest.raises(GenerationCancelled, match="decoding"):
        worker.generate(
            VideoRequest(family="wan", prompt="x", num_inference_steps=2, seed=1),
            tmp_path / "a.mp4",
            on_progress=seen.append,
            should_cancel=lambda: any(e.stage == "decoding" for e in seen),
        )
    assert not (tmp_path / "a.mp4").exists()


def test_cpu_memory_cap_refuses_a_model_that_does_not_fit(tmp_path):
    from videogen.errors import ModelUnavailableError

    capped = GenerationWorker(default_model="tiny", policy_overrides={"cpu_memory_cap_gb": 1e-6})
    with pytest.raises(ModelUnavailableError, match="cpu_memory_cap_gb"):
        capped.generate(VideoRequest(family="wan", prompt="x", seed=1), tmp_path / "a.mp4")
    roomy = GenerationWorker(default_model="tiny", policy_overrides={"cpu_memory_cap_gb": 1.0})
    result = roomy.generate(VideoRequest(family="wan", prompt="x", seed=1), tmp_path / "b.mp4")
    assert 0 < result.model["weights_gb"] < 0.01


def test_loaded_pipelines_carry_their_provenance_beside_the_diffusers_pipeline(worker):
    loaded = worker.warm("wan", "text-to-video")
    assert worker.warm("wan", "text-to-video") is loaded
    assert not [name for name in vars(loaded.pipe) if name.startswith("_videogen")]
    assert loaded.provenance["path"] and loaded.provenance["policy"]["placement"] == "cpu"
    public = loaded.public_provenance()
    assert "path" not in public and "policy" not in public
    assert public["pipeline_class"] == "WanPipeline" and public["model"] == "tiny"
    assert loaded.meta == worker.model_meta("wan", "text-to-video")


def test_model_meta_of_a_tiny_model_is_known_before_it_is_built(tmp_path, monkeypatch):
    monkeypatch.setenv("VIDEOGEN_CACHE_DIR", str(tmp_path))
    meta = GenerationWorker(default_model="tiny").model_meta("hunyuan-video", "image-to-video")
    assert isinstance(meta, ModelMeta) and meta.tiny and meta.request_defaults["num_frames"] == 9
    assert "prompt_template" in meta.call_kwargs
    assert not any(tmp_path.iterdir())  # nothing was built


def test_progress_types_are_the_shared_ones():
    from videogen.video import progress, worker

    assert worker.STAGES is progress.STAGES and worker.StageTiming is progress.StageTiming
    assert worker.ProgressEvent is progress.ProgressEvent


def test_a_job_resolves_its_request_once_and_decodes_its_image_once(worker, png_b64, tmp_path, monkeypatch):
    from videogen.video import adapter as adapter_module
    from videogen.video import task_media

    calls = {"resolve": 0, "decode": 0, "policy": 0}
    resolve, decode, derive = (
        adapter_module.VideoPipelineAdapter.resolve_params,
        task_media.decode_image,
        GenerationWorker.policy,
    )

    def counting(name, real):
        def call(*args, **kwargs):
            calls[name] += 1
            return real(*args, **kwargs)

        return call

    monkeypatch.setattr(adapter_module.VideoPipelineAdapter, "resolve_params", counting("resolve", resolve))
    monkeypatch.setattr(task_media, "decode_image", counting("decode", decode))
    worker.warm("ltx-video", "image-to-video")  # a warm-up's own request is not this job's
    monkeypatch.setattr(GenerationWorker, "policy", counting("policy", derive))
    result = worker.generate(_request("ltx-video", "image-to-video", png_b64, height=64), tmp_path / "once.mp4")
    assert calls == {"resolve": 1, "decode": 1, "policy": 1}  # before: 2 resolves, 3 decodes, 3 policies
    assert (result.width, result.height) == (32, 64) and result.params["seed"] == 7
