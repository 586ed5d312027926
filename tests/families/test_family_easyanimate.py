"""EasyAnimate tiny t2v/i2v/first-last-frame: what is the family's own. The InP pipeline gets the kept frames as a
clip and a mask (diffusers' ``get_image_to_video_latent``), and they reach the transformer; an InP checkpoint runs
text-to-video with nothing kept, a text-to-video checkpoint is refused for image-to-video (diffusers 0.42 fails on it);
guidance is one batch of two over all 256 text tokens, against the empty prompt when none is given; the cost probe
calls the InP DiT as the pipeline does; the Magvit VAE's decode law.

Generic checks (frames, seeds, image handling, cancel, refusals): test_families.py and test_first_last_frame.py; the
presets' meta counts against the published 7B and 12B and FLOPs per step at the default size:
tests/unit/test_arch_presets.py and tests/unit/test_cost_model.py.
"""

from __future__ import annotations

import numpy as np
import pytest
import torch
from family_support import FLF, I2V, PROMPT, T2V, image_b64, load_tiny
from torch.nn.attention import SDPBackend, sdpa_kernel
from torch.utils.flop_counter import FlopCounterMode

from videogen.video.arch.catalog import get_preset
from videogen.video.cost import calibrate, probes
from videogen.video.cost.measure import measure, module_tensors
from videogen.video.cost.meta_models import meta_module
from videogen.video.cost.shapes import cfg_passes
from videogen.video.cost.vae_tiles import decode_tiles
from videogen.video.families.easyanimate.cost import TEXT_TOKENS
from videogen.video.families.easyanimate.cost_probe import denoiser_call
from videogen.video.request import VideoRequest

FAMILY = "easyanimate"
LAST = image_b64((48, 32))


def _calls(pipe, monkeypatch) -> list[dict]:
    """Every transformer call from now on: its latents and keyword tensors (cloned)."""
    calls: list[dict] = []
    forward = pipe.transformer.forward

    def recording(*args, **kwargs):
        seen = {k: v.clone() for k, v in kwargs.items() if torch.is_tensor(v)}
        calls.append({**seen, "hidden_states": (args[0] if args else kwargs["hidden_states"]).clone()})
        return forward(*args, **kwargs)

    monkeypatch.setattr(pipe.transformer, "forward", recording)
    return calls


def _run(tiny, **fields):
    prepared = tiny.prepare(**{"seed": 3, "num_inference_steps": 1, "guidance_scale": 1.0, **fields})
    return prepared, tiny.adapter.extract_frames(tiny.adapter.run(tiny.pipe, prepared.kwargs, prepared.params))


def test_the_kept_frames_reach_the_transformer(tmp_path_factory, monkeypatch):
    """The clip and mask: the first image everywhere, 0 (kept) on frame 0 and, for first-last-frame, on the last frame,
    which holds the last image. In the latents the mask marks the first latent frame only: diffusers (as EasyAnimate)
    resizes frames 1..F-1 trilinearly, which samples between frames and misses the last; the last image reaches the
    transformer as the masked clip's last latent frame, the one latent frame where the two tasks differ."""
    from videogen.video.request import decode_image

    inpaint = {}
    for task in (I2V, FLF):
        tiny = load_tiny(FAMILY, task, tmp_path_factory)
        calls = _calls(tiny.pipe, monkeypatch)
        prepared, frames = _run(tiny, image=image_b64(), last_image=LAST if task == FLF else None)
        video, mask = prepared.kwargs["video"], prepared.kwargs["mask_video"]
        kept = [0, 8] if task == FLF else [0]
        assert video.shape == (1, 3, 9, 32, 32) and mask.shape == (1, 1, 9, 32, 32) and frames.shape == (9, 32, 32, 3)
        assert torch.nonzero(mask[0, 0, :, 0, 0] == 0).flatten().tolist() == kept and mask.max() == 255
        if task == FLF:  # the last image, at the job's size, in 0..1
            last = np.asarray(decode_image(LAST, field="last_image").resize((32, 32))) / 255
            np.testing.assert_allclose(video[0, :, -1].permute(1, 2, 0).numpy(), last, atol=1e-6)
        ((call,),) = [calls]  # one step, no guidance: one call
        assert call["hidden_states"].shape == (1, 16, 3, 4, 4) and call["inpaint_latents"].shape == (1, 17, 3, 4, 4)
        inpaint[task] = call["inpaint_latents"][0]
    scale = load_tiny(FAMILY, I2V, tmp_path_factory).pipe.vae.config.scaling_factor
    for latents in inpaint.values():
        assert latents[0, :, 0, 0].tolist() == pytest.approx([scale, 0, 0])  # the mask: the first latent frame kept
    i2v, flf = inpaint[I2V][1:], inpaint[FLF][1:]
    assert torch.equal(i2v[:, :2], flf[:, :2]) and not torch.allclose(i2v[:, 2], flf[:, 2], atol=1e-3)


