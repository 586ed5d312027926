"""Control-to-video beside Wan VACE (test_vace.py): CogVideoX-Fun's ``CogVideoXFunControlPipeline`` and AnimateDiff's
``AnimateDiffControlNetPipeline``, through diffusers' own pipelines on the tiny models.

The control clip (a depth / pose / edge video the user made) is conformed to the job frame for frame; CogVideoX-Fun
VAE-encodes it and feeds its latents to the transformer beside the noise, AnimateDiff's ControlNet embeds its pixels
and adds residuals to the UNet at every step. Each runs through the worker to an MP4 of the promised frames and
size; the clip steers the output (same seed, another clip: other latents; the same clip: the same ones); what a
family's pipeline cannot take is refused naming the field, and a model that cannot run the task (a CogVideoX
text-to-video checkpoint, an AnimateDiff model without a ControlNet) is refused naming the model, and shown so.
"""

from __future__ import annotations

import numpy as np
import pytest
import torch
from family_support import CONTROL, PROMPT, T2V, load_tiny

from videogen.errors import InvalidRequestError, UnsupportedTaskError
from videogen.video.encode import read_mp4
from videogen.video.families import get_adapter, get_spec
from videogen.video.hardware import VideoHardwareProfile
from videogen.video.model_source import ModelSource
from videogen.video.request import VideoRequest
from videogen.video.support import describe_model
from videogen.video.tiny.cache import tiny_meta
from videogen.video.video_to_video import clip_b64
from videogen.video.worker import GenerationWorker

FAMILIES = ("cogvideox", "animatediff")
PIPELINES = {"cogvideox": "CogVideoXFunControlPipeline", "animatediff": "AnimateDiffControlNetPipeline"}
CLIP_KWARG = {"cogvideox": "control_video", "animatediff": "conditioning_frames"}
GPU = VideoHardwareProfile.synthetic("cuda", 80)  # so that only the model decides what is ready


def frames(kind: str, count: int = 9, height: int = 32, width: int = 32) -> np.ndarray:
    """``a``: a white square moving across black (a pose-like clip); ``b``: a still grey gradient (a depth-like one)."""
    out = np.zeros((count, height, width, 3), np.uint8)
    for i in range(count):
        if kind == "a":
            out[i, 8:20, 2 + i : 14 + i] = 255
        else:
            out[i] = np.linspace(0, 255, width, dtype=np.uint8)[None, :, None]
    return out


CLIP_A, CLIP_B = clip_b64(frames("a"), 8), clip_b64(frames("b"), 8)  # 9 frames at both families' 8 fps


def request(family: str, **fields) -> VideoRequest:
    fields.setdefault("task", CONTROL)
    return VideoRequest(family=family, prompt=PROMPT, **fields)


@pytest.fixture(scope="module", params=FAMILIES)
def tiny(request, tmp_path_factory):
    return load_tiny(request.param, CONTROL, tmp_path_factory)


def _latents(tiny, **fields) -> torch.Tensor:
    """The denoised latents the pipeline would decode (``output_type="latent"``)."""
    req = request(tiny.family, seed=7, num_inference_steps=2, **fields)
    prepared = tiny.adapter.prepare_inputs(req, tiny.pipe, tiny.meta)
    return tiny.pipe(**{**prepared.kwargs, "output_type": "latent"}).frames


def test_the_families_declare_control_to_video_with_what_their_pipeline_takes():
    cogvideox, animatediff, wan = (get_spec(f) for f in ("cogvideox", "animatediff", "wan"))
    assert cogvideox.pipeline_classes[CONTROL] == "CogVideoXFunControlPipeline"
    assert (
        cogvideox.default_model_ids[CONTROL] == "alibaba-pai/CogVideoX-Fun-V1.1-5b-Pose"
    )  # the pipeline's docstring's
    assert animatediff.pipeline_classes[CONTROL] == "AnimateDiffControlNetPipeline"
    assert animatediff.default_model_ids[CONTROL] == animatediff.default_model_ids[T2V]  # the motion adapter
    for spec in (cogvideox, animatediff, wan):
        assert spec.required_inputs[CONTROL] == ["prompt", "video"]
    # what each may take besides: VACE's references and hint scale, the ControlNet's scale, CogVideoX-Fun nothing
    assert wan.optional_inputs[CONTROL] == ["reference_images", "conditioning_scale"]
    assert animatediff.optional_inputs[CONTROL] == ["conditioning_scale"]
    assert cogvideox.optional_inputs[CONTROL] == []


