"""The load policy's ``weights`` on the tiny models: each mode loads, runs two steps and stays within a stated PSNR
of the unquantized output; the cost model's denoiser bytes equal what the loaded denoiser holds; a mode that cannot
run here falls back and says why; bad values are refused naming the field; admission's quantized rung is used only
when the operator allows it."""

from __future__ import annotations

import sys

import numpy as np
import pytest
import torch
from pydantic import ValidationError

from videogen.cli import main
from videogen.cli_request import EXIT_BAD_INPUT
from videogen.errors import CapacityError, ModelUnavailableError
from videogen.video.admission import allowed_rungs, estimate_weights
from videogen.video.hardware import VideoHardwareProfile
from videogen.video.job_cost import estimate_job
from videogen.video.policy import VideoLoadPolicy
from videogen.video.policy_overrides import WEIGHTS_MODES, validate_policy_overrides
from videogen.video.quantize import stored_bytes
from videogen.video.registry import SPECS, get_spec
from videogen.video.request import VideoRequest
from videogen.video.speed_measure import psnr_db
from videogen.video.task_media import warm_up_media
from videogen.video.worker import GenerationWorker

FAMILIES = list(SPECS)
MODES = ("fp8_storage", "int8", "fp8")  # the 8-bit modes every family takes; gguf has its own tests
# Lowest PSNR (dB) of the decoded uint8 frames against the same job unquantized (float32 on this CPU; same seed,
# 2 steps, 32x32, 9 frames), over every family's tiny text-to-video model and seeds 5 and 11 (diffusers 0.42.1,
# torchao 0.18, CPU): fp8_storage 43.3 (SanaVideo), int8 48.8 (SanaVideo), fp8 40.7 (CogVideoX); the GGUF file
# below (Q8_0 where a row is a multiple of 32, float32 elsewhere) 80+ on Wan. Each bound sits about 5 dB under.
MIN_PSNR_DB = {"fp8_storage": 38.0, "int8": 43.0, "fp8": 35.0, "gguf": 60.0}
# Stable Video Diffusion (v-prediction from sigma 700): after two steps the latents are all the UNet's prediction, no
# exact noise left in them, so each layer's unscaled float8 rounding reaches the frames undamped: fp8_storage 33.1 dB
# (its int8 53.0, fp8 39.1: above the shared bounds)
FAMILY_MIN_PSNR_DB = {("stable-video-diffusion", "fp8_storage"): 28.0}
# CogVideoX's positional-embedding buffer is float64 in the loaded model and float32 on the meta device: the cost
# model counts that buffer (896 elements) 4 bytes short per element, whatever the weights mode.
BASE_BUFFER_GAP = {"cogvideox": -896 * 4}


def _task(family: str) -> str:
    """text-to-video, or the one task an edit-only family offers (Lucy Edit's video-to-video)."""
    return SPECS[family].tasks[0]


def _request(family: str, seed: int = 5) -> VideoRequest:
    task = _task(family)
    media = warm_up_media(task, 9, get_spec(family).defaults.fps)  # a grey clip to edit; none for text-to-video
    return VideoRequest(
        family=family, task=task, prompt="a cat running on the beach", seed=seed, num_inference_steps=2, **media
    )


@pytest.fixture(scope="module")
def workers():
    """One worker per weights mode (each loads a family's tiny pipeline once, on first use)."""
    return {
        mode: GenerationWorker(default_model="tiny", policy_overrides={"weights": mode}) for mode in ("bf16", *MODES)
    }


_FRAMES: dict = {}


def _frames(workers, mode: str, family: str, tmp_path) -> np.ndarray:
    if (mode, family) not in _FRAMES:
        _FRAMES[mode, family] = workers[mode].generate(_request(family), tmp_path / f"{mode}.mp4").frames
    return _FRAMES[mode, family]


def _report(worker: GenerationWorker, family: str) -> dict:
    return worker.warm(family, _task(family)).provenance["levers"]["weights"]


