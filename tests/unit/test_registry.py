"""Registry facts: the seven families, their specs, and the spec types' rules."""

from __future__ import annotations

from typing import get_args

import pytest

from videogen.errors import InvalidRequestError, UnknownFamilyError
from videogen.video.registry import FAMILY_IDS, SPECS, get_spec, static_model_facts
from videogen.video.request import VideoRequest
from videogen.video.spec import (
    FIRST_LAST_FRAME,
    IMAGE_TO_VIDEO,
    KEYFRAMES,
    TASK_INPUTS,
    TASKS,
    TEXT_TO_VIDEO,
    VIDEO_INPAINT,
    VIDEO_TO_VIDEO,
    FrameRule,
    Task,
)

EXPECTED_IDS = [
    "text-to-video-sd",
    "wan",
    "cogvideox",
    "ltx-video",
    "hunyuan-video",
    "sana-video",
    "animatediff",
    "hunyuan-video15",
    "ltx2",
    "skyreels-v2",
    "kandinsky5",
    "mochi",
    "lucy-edit",
    "stable-video-diffusion",
    "helios",
    "cosmos",
    "easyanimate",
]
I2V_FAMILIES = {
    "wan",
    "cogvideox",
    "ltx-video",
    "hunyuan-video",
    "sana-video",
    "hunyuan-video15",
    "ltx2",
    "skyreels-v2",
    "kandinsky5",
    "stable-video-diffusion",
    "helios",
    "cosmos",
    "easyanimate",
}
# Families that only animate an image: image-to-video without text-to-video (task_kind "i2v")
I2V_ONLY_FAMILIES = {"stable-video-diffusion"}
# Families that only edit a clip: video-to-video without text-to-video (task_kind "v2v")
V2V_ONLY_FAMILIES = {"lucy-edit"}


def test_seven_families_with_their_ids():
    assert list(FAMILY_IDS) == EXPECTED_IDS == list(SPECS)


@pytest.mark.parametrize("family", EXPECTED_IDS)
def test_every_spec_is_complete(family):
    spec = get_spec(family)
    assert (TEXT_TO_VIDEO in spec.pipeline_classes) == (family not in V2V_ONLY_FAMILIES | I2V_ONLY_FAMILIES)
    assert (IMAGE_TO_VIDEO in spec.pipeline_classes) == (family in I2V_FAMILIES)
    only = "v2v" if family in V2V_ONLY_FAMILIES else "i2v" if family in I2V_ONLY_FAMILIES else None
    assert spec.task_kind == (only or ("hybrid" if family in I2V_FAMILIES else "t2v"))
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
def test_check_task_refuses_exactly_the_tasks_not_offered(family):
    spec = get_spec(family)
    for task in TASKS:
        if task in spec.tasks:
            assert spec.task_unsupported_reason(task) is None
            spec.check_task(task)
            continue
        reason = spec.task_unsupported_reason(task)
        assert reason and task in reason
        with pytest.raises(InvalidRequestError) as info:
            spec.check_task(task)
        assert info.value.field == "task" and info.value.allowed == spec.tasks
        assert reason in info.value.message and f"offers: {spec.tasks[0]}" in info.value.message


def test_output_frames_and_checkpoint_classes():
    hunyuan, wan, animatediff = get_spec("hunyuan-video"), get_spec("wan"), get_spec("animatediff")
    assert hunyuan.output_frames(IMAGE_TO_VIDEO, 13) == 9 and hunyuan.output_frames(TEXT_TO_VIDEO, 13) == 13
    assert wan.output_frames(IMAGE_TO_VIDEO, 13) == 13
    assert animatediff.checkpoint_classes == [
        "AnimateDiffPipeline",
        "AnimateDiffVideoToVideoPipeline",
        "AnimateDiffControlNetPipeline",
        "MotionAdapter",
    ]
    assert wan.checkpoint_classes == [
        "WanPipeline",
        "WanImageToVideoPipeline",
        "WanVideoToVideoPipeline",
        "WanVACEPipeline",  # reference-to-video, video-inpaint and control-to-video: one class, listed once
    ]


def test_static_facts_need_no_hardware():
    facts = static_model_facts(get_spec("ltx-video"))
    assert facts["id"] == "ltx-video" and facts["tasks"] == [TEXT_TO_VIDEO, IMAGE_TO_VIDEO, VIDEO_TO_VIDEO, KEYFRAMES]
    assert facts["frame_rule"] == "9..257, of the form 8k+1" and facts["defaults"]["fps"] == 24


def test_every_task_is_declared_once_with_its_inputs():
    assert TASKS[:2] == (TEXT_TO_VIDEO, IMAGE_TO_VIDEO) and len(set(TASKS)) == len(TASKS) == 8
    assert get_args(Task) == TASKS
    assert tuple(TASK_INPUTS) == TASKS
    assert TASK_INPUTS[VIDEO_TO_VIDEO] == ("prompt", "video")
    assert TASK_INPUTS[FIRST_LAST_FRAME] == ("prompt", "image", "last_image")
    assert TASK_INPUTS[VIDEO_INPAINT] == ("prompt", "video", "mask")
    assert all(inputs[0] == "prompt" for inputs in TASK_INPUTS.values())
    # The request inputs that exist as request fields are the ones the offered tasks may need.
    request_fields = set(VideoRequest.model_fields)
    for family in EXPECTED_IDS:
        for task in get_spec(family).tasks:
            assert set(TASK_INPUTS[task]) <= request_fields, (family, task)


@pytest.mark.parametrize("family", EXPECTED_IDS)
def test_required_inputs_come_from_task_inputs(family):
    spec = get_spec(family)
    facts = static_model_facts(spec)
    assert facts["tasks"] == [t for t in TASKS if t in spec.pipeline_classes]
    assert facts["required_inputs"] == {t: list(TASK_INPUTS[t]) for t in spec.tasks}
    for name in ("pipeline_classes", "unsupported_task_reasons", "default_model_ids", "frames_dropped"):
        assert set(getattr(spec, name)) <= set(TASKS), (name, set(getattr(spec, name)) - set(TASKS))
