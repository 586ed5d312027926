"""LoRA adapters per request, on the tiny Wan model with tiny adapters made offline with peft.

The adapters are real: ``peft.LoraConfig`` on the tiny transformer, saved by ``WanPipeline.save_lora_weights``
(``videogen.video.tiny.loras``) and loaded back by diffusers' ``load_lora_weights``; every job runs through the
one worker path. Two "bad" adapters are a good one with its layers renamed (another model's keys) and one with
wider inputs (another model size).
"""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch
from pydantic import ValidationError
from safetensors.torch import load_file, save_file

from videogen.errors import InvalidRequestError, ModelUnavailableError
from videogen.video import speed
from videogen.video import worker as worker_module
from videogen.video.families import get_adapter
from videogen.video.lora_config import LoraAdapter, adapter_set_id, parse_loras
from videogen.video.model_meta import ModelMeta
from videogen.video.recipes import RecipeLora
from videogen.video.request import VideoRequest
from videogen.video.tiny.cache import ensure_tiny_model, tiny_meta
from videogen.video.tiny.loras import make_tiny_lora
from videogen.video.worker import GenerationWorker

T2V = "text-to-video"
KEY = ("wan", T2V)


@pytest.fixture(scope="module")
def adapters(tmp_path_factory) -> dict[str, dict]:
    """Declared adapters: three good ones (style-b rank 2, style-c on to_q only) and two that fit no tiny Wan."""
    root = tmp_path_factory.mktemp("loras")
    model_dir = ensure_tiny_model("wan", T2V)
    a = make_tiny_lora(model_dir, root / "a", seed=1)
    b = make_tiny_lora(model_dir, root / "b", seed=2, rank=2)
    c = make_tiny_lora(model_dir, root / "c", seed=3, target_modules=("to_q",))
    weights = load_file(a)
    (root / "alien").mkdir()
    save_file(
        {k.replace(".blocks.", ".transformer_blocks."): v for k, v in weights.items()}, root / "alien/x.safetensors"
    )
    (root / "wide").mkdir()
    wide = {k: torch.cat([v, v], dim=1) if ".lora_A." in k else v for k, v in weights.items()}
    save_file(wide, root / "wide/x.safetensors")
    return {
        "style-a": {"path": str(a), "scale_range": [0, 4]},
        "style-b": {"path": str(b.parent), "scale_range": [0, 4]},  # a directory with one .safetensors
        "style-c": {"path": str(c), "scale_range": [0, 4]},
        "alien": {"path": str(root / "alien/x.safetensors")},
        "wide": {"path": str(root / "wide")},
    }


@pytest.fixture(scope="module")
def counted_loads():
    """Calls to the worker's ``load_pipeline`` (wrapped, still loading for real)."""
    calls = []
    real = worker_module.load_pipeline

    def counting(*args, **kwargs):
        calls.append(args[1])
        return real(*args, **kwargs)

    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(worker_module, "load_pipeline", counting)
        yield calls


@pytest.fixture(scope="module")
def worker(adapters, counted_loads):
    return GenerationWorker(models={"wan": "tiny"}, loras={"wan": adapters}, max_loras_per_replica=2)


def run(worker, tmp_path, loras=None, **kw):
    request = VideoRequest(family="wan", prompt="a cat", seed=3, loras=loras, **kw)
    return worker.generate(request, tmp_path / "out.mp4")


def lora_report(result) -> dict | None:
    return next(s.detail for s in result.stages if s.name == "loading").get("loras")


def denoiser_output(worker) -> torch.Tensor:
    """The tiny transformer's output on fixed inputs, with the adapters the last job set."""
    model = worker.warm(*KEY).pipe.transformer
    g = torch.Generator().manual_seed(0)
    x = torch.randn(1, model.config.in_channels, 3, 4, 4, generator=g)
    text = torch.randn(1, 8, model.config.text_dim, generator=g)
    with torch.no_grad():
        return model(hidden_states=x, timestep=torch.tensor([500]), encoder_hidden_states=text, return_dict=False)[0]


