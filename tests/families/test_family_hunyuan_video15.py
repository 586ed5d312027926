"""HunyuanVideo 1.5 tiny t2v/i2v: the job's guidance through the pipeline's guider, image-to-video's resolution
buckets, the offline chat template's crop, and what a checkpoint says beyond the family (its defaults, its resolution).

Generic checks (frames, seeds, cancel through the scheduler hook): test_families.py.
"""

from __future__ import annotations

import pytest
from family_support import I2V, T2V, image_b64, moved, tiny_fixture

from videogen.video.checkpoint_facts import directory_facts
from videogen.video.cost.shapes import cfg_passes
from videogen.video.families import get_adapter
from videogen.video.model_source import ModelSource
from videogen.video.request import VideoRequest

FAMILY = "hunyuan-video15"
tiny = tiny_fixture(FAMILY)


def _run(tiny, prepared):
    return tiny.adapter.extract_frames(tiny.adapter.run(tiny.pipe, prepared.kwargs, prepared.params))


@pytest.mark.parametrize("tiny", [T2V], indirect=True)
def test_the_jobs_guidance_runs_for_its_call_only(tiny, monkeypatch):
    """The pipeline takes no guidance_scale: the job's runs through a guider of its scale, CFG (a second transformer
    pass a step) only above 1 as the cost model prices it, and the model's own guider is back after."""
    from videogen.video.arch.catalog import get_preset

    calls: list[int] = []
    forward = tiny.pipe.transformer.forward
    monkeypatch.setattr(tiny.pipe.transformer, "forward", lambda *a, **k: calls.append(1) or forward(*a, **k))
    own = tiny.pipe.guider
    for scale in (1.0, 6.0):
        calls.clear()
        _run(tiny, tiny.prepare(seed=0, guidance_scale=scale, num_inference_steps=1))
        assert len(calls) == cfg_passes(get_preset("hunyuanvideo-1.5-480p-t2v"), scale) == (2 if scale > 1 else 1)
        assert tiny.pipe.guider is own and own.guidance_scale == 6.0


@pytest.mark.parametrize("tiny", [I2V], indirect=True)
def test_image_to_video_generates_the_bucket_nearest_the_requested_aspect(tiny):
    # 36x100 is 32x96 on the size grid; at target_size 32 diffusers' buckets give that aspect ratio 16x32
    prepared = tiny.prepare(seed=3, height=36, width=100, image=image_b64((100, 36)))
    assert moved(prepared) == {"height": (36, 16), "width": (100, 32)}
    assert prepared.kwargs["image"].size == (96, 32)  # the requested aspect ratio picks the bucket in the pipeline
    assert _run(tiny, prepared).shape == (9, 16, 32, 3)


def test_the_buckets_are_diffusers_own():
    from diffusers.pipelines.hunyuan_video1_5.image_processor import HunyuanVideo15ImageProcessor

    from videogen.video.families.hunyuan_video15.buckets import bucket

    processor = HunyuanVideo15ImageProcessor(vae_scale_factor=16)
    for target in (32, 640, 960):
        for height in range(16, 1921, 208):
            for width in range(16, 1921, 272):
                expected = tuple(processor.calculate_default_height_width(height, width, target))
                assert bucket(height, width, target) == expected, (height, width, target)


@pytest.mark.parametrize("tiny", [T2V], indirect=True)
def test_the_offline_chat_template_crops_exactly_the_system_turn(tiny):
    from videogen.video.families.hunyuan_video15.tokenizers import system_turn_tokens

    pipe = tiny.pipe
    assert system_turn_tokens(pipe.tokenizer, pipe.system_message) == pipe.prompt_template_encode_start_idx == 108


@pytest.mark.parametrize("tiny", [I2V], indirect=True)
def test_the_tiny_models_stated_facts_are_its_saved_configs(tiny):
    assert tiny.meta.family_facts == {"target_size": 32}
    assert directory_facts(tiny.model_dir, FAMILY, I2V)["family_facts"] == {"target_size": 32, "guidance_scale": 6.0}


@pytest.mark.parametrize(
    ("preset_id", "task", "steps", "guidance", "size"),
    [
        ("hunyuanvideo-1.5-480p-t2v-cfg-distilled", T2V, 50, 1.0, (480, 848)),
        ("hunyuanvideo-1.5-720p-i2v", I2V, 50, 6.0, (720, 1280)),  # a 720p checkpoint's default size is 720p
        ("hunyuanvideo-1.5-480p-i2v-step-distilled", I2V, 8, 1.0, (480, 848)),
    ],
)
def test_a_checkpoint_says_its_defaults_and_resolution(preset_id, task, steps, guidance, size):
    meta = ModelSource(family=FAMILY, value=f"arch:{preset_id}").model_meta(task)
    image = image_b64() if task == I2V else None
    request = VideoRequest(family=FAMILY, task=task, prompt="a fox", image=image)
    params = get_adapter(FAMILY).resolve_params(request, meta).params
    assert (params["num_inference_steps"], params["guidance_scale"]) == (steps, guidance)
    assert (params["height"], params["width"]) == size
    asked = VideoRequest(family=FAMILY, task=task, prompt="a fox", image=image, num_inference_steps=3, guidance_scale=4)
    assert get_adapter(FAMILY).resolve_params(asked, meta).params["num_inference_steps"] == 3  # the request's win
