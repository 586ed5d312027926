"""FramePack on HunyuanVideo through diffusers' own ``HunyuanVideoFramepackPipeline``: first-last-frame, and long
image-to-video from the first frame alone on a FramePack checkpoint (``tiny:framepack``, ``arch:framepack-i2v-hy``).

FramePack denoises in sections and returns 4·W·S + 1 frames (W = latent_window_size = 9, S sections), whatever
``num_frames`` was: the adapter moves the job's ``num_frames`` to that count (an adjustment) and hands the pipeline a
``num_frames`` that picks S, up to FramePack's own bound (10 sections, 361 frames), far past the 129 frames of
HunyuanVideo's other pipelines. Checked here on the real pipeline class with the tiny model: the pipeline's own
rounding, the frames the job promises against the frames it returns, the worker path (progress over every section's
steps, the MP4), a missing last frame refused naming ``last_image`` for first-last-frame, the cost model's section
structure; and for image-to-video, that a FramePack checkpoint runs it through FramePack (more than 129 frames, the
first frame's latents written into the video) while HunyuanVideo's own image-to-video model keeps its pipeline and
its 129-frame limit.
"""

from __future__ import annotations

import numpy as np
import pytest
import testkit
import torch
from family_support import FLF, I2V, PROMPT, load_tiny

from videogen.errors import InvalidRequestError
from videogen.serve.errors import http_status
from videogen.video.encode import read_mp4
from videogen.video.families import get_spec
from videogen.video.families.hunyuan_video import framepack
from videogen.video.hardware import VideoHardwareProfile
from videogen.video.model_source import ModelSource
from videogen.video.request import VideoRequest
from videogen.video.support import describe_model
from videogen.video.worker import GenerationWorker

FAMILY = "hunyuan-video"
FIRST, LAST = testkit.png_b64(40, 24), testkit.png_b64(24, 40, seed=1)


def request(**fields) -> VideoRequest:
    fields = {"task": FLF, "image": FIRST, "last_image": LAST, "num_inference_steps": 2, "seed": 1, **fields}
    return VideoRequest(family=FAMILY, prompt=PROMPT, **fields)


@pytest.fixture(scope="module")
def tiny(tmp_path_factory):
    return load_tiny(FAMILY, FLF, tmp_path_factory)


def test_the_spec_names_framepack():
    spec = get_spec(FAMILY)
    assert spec.pipeline_classes[FLF] == "HunyuanVideoFramepackPipeline"
    assert spec.default_model_ids[FLF] == "lllyasviel/FramePackI2V_HY"
    assert spec.required_inputs[FLF] == ["prompt", "image", "last_image"]


def test_the_pipeline_returns_whole_sections(tiny):
    """The relation the adapter relies on, read off the real pipeline: 9..33 asked -> 37, 34 -> 73 (its own ceil)."""
    assert type(tiny.pipe).__name__ == "HunyuanVideoFramepackPipeline"
    assert [framepack.output_frames(n) for n in (9, 33, 34, 66, 67)] == [37, 37, 73, 73, 109]
    prepared = tiny.adapter.prepare_inputs(request(), tiny.pipe, tiny.meta)
    for asked, returned in ((33, 37), (34, 73)):
        frames = tiny.adapter.extract_frames(tiny.pipe(**{**prepared.kwargs, "num_frames": asked}))
        assert frames.shape[0] == returned == framepack.output_frames(asked)


def test_the_job_promises_the_frames_it_returns(tiny):
    # 10 asked: the family's 4k+1 rule gives 9, FramePack's sections 37 — one adjustment, from what was asked
    prepared = tiny.adapter.prepare_inputs(request(num_frames=10), tiny.pipe, tiny.meta)
    moved = {a.field: (a.requested, a.used) for a in prepared.adjustments}
    assert moved == {"num_frames": (10, 37)}
    assert "36k+1" in prepared.adjustments[0].reason
    kwargs = prepared.kwargs
    assert (kwargs["num_frames"], kwargs["latent_window_size"], kwargs["sampling_type"]) == (
        33,
        9,
        "inverted_anti_drifting",
    )
    assert kwargs["image"].size == kwargs["last_image"].size == (32, 32)
    frames = tiny.adapter.extract_frames(tiny.pipe(**kwargs))
    assert frames.shape == (prepared.expected_frames, 32, 32, 3) == (37, 32, 32, 3)
    # a count FramePack returns is kept as asked (no adjustment): re-sending a job's values gives the same job
    again = tiny.adapter.resolve_params(request(num_frames=73), tiny.meta)
    assert again.adjustments == [] and again.params["num_frames"] == again.expected_frames == 73
    assert again.params["sections"] == 2 and again.params["denoising_steps"] == 4
    # FramePack's own range bounds the request: past HunyuanVideo's 129 frames, up to 10 sections (361)
    assert tiny.adapter.resolve_params(request(num_frames=129), tiny.meta).expected_frames == 145
    assert tiny.adapter.resolve_params(request(num_frames=361), tiny.meta).params["sections"] == 10
    with pytest.raises(InvalidRequestError) as err:
        tiny.adapter.resolve_params(request(num_frames=362), tiny.meta)
    assert err.value.field == "num_frames" and err.value.allowed == {"min": 9, "max": 361}


