"""The generic adapter: request values settled from the spec and the model's metadata, without a real pipeline."""

from __future__ import annotations

import numpy as np
import pytest
import testkit

from videogen.errors import InvalidRequestError, UnsupportedTaskError
from videogen.video.adapter import VideoPipelineAdapter, diffusers_pipeline_class
from videogen.video.families import get_adapter, get_spec
from videogen.video.model_meta import ModelMeta
from videogen.video.request import VideoRequest


def _request(family="wan", **fields):
    return VideoRequest(family=family, prompt="a fox", **fields)


def test_without_metadata_the_spec_defaults_apply():
    params = get_adapter("wan").resolve_params(_request(seed=1), None).params
    defaults = get_spec("wan").defaults
    assert (params["num_frames"], params["height"], params["width"]) == (
        defaults.num_frames,
        defaults.height,
        defaults.width,
    )
    assert params["num_inference_steps"] == defaults.num_inference_steps and params["seed"] == 1


def test_model_metadata_defaults_beat_the_spec_and_tiny_allows_small_sizes():
    meta = ModelMeta.for_tiny("wan", "text-to-video")
    params = get_adapter("wan").resolve_params(_request(), meta).params
    assert (params["num_frames"], params["height"], params["width"], params["num_inference_steps"]) == (9, 32, 32, 2)
    with pytest.raises(InvalidRequestError) as info:  # a real model keeps the spec's minimum size
        get_adapter("wan").resolve_params(_request(height=32), ModelMeta())
    assert info.value.field == "height" and info.value.allowed == {"min": 64, "max": 1920}


def test_a_task_the_family_does_not_offer_is_refused_the_same_way_everywhere():
    adapter = get_adapter("animatediff")
    request = _request("animatediff", task="image-to-video", image=testkit.png_b64())
    with pytest.raises(InvalidRequestError) as from_params:
        adapter.resolve_params(request, None)
    with pytest.raises(InvalidRequestError) as from_class:
        adapter.pipeline_class("image-to-video")
    with pytest.raises(InvalidRequestError) as from_spec:
        adapter.spec.check_task("image-to-video")
    assert from_params.value.to_dict() == from_class.value.to_dict() == from_spec.value.to_dict()
    assert from_spec.value.field == "task" and from_spec.value.allowed == [
        "text-to-video",
        "video-to-video",
        "control-to-video",
    ]


def test_a_class_missing_from_diffusers_is_an_unsupported_task():
    spec = get_spec("wan").model_copy(update={"pipeline_classes": {"text-to-video": "WanFuturePipeline"}})
    with pytest.raises(UnsupportedTaskError, match="no WanFuturePipeline"):
        diffusers_pipeline_class(spec, "text-to-video")


class _FakePipe:
    """Accepts the generic kwargs and one tiny-only kwarg; nothing else."""

    def __call__(
        self,
        prompt,
        num_frames,
        height,
        width,
        num_inference_steps,
        guidance_scale,
        generator,
        output_type,
        max_sequence_length=None,
    ):
        raise AssertionError("not called")


def test_prepare_inputs_adds_the_model_call_kwargs_the_pipeline_accepts():
    meta = ModelMeta.for_tiny("wan", "text-to-video", call_kwargs={"max_sequence_length": 16, "unknown": 1})
    prepared = get_adapter("wan").prepare_inputs(_request(seed=2, negative_prompt="blur"), _FakePipe(), meta)
    assert prepared.kwargs["max_sequence_length"] == 16
    assert "unknown" not in prepared.kwargs and "negative_prompt" not in prepared.kwargs
    assert prepared.kwargs["num_frames"] == 9 and prepared.kwargs["output_type"] == "np"


def test_the_family_comes_from_the_spec():
    assert get_adapter("ltx-video").family == "ltx-video"
    assert not hasattr(VideoPipelineAdapter, "spec")  # only a family adapter has one


@pytest.mark.parametrize(
    "frames",
    [
        np.zeros((1, 4, 8, 8, 3), np.float32),  # batch of videos, channels last
        np.zeros((4, 3, 8, 8), np.float32),  # channels first
        [[np.zeros((8, 8, 3), np.float32)] * 4],  # a batch of one video as a list of frames
    ],
)
def test_extract_frames_gives_uint8_frames_channels_last(frames):
    out = get_adapter("wan").extract_frames(frames)
    assert out.shape == (4, 8, 8, 3) and out.dtype == np.uint8


def test_a_prompt_over_4000_characters_is_refused_naming_the_field_and_the_bound():
    from pydantic import ValidationError

    assert len(VideoRequest(family="wan", prompt="x" * 4000, negative_prompt="y" * 4000).prompt) == 4000
    for field in ("prompt", "negative_prompt"):
        with pytest.raises(ValidationError) as info:
            VideoRequest(**{"family": "wan", "prompt": "x", field: "x" * 4001})
        (error,) = info.value.errors()
        assert error["loc"] == (field,) and error["ctx"] == {"max_length": 4000}


def test_an_image_over_the_pixel_cap_is_refused_naming_the_field_and_the_cap():
    from videogen.video.request import MAX_IMAGE_PIXELS

    assert MAX_IMAGE_PIXELS == 4096 * 4096
    adapter = get_adapter("wan")
    at_cap = adapter.resolve_params(_request(task="image-to-video", image=testkit.blank_png_b64(4096, 4096)), None)
    assert at_cap.image.size == (4096, 4096)
    with pytest.raises(InvalidRequestError) as info:
        adapter.resolve_params(_request(task="image-to-video", image=testkit.blank_png_b64(4097, 4096)), None)
    assert info.value.field == "image" and info.value.allowed == f"<= {MAX_IMAGE_PIXELS} pixels"
    assert "4097x4096" in info.value.message
