"""Shared machinery for the tiny-model family tests (``test_families.py`` and ``test_family_*.py`` here).

Each family's tiny pipeline is built into a private cache dir and loaded once per
test session (``load_tiny`` memoises), however many test modules ask for it.
What every family must do is checked once in ``test_families.py`` over ``CASES``;
a ``test_family_<name>.py`` file keeps only what is that family's own.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pytest
import testkit
import torch

from videogen.video.adapter import PreparedInputs, VideoPipelineAdapter
from videogen.video.families import get_adapter
from videogen.video.model_meta import ModelMeta
from videogen.video.request import VideoRequest
from videogen.video.tiny.cache import ensure_tiny_model

T2V = "text-to-video"
I2V = "image-to-video"
V2V = "video-to-video"
FLF = "first-last-frame"
R2V = "reference-to-video"
INPAINT = "video-inpaint"
CONTROL = "control-to-video"
VACE = (R2V, INPAINT, CONTROL)
KF = "keyframes"
ALL_TASKS = (T2V, I2V)
PROMPT = "a cat running on the beach"
SIZE = 32  # every tiny model generates 32x32 by default
REFERENCE_SEED = 1


@dataclass(frozen=True)
class FamilyCase:
    """What the generic checks expect of one family's tiny model."""

    tasks: tuple[str, ...]
    out_of_range_frames: tuple[int, ...]  # num_frames values refused with field "num_frames"
    frames: dict[str, int] = field(default_factory=lambda: {T2V: 9, I2V: 9})  # default request -> frames returned
    unused: tuple[str, ...] = ()  # request fields every job says it did not use (SVD has no text: its prompt)


FAMILIES: dict[str, FamilyCase] = {
    "text-to-video-sd": FamilyCase((T2V, V2V), (65,)),
    "animatediff": FamilyCase((T2V, V2V, CONTROL), (65,)),
    "wan": FamilyCase((T2V, I2V, V2V, FLF, *VACE), (500,)),
    "cogvideox": FamilyCase((T2V, I2V, V2V, CONTROL), (53,)),
    "ltx-video": FamilyCase((T2V, I2V, V2V, KF), (300,)),
    # image-to-video drops the 4 conditioning frames: 9 requested -> 5 returned
    # first-last-frame (FramePack) returns whole sections: test_framepack.py
    "hunyuan-video": FamilyCase((T2V, I2V, FLF), (5, 200), frames={T2V: 9, I2V: 5}),
    "sana-video": FamilyCase((T2V, I2V), (100,)),
    "hunyuan-video15": FamilyCase((T2V, I2V), (1, 245)),
    "ltx2": FamilyCase((T2V, I2V, KF), (1, 489)),
    "skyreels-v2": FamilyCase((T2V, I2V, V2V, FLF), (1, 1023)),
    # image-to-video needs 5 latent frames: the default 9 frames are moved to 17 (test_family_kandinsky5.py)
    "kandinsky5": FamilyCase((T2V, I2V), (1, 245), frames={T2V: 9, I2V: 17}),
    # 6k+1 frames: the tiny model's default 9 runs as 7 (test_family_mochi.py)
    "mochi": FamilyCase((T2V,), (1, 169), frames={T2V: 7}),
    # edits a clip (video-to-video only, no strength): test_family_lucy_edit.py
    "lucy-edit": FamilyCase((V2V,), (1, 125)),
    # animates an image without text: the prompt is not used, and said (test_family_stable_video_diffusion.py)
    "stable-video-diffusion": FamilyCase((I2V,), (1, 65), unused=("prompt",)),
    # whole chunks of 9 frames on the tiny model (33 on the real ones), the job's frames kept: test_family_helios.py
    "helios": FamilyCase((T2V, I2V, V2V), (1, 1023)),
    # Text2World, Image2World, Video2World (continues the clip, no strength): test_family_cosmos.py
    "cosmos": FamilyCase((T2V, I2V, V2V), (1, 97)),
    # image-to-video and first-last-frame on the InP pipeline (first-last-frame: test_family_easyanimate.py)
    "easyanimate": FamilyCase((T2V, I2V, FLF), (1, 53)),
}
# Video-to-video is checked in test_video_to_video.py (its input clip decides frames and size), first-last-frame
# in test_first_last_frame.py, Wan VACE's three tasks in test_vace.py (CogVideoX's and AnimateDiff's control-to-video in
# test_control_to_video.py), not here or through ``tiny_fixture``: the
# generic and per-family checks below run text- and image-to-video.
# LTX-Video's keyframes and video-to-video run on LTXConditionPipeline (the clip goes in as ``latents`` with
# ``denoise_strength``, not as ``video``): test_ltx_conditions.py.
OWN_TESTS = (V2V, FLF, *VACE, KF)
_OWN_V2V = ("ltx-video", "skyreels-v2", "lucy-edit", "helios", "cosmos")  # Helios and Cosmos continue the clip
# SkyReels-V2's video-to-video extends the clip (no strength): test_family_skyreels_v2.py
V2V_FAMILIES = [family for family, case in FAMILIES.items() if V2V in case.tasks and family not in _OWN_V2V]
CASES = [(family, task) for family, case in FAMILIES.items() for task in case.tasks if task not in OWN_TESTS]
I2V_CASES = [(family, task) for family, task in CASES if task == I2V]
T2V_CASES = [(family, task) for family, task in CASES if task == T2V]
UNOFFERED = [(family, task) for family, case in FAMILIES.items() for task in ALL_TASKS if task not in case.tasks]