# -- each mode runs and stays close --------------------------------------------------------------------------------
@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("family", FAMILIES)
def test_each_mode_runs_within_its_psnr_bound(workers, family, mode, tmp_path):
    quantized = _frames(workers, mode, family, tmp_path)
    report = _report(workers[mode], family)
    assert (report["requested"], report["applied"], report["tried"]) == (mode, mode, [])
    drift = psnr_db(quantized, _frames(workers, "bf16", family, tmp_path))
    print(f"{family} {mode}: PSNR {drift:.1f} dB")
    assert drift >= FAMILY_MIN_PSNR_DB.get((family, mode), MIN_PSNR_DB[mode])
    # it really is stored in 8 bits: the denoiser holds fewer bytes than unquantized
    before, after = _report(workers["bf16"], family)["stored_bytes"], report["stored_bytes"]
    assert set(after) == set(before) and all(after[name] < before[name] for name in after)


def test_two_experts_are_both_quantized(tmp_path):
    worker = GenerationWorker(models={"wan": "tiny:wan2.2-a14b"}, policy_overrides={"weights": "int8"})
    result = worker.generate(_request("wan"), tmp_path / "a14b.mp4")
    stored = result.model["levers"]["weights"]["stored_bytes"]
    assert set(stored) == {"transformer", "transformer_2"}
    pipe = worker.warm("wan", "text-to-video").pipe
    assert all(
        type(m.blocks[0].attn1.to_q.weight).__name__ == "Int8Tensor" for m in (pipe.transformer, pipe.transformer_2)
    )


# -- estimated bytes equal measured ---------------------------------------------------------------------------------
def _estimated_denoiser_bytes(family: str, mode: str, dtype: str = "float32", gguf_file: str | None = None) -> dict:
    worker = GenerationWorker(default_model="tiny")
    params = get_spec(family).defaults.model_dump() | {"num_frames": 9, "height": 32, "width": 32}
    job, cost = estimate_job(worker.source(family), _task(family), params, dtype, weights=mode, gguf_file=gguf_file)
    assert job.weights == cost.weights == mode
    return {c.name: c.weight_bytes for c in cost.components}


@pytest.mark.parametrize("mode", ("bf16", *MODES))
@pytest.mark.parametrize("family", FAMILIES)
def test_estimated_weight_bytes_equal_the_loaded_denoisers(workers, family, mode):
    measured = _report(workers[mode], family)["stored_bytes"]
    assert measured == {n: stored_bytes(m) for n, m in _denoisers(workers[mode], family).items()}
    estimated = _estimated_denoiser_bytes(family, mode)
    assert {name: estimated[name] - measured[name] for name in measured} == {
        name: BASE_BUFFER_GAP.get(family, 0) for name in measured
    }


def _denoisers(worker, family):
    from videogen.video.quantize import denoiser_components

    return denoiser_components(worker.warm(family, _task(family)).pipe)


def test_estimated_bytes_in_bfloat16_follow_the_kept_float32_modules():
    """In bf16 Wan keeps its norms, time embedding and scale-shift tables in float32: layerwise casting and torchao
    leave them so, and the estimate counts them so. (Its rope buffers are float32 in the loaded model and bf16 on
    the meta device: a gap the cost model has at every weights mode, subtracted here.)"""
    profile = VideoHardwareProfile.synthetic("cpu")
    measured = {}
    for mode in ("bf16", "fp8_storage", "int8"):
        policy = VideoLoadPolicy.derive(profile, overrides={"weights": mode, "dtype": "bfloat16"}, environ={})
        worker = GenerationWorker(default_model="tiny", profile=profile, policy_overrides=policy.overrides)
        measured[mode] = _report(worker, "wan")["stored_bytes"]["transformer"]
        transformer = worker.warm("wan", "text-to-video").pipe.transformer
        rope_gap = sum(b.numel() for b in transformer.buffers()) * (4 - 2)  # float32 loaded, bf16 on the meta device
        assert rope_gap > 0
        assert _estimated_denoiser_bytes("wan", mode, "bfloat16")["transformer"] == measured[mode] - rope_gap
    assert measured["int8"] < measured["fp8_storage"] < measured["bf16"]


