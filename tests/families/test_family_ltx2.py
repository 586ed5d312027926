"""LTX-2 tiny t2v/i2v: video with sound. The soundtrack the pipeline returns reaches the MP4 as an AAC track (checked
by decoding the file) unless the job's ``with_audio`` is false; the call runs LTX-2.0's guidance (CFG alone, one
batched pass a step, as priced); image-to-video's first frame is compressed as in training; and the cost model counts
the audio branch (the transformer's audio stream, the connectors, the audio VAE and vocoder). Keyframes run on
``LTX2ConditionPipeline``: each condition at the latent index LTX-2 reads (a frame off its grid moved and said), those
after frame 0 joining the transformer's sequence whole, as the cost model counts them.

Generic checks (frames, seeds, image handling, cancel): test_families.py; FLOPs per step against FlopCounterMode and
parameter counts against the published sizes: tests/unit/test_cost_model.py and test_arch_presets.py.
"""

from __future__ import annotations

import family_support
import numpy as np
import pytest
from family_support import I2V, KF, T2V, assert_moves, image_b64, tiny_fixture

from videogen.errors import InvalidRequestError
from videogen.video.families import get_adapter
from videogen.video.request import VideoRequest
from videogen.video.soundtrack import read_audio_track

FAMILY = "ltx2"
tiny = tiny_fixture(FAMILY)


def _run(tiny, prepared):
    return tiny.adapter.run(tiny.pipe, prepared.kwargs, prepared.params)


def _gradient_png(width: int, height: int) -> str:
    import base64
    import io

    from PIL import Image

    x, y = np.meshgrid(np.linspace(0, 255, width), np.linspace(0, 255, height))
    rgb = np.stack([x, y, 255 - x], axis=-1).astype(np.uint8)
    buffer = io.BytesIO()
    Image.fromarray(rgb).save(buffer, format="PNG")
    return base64.b64encode(buffer.getvalue()).decode("ascii")


@pytest.mark.parametrize("tiny", [T2V], indirect=True)
def test_one_step_is_moved_to_two(tiny):
    """The real scheduler (the converter's, with shift_terminal) has no one-step schedule: its sigmas would be NaN."""
    from diffusers import FlowMatchEulerDiscreteScheduler

    scheduler = FlowMatchEulerDiscreteScheduler.from_config(tiny.pipe.scheduler.config)
    with pytest.warns(RuntimeWarning, match="invalid value"):
        scheduler.set_timesteps(sigmas=[1.0], mu=1.0)
    assert np.isnan(scheduler.sigmas[0].item())
    prepared = tiny.prepare(seed=0, num_inference_steps=1)
    assert prepared.kwargs["num_inference_steps"] == 2
    assert [(a.field, a.requested, a.used) for a in prepared.adjustments] == [("num_inference_steps", 1, 2)]
    assert np.isfinite(tiny.adapter.extract_frames(_run(tiny, prepared)).astype(float)).all()


def test_the_pipeline_returns_a_soundtrack_as_long_as_the_video(tiny):
    prepared = tiny.prepare(seed=0, num_frames=17, fps=12)
    output = _run(tiny, prepared)
    frames = tiny.adapter.extract_frames(output)
    track = tiny.adapter.extract_audio(output, tiny.pipe, prepared.params)
    assert frames.shape == (17, 32, 32, 3)
    assert (track.sample_rate, track.channels) == (tiny.pipe.vocoder.config.output_sampling_rate, 2) == (8000, 2)
    # 17 frames at 12 fps last 1.42 s: the audio's causal VAE and vocoder give within a few mel frames of that
    assert track.seconds == pytest.approx(17 / 12, abs=0.05)
    assert np.isfinite(track.samples).all() and np.abs(track.samples).max() > 0
    assert prepared.kwargs["frame_rate"] == 12.0  # the RoPE positions and the audio's length follow the fps


@pytest.mark.parametrize("tiny", [T2V], indirect=True)
def test_the_call_runs_ltx20_guidance_one_batched_pass_a_step(tiny, monkeypatch):
    """CFG alone (no STG or modality-isolation passes, which the pipelines' LTX-2.3 defaults would add): one
    transformer call a step on the conditional and unconditional batch, as ``cost.py`` prices it (cfg batched)."""
    from videogen.video.arch.catalog import get_preset
    from videogen.video.cost.shapes import cfg_passes, cost_facts

    batches: list[int] = []
    forward = tiny.pipe.transformer.forward
    monkeypatch.setattr(
        tiny.pipe.transformer,
        "forward",
        lambda *a, **k: batches.append(k["hidden_states"].shape[0]) or forward(*a, **k),
    )
    preset = get_preset("ltx-2-19b-dev")
    for scale, expected in ((4.0, [2, 2]), (1.0, [1, 1])):
        batches.clear()
        _run(tiny, tiny.prepare(seed=0, guidance_scale=scale, num_inference_steps=2))
        assert batches == expected and sum(batches) // 2 == cfg_passes(preset, scale)
    assert cost_facts(preset).cfg == "batched"


