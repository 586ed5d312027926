"""Helios tiny: whole chunks generated and the job's frames kept, every chunk's steps counted, the transformer called
as the cost probe calls it, video-to-video continuing a clip, a pyramid checkpoint's steps, guidance and grid, and the
price of a job by its chunks.

The tiny model's chunks are 3 latent frames (9 frames): 13 frames are two chunks, the second cut to 4 frames. Generic
checks (frames, seeds, cancel, refusals of text- and image-to-video): test_families.py.
"""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np
import pytest
import torch
from family_support import PROMPT, T2V, V2V, load_tiny, moved

from videogen.errors import InvalidRequestError
from videogen.video.families import get_adapter
from videogen.video.families.helios import chunks, tiny
from videogen.video.families.helios.checkpoint import DISTILLED, STAGES
from videogen.video.families.helios.price import split_sequences
from videogen.video.families.helios.spec import PYRAMID
from videogen.video.model_meta import ModelMeta
from videogen.video.request import VideoRequest
from videogen.video.stage_clock import step_callback_kwargs
from videogen.video.video_to_video import clip_b64

FAMILY = "helios"


def _run(adapter, pipe, prepared, on_step=None) -> np.ndarray:
    """The worker's call: the adapter's ``run`` with a step callback."""
    kwargs = {**prepared.kwargs, **step_callback_kwargs(pipe, on_step or (lambda _: None))}
    return adapter.extract_frames(adapter.run(pipe, kwargs, prepared.params))


def test_whole_chunks_run_and_the_job_keeps_its_frames(tmp_path_factory):
    """13 frames: two chunks of 9 (every step of both counted), the first chunk's frames a one-chunk job's own, and the
    transformer called with the inputs the cost probe gives it."""
    from videogen.video.families.helios.cost_probe import denoiser_call

    t2v = load_tiny(FAMILY, T2V, tmp_path_factory)
    transformer = t2v.pipe.transformer
    seen: list[dict] = []
    sequences: set[int] = set()  # what a sequence-parallel split would cut: the self- and the cross-attention's
    hooks = [
        transformer.register_forward_pre_hook(
            lambda _m, _a, kwargs: seen.append({k: v.shape for k, v in kwargs.items() if torch.is_tensor(v)}),
            with_kwargs=True,
        ),
        *(
            attention.register_forward_pre_hook(lambda _m, args: sequences.add(args[0].shape[1]))
            for attention in (transformer.blocks[0].attn1, transformer.blocks[0].attn2)
        ),
    ]
    try:
        one_chunk = _run(t2v.adapter, t2v.pipe, t2v.prepare(seed=5, num_inference_steps=1))
        prepared = t2v.prepare(seed=5, num_inference_steps=1, num_frames=13)
        steps: list[int] = []
        frames = _run(t2v.adapter, t2v.pipe, prepared, steps.append)
    finally:
        for hook in hooks:
            hook.remove()
    assert prepared.params["denoising_blocks"] == [1, 1] and prepared.params["denoising_steps"] == 2 == len(steps)
    assert prepared.params[chunks.PARAMS_KEY]["count"] == 2 and prepared.adjustments == []
    assert one_chunk.shape == (9, 32, 32, 3) and frames.shape == (13, 32, 32, 3)  # two chunks decode 18
    np.testing.assert_array_equal(frames[:9], one_chunk)  # autoregressive: the second chunk only follows the first
    # one forward per CFG branch per step: the chunk beside its packed history, as the cost model probes it
    assert len(seen) == 2 * 3
    _, probed = denoiser_call(
        t2v.pipe.transformer, batch=1, frames=3, height=4, width=4, text_tokens=seen[0]["encoder_hidden_states"][1]
    )
    assert [tuple(t.shape) for t in probed] == [tuple(shape) for shape in seen[0].values()]
    # the chunk's 3 x 2 x 2 tokens, and beside them the history's 8 + 1 + 4: what the estimate says a split cuts
    settled = chunks.Chunks.from_params(prepared.params)
    assert sorted(sequences) == split_sequences(settled, SimpleNamespace(height=4, width=4)) == [12, 25]


