"""What every video family's tiny model must do through its adapter, checked over all families x tasks.

Family-specific rules (frame/size rounding, extra pipeline arguments, loading paths)
live in ``test_family_<name>.py``; the table of families is in ``family_support``.
"""

from __future__ import annotations

import numpy as np
import pytest
from family_support import (
    CASES,
    FAMILIES,
    I2V,
    I2V_CASES,
    REFERENCE_SEED,
    SIZE,
    T2V,
    T2V_CASES,
    UNOFFERED,
    case_id,
    image_b64,
    load_tiny,
)

from videogen.errors import GenerationCancelled, InvalidRequestError
from videogen.video.families import get_adapter
from videogen.video.stage_clock import step_callback_kwargs


@pytest.fixture(scope="module", params=CASES, ids=case_id)
def tiny(request, tmp_path_factory):
    return load_tiny(*request.param, tmp_path_factory)


def test_generates_deterministic_frames(tiny):
    assert type(tiny.pipe).__name__ == tiny.adapter.spec.pipeline_classes[tiny.task]
    prepared, frames = tiny.reference()  # shared with test_image_to_video_follows_the_image
    assert [a.field for a in prepared.adjustments] == list(FAMILIES[tiny.family].unused)
    assert frames.dtype == np.uint8
    expected = FAMILIES[tiny.family].frames[tiny.task]
    assert frames.shape == (prepared.expected_frames, SIZE, SIZE, 3) == (expected, SIZE, SIZE, 3)
    _, again = tiny.generate(seed=REFERENCE_SEED)
    np.testing.assert_array_equal(frames, again)
    _, other = tiny.generate(seed=REFERENCE_SEED + 1)
    assert not np.array_equal(frames, other)


def _frame_cases():
    for family, task in CASES:
        for frames in FAMILIES[family].out_of_range_frames:
            yield pytest.param(family, task, frames, id=f"{family}-{task}-{frames}")


@pytest.mark.parametrize(("family", "task", "frames"), list(_frame_cases()))
def test_out_of_range_frames_are_refused(family, task, frames, tmp_path_factory):
    tiny = load_tiny(family, task, tmp_path_factory)
    with pytest.raises(InvalidRequestError) as err:
        tiny.resolve(num_frames=frames)
    assert err.value.field == "num_frames"


@pytest.mark.parametrize("tiny", I2V_CASES, ids=case_id, indirect=True)
def test_image_to_video_needs_an_image(tiny):
    with pytest.raises(InvalidRequestError) as err:
        tiny.resolve(image=None)
    assert err.value.field == "image"
    with pytest.raises(InvalidRequestError) as err:
        tiny.prepare(seed=0, image=None)
    assert err.value.field == "image"


@pytest.mark.parametrize("tiny", T2V_CASES, ids=case_id, indirect=True)
def test_text_to_video_refuses_an_image(tiny):
    with pytest.raises(InvalidRequestError) as err:
        tiny.resolve(image=image_b64())
    assert err.value.field == "image"


@pytest.mark.parametrize(("family", "task"), UNOFFERED, ids=case_id)
def test_task_not_offered_is_refused(family, task, tmp_path_factory):
    tiny = load_tiny(family, FAMILIES[family].tasks[0], tmp_path_factory)
    with pytest.raises(InvalidRequestError) as err:
        tiny.resolve(task=task)  # an image-to-video request carries an image
    assert err.value.field == "task"


def test_unoffered_tasks_are_exactly_the_t2v_only_families():
    assert UNOFFERED == [
        ("text-to-video-sd", I2V),
        ("animatediff", I2V),
        ("mochi", I2V),
        *[("lucy-edit", task) for task in (T2V, I2V)],  # it only edits a clip
        ("stable-video-diffusion", T2V),  # it only animates an image
    ]
    for family, case in FAMILIES.items():
        assert get_adapter(family).spec.tasks == list(case.tasks)


@pytest.mark.parametrize("tiny", I2V_CASES, ids=case_id, indirect=True)
def test_image_to_video_follows_the_image(tiny):
    _, first = tiny.reference()  # the default image_b64() is 40x24
    _, other = tiny.generate(seed=REFERENCE_SEED, image=image_b64((24, 40)))
    assert not np.array_equal(first, other)


def _count_decodes(tiny, monkeypatch) -> list[int]:
    """Record every VAE decode the pipeline makes (the step after denoising)."""
    calls: list[int] = []
    decode = tiny.pipe.vae.decode

    def counting_decode(*args, **kwargs):
        calls.append(1)
        return decode(*args, **kwargs)

    monkeypatch.setattr(tiny.pipe.vae, "decode", counting_decode)
    return calls


def test_cancel_raised_at_a_step_leaves_the_pipeline_before_decoding(tiny, monkeypatch):
    """The worker's cancel: GenerationCancelled raised from the step callback ends the call, for every pipeline
    (called as the worker calls it: the adapter's ``run``, which hooks the scheduler of a pipeline without a
    step-callback argument)."""
    decodes = _count_decodes(tiny, monkeypatch)
    steps: list[int] = []

    def cancel_at_first_step(step_index: int) -> None:
        steps.append(step_index)
        raise GenerationCancelled("cancelled")

    def run(prepared, on_step) -> None:
        tiny.adapter.run(tiny.pipe, {**prepared.kwargs, **step_callback_kwargs(tiny.pipe, on_step)}, prepared.params)

    prepared = tiny.prepare(seed=0, num_inference_steps=2)
    with pytest.raises(GenerationCancelled):
        run(prepared, cancel_at_first_step)
    assert steps == [0] and decodes == []

    # The same pipeline, not cancelled, does decode through vae.decode: the count above means something. (Two steps:
    # the fewest every family runs as asked; LTX-2's scheduler moves one to two.)
    run(tiny.prepare(seed=0, num_inference_steps=2), steps.append)
    assert steps == [0, 0, 1] and decodes