@pytest.mark.parametrize("tiny", [T2V], indirect=True)
def test_frames_to_8k_plus_1_and_sizes_to_multiples_of_32(tiny):
    assert_moves(tiny, {"num_frames": 12}, {"num_frames": (12, 9)})
    assert_moves(tiny, {"height": 40, "width": 100}, {"height": (40, 32), "width": (100, 96)})


def test_with_audio_is_the_jobs_and_refused_where_there_is_no_sound(tiny):
    assert tiny.resolve().params["with_audio"] is True  # a family with sound keeps it by default
    assert tiny.resolve(with_audio=False).params["with_audio"] is False
    silent = VideoRequest(family="wan", prompt="a fox", with_audio=True)
    with pytest.raises(InvalidRequestError) as err:
        get_adapter("wan").resolve_params(silent)
    assert (err.value.field, err.value.allowed) == ("with_audio", [False])
    assert "with_audio" not in get_adapter("wan").resolve_params(silent.model_copy(update={"with_audio": None})).params


@pytest.mark.parametrize("tiny", [I2V], indirect=True)
def test_a_jobs_mp4_carries_the_soundtrack_unless_with_audio_is_false(tiny, tmp_path, monkeypatch):
    """The worker's whole path on the tiny model: the track decoded back from the file (AAC, the vocoder's rate, as
    long as the video); with_audio=false leaves the file without an audio stream."""
    from videogen.video.encode import read_mp4
    from videogen.video.worker import GenerationWorker

    monkeypatch.setenv("VIDEOGEN_CACHE_DIR", str(family_support._CACHE_DIR[0]))  # the tiny model built above
    worker = GenerationWorker(models={FAMILY: "tiny"})
    request = VideoRequest(family=FAMILY, task=I2V, prompt="a fox", image=image_b64(), seed=1, num_frames=25, fps=24)
    result = worker.generate(request, tmp_path / "sound.mp4")
    track = read_audio_track(tmp_path / "sound.mp4")
    assert (track.codec, track.sample_rate, track.channels) == ("aac", 8000, 2)
    assert track.seconds == pytest.approx(25 / 24, abs=0.06) and np.abs(track.samples).max() > 0
    encoding = next(stage for stage in result.stages if stage.name == "encoding")
    assert encoding.detail["audio_codec"] == "aac" and encoding.detail["sample_rate"] == 8000
    frames, _ = read_mp4(tmp_path / "sound.mp4")
    assert frames.shape == (25, 32, 32, 3)

    silent = worker.generate(request.model_copy(update={"with_audio": False}), tmp_path / "silent.mp4")
    assert read_audio_track(tmp_path / "silent.mp4") is None and silent.params["with_audio"] is False
    np.testing.assert_array_equal(read_mp4(tmp_path / "silent.mp4")[0], frames)  # the same picture, no track


@pytest.mark.parametrize("tiny", [I2V], indirect=True)
def test_image_to_video_compresses_the_first_frame_as_in_training(tiny, monkeypatch):
    from videogen.video.families.ltx2 import image_crf

    seen: list[int] = []
    compress = image_crf.compress
    monkeypatch.setattr(image_crf, "compress", lambda image, crf: seen.append(crf) or compress(image, crf))
    smooth = _gradient_png(64, 48)  # a picture H.264 keeps well (a noise image would not be)
    prepared = tiny.prepare(seed=0, image=smooth)
    assert seen == [33] and prepared.kwargs["image_crf"] == 0  # Gemma-3's CRF here; none again in the pipeline
    image = prepared.kwargs["image"]
    plain = np.asarray(prepared.media.image.resize(image.size), np.float32)
    compressed = np.asarray(image, np.float32)
    assert image.size == (32, 32) and not np.array_equal(plain, compressed)
    psnr = 10 * np.log10(255.0**2 / np.mean((plain - compressed) ** 2))
    assert psnr > 30  # an H.264 frame of the same picture
    assert compress(image, 0) is image