def test_scale_zero_is_the_base_model_and_the_job_says_what_it_applied(worker, tmp_path):
    base = run(worker, tmp_path)
    zero = run(worker, tmp_path, [{"name": "style-a", "scale": 0.0}])
    one = run(worker, tmp_path, [{"name": "style-a", "scale": 1.0}])
    assert np.array_equal(zero.frames, base.frames)
    assert not np.array_equal(one.frames, base.frames)
    assert one.params["loras"] == [{"name": "style-a", "scale": 1.0}]
    assert (
        lora_report(one)["applied"] == [{"name": "style-a", "scale": 1.0}] and "style-a" in lora_report(one)["resident"]
    )
    assert "loras" not in base.params
    again = run(worker, tmp_path)  # after adapters ran: disabled again, exactly the base
    assert np.array_equal(again.frames, base.frames) and lora_report(again)["applied"] == []


def test_the_output_moves_further_from_the_base_as_the_scale_grows(worker, tmp_path):
    run(worker, tmp_path)
    base = denoiser_output(worker)
    distances = []
    for scale in (0.5, 1.0, 2.0):
        run(worker, tmp_path, [{"name": "style-a", "scale": scale}])
        distances.append(float((denoiser_output(worker) - base).abs().mean()))
    assert 0 < distances[0] < distances[1] < distances[2], distances


def test_two_adapters_combine(worker, tmp_path):
    outputs = {}
    for name, loras in {
        "a": [{"name": "style-a", "scale": 1.0}],
        "b": [{"name": "style-b", "scale": 1.0}],
        "ab": [{"name": "style-a", "scale": 1.0}, {"name": "style-b", "scale": 1.0}],
    }.items():
        result = run(worker, tmp_path, loras)
        outputs[name] = denoiser_output(worker)
    assert sorted(lora_report(result)["resident"]) == ["style-a", "style-b"]
    assert not torch.allclose(outputs["ab"], outputs["a"]) and not torch.allclose(outputs["ab"], outputs["b"])


def test_switching_adapters_never_reloads_the_base_and_evicts_the_least_recently_used(worker, counted_loads, tmp_path):
    pipe = worker.warm(*KEY).pipe
    resident = worker.loras.resident[KEY]
    for loras in ([{"name": "style-a"}], [{"name": "style-b"}], None, [{"name": "style-c"}], [{"name": "style-a"}]):
        result = run(worker, tmp_path, loras)
    assert counted_loads == [T2V]  # the base model loaded once, for every job of this module
    assert worker.warm(*KEY).pipe is pipe
    report = lora_report(result)  # capacity 2: style-c pushed out style-a, style-a then pushed out style-b
    assert report["loaded"] == ["style-a"] and report["evicted"] == ["style-b"]
    assert report["resident"] == ["style-c", "style-a"]
    assert sorted(pipe.transformer.peft_config) == ["style-a", "style-c"]  # delete_adapters on eviction
    assert resident.loads >= 4


def test_an_adapter_made_for_another_model_is_refused_and_the_replica_runs_on(worker, tmp_path):
    good = run(worker, tmp_path, [{"name": "style-a", "scale": 1.0}])
    for name, why in (("alien", "made for another model"), ("wide", "made for another size")):
        with pytest.raises(ModelUnavailableError) as refused:
            run(worker, tmp_path, [{"name": "style-a", "scale": 1.0}, {"name": name, "scale": 1.0}])
        assert refused.value.field == "loras[1].name" and why in refused.value.message
        assert name not in worker.warm(*KEY).pipe.transformer.peft_config  # nothing of it stays loaded
    with pytest.raises(ModelUnavailableError, match="made for another model"):  # remembered: not loaded again
        run(worker, tmp_path, [{"name": "alien", "scale": 1.0}])
    after = run(worker, tmp_path, [{"name": "style-a", "scale": 1.0}])
    assert np.array_equal(after.frames, good.frames) and worker.fatal_error is None


