"""An ``arch:`` source runs through the same loader, adapter and worker as real weights.

The preset is a scaled-down copy of a real one (real layout, tiny widths) registered in
the catalog for the test: a full-size build needs a GPU.
"""

from __future__ import annotations

import pytest
from arch_support import scaled_down

from videogen.errors import ModelUnavailableError
from videogen.video.arch import catalog
from videogen.video.encode import read_mp4
from videogen.video.model_source import ModelSource
from videogen.video.request import VideoRequest
from videogen.video.worker import GenerationWorker

SCALED_ID = "wan2.1-t2v-1.3b~scaled"


@pytest.fixture()
def scaled_wan(monkeypatch):
    preset = scaled_down(catalog.get_preset("arch:wan2.1-t2v-1.3b"))
    monkeypatch.setitem(catalog.PRESETS, SCALED_ID, preset)
    return preset


def test_arch_source_generates_through_the_worker(scaled_wan, tmp_path):
    worker = GenerationWorker(models={"wan": f"arch:{SCALED_ID}"})
    request = VideoRequest(
        family="wan", prompt="a red fox", num_frames=5, height=64, width=64, num_inference_steps=2, seed=3, fps=8
    )
    result = worker.generate(request, tmp_path / "arch.mp4")
    frames, fps = read_mp4(tmp_path / "arch.mp4")
    assert frames.shape == (5, 64, 64, 3) and fps == 8
    assert result.model["source"] == "arch" and result.model["model"] == f"arch:{SCALED_ID}"
    assert result.model["pipeline_class"] == "WanPipeline"
    # weights are the preset's parameters at the policy dtype (float32 on the CPU): nothing read from disk
    assert result.model["weights_gb"] == pytest.approx(scaled_wan.total_params() * 4 / 2**30, abs=1e-4)
    assert "path" not in result.model  # no server path in what clients see


def test_arch_source_offers_only_the_presets_tasks(scaled_wan):
    source = ModelSource(family="wan", value=f"arch:{SCALED_ID}")
    assert source.kind == "arch"
    assert source.is_available("text-to-video") and not source.is_available("image-to-video")
    assert source.describe()["arch"]["total_params"] == scaled_wan.total_params()


def test_arch_preset_of_another_family_is_refused_naming_model():
    with pytest.raises(ModelUnavailableError) as info:
        ModelSource(family="cogvideox", value="arch:wan2.1-t2v-1.3b").arch_preset()
    assert info.value.field == "model"
    assert "arch:cogvideox-2b" in info.value.allowed


def test_unknown_arch_preset_lists_the_known_ones():
    with pytest.raises(ModelUnavailableError) as info:
        ModelSource(family="wan", value="arch:wan9-giant").arch_preset()
    assert "arch:wan2.1-t2v-14b" in info.value.allowed
