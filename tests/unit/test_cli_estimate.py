"""``videogen estimate``: figures from the architecture alone, the rung and the admission verdict."""

from __future__ import annotations

import json

import pytest

from videogen.cli import main


def _estimate(capsys, *argv: str) -> tuple[int, dict]:
    code = main(["estimate", *argv, "--json"])
    return code, json.loads(capsys.readouterr().out)


def test_wan_1_3b_at_its_default_size_matches_the_published_architecture(capsys):
    code, out = _estimate(
        capsys,
        "--family",
        "wan",
        "--model",
        "arch:wan2.1-t2v-1.3b",
        "--frames",
        "81",
        "--height",
        "480",
        "--width",
        "832",
        "--gpu",
        "NVIDIA H200",
    )
    est = out["estimate"]
    assert code == 0 and out["refused"] is None
    assert est["parameters"]["transformer"] == 1_418_996_800
    assert est["flops_per_step"] == pytest.approx(5.66e14, rel=0.01)  # two CFG passes at guidance 5
    assert est["latent"] == {"channels": 16, "frames": 21, "height": 60, "width": 104}
    assert est["seconds_at_device_peak"] == pytest.approx(est["flops"]["total"] / 790e12, rel=1e-6)
    assert out["admission"]["rung"] == "gpu" and out["admission"]["required_gb"] < 139.8


def test_a_small_card_gets_an_offload_rung_and_a_cpu_box_is_refused_naming_the_field(capsys):
    code, out = _estimate(
        capsys, "--family", "wan", "--model", "arch:wan2.1-t2v-14b", "--gpu", "NVIDIA GeForce RTX 4090"
    )
    assert code == 0 and out["admission"]["placement"] in ("group_offload", "sequential_offload")
    code, out = _estimate(capsys, "--family", "wan", "--model", "arch:wan2.1-t2v-1.3b")  # this 24 GB CPU box
    assert code == 0 and out["refused"]["code"] == "exceeds_capacity" and out["refused"]["field"] == "num_frames"
    assert "weights alone" in out["refused"]["message"]


def test_image_to_video_needs_no_image_to_be_priced(capsys):
    code, out = _estimate(
        capsys,
        "--family",
        "wan",
        "--task",
        "image-to-video",
        "--model",
        "arch:wan2.1-i2v-14b-480p",
        "--gpu",
        "AMD Instinct MI300X",
    )
    assert code == 0 and out["estimate"]["flops"]["image_encode"] > 0
    assert out["hardware"]["backend"] == "rocm"


def test_a_preset_without_the_task_is_refused(capsys):
    code = main(["estimate", "--family", "wan", "--task", "image-to-video", "--model", "arch:wan2.1-t2v-1.3b"])
    assert code == 2
    assert "image-to-video" in capsys.readouterr().err


def _png(path, colour) -> str:
    from PIL import Image

    Image.new("RGB", (64, 48), colour).save(path)
    return str(path)


def test_reference_images_and_keyframes_are_priced_from_the_files_given(capsys, tmp_path):
    """The estimate prices the media the request carries: a second reference image adds one latent frame of tokens
    (30 x 52 at 480x832) and one more encode; a keyframe image at frame 40 adds one (16 x 24 at 512x768), while a
    clip at frame 5 is moved to LTX's latent grid (frame 0), where it overwrites latents in place and adds none."""
    import numpy as np

    from videogen.video.encode import write_mp4

    red, blue = _png(tmp_path / "red.png", (200, 0, 0)), _png(tmp_path / "blue.png", (0, 0, 200))
    vace = ["--family", "wan", "--task", "reference-to-video", "--model", "arch:wan2.1-vace-1.3b"]
    vace += ["--gpu", "NVIDIA H200"]
    one = _estimate(capsys, *vace, "--reference-image", red)[1]["estimate"]
    two = _estimate(capsys, *vace, "--reference-image", red, "--reference-image", blue)[1]["estimate"]
    assert (one["params"]["conditioning"], two["params"]["conditioning"]) == (
        {"reference_images": 1},
        {"reference_images": 2},
    )
    assert two["video_tokens"] - one["video_tokens"] == 30 * 52
    assert two["flops_per_step"] > one["flops_per_step"] and two["flops"]["vae_encode"] > one["flops"]["vae_encode"]
    assert two["memory_gb"]["gpu"] >= one["memory_gb"]["gpu"]
    clip = tmp_path / "clip.mp4"
    write_mp4(np.full((12, 48, 64, 3), 90, np.uint8), clip, fps=24)  # 12 frames at 24 fps: a 9-frame condition
    ltx = ["--family", "ltx-video", "--task", "keyframes", "--model", "arch:ltx-video-0.9.5", "--frames", "161"]
    ltx += ["--height", "512", "--width", "768", "--gpu", "NVIDIA H200", "--keyframe", f"0={red}"]
    more = _estimate(capsys, *ltx, "--keyframe", f"40={blue}", "--keyframe", f"5={clip}")[1]["estimate"]
    assert more["params"]["conditioning"]["keyframes"] == [
        {"frame_index": 0, "frames": 1},
        {"frame_index": 40, "frames": 1},
        {"frame_index": 0, "frames": 9},
    ]
    video = 21 * 16 * 24  # 161 frames at 512x768: 21 latent frames of 16 x 24 (LTX's /8 in time, /32 in space)
    assert more["latent"]["frames"] == 21 and more["video_tokens"] == video + 16 * 24
    assert more["flops"]["vae_encode"] > 0  # every condition is encoded (test_cost_model prices each exactly)
    assert main(["estimate", *ltx, "--keyframe", f"40={blue}"]) == 0  # the text form says it too
    text = capsys.readouterr().out
    assert f"conditioning 2 keyframe(s); the denoised sequence: {video + 16 * 24} tokens" in text
