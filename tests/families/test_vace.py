"""Wan VACE through diffusers' own ``WanVACEPipeline``: reference-to-video, video-inpaint and control-to-video.

Each task runs on the tiny VACE model (a real ``WanVACETransformer3DModel``) through the worker and writes an MP4
of the promised frames and size. That the inputs steer the output is checked on what the tiny model can show: the
denoised latents move when the reference image, the control clip or the mask changes (same seed), and a
``conditioning_scale`` of 0 makes two different control clips give the same video, the hints scaled away.

Not asserted, because it does not hold on random weights: "with an all-black mask the output stays closer to the
input clip than with an all-white one". WanVACEPipeline never pastes the kept pixels back: the clip only enters as
the VACE blocks' control stream, and following it is what a trained transformer learns (as for first-last-frame,
see test_first_last_frame.py). ``test_the_mask_decides_what_the_control_stream_keeps`` checks the mechanism
instead, exactly: what the transformer is handed for each mask.
"""

from __future__ import annotations

import base64
import io
import json

import numpy as np
import pytest
import testkit
import torch
from family_support import CONTROL, INPAINT, PROMPT, R2V, T2V, V2V, VACE, load_tiny, moved

from videogen.errors import InvalidRequestError, UnsupportedTaskError
from videogen.video.encode import read_mp4
from videogen.video.families import get_adapter, get_spec
from videogen.video.registry import FAMILY_IDS
from videogen.video.request import VideoRequest
from videogen.video.tiny.cache import tiny_meta
from videogen.video.video_to_video import clip_b64
from videogen.video.worker import GenerationWorker

STEPS = 3


def frames(kind: str, count: int = 9, height: int = 32, width: int = 32) -> np.ndarray:
    """``a``: a yellow square moving across blue; ``b``: a still green square on beige."""
    out = np.zeros((count, height, width, 3), np.uint8)
    for i in range(count):
        if kind == "a":
            out[i] = (20, 30, 200)
            out[i, 8:20, 2 + i : 14 + i] = (250, 240, 20)
        else:
            out[i] = (230, 200, 180)
            out[i, 4:-4, 4:-4] = (10, 120, 10)
    return out


CLIP_A, CLIP_B = clip_b64(frames("a"), 16), clip_b64(frames("b"), 16)  # 9 frames at Wan's 16 fps


def png(color, width: int = 32, height: int = 32) -> str:
    from PIL import Image

    buf = io.BytesIO()
    Image.new("RGB", (width, height), color).save(buf, format="PNG")
    return base64.b64encode(buf.getvalue()).decode("ascii")


WHITE, BLACK = png((255, 255, 255)), png((0, 0, 0))
RED, GREEN = png((220, 20, 20), 40, 24), png((20, 200, 40), 40, 24)


def request(task: str, **fields) -> VideoRequest:
    return VideoRequest(family="wan", task=task, prompt=PROMPT, **fields)


def _latents(tiny, **fields) -> torch.Tensor:
    """The denoised latents the pipeline would decode (``output_type="latent"``; references still in front)."""
    req = request(tiny.task, **{"seed": 7, "num_inference_steps": STEPS, **fields})
    prepared = tiny.adapter.prepare_inputs(req, tiny.pipe, tiny.meta)
    return tiny.pipe(**{**prepared.kwargs, "output_type": "latent"}).frames


def _mse(a: torch.Tensor, b: torch.Tensor) -> float:
    return float(((a - b) ** 2).mean())


@pytest.fixture(scope="module")
def tiny_models(tmp_path_factory):
    return {task: load_tiny("wan", task, tmp_path_factory) for task in VACE}


def test_wan_serves_the_three_tasks_on_vace_and_no_other_family_does():
    spec = get_spec("wan")
    for task in VACE:
        assert spec.pipeline_classes[task] == "WanVACEPipeline"
        assert spec.default_model_ids[task] == "Wan-AI/Wan2.1-VACE-1.3B-diffusers"
    assert spec.required_inputs == {
        **spec.required_inputs,
        R2V: ["prompt", "reference_images"],
        INPAINT: ["prompt", "video", "mask"],
        CONTROL: ["prompt", "video"],
    }
    assert spec.checkpoint_classes.count("WanVACEPipeline") == 1
    assert [f for f in FAMILY_IDS if {R2V, INPAINT} & set(get_spec(f).tasks)] == ["wan"]
    # control-to-video has other pipelines too (test_control_to_video.py)
    assert [f for f in FAMILY_IDS if CONTROL in get_spec(f).tasks] == ["wan", "cogvideox", "animatediff"]


