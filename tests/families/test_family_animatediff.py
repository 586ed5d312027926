"""AnimateDiff tiny model (t2v only: SD UNet + motion adapter): its own rules and loading path.

Generic checks: test_families.py.
"""

from __future__ import annotations

import numpy as np
import pytest
import torch
from family_support import T2V, Tiny, assert_moves, tiny_fixture

from videogen.video.families import get_adapter

FAMILY = "animatediff"
tiny = tiny_fixture(FAMILY)


def test_any_frame_count_and_sizes_of_multiples_of_8(tiny):
    """Like TextToVideoSD, whose UNet it reuses."""
    assert_moves(tiny, {"num_frames": 10, "height": 38, "width": 48}, {"height": (38, 40)}, generate=True)


def test_motion_adapter_directory_combines_with_an_sd_base(tmp_path, monkeypatch):
    """The real default model is a lone MotionAdapter; the SD 1.5 base comes from an env var."""
    from diffusers import AnimateDiffPipeline, DDIMScheduler, PNDMScheduler, StableDiffusionPipeline, UNetMotionModel

    from videogen.errors import ModelUnavailableError
    from videogen.video.families.animatediff import BASE_ENV
    from videogen.video.families.animatediff import tiny as tiny_parts
    from videogen.video.model_meta import ModelMeta

    torch.manual_seed(0)
    tiny_parts.tiny_motion_adapter().save_pretrained(tmp_path / "adapter", safe_serialization=True)
    parts = {**tiny_parts.tiny_base_components(), "scheduler": PNDMScheduler(skip_prk_steps=True, steps_offset=1)}
    base = StableDiffusionPipeline(**parts, safety_checker=None, feature_extractor=None, requires_safety_checker=False)
    base.save_pretrained(tmp_path / "sd15", safe_serialization=True)
    assert not (tmp_path / "adapter" / "model_index.json").exists()

    adapter = get_adapter(FAMILY)
    monkeypatch.delenv(BASE_ENV, raising=False)
    with pytest.raises(ModelUnavailableError, match=BASE_ENV):
        adapter.load(T2V, tmp_path / "adapter", torch.float32)

    monkeypatch.setenv(BASE_ENV, str(tmp_path / "sd15"))
    pipe = adapter.load(T2V, tmp_path / "adapter", torch.float32)
    assert isinstance(pipe, AnimateDiffPipeline)
    assert isinstance(pipe.unet, UNetMotionModel)
    assert isinstance(pipe.scheduler, DDIMScheduler)
    pipe.set_progress_bar_config(disable=True)
    meta = ModelMeta.for_tiny(FAMILY, T2V)
    _, frames = Tiny(FAMILY, T2V, adapter, pipe, meta).generate(seed=1)
    assert frames.shape == (9, 32, 32, 3) and frames.dtype == np.uint8