@pytest.mark.parametrize("tiny", [T2V], indirect=True)
def test_the_cost_probe_gives_the_transformer_the_pipelines_audio_length(tiny, monkeypatch):
    """The probe prices the audio stream at as many audio latents as the pipeline denoises beside the video."""
    from videogen.video.families.ltx2.cost_probe import audio_latent_frames

    shapes: list[tuple[int, int]] = []
    forward = tiny.pipe.transformer.forward

    def recording(*args, **kwargs):
        shapes.append((kwargs["hidden_states"].shape[1], kwargs["audio_hidden_states"].shape[1]))
        return forward(*args, **kwargs)

    monkeypatch.setattr(tiny.pipe.transformer, "forward", recording)
    _run(tiny, tiny.prepare(seed=0, num_frames=41, num_inference_steps=2, guidance_scale=1.0))  # the default 24 fps
    latent_frames = (41 - 1) // 8 + 1
    expected = (latent_frames * 4 * 4, audio_latent_frames(tiny.pipe.transformer.config, latent_frames, 24))
    assert shapes == [expected, expected]


def test_the_audio_decoders_fit_matches_their_meta_decode():
    """The audio VAE and vocoder, measured at two lengths, priced at a third as the meta-device decode counts it."""
    from videogen.video.arch.catalog import get_preset
    from videogen.video.cost.measure import measure, module_tensors
    from videogen.video.cost.meta_models import meta_module
    from videogen.video.families.ltx2.cost import audio_decode
    from videogen.video.families.ltx2.cost_probe import audio_decode_call

    preset = get_preset("ltx-2-19b-dev")
    audio_vae, vocoder = meta_module(preset.component("audio_vae")), meta_module(preset.component("vocoder"))
    call, inputs = audio_decode_call(audio_vae, vocoder, audio_frames=126)  # 121 frames at 24 fps: 5.04 s x 25
    direct = measure(call, exclude=[*module_tensors(audio_vae, vocoder), *inputs])
    fitted = audio_decode(preset, 121)
    assert fitted.components == ("audio_vae", "vocoder")
    assert fitted.flops == pytest.approx(direct.flops, rel=1e-6) and fitted.flops > 1e11
    assert fitted.peak_bytes == pytest.approx(direct.peak_bytes, rel=0.05)


def test_the_estimate_prices_the_sound_and_the_connectors():
    from videogen.video.cost.estimate import estimate_cost

    estimate = estimate_cost("ltx-2-19b-dev", T2V, 121, 512, 768, 40, 4.0, device_name="NVIDIA H200")
    longer = estimate_cost("ltx-2-19b-dev", T2V, 241, 512, 768, 40, 4.0)
    assert estimate.cfg_passes == 2 and estimate.text_tokens == 1024 and estimate.video_tokens == 16 * 16 * 24
    assert 0 < estimate.flops.audio_decode < longer.flops.audio_decode
    assert estimate.flops.total == pytest.approx(
        estimate.flops.text_encode
        + estimate.flops.denoise_total
        + estimate.flops.vae_decode
        + estimate.flops.audio_decode
    )
    gpu = estimate.memory_for("gpu")
    assert {"text_encode", "denoise", "vae_decode", "audio_decode"} <= set(gpu.stages)
    # model offload holds the audio VAE and vocoder alone while they run: far less than the resident whole
    offload = estimate.memory_for("model_cpu_offload")
    assert offload.stages["audio_decode"] < 2**30 < gpu.stages["audio_decode"]


@pytest.mark.parametrize("tiny", [KF], indirect=True)
def test_keyframes_go_to_latent_indices_and_join_the_sequence_as_priced(tiny, monkeypatch):
    from videogen.video.cost.conditioning import Conditioning, conditioning_load
    from videogen.video.families.ltx2.cost import COST
    from videogen.video.video_to_video import clip_b64

    clip = clip_b64(np.full((9, 32, 32, 3), 90, np.uint8), 24)
    conditions = [
        {"image": image_b64(), "frame_index": 0},  # the first frame: overwritten in place
        {"image": _gradient_png(32, 32), "frame_index": 16},  # the last frame of 17: latent 2 starts at frame 9
        {"video": clip, "frame_index": 8},  # a clip between grid frames: moved to frame 1, latent 1
    ]
    placed: list = []
    preprocess = tiny.pipe.preprocess_conditions
    monkeypatch.setattr(
        tiny.pipe, "preprocess_conditions", lambda *a, **k: placed.append(out := preprocess(*a, **k)) or out
    )
    tokens: list[int] = []
    forward = tiny.pipe.transformer.forward
    monkeypatch.setattr(
        tiny.pipe.transformer, "forward", lambda *a, **k: tokens.append(k["hidden_states"].shape[1]) or forward(*a, **k)
    )
    prepared = tiny.prepare(seed=0, num_frames=17, num_inference_steps=2, conditions=conditions)
    assert [(a.field, a.requested, a.used) for a in prepared.adjustments] == [
        ("conditions[1].frame_index", 16, 9),
        ("conditions[2].frame_index", 8, 1),
    ]
    assert [(c.index, c.crf) for c in prepared.kwargs["conditions"]] == [(0, 0), (2, 0), (1, 0)]
    frames = tiny.adapter.extract_frames(_run(tiny, prepared))
    assert frames.shape == (17, 32, 32, 3) and np.isfinite(frames.astype(float)).all()
    _, _, indices, pixel_frames = placed[0]
    assert (indices, pixel_frames) == ([0, 2, 1], [1, 1, 9])  # what the pipeline placed: nothing skipped or cut
    # 3 latent frames of 4x4 tokens; the image at latent 2 adds one frame of tokens, the 9-frame clip two
    load = conditioning_load(COST, KF, Conditioning.from_params(prepared.params), temporal=8)
    assert load.latent_frames == 3 and len(load.encodes) == 3
    assert set(tokens) == {(3 + load.latent_frames) * 16}