def test_the_tiny_models_have_the_control_layout(tiny):
    pipe = tiny.pipe
    assert type(pipe).__name__ == PIPELINES[tiny.family]
    if tiny.family == "cogvideox":  # the noise latents and the control video's side by side
        assert pipe.transformer.config.in_channels == 2 * pipe.vae.config.latent_channels
    else:  # a ControlNet whose zero convolutions are not zero: its residuals reach the UNet
        assert type(pipe.controlnet).__name__ == "ControlNetModel"
        assert bool(pipe.controlnet.controlnet_mid_block.weight.detach().abs().sum() > 0)


@pytest.mark.parametrize("family", FAMILIES)
def test_the_worker_writes_the_clip_s_frames_at_the_job_size(family, tmp_path):
    """A 12-frame 64x40 clip at 8 fps: CogVideoX keeps 9 (8k+1), AnimateDiff all 12; each scaled and cropped to
    48x32, said; the clip goes to the pipeline under its own name."""
    worker = GenerationWorker(default_model="tiny")
    video = clip_b64(frames("a", 12, 40, 64), 8)
    result = worker.generate(request(family, video=video, width=48, num_inference_steps=2, seed=3), tmp_path / "v.mp4")
    expected = {"cogvideox": 9, "animatediff": 12}[family]
    out, fps = read_mp4(tmp_path / "v.mp4")
    assert result.model["pipeline_class"] == PIPELINES[family]
    assert out.shape == (expected, 32, 48, 3) and result.num_frames == expected and fps == 8
    assert "video.size" in {a.field for a in result.adjustments}
    assert ("conditioning_scale" in result.params) == (family == "animatediff")  # only where it is used


def test_the_control_clip_steers_the_video(tiny):
    """Same seed, another control clip: other latents; the same clip again: exactly the same ones."""
    prepared = tiny.adapter.prepare_inputs(request(tiny.family, video=CLIP_A), tiny.pipe, tiny.meta)
    clip = prepared.kwargs[CLIP_KWARG[tiny.family]]
    assert len(clip) == 9 and clip[0].size == (32, 32) and "video" not in prepared.kwargs
    a, a_again, b = _latents(tiny, video=CLIP_A), _latents(tiny, video=CLIP_A), _latents(tiny, video=CLIP_B)
    assert torch.equal(a, a_again)
    change = float(((a - b) ** 2).mean())
    print(f"{tiny.family}: latent MSE between the two clips {change:.3g} (latent variance ~1)")
    assert change > 1e-6


def test_animatediff_conditioning_scale_is_the_controlnet_s(tmp_path_factory):
    """``conditioning_scale`` reaches the pipeline as ``controlnet_conditioning_scale``: at 0 the ControlNet's residuals
    are scaled away and two different clips give the same video; at 0.5 the clip steers it again."""
    tiny = load_tiny("animatediff", CONTROL, tmp_path_factory)
    req = request("animatediff", video=CLIP_A, conditioning_scale=0.0)
    prepared = tiny.adapter.prepare_inputs(req, tiny.pipe, tiny.meta)
    assert prepared.kwargs["controlnet_conditioning_scale"] == 0.0 and "conditioning_scale" not in prepared.kwargs
    off_a = _latents(tiny, video=CLIP_A, conditioning_scale=0.0)
    assert torch.equal(off_a, _latents(tiny, video=CLIP_B, conditioning_scale=0.0))
    assert float(((_latents(tiny, video=CLIP_A, conditioning_scale=0.5) - off_a) ** 2).mean()) > 1e-8


# -- refused before anything runs -----------------------------------------------------------------------------


def _refused(family: str, **fields) -> InvalidRequestError:
    with pytest.raises(InvalidRequestError) as err:
        get_adapter(family).resolve_params(request(family, **fields), tiny_meta(family, CONTROL))
    return err.value