def test_the_tiny_model_is_a_vace_transformer(tiny_models):
    transformer = tiny_models[INPAINT].pipe.transformer
    assert type(transformer).__name__ == "WanVACETransformer3DModel"
    # VACE 1.3B's pattern: a VACE block beside every other block, the tail block without one; kept + regenerated
    # latents (16 + 16) and the 8x8-folded mask (64): the published 96 control channels
    assert transformer.config.vace_layers == [0, 2] and transformer.config.num_layers == 4
    assert transformer.config.vace_in_channels == 96
    weights = {t: m.pipe.transformer.state_dict() for t, m in tiny_models.items()}
    assert all(torch.equal(weights[R2V][k], weights[CONTROL][k]) for k in weights[R2V])  # one seed, one model


def test_reference_images_are_placed_on_the_job_canvas_and_said(tiny_models):
    tiny = tiny_models[R2V]
    fields = dict(reference_images=[RED, png((0, 0, 255), 24, 16)], width=48, num_frames=10, seed=1)
    prepared = tiny.adapter.prepare_inputs(request(R2V, **fields), tiny.pipe, tiny.meta)
    assert moved(prepared) == {
        "num_frames": (10, 9),
        "reference_images[0].size": ("40x24", "48x32"),
        "reference_images[1].size": ("24x16", "48x32"),
    }
    reasons = [a.reason for a in prepared.adjustments[1:]]
    assert "keeping its aspect" in reasons[0] and reasons[1] == "scaled to the job's size"
    red, blue = prepared.kwargs["reference_images"]
    assert red.size == blue.size == (48, 32)
    pixels = np.asarray(red)
    # 40x24 fits 48x32 at 1.2x: 48x28, centred: two white rows above and below (WanVACEPipeline's padding)
    assert (pixels[:2] == 255).all() and (pixels[-2:] == 255).all() and tuple(pixels[16, 24]) == (220, 20, 20)
    assert (np.asarray(blue) == (0, 0, 255)).all()  # the job's aspect: scaled, no border
    assert prepared.kwargs["conditioning_scale"] == 1.0 and "video" not in prepared.kwargs
    out = tiny.adapter.extract_frames(tiny.pipe(**prepared.kwargs))
    assert out.shape == (9, 32, 48, 3)  # the references' latent frames are dropped before decoding


def test_the_mask_decides_what_the_control_stream_keeps(tiny_models, monkeypatch):
    """What the transformer is handed: the VAE latents of ``video * (1 - mask)`` (kept) and ``video * mask`` (to
    regenerate), then the mask folded 8x8 to the latent grid. Black keeps the clip, white hands it over."""
    tiny = tiny_models[INPAINT]
    seen: list[torch.Tensor] = []
    forward = tiny.pipe.transformer.forward

    def recording(*args, **kwargs):
        seen.append(kwargs["control_hidden_states"])
        return forward(*args, **kwargs)

    monkeypatch.setattr(tiny.pipe.transformer, "forward", recording)
    for mask in (BLACK, WHITE):
        _latents(tiny, video=CLIP_A, mask=mask, num_inference_steps=1, guidance_scale=1.0)
    black, white = seen
    assert black.shape == white.shape == (1, 96, 3, 4, 4)  # 9 frames: 3 latent frames of 4x4
    vae = tiny.pipe.vae
    conformed = tiny.adapter.resolve_params(request(INPAINT, video=CLIP_A, mask=BLACK), tiny.meta).video  # decoded
    clip = torch.from_numpy(np.stack([np.asarray(f) for f in conformed])).float().permute(3, 0, 1, 2)[None]
    clip = clip / 127.5 - 1.0
    mean = torch.tensor(vae.config.latents_mean).view(1, -1, 1, 1, 1)
    std = torch.tensor(vae.config.latents_std).view(1, -1, 1, 1, 1)
    with torch.no_grad():
        encode = lambda x: (vae.encode(x).latent_dist.mode() - mean) / std  # noqa: E731
        kept, empty = encode(clip), encode(torch.zeros_like(clip))
    torch.testing.assert_close(black[:, :16], kept, rtol=1e-4, atol=1e-4)  # black: the clip is kept ...
    torch.testing.assert_close(black[:, 16:32], empty, rtol=1e-4, atol=1e-4)
    torch.testing.assert_close(white[:, :16], empty, rtol=1e-4, atol=1e-4)  # ... white: it is to be redone
    torch.testing.assert_close(white[:, 16:32], kept, rtol=1e-4, atol=1e-4)
    assert (black[:, 32:] == 0).all() and (white[:, 32:] == 1).all()


