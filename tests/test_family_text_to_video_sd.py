"""TextToVideoSD tiny model (t2v only), built offline, through the family adapter."""

from __future__ import annotations

import base64
import io
import json

import numpy as np
import pytest
import torch

from videogen.errors import InvalidRequestError
from videogen.video.adapters import get_adapter
from videogen.video.request import VideoRequest
from videogen.video.tiny import ensure_tiny_model

FAMILY = "text-to-video-sd"
TASK = "text-to-video"


def png_b64() -> str:
    from PIL import Image

    buf = io.BytesIO()
    Image.new("RGB", (32, 32), (200, 40, 40)).save(buf, format="PNG")
    return base64.b64encode(buf.getvalue()).decode("ascii")


@pytest.fixture(scope="module")
def loaded(tmp_path_factory):
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("VIDEOGEN_CACHE_DIR", str(tmp_path_factory.mktemp("videogen-cache")))
        model_dir = ensure_tiny_model(FAMILY, TASK)
        meta = json.loads((model_dir / "videogen.json").read_text())
        adapter = get_adapter(FAMILY)
        pipe = adapter.load(TASK, model_dir, torch.float32)
        pipe.set_progress_bar_config(disable=True)
        yield adapter, pipe, meta


def make_request(**fields) -> VideoRequest:
    fields.setdefault("task", TASK)
    return VideoRequest(family=FAMILY, prompt="a cat running on the beach", **fields)


def generate(loaded, **fields):
    adapter, pipe, meta = loaded
    prepared = adapter.prepare_inputs(make_request(**fields), pipe, meta)
    return prepared, adapter.extract_frames(pipe(**prepared.kwargs))


def test_generates_deterministic_tiny_video(loaded):
    prepared, frames = generate(loaded, seed=1)
    assert frames.dtype == np.uint8
    assert frames.shape == (prepared.expected_frames, 32, 32, 3) == (9, 32, 32, 3)
    assert prepared.adjustments == []
    _, again = generate(loaded, seed=1)
    np.testing.assert_array_equal(frames, again)
    _, other = generate(loaded, seed=2)
    assert not np.array_equal(frames, other)


def test_any_frame_count_and_sizes_of_multiples_of_8(loaded):
    prepared, frames = generate(loaded, seed=3, num_frames=10, height=38, width=48)
    moved = {a.field: (a.requested, a.used) for a in prepared.adjustments}
    assert moved == {"height": (38, 40)}
    assert frames.shape == (10, 40, 48, 3)


def test_too_many_frames_is_refused(loaded):
    adapter, _, meta = loaded
    with pytest.raises(InvalidRequestError) as err:
        adapter.resolve_params(make_request(num_frames=65), meta)
    assert err.value.field == "num_frames"


def test_image_to_video_is_not_offered(loaded):
    adapter, _, meta = loaded
    with pytest.raises(InvalidRequestError) as err:
        adapter.resolve_params(make_request(task="image-to-video", image=png_b64()), meta)
    assert err.value.field == "task"
    with pytest.raises(InvalidRequestError) as err:
        adapter.resolve_params(make_request(image=png_b64()), meta)
    assert err.value.field == "image"