# -- GGUF -----------------------------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def tiny_gguf(workers, tmp_path_factory) -> str:
    """The tiny Wan transformer as a single-file GGUF, in diffusers' names: Q8_0 blocks for every 2-D weight whose
    rows are a multiple of Q8_0's 32-element block, float32 for the rest (as published GGUFs keep norms)."""
    import gguf

    path = tmp_path_factory.mktemp("gguf") / "wan-transformer-Q8_0.gguf"
    writer = gguf.GGUFWriter(str(path), arch="wan")
    quantized = 0
    for name, tensor in workers["bf16"].warm("wan", "text-to-video").pipe.transformer.state_dict().items():
        array = tensor.float().numpy()
        if array.ndim == 2 and array.shape[1] % 32 == 0:
            blocks = gguf.quants.quantize(array, gguf.GGMLQuantizationType.Q8_0)
            writer.add_tensor(name, blocks, raw_shape=blocks.shape, raw_dtype=gguf.GGMLQuantizationType.Q8_0)
            quantized += 1
        else:
            writer.add_tensor(name, array)
    writer.write_header_to_file()
    writer.write_kv_data_to_file()
    writer.write_tensors_to_file()
    writer.close()
    assert quantized >= 3
    return str(path)


def test_gguf_loads_runs_and_is_estimated(workers, tiny_gguf, tmp_path):
    worker = GenerationWorker(default_model="tiny", policy_overrides={"weights": "gguf", "gguf_file": tiny_gguf})
    result = worker.generate(_request("wan"), tmp_path / "gguf.mp4")
    report = result.model["levers"]["weights"]
    assert (report["requested"], report["applied"]) == ("gguf", "gguf")
    transformer = worker.warm("wan", "text-to-video").pipe.transformer
    assert any(type(p).__name__ == "GGUFParameter" for p in transformer.parameters())
    drift = psnr_db(result.frames, _frames(workers, "bf16", "wan", tmp_path))
    print(f"wan gguf: PSNR {drift:.1f} dB")
    assert drift >= MIN_PSNR_DB["gguf"]
    measured = report["stored_bytes"]["transformer"]
    assert measured < _report(workers["bf16"], "wan")["stored_bytes"]["transformer"]
    assert _estimated_denoiser_bytes("wan", "gguf", gguf_file=tiny_gguf)["transformer"] == measured


def test_gguf_is_refused_where_it_cannot_load(tiny_gguf):
    profile = VideoHardwareProfile.synthetic("cpu")
    with pytest.raises(ValueError, match="weights='gguf': it needs gguf_file"):
        VideoLoadPolicy.derive(profile, overrides={"weights": "gguf"}, environ={})
    overrides = {"weights": "gguf", "gguf_file": tiny_gguf}
    for family, model, why in (
        ("text-to-video-sd", "tiny", "cannot load a UNet3DConditionModel from a single file"),
        ("wan", "tiny:wan2.2-a14b", "2 denoisers"),
    ):
        worker = GenerationWorker(models={family: model}, policy_overrides=overrides)
        with pytest.raises(ModelUnavailableError, match=why) as refused:
            worker.warm(family, "text-to-video")
        assert refused.value.field == "weights"
    missing = GenerationWorker(default_model="tiny", policy_overrides={**overrides, "gguf_file": "/nonexistent.gguf"})
    with pytest.raises(ModelUnavailableError, match="the configured gguf_file is not a file") as refused:
        missing.warm("wan", "text-to-video")
    assert "/nonexistent.gguf" not in str(refused.value.to_dict())  # a job's error reaches its client: no path