def test_video_to_video_continues_the_clip(tmp_path_factory):
    v2v = load_tiny(FAMILY, V2V, tmp_path_factory)
    rng = np.random.default_rng(0)
    clips = [clip_b64(rng.integers(0, 255, (9, 32, 32, 3), dtype=np.uint8), 24) for _ in range(2)]
    outs = []
    for clip in clips:
        prepared = v2v.adapter.prepare_inputs(
            v2v.request(video=clip, seed=0, num_inference_steps=1), v2v.pipe, v2v.meta
        )
        assert len(prepared.kwargs["video"]) == 9 and prepared.adjustments == []  # the clip at its own length
        assert prepared.params[chunks.PARAMS_KEY]["clip_frames"] == 9
        outs.append(_run(v2v.adapter, v2v.pipe, prepared))
    # the new frames (the model's default 9 without num_frames), following the clip: another clip, another video
    assert outs[0].shape == outs[1].shape == (9, 32, 32, 3) and not np.array_equal(*outs)
    # shorter than a chunk: its last frame repeated to fill one, and said
    short = clip_b64(rng.integers(0, 255, (3, 32, 32, 3), dtype=np.uint8), 24)
    prepared = v2v.adapter.resolve_params(v2v.request(video=short, num_frames=17), v2v.meta)
    assert len(prepared.video) == 9 and moved(prepared) == {"video.frames": (3, 9)}
    assert prepared.params["num_frames"] == 17 and prepared.params[chunks.PARAMS_KEY]["count"] == 2
    with pytest.raises(InvalidRequestError) as err:  # continuing keeps the clip whole: no strength
        v2v.adapter.resolve_params(v2v.request(video=clips[0], strength=0.5), v2v.meta)
    assert err.value.field == "strength"


def _pyramid_meta(stages: int, distilled: bool, **fields) -> ModelMeta:
    """What a pyramid checkpoint's source says (checkpoint.checkpoint_facts)."""
    return ModelMeta(pipeline_class=PYRAMID, family_facts={STAGES: stages, DISTILLED: distilled}, **fields)


def test_a_pyramid_checkpoint_settles_its_stages_guidance_and_grid():
    adapter = get_adapter(FAMILY)

    def resolve(meta, **fields):
        return adapter.resolve_params(VideoRequest(family=FAMILY, prompt=PROMPT, seed=1, **fields), meta)

    distilled, mid = _pyramid_meta(3, True), _pyramid_meta(3, False)
    prepared = resolve(distilled)  # the docs' call: [2, 2, 2] at guidance 1.0, the first chunk amplified
    assert (prepared.params["num_inference_steps"], prepared.params["guidance_scale"]) == (6, 1.0)
    assert prepared.params[chunks.PARAMS_KEY]["stage_steps"] == [2, 2, 2]
    assert prepared.params["denoising_blocks"] == [12, 6, 6] and prepared.adjustments == []  # 97 frames: 3 chunks
    assert resolve(mid).params[chunks.PARAMS_KEY]["stage_steps"] == [20, 20, 20]
    prepared = resolve(distilled, guidance_scale=4.0, negative_prompt="blur", num_inference_steps=2, height=480)
    changes = moved(prepared)
    assert changes.pop("guidance_scale") == (4.0, 1.0) and changes.pop("negative_prompt") == ("blur", None)
    assert changes.pop("num_inference_steps") == (2, 3) and changes.pop("height") == (480, 512) and changes == {}
    reasons = {a.field: a.reason for a in prepared.adjustments}
    assert "halves the latents 2 times" in reasons["height"] and "multiples of 64" in reasons["height"]
    assert resolve(mid, num_inference_steps=7).params[chunks.PARAMS_KEY]["stage_steps"] == [3, 2, 2]
    with pytest.raises(InvalidRequestError) as err:  # a base checkpoint takes 16s; the pyramid's grid starts at 64
        resolve(distilled, width=48)
    assert err.value.field == "width"


