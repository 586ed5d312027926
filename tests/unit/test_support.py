"""Effective support: what a family can do here, from diffusers, hardware and the model source."""

from __future__ import annotations

import pytest
from test_registry import I2V_FAMILIES  # the one list of families with image-to-video (tests/unit is on sys.path)

from videogen.video.hardware import VideoHardwareProfile
from videogen.video.model_source import ModelSource
from videogen.video.registry import SPECS
from videogen.video.spec import IMAGE_TO_VIDEO, TASKS, TEXT_TO_VIDEO, SupportLevel
from videogen.video.support import describe_model, resolve_task_support


def cpu_profile():
    return VideoHardwareProfile.synthetic("cpu", None)


@pytest.mark.parametrize("family", list(SPECS))
def test_tiny_models_are_ready_on_a_cpu(family):
    described = describe_model(SPECS[family], cpu_profile(), ModelSource(family=family, value="tiny"))
    assert described["effective_support_level"] == "ready"
    for task in SPECS[family].tasks:
        assert described["task_support"][task] == "ready"
    if family not in I2V_FAMILIES:
        assert described["task_support"][IMAGE_TO_VIDEO] == "not_supported"
        reasons = described["support_reasons"][IMAGE_TO_VIDEO]
        assert reasons == [SPECS[family].task_unsupported_reason(IMAGE_TO_VIDEO)]
        assert "image-to-video" in " ".join(reasons)


@pytest.mark.parametrize("family", list(SPECS))
def test_real_models_on_a_cpu_are_not_ready_and_say_why(family, tmp_path, monkeypatch):
    monkeypatch.setenv("HF_HUB_CACHE", str(tmp_path))  # an empty cache: nothing downloaded
    task = SPECS[family].tasks[0]  # text-to-video, or the one task a family without it offers (Lucy Edit's edit)
    support = resolve_task_support(SPECS[family], task, cpu_profile(), ModelSource(family=family))
    assert support.level == SupportLevel.NOT_SUPPORTED
    text = " ".join(support.reasons)
    assert "no ROCm or CUDA GPU" in text and "--model tiny" in text
    assert "not on this machine" in text


def test_small_gpu_limits_a_big_model(tmp_path):
    # A local directory that really holds a HunyuanVideo pipeline index.
    (tmp_path / "model_index.json").write_text('{"_class_name": "HunyuanVideoPipeline"}')
    profile = VideoHardwareProfile.synthetic("rocm", 16)
    support = resolve_task_support(
        SPECS["hunyuan-video"], TEXT_TO_VIDEO, profile, ModelSource(family="hunyuan-video", value=str(tmp_path))
    )
    assert support.level == SupportLevel.LIMITED
    assert "16 GB" in support.reasons[0]


def test_big_gpu_with_local_weights_is_ready(tmp_path):
    (tmp_path / "model_index.json").write_text('{"_class_name": "WanPipeline"}')
    profile = VideoHardwareProfile.synthetic("cuda", 80)
    support = resolve_task_support(SPECS["wan"], TEXT_TO_VIDEO, profile, ModelSource(family="wan", value=str(tmp_path)))
    assert support.level == SupportLevel.READY, support.reasons


def test_directory_of_another_family_is_refused(tmp_path):
    (tmp_path / "model_index.json").write_text('{"_class_name": "WanPipeline"}')
    source = ModelSource(family="cogvideox", value=str(tmp_path))
    assert not source.is_available(TEXT_TO_VIDEO)


def test_a_lone_motion_adapter_is_an_animatediff_model(tmp_path):
    (tmp_path / "config.json").write_text('{"_class_name": "MotionAdapter"}')
    assert ModelSource(family="animatediff", value=str(tmp_path)).is_available(TEXT_TO_VIDEO)
    assert not ModelSource(family="wan", value=str(tmp_path)).is_available(TEXT_TO_VIDEO)


def test_missing_diffusers_class_is_not_supported(monkeypatch):
    import videogen.video.support as support_module

    monkeypatch.setattr(support_module, "_diffusers_has", lambda name: name != "SanaImageToVideoPipeline")
    support = resolve_task_support(
        SPECS["sana-video"], IMAGE_TO_VIDEO, cpu_profile(), ModelSource(family="sana-video", value="tiny")
    )
    assert support.level == SupportLevel.NOT_SUPPORTED
    assert "SanaImageToVideoPipeline" in support.reasons[0]


@pytest.mark.parametrize("family", list(SPECS))
@pytest.mark.parametrize("model", ["tiny", None])
def test_every_family_lists_every_task(family, model, tmp_path, monkeypatch):
    monkeypatch.setenv("HF_HUB_CACHE", str(tmp_path))  # real models: nothing downloaded, so not supported here
    spec = SPECS[family]
    described = describe_model(spec, cpu_profile(), ModelSource(family=family, value=model))
    assert list(described["task_support"]) == list(TASKS)
    for task in TASKS:
        level = described["task_support"][task]
        reasons = described["support_reasons"].get(task, [])
        if task in spec.tasks:
            if model == "tiny":
                assert level == "ready" and reasons == [], (task, reasons)
            else:
                assert level == "not_supported" and "no ROCm or CUDA GPU" in " ".join(reasons), (task, reasons)
        else:
            assert level == "not_supported"
            assert reasons == [spec.task_unsupported_reason(task)] and task in reasons[0]
