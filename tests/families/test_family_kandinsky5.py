"""Kandinsky 5 tiny t2v/i2v: what is the family's own. Image-to-video needs 17 frames (5 latent frames; the pipeline's
first-frame renormalisation turns fewer into NaN); guidance above 1 is a second transformer call a step, as priced;
the template crop keeps the whole prompt; the cost probe calls the DiT as the pipeline does (FLOPs of the real call);
the Lite and Pro DiTs are the published sizes.

Generic checks (frames, seeds, image handling, cancel, refusals): test_families.py; every preset's meta counts and
FLOPs per step at the default size: tests/unit/test_arch_presets.py and tests/unit/test_cost_model.py.
"""

from __future__ import annotations

import numpy as np
import pytest
import torch
from family_support import I2V, PROMPT, T2V, assert_moves, tiny_fixture
from torch.nn.attention import SDPBackend, sdpa_kernel
from torch.utils.flop_counter import FlopCounterMode

from videogen.errors import InvalidRequestError
from videogen.video.arch.catalog import get_preset
from videogen.video.cost.shapes import cfg_passes, cost_facts
from videogen.video.families.kandinsky5.cost_probe import denoiser_call
from videogen.video.families.kandinsky5.tokenizers import prefix_tokens, template_and_crop

FAMILY = "kandinsky5"
tiny = tiny_fixture(FAMILY)


def _count_transformer(tiny, monkeypatch) -> list[tuple[int, ...]]:
    """The latents' shape of every transformer call the pipeline makes from now on."""
    calls: list[tuple[int, ...]] = []
    forward = tiny.pipe.transformer.forward
    monkeypatch.setattr(
        tiny.pipe.transformer,
        "forward",
        lambda *a, **k: calls.append(tuple(k["hidden_states"].shape)) or forward(*a, **k),
    )
    return calls


@pytest.mark.parametrize("tiny", [I2V], indirect=True)
def test_image_to_video_needs_five_latent_frames(tiny):
    """Fewer than 5 latent frames leave the pipeline's first-frame renormalisation an empty reference: NaN latents,
    so 13 frames (4 latent frames) are refused naming num_frames, while a request without a length runs 17."""
    from PIL import Image

    with pytest.warns(UserWarning, match="degrees of freedom"):  # the std of the empty reference
        short = tiny.pipe(
            image=Image.new("RGB", (32, 32), (200, 90, 40)),
            prompt=PROMPT,
            num_frames=13,
            height=32,
            width=32,
            num_inference_steps=1,
            output_type="np",
            generator=torch.Generator().manual_seed(0),
        )
    assert np.isnan(np.asarray(short.frames)).all()
    with pytest.raises(InvalidRequestError) as err:
        tiny.resolve(num_frames=13)
    assert err.value.field == "num_frames" and err.value.allowed["min"] == 17
    assert tiny.resolve().params["num_frames"] == 17 and tiny.resolve(num_frames=21).params["num_frames"] == 21
    limits = tiny.adapter.spec.frame_rule_for(I2V)
    assert (limits.min_frames, tiny.adapter.spec.frame_rule_for(T2V).min_frames) == (17, 5)


@pytest.mark.parametrize("tiny", [T2V], indirect=True)
def test_text_to_video_decodes_the_requested_frames_and_size(tiny):
    assert_moves(
        tiny,
        {"num_frames": 14, "height": 40, "width": 56},
        {"num_frames": (14, 13), "height": (40, 48), "width": (56, 64)},
        generate=True,
    )


@pytest.mark.parametrize("tiny", [T2V], indirect=True)  # image-to-video's loop is the same
def test_guidance_above_one_is_a_second_transformer_call_a_step(tiny, monkeypatch):
    calls = _count_transformer(tiny, monkeypatch)
    preset = get_preset("kandinsky5-lite-t2v-5s")
    for scale in (5.0, 1.0):
        calls.clear()
        prepared = tiny.prepare(seed=0, guidance_scale=scale, num_inference_steps=2)
        tiny.adapter.run(tiny.pipe, prepared.kwargs, prepared.params)
        # channels-last latents: the noise, the first frame's latents and their mask (visual_cond: 16 + 16 + 1)
        assert set(calls) == {(1, 3, 4, 4, 33)}  # 9 frames: 3 latent frames of 4 x 4
        assert len(calls) == 2 * cfg_passes(preset, scale)
    assert cost_facts(preset).cfg == "sequential"