def test_a_pyramid_runs_its_stages_and_amplified_first_chunk_through_the_adapter():
    """A one-stage step-distilled pyramid in miniature: the pipeline's own steps are the ones the job counts (CPU LAPACK
    refuses the block-noise covariance every later stage factors: vllm-project/vllm-omni#7224)."""
    from diffusers import HeliosDMDScheduler, HeliosPyramidPipeline

    from videogen.video.families.wan.tiny import _vae
    from videogen.video.tiny.text_encoders import t5_encoder
    from videogen.video.tiny.tokenizers import t5_tokenizer

    torch.manual_seed(0)
    pipe = HeliosPyramidPipeline(
        vae=_vae(),
        transformer=tiny.transformer(),
        text_encoder=t5_encoder(umt5=True),
        tokenizer=t5_tokenizer(),
        scheduler=HeliosDMDScheduler(stages=1, stage_range=[0, 1]),
        is_distilled=True,
    )
    pipe.set_progress_bar_config(disable=True)
    adapter = get_adapter(FAMILY)
    meta = _pyramid_meta(1, True, call_kwargs=dict(tiny.TINY_CALL_KWARGS[T2V]), tiny=True)
    request = VideoRequest(
        family=FAMILY, prompt=PROMPT, seed=2, num_frames=13, height=64, width=64, num_inference_steps=2
    )
    prepared = adapter.prepare_inputs(request, pipe, meta)
    assert prepared.kwargs["pyramid_num_inference_steps_list"] == [2] and prepared.kwargs["is_amplify_first_chunk"]
    assert prepared.params["denoising_blocks"] == [4, 2] and prepared.params["guidance_scale"] == 1.0
    steps: list[int] = []
    frames = _run(adapter, pipe, prepared, steps.append)
    assert len(steps) == prepared.params["denoising_steps"] == 6 and frames.shape == (13, 64, 64, 3)


def test_a_job_is_priced_by_its_chunks(monkeypatch):
    """The ingress's estimate of the published architectures (their DiT cut to two blocks, UMT5 to one and the VAE's
    widths to 8, registered as presets of their own: the law's form is per block, test_cost_model.py checks it at
    full depth)."""
    from videogen.video.admission import check_split
    from videogen.video.arch import catalog
    from videogen.video.cost.estimate import denoise_step_flops
    from videogen.video.job_cost import estimate_job
    from videogen.video.model_source import ModelSource
    from videogen.video.parallel import ParallelConfig

    cut = {"transformer": {"num_layers": 2}, "text_encoder": {"num_layers": 1}, "vae": {"base_dim": 8}}
    for name in ("base", "distilled"):
        preset = catalog.get_preset(f"helios-{name}").scaled(**cut)
        monkeypatch.setitem(catalog.PRESETS, preset.id, preset)

    def price(name: str, parallel: ParallelConfig | None = None, **fields):
        source = ModelSource(family=FAMILY, value=f"arch:helios-{name}~scaled")
        request = VideoRequest(family=FAMILY, prompt=PROMPT, seed=1, **fields)
        params = get_adapter(FAMILY).resolve_params(request, source.model_meta(T2V)).params
        return estimate_job(source, T2V, params, "bfloat16", parallel=parallel)

    def step(name: str, scale: int, guidance: float) -> float:  # one chunk's step at 1/scale of each side
        preset = catalog.PRESETS[f"helios-{name}~scaled"]
        return denoise_step_flops(preset, T2V, 33, 384 // scale, 640 // scale, guidance)

    (base, cost), (one, one_cost) = price("base"), price("base", num_frames=33)  # three chunks of 33, and one
    assert base.flops["denoise_total"] == pytest.approx(150 * step("base", 1, 5.0), rel=1e-9)
    assert base.flops["vae_decode"] == pytest.approx(3 * one.flops["vae_decode"], rel=1e-9)
    assert base.latent["frames"] == one.latent["frames"] == 9  # a chunk's latents, and its peaks
    # the last decode beside the two chunks decoded before it, bf16 pixels
    held = cost.memory[0].stages["vae_decode"] - one_cost.memory[0].stages["vae_decode"]
    assert held == 2 * 33 * 3 * 384 * 640 * 2
    assert cost.memory[0].stages["denoise"] == one_cost.memory[0].stages["denoise"]
    # step-distilled: stages at 1/4, 1/2 and the whole size, two steps each, one pass, the first chunk's doubled
    distilled, _ = price("distilled")
    per_chunk = sum(2 * step("distilled", scale, 1.0) for scale in (4, 2, 1))
    assert distilled.flops["denoise_total"] == pytest.approx(4 * per_chunk, rel=1e-9)
    assert distilled.flops["per_step"] == pytest.approx(4 * per_chunk / 24, rel=1e-9)
    # over two sequence ranks every count a split cuts must divide (each stage's chunk, alone and beside the history):
    # at 320x320 the first stage's chunk is 9 x 5 x 5 patches, refused at submission rather than failing in the call
    split, _ = price("distilled", ParallelConfig(ulysses=2), height=320, width=320)
    assert split.parallel.video_tokens == [225, 900, 1225, 1900, 3600, 4600]
    with pytest.raises(InvalidRequestError) as err:
        check_split(split)
    assert err.value.field == "num_frames"