# -- fallbacks ------------------------------------------------------------------------------------------------------
def test_without_torchao_int8_falls_back_to_fp8_storage_and_says_why(monkeypatch, tmp_path):
    """torchao made absent (an import of it fails, as on a machine without it): the policy and the load report both
    say int8 fell back, and the job runs in fp8_storage."""
    monkeypatch.setitem(sys.modules, "torchao", None)
    worker = GenerationWorker(default_model="tiny", policy_overrides={"weights": "int8"})
    policy = worker.policy("wan")
    assert policy.weights == "fp8_storage"
    assert any("int8 needs the torchao package" in r and "fell back to fp8_storage" in r for r in policy.reasons)
    result = worker.generate(_request("wan"), tmp_path / "fallback.mp4")
    report = result.model["levers"]["weights"]
    assert (report["requested"], report["applied"]) == ("int8", "fp8_storage")
    assert report["tried"][0]["mode"] == "int8" and "torchao" in report["tried"][0]["reason"]
    assert "fell back to fp8_storage" in report["reason"]


def test_a_device_without_float8_falls_back_to_bf16():
    policy = VideoLoadPolicy.derive(VideoHardwareProfile.synthetic("mps", 64), overrides={"weights": "fp8"}, environ={})
    assert policy.weights == "bf16"
    assert any("weights=fp8 cannot run here (MPS has no float8 dtypes" in r for r in policy.reasons)
    assert any("weights=fp8_storage cannot run here" in r and "fell back to bf16" in r for r in policy.reasons)


# -- bad values -----------------------------------------------------------------------------------------------------
def test_bad_values_are_refused_naming_weights_and_the_allowed_values(capsys):
    allowed = ", ".join(WEIGHTS_MODES)
    with pytest.raises(ValueError, match=f"weights='int4'; allowed: {allowed}"):
        validate_policy_overrides({"weights": "int4"})
    with pytest.raises(ValueError, match="VIDEOGEN_POLICY_WEIGHTS|weights='nf4'"):
        VideoLoadPolicy.derive(
            VideoHardwareProfile.synthetic("cpu"), environ={"VIDEOGEN_POLICY_WEIGHTS": "nf4"}, overrides=None
        )
    with pytest.raises(ValueError, match="gguf_file='model.bin'; allowed: a path to a local .gguf file"):
        validate_policy_overrides({"gguf_file": "model.bin"})
    from videogen.serve.model_configs import FamilyConfig

    with pytest.raises(ValidationError, match=f"weights='int4'; allowed: {allowed}"):
        FamilyConfig(policy={"weights": "int4"})
    assert FamilyConfig(policy={"weights": "INT8"}).policy == {"weights": "int8"}
    with pytest.raises(ValidationError, match="weights"):  # a client never picks the weights
        VideoRequest(family="wan", prompt="x", weights="int8")
    generate = ["generate", "--family", "wan", "--model", "tiny", "--prompt", "x", "-o", "/nonexistent/never.mp4"]
    with pytest.raises(SystemExit) as exited:
        main([*generate, "--weights", "int4"])
    assert exited.value.code == EXIT_BAD_INPUT
    err = capsys.readouterr().err
    assert "argument --weights: invalid choice: 'int4' (choose from" in err and all(m in err for m in WEIGHTS_MODES)
    assert main([*generate, "--weights", "gguf"]) == EXIT_BAD_INPUT
    assert "--weights: gguf needs --gguf-file" in capsys.readouterr().err


def test_the_cli_estimate_follows_the_weights(capsys):
    import json

    def estimate(*flags):
        argv = ["estimate", "--family", "wan", "--model", "arch:wan2.1-t2v-1.3b", "--gpu", "NVIDIA H100", "--json"]
        assert main([*argv, "--frames", "81", "--height", "480", "--width", "832", *flags]) == 0
        return json.loads(capsys.readouterr().out)

    bf16, fp8 = estimate(), estimate("--weights", "fp8_storage")
    assert fp8["policy"]["weights"] == fp8["estimate"]["weights"] == fp8["admission"]["weights"] == "fp8_storage"
    assert fp8["admission"]["rung"] == "gpu+fp8_storage"
    # 1.42 B transformer parameters: 1 byte instead of 2 for nearly all of them
    saved = bf16["admission"]["required_gb"] - fp8["admission"]["required_gb"]
    assert 1.2 < saved / 1.1 < 1.42e9 / 2**30  # required = peak x 1.1 + a fixed overhead


