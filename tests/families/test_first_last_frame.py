"""First-last-frame on Wan through diffusers' own ``WanImageToVideoPipeline(image=first, last_image=last)``.

The pipeline embeds both images with its CLIP image encoder (a batch of two, folded by the FLF2V transformer's
image embedder into one sequence with its ``pos_embed``) and VAE-encodes ``[first, zeros..., last]`` into the
conditioning latents, with a mask that marks the first and the last frame as given. Those are checked exactly here
(what the transformer is handed), and that the inputs steer the output: another last image with the same seed, or
the two frames swapped, gives another video.

Not checked, because it does not hold on the tiny model: "the first/last frames are closer to the given images than
an unconditioned (text-to-video) run's". In Wan 2.1's first-last-frame (and i2v) pipeline the conditioning latents
only enter as extra transformer input channels; nothing pastes them into the output (unlike video-to-video, which
starts from the input's noised latents), so landing on the given frames is what a *trained* transformer learns, and
a random one does not. And the tiny VAE (shared with text- and image-to-video) passes on well under 1% of a pixel
difference through its round trip, almost none in frame 0, so pixel distances to "what the model sees" say nothing
here. ``test_why_closeness_is_not_measured`` prints the comparison and asserts that reason; the steering checks
compare the denoised latents.
"""

from __future__ import annotations

import base64
import io
import json

import numpy as np
import pytest
import testkit
import torch
from family_support import FLF, I2V, PROMPT, T2V, load_tiny

from videogen.errors import InvalidRequestError
from videogen.video.encode import read_mp4
from videogen.video.families import get_adapter, get_spec
from videogen.video.registry import FAMILY_IDS
from videogen.video.request import VideoRequest
from videogen.video.tiny.cache import tiny_meta
from videogen.video.worker import GenerationWorker

STEPS = 4