def case_id(case) -> str:
    return "-".join(case)


def image_b64(size: tuple[int, int] = (40, 24)) -> str:
    """A base64 PNG of ``size`` (width, height); other sizes give other pixels."""
    width, height = size
    return testkit.png_b64(width, height, seed=width * 10_000 + height)


def moved(prepared: PreparedInputs) -> dict[str, tuple[int, int]]:
    """field -> (requested, used) for every value the adapter moved."""
    return {a.field: (a.requested, a.used) for a in prepared.adjustments}


@dataclass
class Tiny:
    """A family's tiny pipeline for one task, with its adapter and model metadata."""

    family: str
    task: str
    adapter: VideoPipelineAdapter
    pipe: object
    meta: ModelMeta
    model_dir: Path | None = None
    _reference: tuple[PreparedInputs, np.ndarray] | None = field(default=None, repr=False)

    def request(self, **fields) -> VideoRequest:
        """A request for this task; image-to-video gets an image unless one is given (``image=None`` for none)."""
        fields.setdefault("task", self.task)
        if fields["task"] == I2V:
            fields.setdefault("image", image_b64())
        return VideoRequest(family=self.family, prompt=PROMPT, **fields)

    def resolve(self, **fields) -> PreparedInputs:
        return self.adapter.resolve_params(self.request(**fields), self.meta)

    def prepare(self, **fields) -> PreparedInputs:
        return self.adapter.prepare_inputs(self.request(**fields), self.pipe, self.meta)

    def generate(self, **fields) -> tuple[PreparedInputs, np.ndarray]:
        prepared = self.prepare(**fields)
        return prepared, self.adapter.extract_frames(self.pipe(**prepared.kwargs))

    def reference(self) -> tuple[PreparedInputs, np.ndarray]:
        """``generate(seed=REFERENCE_SEED)`` with the default image, run once and shared by the tests that need it."""
        if self._reference is None:
            self._reference = self.generate(seed=REFERENCE_SEED)
        return self._reference


def assert_moves(
    tiny: Tiny,
    requested: dict[str, int],
    moved_to: dict[str, tuple[int, int]],
    *,
    generate: bool = False,
    frames_kwarg: str = "num_frames",
) -> None:
    """Request ``requested``: exactly ``moved_to`` (field -> (requested, used)) is moved, the pipeline gets the
    values used, and with ``generate`` the frames come out in that shape."""
    prepared, frames = tiny.generate(seed=3, **requested) if generate else (tiny.prepare(seed=0, **requested), None)
    assert moved(prepared) == moved_to
    used = {**requested, **{name: to for name, (_, to) in moved_to.items()}}
    kwarg = {"num_frames": frames_kwarg, "height": "height", "width": "width"}
    for name, value in used.items():
        assert prepared.kwargs[kwarg[name]] == value, name
    if generate:
        assert frames.shape == (used["num_frames"], used["height"], used["width"], 3)


_LOADED: dict[tuple[str, str, str | None], Tiny] = {}
_CACHE_DIR: list[Path] = []


def load_tiny(family: str, task: str, tmp_path_factory: pytest.TempPathFactory, variant: str | None = None) -> Tiny:
    """Build (offline) and load a family's tiny pipeline (``variant``: its named tiny model ``tiny:<variant>``), once
    per session, in a private cache dir."""
    key = (family, task, variant)
    if key not in _LOADED:
        if not _CACHE_DIR:
            _CACHE_DIR.append(tmp_path_factory.mktemp("videogen-family-cache"))
        cache_dir = _CACHE_DIR[0]
        with pytest.MonkeyPatch.context() as mp:
            mp.setenv("VIDEOGEN_CACHE_DIR", str(cache_dir))
            model_dir = ensure_tiny_model(family, task, variant)
            assert model_dir.is_relative_to(cache_dir)
            meta = ModelMeta.read(model_dir)
            adapter = get_adapter(family)
            pipe = adapter.load(task, model_dir, torch.float32)
        pipe.set_progress_bar_config(disable=True)
        _LOADED[key] = Tiny(family, task, adapter, pipe, meta, model_dir)
    return _LOADED[key]


def tiny_fixture(family: str, tasks: tuple[str, ...] | None = None):
    """A module fixture ``tiny`` giving the family's ``Tiny`` for each of ``tasks`` (default: all it offers)."""

    @pytest.fixture(scope="module", params=tasks or [t for t in FAMILIES[family].tasks if t not in OWN_TESTS])
    def tiny(request, tmp_path_factory) -> Tiny:
        return load_tiny(family, request.param, tmp_path_factory)

    return tiny