# -- admission's quantized rung -------------------------------------------------------------------------------------
def test_quantized_rungs_follow_each_placement_only_when_allowed():
    profile = VideoHardwareProfile.synthetic("cuda", 80)
    plain = VideoLoadPolicy.derive(profile, environ={})
    allowed = VideoLoadPolicy.derive(profile, overrides={"quantized_rungs": "fp8_storage"}, environ={})
    assert all(r.weights == "bf16" for r in allowed_rungs(plain))
    names = [r.name for r in allowed_rungs(allowed)]
    assert names[:4] == ["gpu", "gpu+tiling", "gpu+tiling+slicing", "gpu+tiling+slicing+fp8_storage"]
    assert names[4:6] == ["model_cpu_offload+tiling+slicing", "model_cpu_offload+tiling+slicing+fp8_storage"]
    assert estimate_weights(allowed)["rung_weights"] == ("fp8_storage",) and not estimate_weights(plain)["rung_weights"]
    configured = VideoLoadPolicy.derive(
        profile, overrides={"weights": "int8", "quantized_rungs": "fp8_storage"}, environ={}
    )
    assert configured.quantized_rungs == "off" and {r.weights for r in allowed_rungs(configured)} == {"int8"}


def _cpu_worker_between(quantized_rungs: str, tmp_path) -> tuple[GenerationWorker, VideoRequest]:
    """A CPU replica whose memory fits the tiny Wan job with an fp8 transformer but not with a float32 one."""
    request = _request("wan")
    plain = GenerationWorker(default_model="tiny")
    params = plain.estimate(request).estimate.params
    costs = {
        mode: estimate_job(plain.source("wan"), "text-to-video", params, "float32", weights=mode)[1]
        .memory_for("gpu", True, True)  # a CPU replica's rung is priced as everything resident
        .required_bytes
        for mode in ("bf16", "fp8_storage")
    }
    assert costs["fp8_storage"] < costs["bf16"]
    ram_gb = (costs["fp8_storage"] + costs["bf16"]) / 2 / 0.8 / 2**30  # CPU_RAM_SHARE of it is usable
    profile = VideoHardwareProfile.synthetic("cpu", system_ram_gb=ram_gb)
    overrides = {"quantized_rungs": quantized_rungs, "vae_tiling": True, "vae_slicing": True}
    return GenerationWorker(default_model="tiny", profile=profile, policy_overrides=overrides), request


def test_a_job_that_fits_only_quantized_is_refused_unless_the_operator_allows_it(tmp_path):
    refusing, request = _cpu_worker_between("off", tmp_path)
    with pytest.raises(CapacityError):
        refusing.estimate(request)
    worker, request = _cpu_worker_between("fp8_storage", tmp_path)
    plan = worker.estimate(request)
    assert plan.admission.rung == "cpu+tiling+slicing+fp8_storage" and plan.admission.weights == "fp8_storage"
    result = worker.generate(request, tmp_path / "quantized-rung.mp4")
    moved = [a for a in result.adjustments if a.field == "placement"]
    assert [(a.requested, a.used) for a in moved] == [("cpu+tiling+slicing", "cpu+tiling+slicing+fp8_storage")]
    loaded = worker.warm("wan", "text-to-video")
    assert loaded.rung.weights == "fp8_storage"
    assert loaded.pipe.transformer.blocks[0].attn1.to_q.weight.dtype == torch.float8_e4m3fn


def test_a_non_admin_runtime_view_never_shows_the_gguf_path(tiny_gguf):
    import json

    from videogen.serve.service.status import public_runtime

    overrides = {"weights": "gguf", "gguf_file": tiny_gguf}
    policy = VideoLoadPolicy.derive(VideoHardwareProfile.synthetic("cpu"), overrides=overrides, environ={})
    assert policy.gguf_file == tiny_gguf and any(tiny_gguf in r for r in policy.reasons)  # the admin's view has it
    view = {"runtime": {}, "families": {}, "served_families": [], "load_policy": policy.model_dump()}
    public = public_runtime(view)
    assert public["load_policy"]["weights"] == "gguf" and tiny_gguf not in json.dumps(public)
