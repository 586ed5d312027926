"""LTX-Video's latent upscale (``latent_upscale``) on the tiny model, whose directory holds a tiny
``latent_upsampler/``: a first pass at half the size, diffusers' ``LTXLatentUpsamplePipeline`` doubling the latents
with the model's ``LTXLatentUpsamplerModel``, and a refining pass at the output size (``upscale.py``).

What runs is observed with forward hooks on the loaded modules (nothing is replaced): the upsampler's one forward
and the transformer's token counts, a first pass's then four times as many at the output size. Refusals (another
family, a model without an upsampler) name the field; the CLI flag and ``videogen estimate`` count the second pass.
"""

from __future__ import annotations

import json
import shutil

import numpy as np
import pytest
import testkit
import torch
from family_support import I2V, KF, PROMPT, T2V, V2V

from videogen.cli import main
from videogen.errors import InvalidRequestError
from videogen.video.encode import read_mp4
from videogen.video.families import FAMILY_IDS, get_adapter
from videogen.video.families.ltx_video import upscale
from videogen.video.model_meta import LATENT_UPSAMPLER_DIR, MODEL_META_FILE, ModelMeta
from videogen.video.model_source import ModelSource
from videogen.video.request import VideoRequest
from videogen.video.task_media import warm_up_media
from videogen.video.tiny.cache import ensure_tiny_model
from videogen.video.video_to_video import clip_b64
from videogen.video.worker import GenerationWorker

FAMILY = "ltx-video"
STEPS = 2
IMAGE = testkit.png_b64(48, 48, seed=4)
# Only frame-0 conditions: a later one would add tokens of its own and hide the 4x between the passes.
MEDIA = {
    T2V: {},
    I2V: {"image": IMAGE},
    KF: {"conditions": [{"image": IMAGE, "frame_index": 0}]},
    V2V: {"video": clip_b64(np.full((9, 48, 48, 3), 90, np.uint8), 24), "strength": 0.5},
}


def upscaled(task: str = T2V, **fields) -> VideoRequest:
    fields = {"num_frames": 9, "height": 64, "width": 64, "num_inference_steps": STEPS, "seed": 3, **fields}
    return VideoRequest(family=FAMILY, task=task, prompt=PROMPT, latent_upscale=True, **MEDIA[task], **fields)


@pytest.fixture(scope="module")
def worker():
    return GenerationWorker(models={FAMILY: "tiny"})


@pytest.mark.parametrize("task", [T2V, I2V, KF, V2V])
def test_an_upscaled_job_runs_a_first_pass_the_upsampler_and_a_refinement(worker, task, tmp_path):
    pipe = worker.warm(FAMILY, task).pipe
    upsampled, tokens, events = [], [], []
    hooks = [
        upscale.upsampler_of(pipe).register_forward_hook(lambda _m, args, out: upsampled.append((args[0], out))),
        pipe.transformer.register_forward_hook(
            lambda _m, _args, kwargs, _out: tokens.append(kwargs["hidden_states"].shape[1]), with_kwargs=True
        ),
    ]
    try:
        result = worker.generate(upscaled(task), tmp_path / "v.mp4", on_progress=events.append)
    finally:
        for hook in hooks:
            hook.remove()
    # the requested frames and size, from a first pass at half of it
    assert result.frames.shape == (9, 64, 64, 3)
    assert read_mp4(tmp_path / "v.mp4")[0].shape == (9, 64, 64, 3)
    assert (result.params["first_pass_height"], result.params["first_pass_width"]) == (32, 32)
    # one upsampler forward: the first pass's latents, twice as high and wide
    [(low, high)] = upsampled
    assert high.shape[:3] == low.shape[:3] and high.shape[3:] == (2 * low.shape[3], 2 * low.shape[4])
    # the first pass's steps on its tokens, then the refinement's on four times as many (the doubled latents)
    first_steps = result.params.get("denoising_steps", STEPS)  # video-to-video runs int(steps x strength)
    assert tokens == [tokens[0]] * first_steps + [4 * tokens[0]] * upscale.REFINE_STEPS
    # the progress counts both passes' steps
    steps = [e for e in events if e.stage == "denoising" and e.step]
    assert steps[-1].step == steps[-1].total_steps == first_steps + upscale.REFINE_STEPS


def test_a_size_off_the_doubled_grid_moves_and_says_why():
    prepared = get_adapter(FAMILY).resolve_params(upscaled(height=64, width=96), ModelMeta.for_tiny(FAMILY, T2V))
    assert (prepared.params["height"], prepared.params["width"]) == (64, 128)
    [moved] = prepared.adjustments
    assert (moved.field, moved.requested, moved.used) == ("width", 96, 128)
    assert "latent_upscale" in moved.reason and "64" in moved.reason


UPSCALING = (FAMILY, "ltx2")  # LTX-2's two stages: test_family_ltx2.py


