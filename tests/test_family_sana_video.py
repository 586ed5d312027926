"""SANA-Video: tiny t2v/i2v pipelines end to end through the adapter, plus its input rules."""

from __future__ import annotations

import base64
import io
import json

import numpy as np
import pytest

torch = pytest.importorskip("torch")
pytest.importorskip("diffusers")

from videogen.errors import InvalidRequestError  # noqa: E402
from videogen.video.adapters import get_adapter  # noqa: E402
from videogen.video.adapters.base import MODEL_META_FILE  # noqa: E402
from videogen.video.request import VideoRequest  # noqa: E402
from videogen.video.tiny import ensure_tiny_model  # noqa: E402

FAMILY = "sana-video"
TASKS = ["text-to-video", "image-to-video"]


def _png_b64() -> str:
    from PIL import Image

    img = Image.new("RGB", (48, 40), (30, 160, 220))
    img.paste((250, 200, 10), (10, 10, 30, 30))
    buf = io.BytesIO()
    img.save(buf, format="PNG")
    return base64.b64encode(buf.getvalue()).decode("ascii")


@pytest.fixture(scope="module")
def loaded(tmp_path_factory):
    """task -> (adapter, pipe, model_meta), built once per module in a private cache dir."""
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("VIDEOGEN_CACHE_DIR", str(tmp_path_factory.mktemp("videogen-cache")))
        out = {}
        for task in TASKS:
            model_dir = ensure_tiny_model(FAMILY, task)
            adapter = get_adapter(FAMILY)
            pipe = adapter.load(task, model_dir, torch.float32)
            pipe.set_progress_bar_config(disable=True)
            meta = json.loads((model_dir / MODEL_META_FILE).read_text())
            out[task] = (adapter, pipe, meta)
        yield out


def _request(task: str, **kw) -> VideoRequest:
    if task == "image-to-video":
        kw.setdefault("image", _png_b64())
    return VideoRequest(family=FAMILY, task=task, prompt="a red car on the street", **kw)


def _generate(loaded, task: str, seed: int) -> np.ndarray:
    adapter, pipe, meta = loaded[task]
    prepared = adapter.prepare_inputs(_request(task, seed=seed), pipe, meta)
    frames = adapter.extract_frames(pipe(**prepared.kwargs))
    assert frames.dtype == np.uint8
    assert frames.shape == (prepared.expected_frames, 32, 32, 3)
    return frames


@pytest.mark.parametrize("task", TASKS)
def test_generates_deterministic_frames(loaded, task):
    _, pipe, _ = loaded[task]
    assert type(pipe).__name__ == get_adapter(FAMILY).spec.pipeline_classes[task]
    first = _generate(loaded, task, seed=7)
    assert first.shape[0] == 9
    np.testing.assert_array_equal(first, _generate(loaded, task, seed=7))
    assert not np.array_equal(first, _generate(loaded, task, seed=8))


@pytest.mark.parametrize("task", TASKS)
def test_frames_go_to_the_frames_argument(loaded, task):
    adapter, pipe, meta = loaded[task]
    prepared = adapter.prepare_inputs(_request(task, seed=0, num_frames=13), pipe, meta)
    assert prepared.kwargs["frames"] == 13 and "num_frames" not in prepared.kwargs
    assert prepared.expected_frames == 13
    # tiny-only settings come from the model's metadata, not the adapter
    assert prepared.kwargs["use_resolution_binning"] is False
    assert "use_resolution_binning" not in adapter.family_call_kwargs(task, pipe, prepared.params)


def test_frame_rule_adjusts_to_4k_plus_1(loaded):
    adapter, pipe, meta = loaded["text-to-video"]
    prepared = adapter.prepare_inputs(_request("text-to-video", seed=0, num_frames=10), pipe, meta)
    assert prepared.kwargs["frames"] == 9
    assert [(a.field, a.requested, a.used) for a in prepared.adjustments] == [("num_frames", 10, 9)]


def test_size_rounds_to_multiple_of_32(loaded):
    adapter, pipe, meta = loaded["text-to-video"]
    prepared = adapter.prepare_inputs(_request("text-to-video", seed=0, height=40, width=100), pipe, meta)
    assert (prepared.kwargs["height"], prepared.kwargs["width"]) == (32, 96)
    assert {a.field: a.used for a in prepared.adjustments} == {"height": 32, "width": 96}


def test_too_many_frames_is_refused(loaded):
    adapter, _, meta = loaded["text-to-video"]
    with pytest.raises(InvalidRequestError) as info:
        adapter.resolve_params(_request("text-to-video", num_frames=100), meta)
    assert info.value.field == "num_frames"


def test_image_to_video_needs_an_image(loaded):
    adapter, pipe, meta = loaded["image-to-video"]
    request = VideoRequest(family=FAMILY, task="image-to-video", prompt="a cat")
    with pytest.raises(InvalidRequestError) as info:
        adapter.prepare_inputs(request, pipe, meta)
    assert info.value.field == "image"
