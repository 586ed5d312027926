"""Cosmos Predict 2.5 tiny: Video2World continuing the clip from its last frames, Image2World conditioning on the
image as the video's first frame, and the guardrail's rule (NVIDIA's checkpoints only with NVIDIA's guardrail; VideoGen's
random weights with none, said).

Generic checks (frames, seeds, cancel, refusals of text- and image-to-video): test_families.py.
"""

from __future__ import annotations

import json
import shutil

import numpy as np
import pytest
import torch
from family_support import I2V, T2V, V2V, load_tiny, moved

from videogen.errors import InvalidRequestError
from videogen.video.families.cosmos import guardrail
from videogen.video.video_to_video import clip_b64

FAMILY = "cosmos"


def _solid(shade: tuple[int, int, int], frames: int) -> np.ndarray:
    return np.broadcast_to(np.array(shade, dtype=np.uint8), (frames, 32, 32, 3)).copy()


def _latents(tiny, prepared) -> torch.Tensor:
    """The denoised latents (normalised, before the VAE decode) of a prepared job."""
    return tiny.pipe(**{**prepared.kwargs, "output_type": "latent"}).frames


def _encoded(pipe, frames: list) -> torch.Tensor:
    """``frames`` through the VAE and normalised, as the pipeline conditions on them."""
    from diffusers.pipelines.cosmos.pipeline_cosmos2_5_predict import retrieve_latents

    video = pipe.video_processor.preprocess_video(frames, 32, 32)
    with torch.no_grad():
        latents = retrieve_latents(pipe.vae.encode(video), sample_mode="argmax")
    return (latents - pipe.latents_mean) * pipe.latents_std


def _distance(a: torch.Tensor, b: torch.Tensor) -> float:
    return float((a - b).pow(2).mean())


def test_video_to_video_continues_from_the_clips_last_frames(tmp_path_factory):
    """A clip that turns from red to blue: the new video's first latent frame is the clip's end (blue), held clean
    through every step, not its start."""
    from PIL import Image

    v2v = load_tiny(FAMILY, V2V, tmp_path_factory)
    red, blue = (220, 30, 30), (30, 30, 220)
    clip = clip_b64(np.concatenate([_solid(red, 8), _solid(blue, 5)]), 16)
    prepared = v2v.adapter.prepare_inputs(v2v.request(video=clip, seed=0, num_inference_steps=2), v2v.pipe, v2v.meta)
    assert prepared.kwargs["num_latent_conditional_frames"] == 2  # the clip's last 5 frames
    assert len(prepared.kwargs["video"]) == 13 and prepared.adjustments == []  # the clip at its own length
    assert prepared.params["num_frames"] == 9  # the new video: the tiny model's default, not the clip's 13
    latents = _latents(v2v, prepared)
    assert latents.shape[2] == 3  # 9 frames through the /4 VAE
    first = latents[:, :, :1]
    solid = {
        name: _encoded(v2v.pipe, [Image.new("RGB", (32, 32), shade)] * 5)[:, :, :1]
        for name, shade in (("red", red), ("blue", blue))
    }
    assert _distance(first, solid["blue"]) < 0.1 * _distance(first, solid["red"])
    # a clip shorter than the 5 frames the pipeline reads: its last frame repeated, and said
    short = clip_b64(_solid(blue, 2), 16)
    settled = v2v.adapter.resolve_params(v2v.request(video=short, num_frames=13), v2v.meta)
    assert len(settled.video) == 5 and moved(settled) == {"video.frames": (2, 5)}
    assert settled.params["num_frames"] == 13
    # a clip longer than the longest job (93 frames): its last 93 are kept, the ones the new video follows
    long = clip_b64(np.concatenate([_solid(red, 50), _solid(blue, 50)]), 16)
    settled = v2v.adapter.resolve_params(v2v.request(video=long), v2v.meta)
    kept = [np.asarray(frame)[0, 0] for frame in settled.video]
    assert len(kept) == 93 and moved(settled) == {"video.frames": (100, 93)}
    hues = ["red" if int(kept[i][0]) > int(kept[i][2]) else "blue" for i in (0, 42, 43, 92)]
    assert hues == ["red", "red", "blue", "blue"]  # the clip's frames 7..99
    assert "last 93" in next(a.reason for a in settled.adjustments if a.field == "video.frames")
    with pytest.raises(InvalidRequestError) as err:  # continuing keeps the clip as it is: no strength
        v2v.adapter.resolve_params(v2v.request(video=clip, strength=0.5), v2v.meta)
    assert err.value.field == "strength"