def test_only_the_ltx_families_have_upsampler_models():
    assert [f for f in FAMILY_IDS if get_adapter(f).has_latent_upsampler_models] == list(UPSCALING)


@pytest.mark.parametrize("family", [f for f in FAMILY_IDS if f not in UPSCALING])
def test_every_other_family_refuses_the_option_naming_it(family):
    task = get_adapter(family).spec.tasks[0]  # text-to-video, or an edit-only family's video-to-video (with a clip)
    request = VideoRequest(family=family, task=task, prompt=PROMPT, latent_upscale=True, **warm_up_media(task, 9, 8))
    with pytest.raises(InvalidRequestError) as err:
        get_adapter(family).resolve_params(request, ModelSource(family=family, value="tiny").model_meta(task))
    assert err.value.field == "latent_upscale" and family in err.value.message


def test_a_model_without_an_upsampler_refuses_the_option(tmp_path):
    adapter = get_adapter(FAMILY)
    # an arch: preset builds no upsampler: known before anything is built
    arch = ModelSource(family=FAMILY, value="arch:ltx-video-0.9.5").model_meta(T2V)
    with pytest.raises(InvalidRequestError) as err:
        adapter.resolve_params(upscaled(), arch)
    assert err.value.field == "latent_upscale" and LATENT_UPSAMPLER_DIR in err.value.message
    # a plain diffusers directory without the folder: its meta says so, and a loaded pipeline without one is refused
    bare = tmp_path / "ltx-without-upsampler"
    left_out = shutil.ignore_patterns(
        LATENT_UPSAMPLER_DIR, MODEL_META_FILE
    )  # (the tiny one's videogen.json says it has)
    shutil.copytree(ensure_tiny_model(FAMILY, T2V), bare, ignore=left_out)
    meta = ModelSource(family=FAMILY, value=str(bare)).model_meta(T2V)
    assert meta.latent_upsampler is False
    with pytest.raises(InvalidRequestError) as err:
        adapter.resolve_params(upscaled(), meta)
    assert err.value.field == "latent_upscale"
    pipe = adapter.load(T2V, bare, torch.float32)
    with pytest.raises(InvalidRequestError) as err:  # not known at the ingress (None): the worker refuses it
        adapter.prepare_inputs(upscaled(), pipe, ModelMeta())
    assert err.value.field == "latent_upscale"


def test_the_cli_flag_generates_an_upscaled_video(tmp_path, capsys):
    out = tmp_path / "v.mp4"
    argv = ["generate", "--family", FAMILY, "--model", "tiny", "--prompt", "x", "--frames", "9", "--steps", "2"]
    code = main([*argv, "--height", "64", "--width", "96", "--latent-upscale", "-o", str(out), "--json"])
    payload = json.loads(capsys.readouterr().out)
    assert code == 0 and (payload["frames"], payload["height"], payload["width"]) == (9, 64, 128)
    assert [a["field"] for a in payload["adjustments"]] == ["width"]
    assert read_mp4(out)[0].shape == (9, 64, 128, 3)


def _estimate(capsys, *argv: str) -> dict:
    size = ["--frames", "9", "--guidance", "3"]
    assert main(["estimate", "--family", FAMILY, "--model", "tiny", *size, *argv, "--json"]) == 0
    return json.loads(capsys.readouterr().out)["estimate"]


def test_the_estimate_counts_the_first_pass_the_upsampler_and_the_refinement(worker, capsys):
    from torch.utils.flop_counter import FlopCounterMode

    both = _estimate(capsys, "--height", "64", "--width", "64", "--steps", "2", "--latent-upscale")
    first = _estimate(capsys, "--height", "32", "--width", "32", "--steps", "2")  # the same job at half the size
    refine = _estimate(capsys, "--height", "64", "--width", "64", "--steps", str(upscale.REFINE_STEPS))
    assert (both["params"]["first_pass_height"], both["params"]["refine_steps"]) == (32, upscale.REFINE_STEPS)
    # the upsampler's one forward on the first pass's latents, as the loaded tiny upsampler counts it
    latent = first["latent"]
    with torch.no_grad(), FlopCounterMode(display=False) as counter:
        upscale.upsampler_of(worker.warm(FAMILY, T2V).pipe)(
            torch.zeros(1, latent["channels"], latent["frames"], latent["height"], latent["width"])
        )
    f, b, r = first["flops"], both["flops"], refine["flops"]
    assert b["latent_upsample"] == pytest.approx(counter.get_total_flops()) and b["latent_upsample"] > 0
    assert b["denoise_total"] == pytest.approx(f["denoise_total"] + r["denoise_total"])
    assert b["vae_decode"] == pytest.approx(r["vae_decode"])  # decoded once, at the output size
    assert b["total"] == pytest.approx(f["total"] - f["vae_decode"] + r["total"] + b["latent_upsample"])