def test_the_worker_runs_two_sections_and_counts_every_step(tmp_path):
    worker = GenerationWorker(default_model="tiny")
    seen = []
    result = worker.generate(request(num_frames=73, width=48), tmp_path / "fp.mp4", on_progress=seen.append)
    assert result.model["pipeline_class"] == "HunyuanVideoFramepackPipeline"
    frames, _ = read_mp4(tmp_path / "fp.mp4")
    assert frames.shape == (73, 32, 48, 3) and result.num_frames == result.params["expected_frames"] == 73
    steps = [e.step for e in seen if e.stage == "denoising" and e.step]
    assert steps == [1, 2, 3, 4] and {e.total_steps for e in seen if e.step} == {4}  # 2 sections x 2 steps
    estimate = result.estimate["estimate"]  # priced before it ran: one section's latents, every section's steps
    assert estimate["latent"]["frames"] == 9 and estimate["flops"]["denoise_total"] == 4 * estimate["flops_per_step"]


def test_a_missing_last_image_is_refused_naming_it(tiny):
    for fields, name in (({"last_image": None}, "last_image"), ({"image": None}, "image")):
        with pytest.raises(InvalidRequestError) as err:
            tiny.adapter.resolve_params(request(**fields), tiny.meta)
        assert err.value.field == name and FLF in err.value.message
        assert 400 <= http_status(err.value) < 500


def test_the_cost_model_counts_sections(tiny):
    """Per step: one section's window beside its packed history; every section runs every step, and the VAE
    decodes after each section (9, then 19 latent frames for a two-section video)."""
    from videogen.video.arch.from_dir import preset_from_model_dir
    from videogen.video.cost.estimate import estimate_cost

    preset = preset_from_model_dir(tiny.model_dir, FAMILY, FLF, preset_id="framepack-tiny")
    one = estimate_cost(preset, FLF, 37, 32, 48, 2, 6.0, dtype="float32")
    two = estimate_cost(preset, FLF, 73, 32, 48, 2, 6.0, dtype="float32")
    assert one.latent.frames == two.latent.frames == 9
    # 9 frames of 2x3 tokens + history: 2 frames of 2x3, 1 of 1x2, 4 of 1x1
    assert one.video_tokens == two.video_tokens == 9 * 6 + 2 * 6 + 2 + 4
    assert one.flops.per_step == two.flops.per_step
    assert two.flops.denoise_total == 2 * one.flops.denoise_total == 4 * one.flops.per_step
    assert two.flops.vae_decode > 2 * one.flops.vae_decode  # 9 + 19 latent frames decoded vs 10
    assert any("section" in note for note in two.notes)
    assert np.isfinite(two.flops.total)


# -- image-to-video from the first frame alone, on a FramePack checkpoint -----------------------------------------

FRAMEPACK = "HunyuanVideoFramepackPipeline"


@pytest.fixture(scope="module")
def framepack_i2v(tmp_path_factory):
    return load_tiny(FAMILY, I2V, tmp_path_factory, variant="framepack")


def i2v_request(**fields) -> VideoRequest:
    fields = {"task": I2V, "image": FIRST, "num_inference_steps": 2, "seed": 1, **fields}
    return VideoRequest(family=FAMILY, prompt=PROMPT, **fields)


def test_a_framepack_checkpoint_runs_long_image_to_video_without_a_last_frame(tmp_path):
    """Through the worker: past the 129 frames HunyuanVideoImageToVideoPipeline takes, every frame kept."""
    worker = GenerationWorker(models={FAMILY: "tiny:framepack"})
    seen = []
    result = worker.generate(i2v_request(num_frames=145), tmp_path / "fp-i2v.mp4", on_progress=seen.append)
    assert result.model["pipeline_class"] == FRAMEPACK and result.adjustments == []
    frames, _ = read_mp4(tmp_path / "fp-i2v.mp4")
    assert frames.shape == (145, 32, 32, 3) and result.num_frames == result.params["expected_frames"] == 145
    assert result.params["sections"] == 4 and max(e.total_steps or 0 for e in seen) == 8  # 4 sections x 2 steps
    estimate = result.estimate["estimate"]  # priced before it ran, section by section, as first-last-frame is
    assert estimate["latent"]["frames"] == 9 and estimate["flops"]["denoise_total"] == 8 * estimate["flops_per_step"]


