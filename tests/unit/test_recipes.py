"""Sampling recipes: a request names one (``recipe: fast``); its steps, guidance, scheduler and flow shift replace
the defaults for that job only, on the real tiny Wan pipeline; the cost model prices it; bad names are 4xx."""

from __future__ import annotations

import numpy as np
import pytest
from pydantic import ValidationError

from videogen.errors import InvalidRequestError
from videogen.video.families import get_adapter
from videogen.video.model_meta import ModelMeta
from videogen.video.recipes import SamplingRecipe, parse_recipes
from videogen.video.request import VideoRequest
from videogen.video.worker import GenerationWorker

RECIPES = {
    "fast": {
        "description": "3 steps, no CFG, UniPC with flow shift 5 (a step-distilled setting)",
        "num_inference_steps": 3,
        "guidance_scale": 1.0,
        "scheduler": "UniPCMultistepScheduler",
        "flow_shift": 5.0,
    },
    "shifted": {"flow_shift": 8.0},  # the model's own scheduler (the tiny Wan's FlowMatchEuler) at another shift
}


@pytest.fixture(scope="module")
def worker(tmp_path_factory):
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("VIDEOGEN_CACHE_DIR", str(tmp_path_factory.mktemp("recipes-cache")))
        yield GenerationWorker(models={"wan": "tiny"}, recipes={"wan": RECIPES})


def _request(**fields) -> VideoRequest:
    return VideoRequest(family="wan", prompt="a fox in the snow", seed=3, **fields)


def test_recipe_values_replace_the_defaults_and_the_request_still_wins(worker):
    meta = worker.model_meta("wan", "text-to-video")
    assert set(meta.recipes) == {"fast", "shifted"}
    adapter = get_adapter("wan")
    base = adapter.resolve_params(_request(), meta).params
    fast = adapter.resolve_params(_request(recipe="fast"), meta).params
    assert (fast["num_inference_steps"], fast["guidance_scale"]) == (3, 1.0)
    assert (base["num_inference_steps"], base["guidance_scale"]) != (3, 1.0)
    assert fast["scheduler"] == "UniPCMultistepScheduler" and fast["flow_shift"] == 5.0
    assert "scheduler" not in base and "recipe" not in base
    explicit = adapter.resolve_params(_request(recipe="fast", num_inference_steps=5), meta).params
    assert explicit["num_inference_steps"] == 5 and explicit["guidance_scale"] == 1.0


def test_unknown_recipe_is_a_4xx_naming_the_field_and_the_offered_ones(worker):
    meta = worker.model_meta("wan", "text-to-video")
    with pytest.raises(InvalidRequestError) as err:
        get_adapter("wan").resolve_params(_request(recipe="turbo"), meta)
    assert err.value.field == "recipe" and "fast" in err.value.message and err.value.allowed == ["fast", "shifted"]
    with pytest.raises(InvalidRequestError) as err:
        get_adapter("wan").resolve_params(_request(recipe="fast"), ModelMeta())
    assert err.value.field == "recipe" and "none" in err.value.message


def test_a_recipe_runs_with_its_scheduler_for_that_job_only(worker, tmp_path):
    loaded = worker.warm("wan", "text-to-video")
    own = loaded.pipe.scheduler
    base = worker.generate(_request(num_inference_steps=3, guidance_scale=1.0), tmp_path / "base.mp4")
    fast = worker.generate(_request(recipe="fast"), tmp_path / "fast.mp4")
    assert fast.params["recipe"] == "fast" and fast.params["num_inference_steps"] == 3
    # same steps and guidance, another scheduler and shift: the frames differ
    assert not np.array_equal(base.frames, fast.frames)
    assert loaded.pipe.scheduler is own  # put back after the job
    again = worker.generate(_request(num_inference_steps=3, guidance_scale=1.0), tmp_path / "again.mp4")
    np.testing.assert_array_equal(again.frames, base.frames)
    # the model's own scheduler at another shift changes the output too
    shifted = worker.generate(_request(recipe="shifted", num_inference_steps=3, guidance_scale=1.0), tmp_path / "s.mp4")
    assert not np.array_equal(shifted.frames, base.frames)
    assert loaded.pipe.scheduler is own and own.config.shift != 8.0


def test_guidance_off_is_priced_as_one_pass_per_step(worker):
    with_cfg = worker.estimate(_request(num_inference_steps=3, guidance_scale=5.0))
    fast = worker.estimate(_request(recipe="fast"))
    assert with_cfg is not None and fast is not None
    assert fast.estimate.flops_per_step * 2 == pytest.approx(with_cfg.estimate.flops_per_step, rel=1e-6)


def test_recipe_configs_are_validated():
    with pytest.raises(ValidationError):
        SamplingRecipe(scheduler="DDIMScheduler", flow_shift=3.0)  # DDIM takes no flow shift
    with pytest.raises(ValidationError):
        SamplingRecipe(scheduler="my.module:Evil")
    with pytest.raises(ValidationError):
        SamplingRecipe(num_inference_steps=0)
    with pytest.raises(ValueError, match="must match"):
        parse_recipes({"Fast Mode": {}})
    assert parse_recipes({"fast": {"num_inference_steps": 4}})["fast"].request_defaults() == {"num_inference_steps": 4}


def test_cli_declares_and_names_a_recipe(tmp_path, capsys):
    """``videogen generate --recipes FILE --recipe NAME`` runs with it and says so; a bad file is one line, exit 2."""
    import json

    from testkit import run_cli

    recipes = tmp_path / "recipes.yaml"
    recipes.write_text("fast:\n  num_inference_steps: 3\n  guidance_scale: 1.0\n  flow_shift: 5.0\n")
    generate = ["generate", "--family", "wan", "--model", "tiny", "--prompt", "a", "-o", str(tmp_path / "v.mp4")]

    code, out, err = run_cli(capsys, *generate, "--json", "--recipes", str(recipes), "--recipe", "fast")
    assert code == 0, err
    sampling = json.loads(out)["sampling"]
    assert sampling == {"recipe": "fast", "num_inference_steps": 3, "guidance_scale": 1.0, "flow_shift": 5.0}
    recipes.write_text("fast:\n  scheduler: os.system\n")
    code, _, err = run_cli(capsys, *generate, "--json", "--recipes", str(recipes), "--recipe", "fast")
    assert code == 2 and "fast.scheduler" in err.strip().splitlines()[-1]