def test_a_mask_image_sequence_reaches_the_control_stream_frame_by_frame(tiny_models, monkeypatch):
    """A mask sent as images, one per frame: black for frames 0-3, white after. WanVACEPipeline folds the mask to
    its latent frames (nearest of 9 frames -> 3: frames 1, 4 and 7), so the control stream's mask channels are 0
    for the first latent frame and 1 for the other two: the sequence arrives frame by frame, not as one image."""
    tiny = tiny_models[INPAINT]
    seen: list[torch.Tensor] = []
    forward = tiny.pipe.transformer.forward

    def recording(*args, **kwargs):
        seen.append(kwargs["control_hidden_states"])
        return forward(*args, **kwargs)

    monkeypatch.setattr(tiny.pipe.transformer, "forward", recording)
    _latents(tiny, video=CLIP_A, mask=[BLACK] * 4 + [WHITE] * 5, num_inference_steps=1, guidance_scale=1.0)
    (control,) = seen
    assert (control[:, 32:, 0] == 0).all() and (control[:, 32:, 1:] == 1).all()


def test_the_inputs_steer_the_video(tiny_models):
    """Same seed, another input: other latents. The run is exactly repeatable, so any difference is the input's.
    The reference image and the control clip move the latents little on the tiny model (MSE ~1e-7 and ~1e-6, latent
    variance ~1): its VAE passes on a tiny fraction of a pixel difference (test_first_last_frame.py measures it), so
    their control latents differ little; the mask (which the control stream carries as such) moves them ~1e-2."""
    r2v, inpaint, control = (tiny_models[t] for t in VACE)
    red, red_again = _latents(r2v, reference_images=[RED]), _latents(r2v, reference_images=[RED])
    assert torch.equal(red, red_again)  # same inputs, same seed: the same video
    changes = {
        "reference image": _mse(red, _latents(r2v, reference_images=[GREEN])),
        "control clip": _mse(_latents(control, video=CLIP_A), _latents(control, video=CLIP_B)),
        "inpainting mask": _mse(
            _latents(inpaint, video=CLIP_A, mask=BLACK), _latents(inpaint, video=CLIP_A, mask=WHITE)
        ),
        "inpainting reference": _mse(
            _latents(inpaint, video=CLIP_A, mask=WHITE),
            _latents(inpaint, video=CLIP_A, mask=WHITE, reference_images=[RED])[:, :, 1:],
        ),
    }
    print({name: f"{value:.3g}" for name, value in changes.items()})
    assert all(value > 1e-10 for value in changes.values()), changes
    assert changes["inpainting mask"] > 1e-4


def test_conditioning_scale_zero_removes_the_control(tiny_models):
    """The hints are multiplied by conditioning_scale before they join the DiT's stream: at 0 two different control
    clips give the same video; at 1 they do not (test_the_inputs_steer_the_video)."""
    control = tiny_models[CONTROL]
    a = _latents(control, video=CLIP_A, conditioning_scale=0.0)
    b = _latents(control, video=CLIP_B, conditioning_scale=0.0)
    torch.testing.assert_close(a, b, rtol=0, atol=1e-6)
    assert _mse(_latents(control, video=CLIP_A, conditioning_scale=0.5), a) > 1e-10  # exactly repeatable runs


def test_first_block_cache_would_add_the_hints_twice(tiny_models):
    """Why First-Block Cache is declared not to work for VACE (spec.step_caches): a second call with the very same
    inputs is a skipped step (zero change in the first block), so it should return the first call's output. It does
    with the hints scaled to 0; with them on it does not: the cached residual holds the hints and the model's loop,
    outside the skipped blocks, adds them again."""
    import diffusers

    transformer = tiny_models[CONTROL].pipe.transformer
    g = torch.Generator().manual_seed(0)
    x, control = torch.randn(1, 16, 3, 4, 4, generator=g), torch.randn(1, 96, 3, 4, 4, generator=g)
    text = torch.randn(1, 8, transformer.config.text_dim, generator=g)
    drift = {}
    transformer.enable_cache(diffusers.FirstBlockCacheConfig(threshold=0.5))
    try:
        for scale in (0.0, 1.0):
            transformer._reset_stateful_cache()
            with torch.no_grad(), transformer.cache_context("cond"):
                args = dict(timestep=torch.tensor([500]), encoder_hidden_states=text, control_hidden_states=control)
                args["control_hidden_states_scale"] = torch.full((2,), scale)
                first, second = (transformer(hidden_states=x, **args, return_dict=False)[0] for _ in range(2))
            drift[scale] = float((first - second).abs().max())
    finally:
        transformer.disable_cache()
    assert drift[0.0] < 1e-5 < 1e-2 < drift[1.0], drift