@pytest.mark.parametrize("family", FAMILIES)
def test_inputs_the_pipeline_cannot_take_are_refused_naming_them(family, png_b64):
    assert _refused(family).field == "video"
    err = _refused(family, video=CLIP_A, reference_images=[png_b64])  # VACE takes them; these pipelines do not
    assert err.field == "reference_images" and family in err.message and PIPELINES[family] in err.message
    assert _refused(family, video=CLIP_A, mask=png_b64).field == "mask"
    assert _refused(family, video=CLIP_A, strength=0.5).field == "strength"
    if family == "cogvideox":  # no scale to give it: refused, never silently ignored
        err = _refused(family, video=CLIP_A, conditioning_scale=0.5)
        assert err.field == "conditioning_scale" and "CogVideoXFunControlPipeline" in err.message
    else:  # the ControlNet's scale, taken and said in the job's values
        req = request(family, video=CLIP_A, conditioning_scale=0.5)
        assert get_adapter(family).resolve_params(req, tiny_meta(family, CONTROL)).params["conditioning_scale"] == 0.5


# -- models that cannot run it: refused naming the model, and shown so ----------------------------------------


def _control_support(family: str, model: str) -> tuple[dict, dict]:
    described = describe_model(get_spec(family), GPU, ModelSource(family=family, value=model))
    return described["task_support"], described.get("support_reasons", {})


@pytest.mark.parametrize("family", FAMILIES)
def test_tiny_models_are_ready_and_a_text_to_video_directory_is_not(family, tmp_path_factory):
    """What ``videogen models`` shows: ready on the tiny model; a text-to-video directory (no doubled transformer
    input, no ControlNet) serves text-to-video but not control-to-video, with the reason; the loader refuses it."""
    support, _ = _control_support(family, "tiny")
    assert support[CONTROL] == "ready"
    t2v = load_tiny(family, T2V, tmp_path_factory).model_dir
    support, reasons = _control_support(family, str(t2v))
    assert support[T2V] == "ready" and support[CONTROL] == "not_supported"
    needle = {"cogvideox": "CogVideoX-Fun control checkpoint", "animatediff": "controlnet/"}[family]
    assert any(needle in reason for reason in reasons[CONTROL]), reasons
    if family == "animatediff":
        with pytest.raises(UnsupportedTaskError) as err:
            get_adapter(family).load(CONTROL, t2v, torch.float32)
        assert err.value.field == "model" and needle in err.value.message


def test_a_cogvideox_text_to_video_checkpoint_is_refused_before_it_runs(tmp_path_factory):
    """Loaded as CogVideoXFunControlPipeline, its 16-channel transformer would fail inside the call."""
    t2v = load_tiny("cogvideox", T2V, tmp_path_factory)
    with pytest.raises(UnsupportedTaskError) as err:
        t2v.adapter.prepare_inputs(request("cogvideox", video=CLIP_A), t2v.pipe, tiny_meta("cogvideox", CONTROL))
    assert err.value.field == "model" and "CogVideoX-Fun-V1.1-5b-Pose" in err.value.message


def test_a_lone_motion_adapter_takes_its_controlnet_from_the_environment(tmp_path, monkeypatch):
    """The default model is a lone motion adapter with an SD 1.5 base (``VIDEOGEN_ANIMATEDIFF_BASE``); its ControlNet
    is the local directory in ``VIDEOGEN_ANIMATEDIFF_CONTROLNET``: refused without it, run with it."""
    from diffusers import PNDMScheduler, StableDiffusionPipeline

    from videogen.video.families.animatediff import BASE_ENV
    from videogen.video.families.animatediff import tiny as tiny_parts
    from videogen.video.families.animatediff.controlnet import CONTROLNET_ENV

    torch.manual_seed(0)
    tiny_parts.tiny_motion_adapter().save_pretrained(tmp_path / "adapter", safe_serialization=True)
    parts = {**tiny_parts.tiny_base_components(), "scheduler": PNDMScheduler(skip_prk_steps=True, steps_offset=1)}
    base = StableDiffusionPipeline(**parts, safety_checker=None, feature_extractor=None, requires_safety_checker=False)
    base.save_pretrained(tmp_path / "sd15", safe_serialization=True)
    tiny_parts.tiny_controlnet().save_pretrained(tmp_path / "depth", safe_serialization=True)
    monkeypatch.setenv(BASE_ENV, str(tmp_path / "sd15"))
    adapter = get_adapter("animatediff")

    monkeypatch.delenv(CONTROLNET_ENV, raising=False)
    assert CONTROLNET_ENV in adapter.model_unavailable_reason(CONTROL, tmp_path / "adapter")
    assert adapter.model_unavailable_reason(T2V, tmp_path / "adapter") is None  # its other tasks are unaffected
    monkeypatch.setenv(CONTROLNET_ENV, str(tmp_path / "sd15"))  # a directory without a ControlNet in it
    with pytest.raises(UnsupportedTaskError, match=CONTROLNET_ENV):
        adapter.load(CONTROL, tmp_path / "adapter", torch.float32)

    monkeypatch.setenv(CONTROLNET_ENV, str(tmp_path / "depth"))
    assert adapter.model_unavailable_reason(CONTROL, tmp_path / "adapter") is None
    pipe = adapter.load(CONTROL, tmp_path / "adapter", torch.float32)
    assert type(pipe).__name__ == "AnimateDiffControlNetPipeline"
    pipe.set_progress_bar_config(disable=True)
    meta = tiny_meta("animatediff", CONTROL)  # the tiny size: the motion adapter and base are tiny ones
    prepared = adapter.prepare_inputs(request("animatediff", video=CLIP_A, num_inference_steps=2, seed=1), pipe, meta)
    assert adapter.extract_frames(pipe(**prepared.kwargs)).shape == (9, 32, 32, 3)