def test_an_inp_checkpoint_runs_text_to_video_and_a_t2v_checkpoint_is_refused_image_to_video(
    tmp_path_factory, monkeypatch
):
    t2v, inp = load_tiny(FAMILY, T2V, tmp_path_factory), load_tiny(FAMILY, I2V, tmp_path_factory)
    # the InP checkpoint runs text-to-video through its own pipeline (EasyAnimate's predict_t2v.py does), nothing kept
    assert inp.adapter.checkpoint_pipeline_class(T2V, inp.model_dir).__name__ == "EasyAnimateInpaintPipeline"
    calls = _calls(inp.pipe, monkeypatch)
    job = VideoRequest(family=FAMILY, prompt=PROMPT, seed=3, num_inference_steps=1, guidance_scale=1.0)
    prepared = inp.adapter.prepare_inputs(job, inp.pipe, t2v.meta)
    assert "video" not in prepared.kwargs and "mask_video" not in prepared.kwargs
    frames = inp.adapter.extract_frames(inp.adapter.run(inp.pipe, prepared.kwargs, prepared.params))
    assert frames.shape == (9, 32, 32, 3) and not calls[0]["inpaint_latents"].any()
    # a text-to-video checkpoint's DiT takes the noise alone: refused for image-to-video before anything loads ...
    assert t2v.adapter.model_unavailable_reason(T2V, t2v.model_dir) is None
    assert inp.adapter.model_unavailable_reason(I2V, inp.model_dir) is None
    for task in (I2V, FLF):
        reason = t2v.adapter.model_unavailable_reason(task, t2v.model_dir)
        assert "text-to-video EasyAnimate checkpoint" in reason and "InP" in reason and task in reason
    # ... because diffusers 0.42's InP pipeline blends the image back in there with a malformed call (diffusers#12646)
    from diffusers import EasyAnimateInpaintPipeline

    mixed = EasyAnimateInpaintPipeline(**t2v.pipe.components)
    mixed.set_progress_bar_config(disable=True)
    with pytest.raises(TypeError):
        mixed(**{**inp.prepare(seed=0, image=image_b64(), num_inference_steps=2).kwargs, "output_type": "latent"})


def test_guidance_is_one_batch_of_two_over_every_text_token(tmp_path_factory, monkeypatch):
    """Above 1.0: one call a step at batch 2 (priced as two passes), the negative prompt the empty one unless given;
    the transformer always gets all 256 padded text tokens (the cost model's)."""
    tiny = load_tiny(FAMILY, T2V, tmp_path_factory)
    calls = _calls(tiny.pipe, monkeypatch)
    preset = get_preset("easyanimate-v5.1-7b-t2v")
    for scale, negative, batch in ((6.0, None, 2), (6.0, "blurry", 2), (1.0, None, 1)):
        calls.clear()
        prepared, _ = _run(tiny, guidance_scale=scale, negative_prompt=negative, num_inference_steps=2)
        assert prepared.kwargs["negative_prompt"] == (negative or "")
        assert [c["hidden_states"].shape[0] for c in calls] == [batch] * 2 == [cfg_passes(preset, scale)] * 2
        assert {c["encoder_hidden_states"].shape[1] for c in calls} == {TEXT_TOKENS}
    ids = tiny.pipe.tokenizer.apply_chat_template(
        [{"role": "user", "content": [{"type": "text", "text": PROMPT}]}], add_generation_prompt=True
    )
    assert PROMPT in tiny.pipe.tokenizer.decode(ids) and tiny.pipe.tokenizer.unk_token_id not in ids


def test_the_cost_probe_calls_the_inp_transformer_as_the_pipeline_does(tmp_path_factory, monkeypatch):
    """FLOPs of the pipeline's own call (the noise, the mask and the kept frames' latents, the text) equal the probe's
    on the meta device at the same shape: the probe is what the cost model counts on the real-size DiT."""
    tiny = load_tiny(FAMILY, I2V, tmp_path_factory)
    transformer, flops = tiny.pipe.transformer, []
    forward = transformer.forward

    def counted(*args, **kwargs):
        # the math attention path: FlopCounterMode does not count the CPU's fused SDPA kernel
        with sdpa_kernel(SDPBackend.MATH), FlopCounterMode(display=False) as counter:
            out = forward(*args, **kwargs)
        flops.append(counter.get_total_flops())
        return out

    monkeypatch.setattr(transformer, "forward", counted)
    _run(tiny, image=image_b64(), num_frames=13, height=48, width=32)
    monkeypatch.setattr(transformer, "forward", forward)
    meta = type(transformer).from_config(transformer.config).to("meta")
    call, _ = denoiser_call(meta, batch=1, frames=4, height=6, width=4, text_tokens=TEXT_TOKENS)
    with torch.no_grad(), FlopCounterMode(display=False) as counter:
        call()
    assert flops == [counter.get_total_flops()] and flops[0] > 0


def test_the_magvit_decode_law_and_its_tiles():
    """FLOPs and peak of a plain decode off the calibration points (2 and 5 latent frames at 384x672) as the VAE's own;
    a tiled decode is the sum of its tiles' plain decodes."""
    preset = get_preset("easyanimate-v5.1-7b-t2v")
    vae = meta_module(preset.component("vae"))
    model = calibrate.vae_decode_model(preset)
    f, h, w = 4, 30, 40
    call, inputs = probes.vae_decode_call(vae, frames=f, height=h, width=w)
    own, point = measure(call, exclude=[*module_tensors(vae), *inputs]), calibrate.vae_variables(f, h * w)
    assert model.flops(**point) == pytest.approx(own.flops, rel=1e-6)
    assert model.peak(**point) == pytest.approx(own.peak_bytes, rel=0.01)
    f, h, w = 2, 72, 72  # 576 px: 2 x 2 tiles of 512 px at a 448 px stride
    tiles = decode_tiles(vae, FAMILY, f, h, w, tiling=True, slicing=False)
    assert len(tiles) == 4
    z = torch.empty(1, 16, f, h, w, device="meta", dtype=torch.bfloat16)
    vae.enable_tiling()
    try:
        tiled = measure(lambda: vae.decode(z, return_dict=False), exclude=[*module_tensors(vae), z])
    finally:
        vae.disable_tiling()
    planned = sum(model.flops(**calibrate.vae_variables(t.frames, t.height * t.width)) for t in tiles)
    assert planned == pytest.approx(tiled.flops, rel=1e-6)