def test_a_two_expert_model_takes_an_adapter_into_the_experts_it_is_declared_for(adapters, tmp_path):
    declared = {
        "high": {"path": adapters["style-a"]["path"], "experts": "high"},
        "low": {"path": adapters["style-a"]["path"], "experts": "low"},
        "both": {"path": adapters["style-b"]["path"], "experts": "both"},
    }
    two = GenerationWorker(models={"wan": "tiny:wan2.2-a14b"}, loras={"wan": declared}, max_loras_per_replica=3)
    loras = [{"name": "high", "scale": 1.0}, {"name": "low", "scale": 1.0}, {"name": "both", "scale": 0.5}]
    result = run(two, tmp_path, loras)
    pipe = two.warm(*KEY).pipe
    assert sorted(pipe.transformer.peft_config) == ["both", "high"]
    assert sorted(pipe.transformer_2.peft_config) == ["both", "low"]  # load_into_transformer_2
    assert lora_report(result)["applied"] == loras
    one = GenerationWorker(models={"wan": "tiny"}, loras={"wan": {"low": declared["low"]}})
    with pytest.raises(ModelUnavailableError, match="low-noise expert"):
        run(one, tmp_path, [{"name": "low", "scale": 1.0}])


def test_compiled_switching_hot_swaps_without_recompiling(adapters, monkeypatch, tmp_path):
    """With regional compile on, adapters go into slots made before the warm-up: switching them, and their
    scales, builds no new graph (Dynamo's backend is called once per graph), and each job's frames equal those
    of an uncompiled worker that loads and switches the same adapters."""
    graphs = []

    def counting_backend(gm, example_inputs):
        graphs.append(gm)
        return gm.forward

    monkeypatch.setattr(speed, "COMPILE_KWARGS", {"backend": counting_backend})
    good = {k: v for k, v in adapters.items() if k.startswith("style-")}
    compiled = GenerationWorker(
        models={"wan": "tiny"}, loras={"wan": good}, max_loras_per_replica=2, policy_overrides={"compile": "regional"}
    )
    plain = GenerationWorker(models={"wan": "tiny"}, loras={"wan": good}, max_loras_per_replica=2)
    loaded = compiled.warm(*KEY)
    assert loaded.provenance["levers"]["compile"]["applied"] == "regional"
    assert loaded.provenance["levers"]["lora_hotswap"]["slots"] == 2
    built = len(graphs)
    assert built >= 1
    for loras in (
        [{"name": "style-a", "scale": 1.0}],
        [{"name": "style-a", "scale": 0.5}, {"name": "style-b", "scale": 1.0}],  # rank 2 into a rank-4 slot
        [{"name": "style-c", "scale": 2.0}],  # evicts style-a: swapped into its slot
        None,
    ):
        got, want = run(compiled, tmp_path, loras), run(plain, tmp_path, loras)
        assert np.array_equal(got.frames, want.frames), loras
    assert len(graphs) == built  # nothing recompiled
    assert lora_report(got)["mode"] == "hotswap" and lora_report(got)["resident"] == ["style-b", "style-c"]


# -- config and request validation (no pipeline) ------------------------------------------------------------------
@pytest.mark.parametrize(
    ("body", "needle"),
    [
        ({"path": "/models/style.bin"}, "is a pickle"),
        ({"path": "style.ckpt"}, "is a pickle"),
        ({"path": "/models/x", "weight_name": "adapter.pt"}, ".safetensors files only"),
        ({"path": "/m/x.safetensors", "scale_range": [2, 1]}, "lo <= hi"),
        ({"path": "/m/x.safetensors", "experts": "middle"}, "experts"),
    ],
)
def test_the_config_refuses_pickles_and_bad_values(body, needle):
    with pytest.raises(ValidationError, match=needle):
        LoraAdapter.model_validate(body)


def test_a_directory_of_pickles_and_a_bad_name_are_refused_when_the_config_is_read(tmp_path):
    (tmp_path / "pytorch_lora_weights.bin").write_bytes(b"not read")
    with pytest.raises(ValidationError, match="only .safetensors is read"):
        LoraAdapter(path=str(tmp_path))
    with pytest.raises(ValueError, match="must match"):
        parse_loras({"Bad Name": {"path": "/m/x.safetensors"}})


