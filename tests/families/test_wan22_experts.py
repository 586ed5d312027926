"""Wan 2.2 A14B: two denoiser experts (``transformer`` for high noise, ``transformer_2`` for low noise) switched at
``boundary_ratio``. The tiny variant ``tiny:wan2.2-a14b`` runs through diffusers' own pipelines (saved with
``save_pretrained``, loaded with ``from_pretrained``); ``guidance_scale_2`` goes only to a two-expert model; the
presets and the cost model count both experts."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import torch
from family_support import I2V, T2V, V2V, image_b64, load_tiny
from pydantic import ValidationError

from videogen.errors import InvalidRequestError, ModelUnavailableError, UnsupportedTaskError
from videogen.video.arch.catalog import PRESETS
from videogen.video.arch.from_dir import preset_from_model_dir
from videogen.video.cost.estimate import estimate_cost
from videogen.video.cost.experts import expert_steps
from videogen.video.cost.memory import weight_bytes
from videogen.video.families import FAMILY_IDS, get_adapter, get_spec, tiny_variants
from videogen.video.hardware import VideoHardwareProfile
from videogen.video.model_meta import ModelMeta
from videogen.video.model_source import ModelSource
from videogen.video.request import VideoRequest
from videogen.video.spec import SupportLevel
from videogen.video.support import resolve_task_support
from videogen.video.task_media import warm_up_media
from videogen.video.tiny.cache import TINY_VERSION, ensure_tiny_model, tiny_model_dir

A14B = "tiny:wan2.2-a14b"
BOUNDARY = {T2V: 0.875, I2V: 0.9}  # each published model_index.json's boundary_ratio
STEPS = 4  # FlowMatchEuler(shift 3) at 4 steps: timesteps 1000, 858, 602, 9 -> one high-noise step, three low


@pytest.fixture(scope="module")
def cache_dir(tmp_path_factory):
    path = tmp_path_factory.mktemp("wan22-cache")
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("VIDEOGEN_CACHE_DIR", str(path))
        yield path


@pytest.fixture(scope="module", params=[T2V, I2V])
def a14b(request, cache_dir):
    """(task, model directory, loaded pipeline) of the tiny A14B variant, built and saved offline."""
    task = request.param
    source = ModelSource(family="wan", value=A14B)
    model_dir = source.local_dir(task)
    assert model_dir.is_relative_to(cache_dir) and model_dir == tiny_model_dir("wan", task, "wan2.2-a14b")
    pipe = get_adapter("wan").load(task, model_dir, torch.float32)
    pipe.set_progress_bar_config(disable=True)
    return task, model_dir, source, pipe


def _request(task: str, **fields) -> VideoRequest:
    if task == I2V:
        fields.setdefault("image", image_b64())
    return VideoRequest(family="wan", task=task, prompt="a fox in the snow", **fields)


def _run(task, source, pipe, **fields):
    adapter = get_adapter("wan")
    prepared = adapter.prepare_inputs(_request(task, **fields), pipe, source.model_meta(task))
    return prepared, adapter.extract_frames(pipe(**prepared.kwargs))


def test_a14b_runs_both_experts_split_at_the_boundary(a14b):
    from diffusers import WanTransformer3DModel

    task, model_dir, source, pipe = a14b
    assert type(pipe.transformer) is type(pipe.transformer_2) is WanTransformer3DModel
    assert pipe.transformer_2 is not pipe.transformer and pipe.config.boundary_ratio == BOUNDARY[task]
    assert getattr(pipe, "image_encoder", None) is None  # Wan 2.2 i2v: the first frame only through the latents
    high, low = pipe.transformer.state_dict(), pipe.transformer_2.state_dict()
    assert not all(torch.equal(high[k], low[k]) for k in high)  # two experts, not one saved twice

    calls = {"transformer": 0, "transformer_2": 0}
    hooks = [
        getattr(pipe, name).register_forward_hook(lambda *_, name=name: calls.__setitem__(name, calls[name] + 1))
        for name in calls
    ]
    try:
        prepared, frames = _run(task, source, pipe, num_inference_steps=STEPS, guidance_scale=5.0, seed=0)
    finally:
        for hook in hooks:
            hook.remove()
    assert frames.shape == (9, 32, 32, 3)
    timesteps = pipe.scheduler.timesteps.tolist()
    boundary = BOUNDARY[task] * pipe.scheduler.config.num_train_timesteps
    high_steps = sum(t >= boundary for t in timesteps)
    assert 0 < high_steps < STEPS  # the test would see nothing if one expert ran every step
    # two forwards per step with guidance (conditional, unconditional), each on the step's expert
    assert calls == {"transformer": 2 * high_steps, "transformer_2": 2 * (STEPS - high_steps)}
    # the cost model reads the same split from the saved configs
    preset = preset_from_model_dir(model_dir, "wan", task, preset_id="tiny-a14b")
    assert preset.denoisers == ["transformer", "transformer_2"]
    assert expert_steps(preset, task, STEPS) == {"transformer": high_steps, "transformer_2": STEPS - high_steps}


def test_guidance_scale_2_reaches_the_low_noise_expert(a14b):
    task, _, source, pipe = a14b
    common = dict(num_inference_steps=STEPS, guidance_scale=5.0, seed=0)
    default, frames = _run(task, source, pipe, **common)
    assert "guidance_scale_2" not in default.kwargs  # diffusers uses guidance_scale for both
    same, same_frames = _run(task, source, pipe, guidance_scale_2=5.0, **common)
    other, other_frames = _run(task, source, pipe, guidance_scale_2=1.5, **common)
    assert same.kwargs["guidance_scale_2"] == 5.0 and other.kwargs["guidance_scale_2"] == 1.5
    assert other.params["guidance_scale_2"] == 1.5
    assert np.array_equal(frames, same_frames)
    assert not np.array_equal(frames, other_frames)


def test_guidance_scale_2_is_refused_for_one_expert_models(cache_dir, tmp_path_factory):
    adapter = get_adapter("wan")
    request = _request(T2V, guidance_scale_2=3.0)
    for model in ("tiny", "arch:wan2.1-t2v-14b", "arch:wan2.2-ti2v-5b"):
        meta = ModelSource(family="wan", value=model).model_meta(T2V)
        assert meta.experts == 1
        with pytest.raises(InvalidRequestError) as refused:  # at the ingress: no pipeline needed
            adapter.resolve_params(request, meta)
        assert refused.value.field == "guidance_scale_2"
    for model in (A14B, "arch:wan2.2-t2v-a14b"):
        meta = ModelSource(family="wan", value=model).model_meta(T2V)
        assert meta.experts == 2 and adapter.resolve_params(request, meta).params["guidance_scale_2"] == 3.0
    # a model whose experts are not known before loading: refused by the loaded one-expert pipeline
    one_expert = load_tiny("wan", T2V, tmp_path_factory).pipe
    with pytest.raises(InvalidRequestError) as refused:
        adapter.prepare_inputs(request, one_expert, ModelMeta())
    assert refused.value.field == "guidance_scale_2"
    with pytest.raises(ValidationError, match="guidance_scale_2"):
        _request(T2V, guidance_scale_2=50.5)


def test_a_model_directory_says_how_many_experts_from_its_model_index(a14b, tmp_path):
    task, model_dir, _, _ = a14b
    index = json.loads((model_dir / "model_index.json").read_text())
    assert index["transformer_2"] == ["diffusers", "WanTransformer3DModel"]
    bare = tmp_path / "a14b"  # no videogen.json: only diffusers' own files say it
    bare.mkdir()
    (bare / "model_index.json").write_text(json.dumps(index))
    assert ModelSource(family="wan", value=str(bare)).model_meta(task).experts == 2
    (bare / "model_index.json").write_text(json.dumps({**index, "transformer_2": [None, None]}))
    assert ModelSource(family="wan", value=str(bare)).model_meta(task).experts == 1


def test_tiny_variants_are_named_sources(cache_dir):
    source = ModelSource(family="wan", value=A14B)
    assert source.is_tiny and source.kind == "tiny" and source.tiny_variant().tasks == (T2V, I2V)
    assert source.describe()["tiny_variant"] == "wan2.2-a14b"
    assert source.is_available(T2V) and not source.is_available(V2V)
    with pytest.raises(UnsupportedTaskError) as unoffered:
        source.local_dir(V2V)
    assert unoffered.value.field == "task" and unoffered.value.allowed == [T2V, I2V]
    # plain tiny is unchanged: its own directory, one expert
    plain = ModelSource(family="wan", value="tiny")
    assert plain.tiny_variant() is None and plain.model_meta(T2V).experts == 1
    assert plain.local_dir(T2V, build_tiny=False) == Path(cache_dir) / "tiny" / f"v{TINY_VERSION}" / "wan" / T2V
    for family, value in (("wan", "tiny:wan2.2-a99b"), ("cogvideox", A14B)):
        with pytest.raises(ModelUnavailableError) as unknown:
            ModelSource(family=family, value=value).local_dir(T2V)
        assert unknown.value.field == "model" and "tiny" in unknown.value.allowed
        assert (A14B in unknown.value.allowed) == (family == "wan")
        assert not ModelSource(family=family, value=value).is_available(T2V)
    with pytest.raises(UnsupportedTaskError):
        ensure_tiny_model("wan", V2V, "wan2.2-a14b")
    # what `videogen models --model tiny:wan2.2-a14b` shows: its own tasks ready, the others not, and why
    profile = VideoHardwareProfile.detect()
    assert resolve_task_support(get_spec("wan"), T2V, profile, source).level == SupportLevel.READY
    unoffered = resolve_task_support(get_spec("wan"), V2V, profile, source)
    assert unoffered.level == SupportLevel.NOT_SUPPORTED and "--model tiny" in unoffered.reasons[0]


def test_every_declared_tiny_variant_is_well_formed():
    for family in FAMILY_IDS:
        for name, variant in tiny_variants(family).items():
            assert name == variant.name == name.lower() and variant.model == f"tiny:{name}"
            assert variant.tasks and set(variant.tasks) <= set(get_spec(family).tasks), (family, name)
            assert variant.experts >= 1 and set(variant.call_kwargs) <= set(variant.tasks)
            # a checkpoint class deciding the pipeline serves exactly what the family says it does
            spec = get_spec(family)
            assert variant.checkpoint_class is None or set(variant.tasks) <= set(
                spec.checkpoint_tasks[variant.checkpoint_class]
            )
            assert variant.resolution_multiple is None or variant.resolution_multiple % spec.resolution_multiple == 0
    assert set(tiny_variants("wan")) == {"wan2.2-a14b", "wan2.2-ti2v-5b"}
    assert set(tiny_variants("hunyuan-video")) == {"framepack"}


# -- presets and the cost model ------------------------------------------------------------------------


def test_a14b_presets_are_two_wan21_14b_experts():
    t2v, i2v = PRESETS["wan2.2-t2v-a14b"], PRESETS["wan2.2-i2v-a14b"]
    wan21 = PRESETS["wan2.1-t2v-14b"].param_counts()["transformer"]
    for preset, task, ratio in ((t2v, T2V, 0.875), (i2v, I2V, 0.9)):
        assert preset.denoisers == ["transformer", "transformer_2"] and preset.boundary_ratio == ratio
        assert preset.tasks == [task] and {c.name for c in preset.components} >= {"transformer", "transformer_2"}
        assert "image_encoder" not in {c.name for c in preset.components}
        counts = preset.param_counts()
        assert counts["transformer"] == counts["transformer_2"]
        assert abs(counts["transformer"] - wan21) < 1_000_000  # i2v: only the 36-channel patch embedding differs
        described = preset.describe()
        assert described["experts"] == {"transformer": counts["transformer"], "transformer_2": counts["transformer"]}
        assert described["total_params"] == sum(counts.values()) and preset.model_meta(task).experts == 2
    ti2v = PRESETS["wan2.2-ti2v-5b"]  # one model, both tasks, per-token timesteps
    assert ti2v.tasks == [T2V, I2V] and ti2v.pipeline_kwargs["expand_timesteps"] and ti2v.denoiser_2 is None


def test_a14b_arch_pipeline_materialises_both_experts():
    from arch_support import scaled_down

    from videogen.video.arch.pipeline import build_pipeline

    pipe = build_pipeline(scaled_down(PRESETS["wan2.2-t2v-a14b"]), T2V, "cpu", torch.float32)
    assert pipe.config.boundary_ratio == 0.875 and pipe.transformer_2 is not None
    first, second = pipe.transformer.state_dict(), pipe.transformer_2.state_dict()
    assert not all(torch.equal(first[k], second[k]) for k in first)  # each expert its own random weights


def test_a14b_estimate_counts_each_experts_steps_and_holds_both_on_the_gpu():
    from diffusers import UniPCMultistepScheduler

    a14b = estimate_cost("wan2.2-t2v-a14b", T2V, 81, 480, 832, 40, 4.0)
    one = estimate_cost("wan2.1-t2v-14b", T2V, 81, 480, 832, 40, 4.0)  # the same transformer, once
    scheduler = UniPCMultistepScheduler(
        prediction_type="flow_prediction", use_flow_sigmas=True, num_train_timesteps=1000, flow_shift=3.0
    )
    scheduler.set_timesteps(40)
    high = int((scheduler.timesteps >= 875).sum())
    assert a14b.denoiser_steps == {"transformer": high, "transformer_2": 40 - high} and 0 < high < 40
    assert one.denoiser_steps == {"transformer": 40}
    # equal experts: the same FLOPs per step, whichever runs it
    assert a14b.flops.denoise_total == pytest.approx(one.flops.denoise_total, rel=1e-12)
    second = weight_bytes(PRESETS["wan2.2-t2v-a14b"], torch.bfloat16)["transformer_2"]
    assert second > 28e9  # 14.3 B parameters, mostly bf16
    # no offload: both experts resident; model CPU offload: one at a time, as with one transformer
    assert a14b.memory_for("gpu").peak_bytes == one.memory_for("gpu").peak_bytes + second
    assert a14b.memory_for("model_cpu_offload").peak_bytes == one.memory_for("model_cpu_offload").peak_bytes
    assert any("two denoiser experts" in note for note in a14b.notes)


@pytest.mark.parametrize("family", [f for f in FAMILY_IDS if f != "wan"])
def test_guidance_scale_2_is_refused_by_families_without_two_expert_models(family):
    task = get_spec(family).tasks[0]  # text-to-video, or an edit-only family's video-to-video (with a clip)
    request = VideoRequest(family=family, task=task, prompt="a fox", guidance_scale_2=3.0, **warm_up_media(task, 9, 8))
    with pytest.raises(InvalidRequestError) as err:
        get_adapter(family).resolve_params(request)
    assert err.value.field == "guidance_scale_2"


def test_attention_backend_and_compile_reach_both_experts(a14b):
    from videogen.video.speed import apply_attention_backend, apply_compile, compiled_modules, uncompile

    _, _, _, pipe = a14b
    report = apply_attention_backend(pipe, "native", backend="cpu", device="cpu", dtype=torch.float32)
    assert report.applied == "native"
    for expert in (pipe.transformer, pipe.transformer_2):
        backends = {
            getattr(m.processor, "_attention_backend", None) for m in expert.modules() if hasattr(m, "processor")
        }
        assert backends == {"native"}, backends
    try:
        assert apply_compile(pipe, "regional").applied == "regional"
        compiled = {id(m) for m in compiled_modules(pipe)}
        assert any(id(m) in compiled for m in pipe.transformer_2.modules())
        assert any(id(m) in compiled for m in pipe.transformer.modules())
    finally:
        uncompile(pipe)
    assert compiled_modules(pipe) == []