@pytest.mark.parametrize("tiny", [I2V], indirect=True)
def test_latent_upscale_runs_two_stages_around_the_upsampler(tiny, monkeypatch):
    """diffusers' documented two-stage flow: stage 1 at half size with the job's guidance, the model's upsampler once,
    stage 2 at the output size along the stage-2 sigmas without guidance, from stage 1's video and audio latents."""
    from diffusers.pipelines.ltx2.utils import STAGE_2_DISTILLED_SIGMA_VALUES

    from videogen.video.families.ltx2 import upscale
    from videogen.video.families.ltx_video.upscale import upsampler_of

    assert list(upscale.STAGE_2_SIGMAS) == STAGE_2_DISTILLED_SIGMA_VALUES
    calls: list[tuple[int, int]] = []
    forward = tiny.pipe.transformer.forward
    monkeypatch.setattr(
        tiny.pipe.transformer,
        "forward",
        lambda *a, **k: calls.append(tuple(k["hidden_states"].shape[:2])) or forward(*a, **k),
    )
    upsampled = []
    upsampler_of(tiny.pipe).register_forward_hook(lambda _m, args, out: upsampled.append((args[0].shape, out.shape)))
    prepared = tiny.prepare(seed=0, num_frames=9, height=64, width=64, num_inference_steps=2, latent_upscale=True)
    assert {k: prepared.params[k] for k in ("first_pass_height", "first_pass_width", "refine_steps")} == {
        "first_pass_height": 32,
        "first_pass_width": 32,
        "refine_steps": 3,
    }
    output = _run(tiny, prepared)
    # 2 latent frames: 4x4 tokens each at 32x32 (CFG: a batch of 2), 8x8 at 64x64 (no guidance: 1)
    assert calls == [(2, 32)] * 2 + [(1, 128)] * 3
    assert upsampled == [((1, 8, 2, 4, 4), (1, 8, 2, 8, 8))]
    assert tiny.adapter.extract_frames(output).shape == (9, 64, 64, 3)
    track = tiny.adapter.extract_audio(output, tiny.pipe, prepared.params)
    assert track.seconds == pytest.approx(9 / 24, abs=0.05) and np.isfinite(track.samples).all()
    assert tiny.pipe.scheduler.config.use_dynamic_shifting  # stage 2's scheduler was the call's only


def test_latent_upscale_is_priced_as_its_two_stages(tmp_path):
    from videogen.video.worker import GenerationWorker

    worker = GenerationWorker(models={FAMILY: "tiny"})
    fields = {"family": FAMILY, "prompt": "a fox", "num_frames": 9, "num_inference_steps": 2}
    two = worker.estimate(VideoRequest(**fields, height=64, width=64, latent_upscale=True)).estimate
    plain = worker.estimate(VideoRequest(**fields, height=64, width=64, guidance_scale=1.0)).estimate
    half = worker.estimate(VideoRequest(**fields, height=32, width=32)).estimate
    assert two.flops["per_step"] == pytest.approx(plain.flops["per_step"])  # stage 2: one pass a step, no CFG
    stage_1 = half.flops["denoise_total"]
    assert two.flops["denoise_total"] == pytest.approx(stage_1 + 3 * plain.flops["per_step"])
    assert two.flops["latent_upsample"] > 0 and any("3 refining steps at 64x64" in n for n in two.notes)
