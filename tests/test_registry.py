"""Registry facts and the effective support level."""

from __future__ import annotations

import pytest

from videogen.errors import UnknownFamilyError
from videogen.video.foundation import VideoHardwareProfile
from videogen.video.model_source import ModelSource
from videogen.video.registry import (
    FAMILY_IDS,
    IMAGE_TO_VIDEO,
    SPECS,
    TEXT_TO_VIDEO,
    FrameRule,
    SupportLevel,
    describe_model,
    get_spec,
    resolve_task_support,
)

EXPECTED_IDS = ["text-to-video-sd", "wan", "cogvideox", "ltx-video", "hunyuan-video", "sana-video", "animatediff"]
I2V_FAMILIES = {"wan", "cogvideox", "ltx-video", "hunyuan-video", "sana-video"}


def cpu_profile():
    return VideoHardwareProfile.synthetic("cpu", None)


def test_seven_families_with_their_ids():
    assert list(FAMILY_IDS) == EXPECTED_IDS


@pytest.mark.parametrize("family", EXPECTED_IDS)
def test_every_spec_is_complete(family):
    spec = get_spec(family)
    assert TEXT_TO_VIDEO in spec.pipeline_classes
    assert (IMAGE_TO_VIDEO in spec.pipeline_classes) == (family in I2V_FAMILIES)
    assert spec.task_kind == ("hybrid" if family in I2V_FAMILIES else "t2v")
    for task in spec.tasks:
        assert "prompt" in spec.required_inputs[task]
        assert task in spec.default_model_ids
    if IMAGE_TO_VIDEO in spec.tasks:
        assert "image" in spec.required_inputs[IMAGE_TO_VIDEO]
    d = spec.defaults
    assert spec.frame_rule.nearest(d.num_frames) == d.num_frames, "default frames must satisfy the frame rule"
    assert d.height % spec.resolution_multiple == 0 and d.width % spec.resolution_multiple == 0
    assert spec.rocm_notes


def test_unknown_family_names_the_field_and_lists_ids():
    with pytest.raises(UnknownFamilyError) as info:
        get_spec("sora")
    assert info.value.field == "family"
    assert info.value.allowed == EXPECTED_IDS


@pytest.mark.parametrize(
    ("rule", "requested", "expected"),
    [
        (FrameRule(multiple=4, remainder=1, min_frames=5, max_frames=161), 10, 9),
        (FrameRule(multiple=4, remainder=1, min_frames=5, max_frames=161), 11, 13),
        (FrameRule(multiple=8, remainder=1, min_frames=9, max_frames=257), 12, 9),
        (FrameRule(multiple=8, remainder=1, min_frames=9, max_frames=257), 14, 17),
        (FrameRule(multiple=4, remainder=1, min_frames=5, max_frames=161), 160, 161),
        (FrameRule(multiple=1, remainder=0, min_frames=1, max_frames=64), 7, 7),
    ],
)
def test_frame_rule_nearest(rule, requested, expected):
    assert rule.nearest(requested) == expected


@pytest.mark.parametrize("family", EXPECTED_IDS)
def test_tiny_models_are_ready_on_a_cpu(family):
    described = describe_model(SPECS[family], cpu_profile(), ModelSource(family=family, value="tiny"))
    assert described["effective_support_level"] == "ready"
    for task in SPECS[family].tasks:
        assert described["task_support"][task] == "ready"
    if family not in I2V_FAMILIES:
        assert described["task_support"][IMAGE_TO_VIDEO] == "not_supported"
        assert "image-to-video" in " ".join(described["support_reasons"][IMAGE_TO_VIDEO])


@pytest.mark.parametrize("family", EXPECTED_IDS)
def test_real_models_on_a_cpu_are_not_ready_and_say_why(family, tmp_path, monkeypatch):
    monkeypatch.setenv("HF_HUB_CACHE", str(tmp_path))  # an empty cache: nothing downloaded
    support = resolve_task_support(SPECS[family], TEXT_TO_VIDEO, cpu_profile(), ModelSource(family=family))
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


def test_missing_diffusers_class_is_not_supported(monkeypatch):
    import videogen.video.registry as registry

    monkeypatch.setattr(registry, "_diffusers_has", lambda name: name != "SanaImageToVideoPipeline")
    support = resolve_task_support(SPECS["sana-video"], IMAGE_TO_VIDEO, cpu_profile(), ModelSource(family="sana-video", value="tiny"))
    assert support.level == SupportLevel.NOT_SUPPORTED
    assert "SanaImageToVideoPipeline" in support.reasons[0]