def test_a_hub_repo_is_read_from_the_local_cache_and_never_downloaded(tmp_path, monkeypatch):
    """A LoRA named by its repo id is found in the HF cache's own layout (the snapshot ``refs/main`` points at);
    one not cached is refused with the reason, and nothing is fetched (the hub is not reachable here)."""
    monkeypatch.setenv("HF_HUB_CACHE", str(tmp_path))
    repo = tmp_path / "models--acme--watercolor"
    (repo / "refs").mkdir(parents=True)
    (repo / "refs" / "main").write_text("0123abcd\n")
    snapshot = repo / "snapshots" / "0123abcd"
    snapshot.mkdir(parents=True)
    (snapshot / "watercolor.safetensors").write_bytes(b"weights")
    assert LoraAdapter(path="acme/watercolor").weights_file() == snapshot / "watercolor.safetensors"
    with pytest.raises(ModelUnavailableError, match="not in the local Hugging Face cache"):
        LoraAdapter(path="acme/absent").weights_file()
    (repo / "refs" / "main").write_text("ffff0000")  # the ref names a snapshot that is not there
    with pytest.raises(ModelUnavailableError, match="not in the local Hugging Face cache"):
        LoraAdapter(path="acme/watercolor").weights_file()


def test_the_serve_config_declares_adapters_per_model_and_shows_no_path(tmp_path):
    from videogen.serve.config import VideoGenAppConfig
    from videogen.serve.deployment_options import worker_settings

    lora = {"path": str(tmp_path / "x.safetensors"), "scale_range": [0, 1.5]}
    cfg = VideoGenAppConfig(
        families={"wan": {"model": "tiny", "loras": {"ghibli": lora}, "max_loras_per_replica": 2}},
        state_dir=str(tmp_path),
    )
    settings = worker_settings("wan", cfg)
    assert settings.loras["ghibli"].scale_range == (0, 1.5) and settings.max_loras_per_replica == 2
    with pytest.raises(ValidationError, match="is a pickle"):
        VideoGenAppConfig(families={"wan": {"loras": {"x": {"path": "/m/x.pt"}}}}, state_dir=str(tmp_path))
    meta = ModelMeta().with_loras(cfg.families["wan"].loras)
    assert "path" not in json.dumps(meta.model_dump(mode="json"))
    for recipe_lora, needle in (({"name": "anime"}, "is not in loras"), ({"name": "ghibli", "scale": 2}, "outside")):
        family = {"loras": {"ghibli": lora}, "recipes": {"fast": {"loras": [recipe_lora]}}}
        with pytest.raises(ValidationError, match=needle):  # a recipe runs declared adapters only, in their range
            VideoGenAppConfig(families={"wan": family}, state_dir=str(tmp_path))