def test_image_to_video_starts_from_the_image(tmp_path_factory):
    """The image goes in as a one-frame clip conditioning one latent frame: the video's first latent frame is the
    image's encoding, held clean; text-to-video's is not."""
    i2v = load_tiny(FAMILY, I2V, tmp_path_factory)
    prepared = i2v.prepare(seed=3, num_inference_steps=2)
    assert prepared.kwargs["num_latent_conditional_frames"] == 1 and len(prepared.kwargs["video"]) == 1
    image = _encoded(i2v.pipe, prepared.kwargs["video"])[:, :, :1]
    conditioned = _latents(i2v, prepared)
    t2v = load_tiny(FAMILY, T2V, tmp_path_factory)
    free = _latents(t2v, t2v.prepare(seed=3, num_inference_steps=2))
    assert _distance(conditioned[:, :, :1], image) < 0.01 * _distance(free[:, :, :1], image)
    assert not torch.allclose(conditioned[:, :, 1:], free[:, :, 1:])  # the rest is generated, from the image on


def test_random_weights_run_without_the_guardrail_and_a_checkpoint_needs_nvidias(tmp_path_factory, tmp_path):
    t2v = load_tiny(FAMILY, T2V, tmp_path_factory)
    assert type(t2v.pipe.safety_checker) is guardrail.NoGuardrail
    assert t2v.adapter.model_unavailable_reason(T2V, t2v.model_dir) is None
    # the same files outside VideoGen's tiny cache are somebody's checkpoint: NVIDIA's guardrail or nothing
    checkpoint = tmp_path / "cosmos-checkpoint"
    shutil.copytree(t2v.model_dir, checkpoint)
    (checkpoint / "videogen.json").unlink()  # what marks VideoGen's own tiny model
    reason = t2v.adapter.model_unavailable_reason(T2V, checkpoint)
    assert guardrail.guardrail_missing() is not None  # this machine has no cosmos_guardrail
    assert reason is not None and "guardrail" in reason and "cosmos_guardrail" in reason
    # a transformer that concatenates the padding mask (every published one) needs torchvision too
    config = checkpoint / "transformer" / "config.json"
    config.write_text(json.dumps({**json.loads(config.read_text()), "concat_padding_mask": True}))
    reason = t2v.adapter.model_unavailable_reason(T2V, checkpoint)
    if guardrail.torchvision_missing() is not None:
        assert "torchvision" in reason
    else:
        assert "cosmos_guardrail" in reason


def test_the_guardrails_models_are_looked_up_in_the_cache_by_the_files_the_checker_reads(tmp_path, monkeypatch):
    """Read offline, never downloaded: a snapshot holding the face-blur weights is found; without them, or for a repo
    not cached at all, nothing is."""
    from videogen.video.hf_cache import hf_cached_snapshot

    monkeypatch.setenv("HF_HUB_CACHE", str(tmp_path))
    repo, marker = next(iter(guardrail.GUARDRAIL_MODELS.items()))
    cached = tmp_path / f"models--{repo.replace('/', '--')}"
    snapshot = cached / "snapshots" / "rev1"
    (snapshot / marker).parent.mkdir(parents=True)
    (cached / "refs").mkdir()
    (cached / "refs" / "main").write_text("rev1")
    assert hf_cached_snapshot(repo, marker) is None  # the snapshot lacks the file the checker reads
    (snapshot / marker).write_bytes(b"weights")
    assert hf_cached_snapshot(repo, marker) == snapshot
    assert hf_cached_snapshot("Qwen/Qwen3Guard-Gen-0.6B", "config.json") is None