# -- the estimate ---------------------------------------------------------------------------------------------


def test_the_estimate_prices_the_control_clip_s_encode_and_the_controlnet_s_steps(tmp_path_factory):
    """CogVideoX-Fun VAE-encodes the clip once (like video-to-video); AnimateDiff encodes nothing but runs its
    ControlNet every step: the per-step FLOPs are exactly the ControlNet's and the motion UNet's own on a real step
    (attention as plain matmuls, which FlopCounterMode counts)."""
    from torch.nn.attention import SDPBackend, sdpa_kernel
    from torch.utils.flop_counter import FlopCounterMode

    from videogen.video.job_cost import estimate_job

    params = {"num_frames": 9, "height": 32, "width": 32, "num_inference_steps": 2, "guidance_scale": 1.0}
    cog, _ = estimate_job(ModelSource(family="cogvideox", value="tiny"), CONTROL, params, "float32")
    vae = load_tiny("cogvideox", CONTROL, tmp_path_factory).pipe.vae
    with torch.no_grad(), FlopCounterMode(display=False) as counter:
        vae.encode(torch.zeros(1, 3, 9, 32, 32))
    assert cog.flops["vae_encode"] == pytest.approx(counter.get_total_flops(), rel=0.1)  # a fitted law: one encode

    animatediff, _ = estimate_job(ModelSource(family="animatediff", value="tiny"), CONTROL, params, "float32")
    t2v, _ = estimate_job(ModelSource(family="animatediff", value="tiny"), T2V, params, "float32")
    assert not animatediff.flops.get("vae_encode")
    pipe = load_tiny("animatediff", CONTROL, tmp_path_factory).pipe
    g = torch.Generator().manual_seed(0)
    text = torch.randn(9, 77, pipe.unet.config.cross_attention_dim, generator=g)  # the prompt per frame
    latents = torch.randn(1, 4, 9, 8, 8, generator=g)
    with torch.no_grad(), sdpa_kernel(SDPBackend.MATH), FlopCounterMode(display=False) as counter:
        down, mid = pipe.controlnet(
            latents.transpose(1, 2).reshape(9, 4, 8, 8),
            torch.tensor(500),
            encoder_hidden_states=text,
            controlnet_cond=torch.randn(9, 3, 32, 32, generator=g),
            return_dict=False,
        )
        pipe.unet(
            latents,
            torch.tensor(500),
            encoder_hidden_states=text,
            down_block_additional_residuals=down,
            mid_block_additional_residual=mid,
        )
    print(f"per step: estimate {animatediff.flops_per_step:.4g}, measured {counter.get_total_flops():.4g}")
    assert animatediff.flops_per_step == pytest.approx(counter.get_total_flops(), rel=1e-6)
    assert animatediff.flops_per_step > t2v.flops_per_step
    assert animatediff.parameters["controlnet"] == sum(p.numel() for p in pipe.controlnet.parameters())