@pytest.mark.parametrize("tiny", [T2V], indirect=True)
def test_the_template_crop_keeps_the_whole_prompt(tiny):
    template, crop = template_and_crop()
    assert prefix_tokens(tiny.pipe.tokenizer) >= crop == 128
    embeds, _, cu_seqlens = tiny.pipe.encode_prompt(PROMPT, device="cpu")
    ids = tiny.pipe.tokenizer(template.format(PROMPT))["input_ids"]
    kept = tiny.pipe.tokenizer.decode(ids[crop:])
    assert PROMPT in kept and embeds.shape[1] == int(cu_seqlens[-1]) == len(ids) - crop


@pytest.mark.parametrize("tiny", [T2V], indirect=True)
def test_the_cost_probe_calls_the_transformer_as_the_pipeline_does(tiny, monkeypatch):
    """FLOPs of the pipeline's own transformer call (its latents, text and RoPE positions) equal the probe's at the
    same shape: the probe is what the cost model counts on the real-size DiT."""
    seen: list[tuple[dict, int]] = []
    transformer = tiny.pipe.transformer
    forward = transformer.forward

    def counted(*args, **kwargs):
        # the math attention path: FlopCounterMode does not count the CPU's fused SDPA kernel
        with sdpa_kernel(SDPBackend.MATH), FlopCounterMode(display=False) as counter:
            out = forward(*args, **kwargs)
        seen.append((kwargs, counter.get_total_flops()))
        return out

    monkeypatch.setattr(transformer, "forward", counted)
    prepared = tiny.prepare(seed=0, guidance_scale=1.0, num_inference_steps=1, num_frames=13, height=48, width=32)
    tiny.adapter.run(tiny.pipe, prepared.kwargs, prepared.params)
    ((kwargs, flops),) = seen
    _, frames, height, width, _ = kwargs["hidden_states"].shape
    assert (frames, height, width) == (4, 6, 4)
    monkeypatch.setattr(transformer, "forward", forward)
    meta = type(transformer).from_config(transformer.config).to("meta")
    call, _ = denoiser_call(
        meta, batch=1, frames=frames, height=height, width=width, text_tokens=kwargs["encoder_hidden_states"].shape[1]
    )
    with torch.no_grad(), FlopCounterMode(display=False) as counter:
        call()
    assert counter.get_total_flops() == flops > 0


def _dit_params(c: dict) -> int:
    """Kandinsky5Transformer3DModel's parameters from its config alone (diffusers 0.42's layers)."""
    d, t, f, text, pooled = c["model_dim"], c["time_dim"], c["ff_dim"], c["in_text_dim"], c["in_text_dim2"]
    head = sum(c["axes_dims"])
    patch = int(np.prod(c["patch_size"]))
    channels = 2 * c["in_visual_dim"] + 1 if c["visual_cond"] else c["in_visual_dim"]
    attention = 4 * (d * d + d) + 2 * head  # q, k, v, out with biases; RMSNorm on q and k
    ffn = 2 * d * f  # no biases
    # time (sinusoid of d -> t -> t), text (Linear + LayerNorm), pooled CLIP (Linear + LayerNorm), patches
    embeds = (d * t + t) + (t * t + t) + (text * d + d + 2 * d) + (pooled * t + t + 2 * t) + (patch * channels * d + d)
    text_block = (t * 6 * d + 6 * d) + attention + ffn
    visual_block = (t * 9 * d + 9 * d) + 2 * attention + ffn
    out = (t * 2 * d + 2 * d) + (d * patch * c["out_visual_dim"] + patch * c["out_visual_dim"])
    return embeds + c["num_text_blocks"] * text_block + c["num_visual_blocks"] * visual_block + out


def test_lite_and_pro_dits_are_the_published_sizes():
    """The config arithmetic equals the meta build for Lite, and gives Pro's 19B without building it."""
    lite, pro = get_preset("kandinsky5-lite-t2v-5s"), get_preset("kandinsky5-pro-i2v-5s")
    assert _dit_params(lite.component("transformer").config) == lite.param_counts()["transformer"] == 2_007_702_848
    pro_params = _dit_params(pro.component("transformer").config)
    assert pro_params == 19_311_325_248
    for preset, params in ((lite, 2_007_702_848), (pro, pro_params)):
        assert abs(params / preset.published_params["transformer"] - 1) < 0.03