# -- refused before anything runs -----------------------------------------------------------------------------


def _refused(task: str, **fields) -> InvalidRequestError:
    with pytest.raises(InvalidRequestError) as err:
        get_adapter("wan").resolve_params(request(task, **fields), tiny_meta("wan", task))
    return err.value


def test_missing_or_unused_inputs_are_refused_naming_them():
    assert _refused(INPAINT, video=CLIP_A).field == "mask"
    assert _refused(INPAINT, mask=WHITE).field == "video"
    assert _refused(R2V).field == "reference_images"
    assert _refused(CONTROL).field == "video"
    err = _refused(CONTROL, video=CLIP_A, mask=WHITE)  # control-to-video's mask is all white: none is taken
    assert err.field == "mask" and "video-inpaint" in err.message
    err = _refused(V2V, video=CLIP_A, reference_images=[RED])
    assert err.field == "reference_images" and R2V in err.message
    assert _refused(T2V, conditioning_scale=0.5).field == "conditioning_scale"
    assert _refused(R2V, reference_images=[RED], video=CLIP_A).field == "video"


def test_hostile_masks_and_references_are_refused_naming_them():
    mp4 = base64.b64decode(CLIP_A)
    for mask in (
        base64.b64encode(b"not a video, not an image" * 8).decode(),
        base64.b64encode(mp4[: len(mp4) // 3]).decode(),  # a truncated MP4
        base64.b64encode(testkit.png_bytes(8)[:40]).decode(),  # a truncated PNG
        "%%% not base64",
    ):
        assert _refused(INPAINT, video=CLIP_A, mask=mask).field == "mask", mask[:30]
    bad = base64.b64encode(b"GIF89a" + b"\0" * 32).decode()
    assert _refused(R2V, reference_images=[RED, bad]).field == "reference_images[1]"
    assert _refused(R2V, reference_images=[testkit.blank_png_b64(4097, 4096)]).field == "reference_images[0]"


def test_a_checkpoint_without_a_vace_transformer_is_refused_before_it_runs(tmp_path_factory):
    """A text-to-video directory loaded as WanVACEPipeline would fail inside the call (no vace_layers)."""
    t2v = load_tiny("wan", T2V, tmp_path_factory)
    for task in VACE:
        fields = {R2V: {"reference_images": [RED]}, INPAINT: {"video": CLIP_A, "mask": WHITE}}.get(
            task, {"video": CLIP_A}
        )
        with pytest.raises(UnsupportedTaskError) as err:
            t2v.adapter.prepare_inputs(request(task, **fields), t2v.pipe, tiny_meta("wan", task))
        assert err.value.field == "model" and "WanTransformer3DModel" in err.value.message


# -- the worker, the CLI and the estimate ---------------------------------------------------------------------


@pytest.fixture(scope="module")
def worker():
    return GenerationWorker(default_model="tiny")


@pytest.mark.parametrize(
    ("task", "fields"),
    [
        (R2V, {"reference_images": [RED, GREEN]}),
        # a 12-frame 64x40 clip at 8 fps: 23 frames at 16 fps -> 21 (4k+1), scaled and cropped to 48x32
        (INPAINT, {"video": clip_b64(frames("a", 12, 40, 64), 8), "mask": png((255, 255, 255), 64, 40)}),
        (CONTROL, {"video": clip_b64(frames("b", 12, 40, 64), 8), "reference_images": [RED]}),
    ],
)
def test_the_worker_writes_each_task(worker, task, fields, tmp_path):
    result = worker.generate(request(task, width=48, num_inference_steps=2, seed=3, **fields), tmp_path / "v.mp4")
    assert result.model["pipeline_class"] == "WanVACEPipeline"
    expected = 9 if task == R2V else 21
    out, fps = read_mp4(tmp_path / "v.mp4")
    assert out.shape == (expected, 32, 48, 3) and result.num_frames == expected and fps == 16
    assert result.params["conditioning_scale"] == 1.0


def test_the_worker_runs_video_inpaint_with_a_mask_image_sequence(worker, tmp_path):
    """End to end on the tiny VACE model: three 64x40 mask images for a 21-frame job (the clip's length) at 48x32,
    the last held and every image scaled and cropped like the clip, both said; the MP4 has the promised frames."""
    mask = [png((255, 255, 255), 64, 40), png((0, 0, 0), 64, 40), png((255, 255, 255), 64, 40)]
    fields = {"video": clip_b64(frames("a", 12, 40, 64), 8), "mask": mask}
    result = worker.generate(request(INPAINT, width=48, num_inference_steps=2, seed=3, **fields), tmp_path / "v.mp4")
    out, _fps = read_mp4(tmp_path / "v.mp4")
    assert out.shape == (21, 32, 48, 3) and result.num_frames == 21
    moved = {a.field: (a.requested, a.used) for a in result.adjustments if a.field.startswith("mask")}
    assert moved == {"mask.frames": (3, 21), "mask.size": ("64x40", "48x32")}


def test_cli_generate_video_inpaint(tmp_path, capsys):
    video, mask, out = tmp_path / "v.mp4", tmp_path / "m.png", tmp_path / "out.mp4"
    video.write_bytes(base64.b64decode(clip_b64(frames("a", 10, 48, 64), 8)))
    mask.write_bytes(base64.b64decode(png((255, 255, 255), 64, 48)))  # outpainting's kind: a white border ...
    args = ["generate", "--family", "wan", "--task", INPAINT, "--video", str(video), "--mask", str(mask)]
    args += ["--model", "tiny", "--prompt", "a fox", "--steps", "2", "--seed", "4", "-o", str(out), "--json"]
    code, stdout, stderr = testkit.run_cli(capsys, *args)
    assert code == 0, stderr
    payload = json.loads(stdout)
    # 10 frames at 8 fps -> 19 at 16 fps -> 17 (4k+1); 64x48 -> the tiny 32x32
    assert payload["frames"] == 17 and read_mp4(out)[0].shape == (17, 32, 32, 3)
    assert {"video.size", "mask.size"} <= {a["field"] for a in payload["adjustments"]}


def test_the_estimate_counts_the_vace_blocks_and_both_clip_encodes(tiny_models):
    """The cost model's per-step FLOPs are exactly the tiny transformer's own on a real forward, its VACE blocks
    included (attention as plain matmuls, which FlopCounterMode counts; CPU's fused SDPA kernel it does not), and
    the VAE encodes the clip twice (kept and regenerated)."""
    from torch.nn.attention import SDPBackend, sdpa_kernel
    from torch.utils.flop_counter import FlopCounterMode

    from videogen.video.job_cost import estimate_job
    from videogen.video.model_source import ModelSource

    tiny = tiny_models[INPAINT]
    params = {"num_frames": 9, "height": 32, "width": 32, "num_inference_steps": 2, "guidance_scale": 1.0}
    job, cost = estimate_job(ModelSource(family="wan", value="tiny"), INPAINT, params, "float32")
    transformer = tiny.pipe.transformer
    g = torch.Generator().manual_seed(0)
    text = torch.randn(1, 512, transformer.config.text_dim, generator=g)  # UMT5 at max_sequence_length
    with torch.no_grad(), sdpa_kernel(SDPBackend.MATH), FlopCounterMode(display=False) as counter:
        transformer(
            hidden_states=torch.randn(1, 16, 3, 4, 4, generator=g),
            timestep=torch.tensor([500]),
            encoder_hidden_states=text,
            control_hidden_states=torch.randn(1, 96, 3, 4, 4, generator=g),
        )
    measured = counter.get_total_flops()
    print(f"per step: estimate {job.flops_per_step:.4g}, measured {measured:.4g}")
    assert job.flops_per_step == pytest.approx(measured, rel=1e-6)
    with torch.no_grad(), FlopCounterMode(display=False) as counter:
        tiny.pipe.vae.encode(torch.zeros(1, 3, 9, 32, 32))
    # the VAE's FLOPs are a law fitted at other sizes (within ~5 % here): two encodes, not one
    assert job.flops["vae_encode"] == pytest.approx(2 * counter.get_total_flops(), rel=0.1)