def test_the_cli_declares_adapters_in_a_file_and_names_them_with_lora(adapters, tmp_path, capsys):
    from videogen.cli import main

    config = tmp_path / "loras.yaml"
    config.write_text(f"style-a: {{path: {adapters['style-a']['path']}, scale_range: [0, 1]}}\n")
    common = [
        "generate",
        "--family",
        "wan",
        "--prompt",
        "a cat",
        "--model",
        "tiny",
        "--lora-config",
        str(config),
        "-o",
        str(tmp_path / "v.mp4"),
    ]
    assert main([*common, "--lora", "style-a=0.5", "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["loras"] == [{"name": "style-a", "scale": 0.5}]
    assert main([*common, "--lora", "style-a=3"]) == 2
    assert "--lora: 3 is outside the scale_range of 'style-a', [0, 1]" in capsys.readouterr().err
    config.write_text("style-a: {path: weights.pt}\n")
    assert main([*common, "--lora", "style-a"]) == 2
    assert "style-a: Value error, path 'weights.pt': a .pt file is a pickle" in capsys.readouterr().err


def _resolve(loras, recipe=None):
    declared = parse_loras(
        {"ghibli": {"path": "/m/g.safetensors", "scale_range": [0, 1.5]}, "pixel": {"path": "/m/p.safetensors"}}
    )
    meta = tiny_meta("wan", T2V).with_loras(declared)
    if recipe is not None:
        meta.recipes = {"fast": recipe}
    request = VideoRequest(family="wan", prompt="a cat", loras=loras, recipe="fast" if recipe else None)
    return get_adapter("wan").resolve_params(request, meta).params


def test_a_request_names_declared_adapters_and_errors_name_the_field():
    assert _resolve([{"name": "ghibli", "scale": 0.8}])["loras"] == [{"name": "ghibli", "scale": 0.8}]
    with pytest.raises(InvalidRequestError) as unknown:
        _resolve([{"name": "ghibli"}, {"name": "anime"}])
    assert unknown.value.field == "loras[1].name" and unknown.value.allowed == ["ghibli", "pixel"]
    with pytest.raises(InvalidRequestError) as scale:
        _resolve([{"name": "ghibli", "scale": 2.0}])
    assert scale.value.field == "loras[0].scale" and scale.value.allowed == {"min": 0.0, "max": 1.5}
    with pytest.raises(InvalidRequestError, match="named twice"):
        _resolve([{"name": "pixel"}, {"name": "pixel", "scale": 0.5}])
    with pytest.raises(ValidationError, match="at most 4"):
        VideoRequest(family="wan", prompt="x", loras=[{"name": "ghibli"}] * 5)
    with pytest.raises(ValidationError, match="extra"):  # a client never sends a path
        VideoRequest(family="wan", prompt="x", loras=[{"name": "ghibli", "path": "/etc/passwd"}])


def test_a_recipes_adapters_come_first_and_the_request_sets_their_scale():
    from videogen.video.recipes import SamplingRecipe

    recipe = SamplingRecipe(num_inference_steps=4, loras=[RecipeLora(name="pixel", scale=1.0)])
    assert _resolve(None, recipe)["loras"] == [{"name": "pixel", "scale": 1.0}]
    both = _resolve([{"name": "ghibli", "scale": 0.5}, {"name": "pixel", "scale": 0.25}], recipe)["loras"]
    assert both == [{"name": "pixel", "scale": 0.25}, {"name": "ghibli", "scale": 0.5}]
    assert adapter_set_id(both) == "ghibli+pixel" and adapter_set_id(None) == ""


@pytest.mark.parametrize("mode", ["fp8_storage", "int8", "fp8"])
def test_an_adapter_runs_on_quantized_weights_and_moves_them_as_it_moves_bf16(adapters, worker, mode, tmp_path):
    """An adapter loaded onto 8-bit weights: scale 0 is that mode's base; scale 1 lands near the bf16 model's
    LoRA output (the quantized-weights PSNR bounds, tests/unit/test_quantized_weights.py). fp8_storage needs the
    adapter kept out of fp8 storage (``loras.lift_out_of_storage_dtype``), or no op takes it."""
    from videogen.video.speed_measure import psnr_db

    quantized = GenerationWorker(
        models={"wan": "tiny"}, loras={"wan": adapters}, max_loras_per_replica=2, policy_overrides={"weights": mode}
    )
    base = run(quantized, tmp_path)
    zero = run(quantized, tmp_path, [{"name": "style-a", "scale": 0.0}])
    one = run(quantized, tmp_path, [{"name": "style-a", "scale": 1.0}])
    assert np.array_equal(zero.frames, base.frames) and not np.array_equal(one.frames, base.frames)
    assert lora_report(one)["applied"] == [{"name": "style-a", "scale": 1.0}]
    reference = run(worker, tmp_path, [{"name": "style-a", "scale": 1.0}])
    assert psnr_db(one.frames, reference.frames) >= {"fp8_storage": 38.0, "int8": 43.0, "fp8": 35.0}[mode]
