"""CogVideoX tiny model: t2v (sin-cos positions) and i2v (rotary), built offline, through the family adapter."""

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

FAMILY = "cogvideox"
TASKS = ["text-to-video", "image-to-video"]


def png_b64(size=(40, 24)) -> str:
    from PIL import Image

    img = Image.fromarray(np.arange(size[0] * size[1] * 3, dtype=np.uint8).reshape(size[1], size[0], 3))
    buf = io.BytesIO()
    img.save(buf, format="PNG")
    return base64.b64encode(buf.getvalue()).decode("ascii")


@pytest.fixture(scope="module")
def cache_dir(tmp_path_factory):
    with pytest.MonkeyPatch.context() as mp:
        path = tmp_path_factory.mktemp("videogen-cache")
        mp.setenv("VIDEOGEN_CACHE_DIR", str(path))
        yield path


@pytest.fixture(scope="module", params=TASKS)
def loaded(request, cache_dir):
    task = request.param
    model_dir = ensure_tiny_model(FAMILY, task)
    assert str(model_dir).startswith(str(cache_dir))
    meta = json.loads((model_dir / "videogen.json").read_text())
    adapter = get_adapter(FAMILY)
    pipe = adapter.load(task, model_dir, torch.float32)
    pipe.set_progress_bar_config(disable=True)
    return task, adapter, pipe, meta


def make_request(task: str, **fields) -> VideoRequest:
    if task == "image-to-video":
        fields.setdefault("image", png_b64())
    return VideoRequest(family=FAMILY, task=task, prompt="a cat running on the beach", **fields)


def generate(loaded, **fields):
    task, adapter, pipe, meta = loaded
    prepared = adapter.prepare_inputs(make_request(task, **fields), pipe, meta)
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


def test_frames_and_size_moved_to_valid_values(loaded):
    prepared, frames = generate(loaded, seed=3, num_frames=10, height=40, width=64)
    moved = {a.field: (a.requested, a.used) for a in prepared.adjustments}
    assert moved["num_frames"] == (10, 9)
    assert moved["height"] == (40, 48)  # ties round up
    assert "width" not in moved
    assert frames.shape == (9, moved["height"][1], 64, 3)


def test_too_many_frames_is_refused(loaded):
    task, adapter, _, meta = loaded
    with pytest.raises(InvalidRequestError) as err:
        adapter.resolve_params(make_request(task, num_frames=53), meta)
    assert err.value.field == "num_frames"


def test_image_rules(loaded):
    task, adapter, _, meta = loaded
    if task == "image-to-video":
        with pytest.raises(InvalidRequestError) as err:
            adapter.resolve_params(make_request(task, image=None), meta)
    else:
        with pytest.raises(InvalidRequestError) as err:
            adapter.resolve_params(make_request(task, image=png_b64()), meta)
    assert err.value.field == "image"


@pytest.mark.parametrize("loaded", ["image-to-video"], indirect=True)
def test_image_to_video_follows_the_image(loaded):
    _, first = generate(loaded, seed=1)
    _, other = generate(loaded, seed=1, image=png_b64((24, 40)))
    assert not np.array_equal(first, other)


def test_prompt_length_follows_the_transformer(loaded):
    task, adapter, pipe, meta = loaded
    prepared = adapter.prepare_inputs(make_request(task, seed=0), pipe, meta)
    assert prepared.kwargs["max_sequence_length"] == pipe.transformer.config.max_text_seq_length == 16
