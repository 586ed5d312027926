"""First-last-frame on HunyuanVideo: FramePack through diffusers' own ``HunyuanVideoFramepackPipeline``.

FramePack denoises in sections and returns 4·W·S + 1 frames (W = latent_window_size = 9, S sections), whatever
``num_frames`` was: the adapter moves the job's ``num_frames`` to that count (an adjustment) and hands the pipeline a
``num_frames`` that picks S. Checked here on the real pipeline class with the tiny model: the pipeline's own
rounding, the frames the job promises against the frames it returns, the worker path (progress over every section's
steps, the MP4), a missing last frame refused naming ``last_image``, and the cost model's section structure.
"""

from __future__ import annotations

import numpy as np
import pytest
import testkit
from family_support import FLF, PROMPT, load_tiny

from videogen.errors import InvalidRequestError
from videogen.serve.errors import http_status
from videogen.video.encode import read_mp4
from videogen.video.families import get_spec
from videogen.video.families.hunyuan_video import framepack
from videogen.video.request import VideoRequest
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
    # the family's range still bounds the request; the longest FramePack video within it is 3 sections
    assert tiny.adapter.resolve_params(request(num_frames=129), tiny.meta).expected_frames == 109
    with pytest.raises(InvalidRequestError) as err:
        tiny.adapter.resolve_params(request(num_frames=200), tiny.meta)
    assert err.value.field == "num_frames"


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
