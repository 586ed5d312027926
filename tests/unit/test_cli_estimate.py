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