def test_framepack_frames_are_moved_and_bounded_with_the_range_said(framepack_i2v):
    tiny = framepack_i2v
    assert tiny.meta.pipeline_class == FRAMEPACK and type(tiny.pipe).__name__ == FRAMEPACK
    moved = tiny.adapter.resolve_params(i2v_request(num_frames=150), tiny.meta)
    assert [(a.field, a.requested, a.used) for a in moved.adjustments] == [("num_frames", 150, 145)]
    assert "FramePack returns whole sections" in moved.adjustments[0].reason
    with pytest.raises(InvalidRequestError) as err:
        tiny.adapter.resolve_params(i2v_request(num_frames=400), tiny.meta)
    assert err.value.field == "num_frames" and err.value.allowed == {"min": 9, "max": 361}
    assert "9..361" in err.value.message
    assert 400 <= http_status(err.value) < 500
    # the same limits wherever a request is checked or shown: the arch: preset, `videogen models`
    arch = ModelSource(family=FAMILY, value="arch:framepack-i2v-hy")
    assert arch.model_meta(I2V).pipeline_class == FRAMEPACK and I2V in arch.arch_preset().tasks
    profile = VideoHardwareProfile.detect()
    for source in (arch, ModelSource(family=FAMILY, value="tiny:framepack")):
        limits = describe_model(get_spec(FAMILY), profile, source)["request_limits"]
        assert set(limits) == {I2V, FLF}
        assert {limits[t]["pipeline_class"] for t in limits} == {FRAMEPACK}
        assert {limits[t]["num_frames"]["max"] for t in limits} == {361}


def test_the_first_frame_conditions_the_video(framepack_i2v):
    """The last section (the video's start: FramePack samples backwards; here the only one) is decoded with the first
    image's latents as its first latent frame; another image, same seed, gives another video."""
    tiny = framepack_i2v
    pipe = tiny.pipe
    encoded, decoded = [], []
    original_prepare, original_decode = pipe.prepare_image_latents, pipe.vae.decode

    def prepare(*args, **kwargs):
        encoded.append(original_prepare(*args, **kwargs))
        return encoded[-1]

    def decode(latents, *args, **kwargs):
        decoded.append(latents)
        return original_decode(latents, *args, **kwargs)

    prepared = tiny.adapter.prepare_inputs(i2v_request(num_frames=37), pipe, tiny.meta)
    assert "last_image" not in prepared.kwargs and prepared.kwargs["sampling_type"] == "inverted_anti_drifting"
    pipe.prepare_image_latents, pipe.vae.decode = prepare, decode
    try:
        frames = tiny.adapter.extract_frames(pipe(**prepared.kwargs))
    finally:
        del pipe.prepare_image_latents, pipe.vae.decode
    assert frames.shape == (37, 32, 32, 3) and len(encoded) == len(decoded) == 1  # one image, one section
    image_latents = encoded[0] / pipe.vae.config.scaling_factor
    assert torch.allclose(decoded[-1][:, :, 0], image_latents[:, :, 0], atol=1e-6)
    assert not torch.allclose(decoded[-1][:, :, 1], image_latents[:, :, 0], atol=1e-2)  # the rest is denoised
    other = tiny.adapter.prepare_inputs(i2v_request(num_frames=37, image=LAST), pipe, tiny.meta)
    assert not np.array_equal(frames, tiny.adapter.extract_frames(pipe(**other.kwargs)))


def test_hunyuan_videos_own_image_to_video_keeps_its_pipeline_and_129_frames(tmp_path_factory):
    tiny = load_tiny(FAMILY, I2V, tmp_path_factory)
    assert type(tiny.pipe).__name__ == "HunyuanVideoImageToVideoPipeline" and tiny.meta.pipeline_class is None
    assert tiny.adapter.resolve_params(i2v_request(num_frames=129), tiny.meta).expected_frames == 125  # 4 dropped
    for meta in (tiny.meta, ModelSource(family=FAMILY, value="arch:hunyuanvideo-i2v").model_meta(I2V)):
        assert meta.pipeline_class is None
        with pytest.raises(InvalidRequestError) as err:
            tiny.adapter.resolve_params(i2v_request(num_frames=145), meta)
        assert err.value.field == "num_frames" and err.value.allowed == {"min": 9, "max": 129}