def image(kind: str, width: int = 32, height: int = 32) -> str:
    """``a``: a yellow square on blue; ``b``: a green square on beige (base64 PNG)."""
    from PIL import Image

    pixels = np.zeros((height, width, 3), np.uint8)
    if kind == "a":
        pixels[:] = (20, 30, 200)
        pixels[height // 4 : height // 4 + 12, 4:16] = (250, 240, 20)
    else:
        pixels[:] = (230, 200, 180)
        pixels[4 : height - 4, 4 : width - 4] = (10, 120, 10)
    buf = io.BytesIO()
    Image.fromarray(pixels).save(buf, format="PNG")
    return base64.b64encode(buf.getvalue()).decode("ascii")


A, B = image("a"), image("b")


def request(**fields) -> VideoRequest:
    fields.setdefault("task", FLF)
    return VideoRequest(family="wan", prompt=PROMPT, **fields)


@pytest.fixture(scope="module")
def tiny(tmp_path_factory):
    return load_tiny("wan", FLF, tmp_path_factory)


def _run(tiny, **fields):
    """(prepared, the pipeline's float frames [F, H, W, 3] in 0..1)."""
    fields = {"seed": 7, "num_inference_steps": STEPS, **fields}
    prepared = tiny.adapter.prepare_inputs(request(**fields), tiny.pipe, tiny.meta)
    return prepared, np.asarray(tiny.pipe(**prepared.kwargs).frames, dtype=np.float64)[0]


def _mse(a: np.ndarray, b: np.ndarray) -> float:
    return float(((a - b) ** 2).mean())


# Wan FLF2V; HunyuanVideo's FramePack (test_framepack.py); SkyReels-V2's diffusion forcing (test_family_skyreels_v2.py);
# EasyAnimate's InP pipeline (test_family_easyanimate.py)
FLF_FAMILIES = ("wan", "hunyuan-video", "skyreels-v2", "easyanimate")


def test_wan_offers_it_and_so_does_framepack():
    for family in FAMILY_IDS:
        spec = get_spec(family)
        assert (FLF in spec.tasks) == (family in FLF_FAMILIES)
    spec = get_spec("wan")
    assert spec.pipeline_classes[FLF] == spec.pipeline_classes[I2V] == "WanImageToVideoPipeline"
    assert spec.default_model_ids[FLF] == "Wan-AI/Wan2.1-FLF2V-14B-720P-Diffusers"
    assert spec.required_inputs[FLF] == ["prompt", "image", "last_image"]
    assert spec.checkpoint_classes.count("WanImageToVideoPipeline") == 1


def test_runs_through_the_real_pipeline(tiny):
    assert type(tiny.pipe).__name__ == "WanImageToVideoPipeline"
    # The FLF2V transformer: image tokens of two images, told apart by a (non-zero) position embedding
    embedder = tiny.pipe.transformer.condition_embedder.image_embedder
    assert tiny.pipe.transformer.config.pos_embed_seq_len == 2 * 17  # CLIP's 4x4 patches + class token, twice
    assert embedder.pos_embed.abs().sum() > 0
    # 40x24 images into the tiny 32x32 job, 10 frames asked: 9 (4k+1), each input resized to the job's size
    fields = dict(image=testkit.png_b64(40, 24), last_image=testkit.png_b64(24, 40, seed=1), num_frames=10, seed=1)
    prepared = tiny.adapter.prepare_inputs(request(**fields), tiny.pipe, tiny.meta)
    assert {a.field: (a.requested, a.used) for a in prepared.adjustments} == {"num_frames": (10, 9)}
    assert prepared.kwargs["image"].size == prepared.kwargs["last_image"].size == (32, 32)
    frames = tiny.adapter.extract_frames(tiny.pipe(**prepared.kwargs))
    assert frames.shape == (prepared.expected_frames, 32, 32, 3) == (9, 32, 32, 3)
    # a 48x32 job of 13 frames: the output follows the size and the frame count
    prepared = tiny.adapter.prepare_inputs(
        request(image=A, last_image=B, num_frames=13, width=48), tiny.pipe, tiny.meta
    )
    assert prepared.adjustments == [] and prepared.kwargs["last_image"].size == (48, 32)
    assert tiny.adapter.extract_frames(tiny.pipe(**prepared.kwargs)).shape == (13, 32, 48, 3)


def _vae_latents(tiny, video: torch.Tensor) -> torch.Tensor:
    """``[1, C, F, H, W]`` in -1..1 -> the normalised latents the pipeline conditions on (the latents' mode)."""
    vae = tiny.pipe.vae
    mean = torch.tensor(vae.config.latents_mean).view(1, -1, 1, 1, 1)
    std = torch.tensor(vae.config.latents_std).view(1, -1, 1, 1, 1)
    with torch.no_grad():
        return (vae.encode(video).latent_dist.mode() - mean) / std


def _as_tensor(img) -> torch.Tensor:
    return torch.from_numpy(np.asarray(img)).float().permute(2, 0, 1) / 127.5 - 1.0  # C H W


def test_the_transformer_gets_both_frames(tiny, monkeypatch):
    """What the pipeline hands its transformer: the CLIP tokens of both images, and the conditioning latents of
    ``[first, zeros, last]`` with the first and the last latent frames marked as given."""
    seen: list[dict] = []
    forward = tiny.pipe.transformer.forward

    def recording(*args, **kwargs):
        seen.append({k: v for k, v in kwargs.items() if torch.is_tensor(v)})
        return forward(*args, **kwargs)

    monkeypatch.setattr(tiny.pipe.transformer, "forward", recording)
    prepared, _ = _run(tiny, image=A, last_image=B, num_inference_steps=1, guidance_scale=1.0)
    first, last = prepared.kwargs["image"], prepared.kwargs["last_image"]
    (call,) = seen  # one step, no CFG: one call
    with torch.no_grad():
        pixels = tiny.pipe.image_processor(images=[first, last], return_tensors="pt")["pixel_values"]
        clip = tiny.pipe.image_encoder(pixel_values=pixels, output_hidden_states=True).hidden_states[-2]
    assert call["encoder_hidden_states_image"].shape == (2, 17, 8)  # first and last, 17 tokens each
    torch.testing.assert_close(call["encoder_hidden_states_image"], clip)
    hidden = call["hidden_states"]  # noise (16) + mask (4) + conditioning latents (16)
    frames = prepared.params["num_frames"]
    latent_frames = (frames - 1) // 4 + 1
    side = 32 // tiny.pipe.vae_scale_factor_spatial
    assert hidden.shape == (1, 36, latent_frames, side, side)
    mask = hidden[0, 16:20, :, 0, 0]
    expected_mask = torch.zeros(4, latent_frames)
    expected_mask[:, 0] = 1  # the first frame (4 mask channels: Wan's temporal compression)
    expected_mask[3, -1] = 1  # the last pixel frame is the last of the last latent frame's four
    torch.testing.assert_close(mask, expected_mask)
    video = torch.zeros(1, 3, frames, 32, 32)
    video[0, :, 0], video[0, :, -1] = _as_tensor(first), _as_tensor(last)
    torch.testing.assert_close(hidden[:, 20:], _vae_latents(tiny, video), rtol=1e-4, atol=1e-4)
    # image-to-video's conditioning of the same first frame differs only where the last frame sits
    video[0, :, -1] = 0
    i2v_latents = _vae_latents(tiny, video)
    assert torch.allclose(hidden[:, 20:, 0], i2v_latents[:, :, 0], atol=1e-4)
    assert not torch.allclose(hidden[:, 20:, -1], i2v_latents[:, :, -1], atol=1e-3)


def _latents(tiny, **fields) -> torch.Tensor:
    """The denoised latents the pipeline would decode (``output_type="latent"``)."""
    prepared = tiny.adapter.prepare_inputs(
        request(**{"seed": 7, "num_inference_steps": STEPS, **fields}), tiny.pipe, tiny.meta
    )
    return tiny.pipe(**{**prepared.kwargs, "output_type": "latent"}).frames


def test_the_last_image_steers_the_video(tiny):
    """Another last image, the same seed: another video. Measured on the latents the transformer denoised (the
    tiny VAE's decoder passes on a tiny fraction of any change: see ``test_why_closeness_is_not_measured``)."""
    ab, aa = _latents(tiny, image=A, last_image=B), _latents(tiny, image=A, last_image=A)
    ab_again = _latents(tiny, image=A, last_image=B)
    assert torch.equal(ab, ab_again)  # same inputs, same seed: the same video
    change = float(((ab - aa) ** 2).mean())
    print(f"latent MSE, last image B vs A: {change:.3g} (latent variance {float(ab.var()):.3g})")
    assert change > 1e-6  # measured ~1e-4; float noise would be ~1e-12
    _, frames_ab = _run(tiny, image=A, last_image=B)
    _, frames_aa = _run(tiny, image=A, last_image=A)
    assert not np.array_equal(frames_ab[-1], frames_aa[-1])  # and the decoded last frames differ


def test_swapping_first_and_last_changes_the_video(tiny):
    ab, ba = _latents(tiny, image=A, last_image=B), _latents(tiny, image=B, last_image=A)
    assert float(((ab - ba) ** 2).mean()) > 1e-6
    _, frames_ab = _run(tiny, image=A, last_image=B)
    _, frames_ba = _run(tiny, image=B, last_image=A)
    assert not np.array_equal(frames_ab, frames_ba)


def test_why_closeness_is_not_measured(tiny, tmp_path_factory):
    """The measurement the issue asked for, kept honest: each run's distance to the VAE round trip of the
    conditioning clip is printed (it does not favour first-last-frame over text-to-video), and why it cannot on this
    model is asserted: the tiny VAE passes on well under 1% of a pixel difference, and almost none in frame 0."""
    t2v = load_tiny("wan", T2V, tmp_path_factory)
    prepared, flf = _run(tiny, image=A, last_image=B)
    t2v_prepared = t2v.adapter.prepare_inputs(
        VideoRequest(family="wan", prompt=PROMPT, seed=7, num_inference_steps=STEPS), t2v.pipe, t2v.meta
    )
    plain = np.asarray(t2v.pipe(**t2v_prepared.kwargs).frames, dtype=np.float64)[0]
    frames = prepared.params["num_frames"]
    clip = torch.zeros(1, 3, frames, 32, 32)
    clip[0, :, 0], clip[0, :, -1] = _as_tensor(prepared.kwargs["image"]), _as_tensor(prepared.kwargs["last_image"])
    seen = _round_trip(tiny, clip)
    for name, index in (("first", 0), ("last", -1)):
        print(
            f"{name} frame MSE to the round trip: first-last-frame {_mse(flf[index], seen[index]):.3g}, "
            f"text-to-video {_mse(plain[index], seen[index]):.3g}"
        )
    generator = torch.Generator().manual_seed(0)
    x, y = (torch.rand(1, 3, frames, 32, 32, generator=generator) * 2 - 1 for _ in range(2))
    rx, ry = _round_trip(tiny, x), _round_trip(tiny, y)
    pixels = _mse(x.numpy()[0].transpose(1, 2, 3, 0) / 2, y.numpy()[0].transpose(1, 2, 3, 0) / 2)  # in 0..1 units
    passed = _mse(rx, ry)
    print(
        f"VAE round trip of two random clips: MSE {pixels:.3g} in, {passed:.3g} out, frame 0 {_mse(rx[0], ry[0]):.3g}"
    )
    assert passed < 0.01 * pixels and _mse(rx[0], ry[0]) < 1e-4 * pixels


def _round_trip(tiny, clip: torch.Tensor) -> np.ndarray:
    """``[1, C, F, H, W]`` in -1..1 -> the tiny VAE's encode -> decode, ``[F, H, W, C]`` in 0..1."""
    vae = tiny.pipe.vae
    with torch.no_grad():
        out = vae.decode(vae.encode(clip).latent_dist.mode()).sample[0].permute(1, 2, 3, 0)
    return (out / 2 + 0.5).clamp(0, 1).numpy().astype(np.float64)


def test_a_missing_or_bad_frame_is_refused_naming_it(tiny, png_b64):
    meta = tiny_meta("wan", FLF)
    adapter = get_adapter("wan")
    for fields, name in (({"image": A}, "last_image"), ({"last_image": B}, "image"), ({}, "image")):
        with pytest.raises(InvalidRequestError) as err:
            adapter.resolve_params(request(**fields), meta)
        assert err.value.field == name and "first-last-frame" in err.value.message
    gif = io.BytesIO()
    from PIL import Image

    Image.new("RGB", (8, 8)).save(gif, format="GIF")
    bad = (
        base64.b64encode(gif.getvalue()).decode(),  # a real image, not an allowed format
        base64.b64encode(b"not an image at all").decode(),
        "%%% not base64",
        "data:image/png,notbase64",
        testkit.blank_png_b64(4097, 4096),  # over the pixel cap
    )
    for value in bad:
        with pytest.raises(InvalidRequestError) as err:
            adapter.resolve_params(request(image=png_b64, last_image=value), meta)
        assert err.value.field == "last_image", value[:40]
        with pytest.raises(InvalidRequestError) as err:
            adapter.resolve_params(request(image=value, last_image=png_b64), meta)
        assert err.value.field == "image", value[:40]


@pytest.mark.parametrize("family", [f for f in FAMILY_IDS if f not in FLF_FAMILIES])
def test_other_families_refuse_the_task(family):
    with pytest.raises(InvalidRequestError) as err:
        get_adapter(family).resolve_params(
            VideoRequest(family=family, task=FLF, prompt=PROMPT, image=A, last_image=B), tiny_meta(family, T2V)
        )
    assert err.value.field == "task"


def test_the_worker_decodes_each_frame_once_and_writes_the_video(tmp_path, monkeypatch):
    from videogen.video import task_media as adapter_module

    decoded: list[str] = []
    decode = adapter_module.decode_image
    monkeypatch.setattr(
        adapter_module, "decode_image", lambda v, field="image": decoded.append(field) or decode(v, field)
    )
    worker = GenerationWorker(default_model="tiny")
    job = request(image=A, last_image=B, num_frames=9, width=48, num_inference_steps=2, seed=3)
    result = worker.generate(job, tmp_path / "flf.mp4")
    assert decoded == ["image", "last_image"]  # once each per job (a warm-up would add its own)
    assert result.model["pipeline_class"] == "WanImageToVideoPipeline"
    frames, _ = read_mp4(tmp_path / "flf.mp4")
    assert frames.shape == (9, 32, 48, 3) and result.num_frames == 9
    assert worker.warm_up("wan", FLF) is not None  # the warm-up job (grey first and last frames) runs


def test_cli_generate_first_last_frame(tmp_path, capsys):
    first, last = tmp_path / "first.png", tmp_path / "last.png"
    first.write_bytes(base64.b64decode(A))
    last.write_bytes(base64.b64decode(B))
    out = tmp_path / "out.mp4"
    args = ["generate", "--family", "wan", "--task", FLF, "--image", str(first), "--last-image", str(last)]
    args += ["--model", "tiny", "--prompt", "a fox", "--steps", "2", "--seed", "4", "-o", str(out), "--json"]
    code, stdout, stderr = testkit.run_cli(capsys, *args)
    assert code == 0, stderr
    assert json.loads(stdout)["frames"] == 9 and read_mp4(out)[0].shape == (9, 32, 32, 3)
    missing = [a for a in args if a not in ("--last-image", str(last))]
    code, _, stderr = testkit.run_cli(capsys, *missing)
    assert code == 2 and "last_image" in stderr.replace("-", "_")


def test_an_image_to_video_checkpoint_is_refused_before_it_runs(tiny, tmp_path_factory):
    """A Wan 2.1 i2v transformer has no pos_embed_seq_len for two frames' CLIP tokens: diffusers would fail inside
    the call on a tensor-size mismatch; the adapter says which checkpoint to use instead."""
    from videogen.errors import UnsupportedTaskError

    i2v = load_tiny("wan", I2V, tmp_path_factory)
    assert i2v.pipe.transformer.config.pos_embed_seq_len is None
    job = request(image=A, last_image=B, seed=0)
    with pytest.raises(UnsupportedTaskError) as err:
        tiny.adapter.prepare_inputs(job, i2v.pipe, tiny.meta)
    assert "Wan2.1-FLF2V-14B-720P-Diffusers" in err.value.message
    with pytest.raises(RuntimeError, match="Sizes of tensors must match"):  # what the check saves a user from
        i2v.pipe(**{**tiny.adapter.prepare_inputs(job, tiny.pipe, tiny.meta).kwargs, "num_inference_steps": 1})
