"""Per-preset cost models: measured on the meta device once, then evaluated in microseconds.

The first request for a preset/task measures (``measure``) its components at a few shapes
and fits (``fit``) the scaling law of each; later requests only evaluate the fits. A meta
pass costs about the same whatever the shape (nothing is computed), so the calibration
shapes sit near the family's default request: the memory fits, which are only
approximately polynomial, are then accurate where requests are.

- Denoiser (batch 1, one forward): a transformer's FLOPs in its N video tokens are
  a + b·N + c·N² (text length fixed), fixed by two passes with their attention calls
  (``fit.fit_attention_split``); its activation peak, with fused attention, a + b·N.
  A UNet's FLOPs in F latent frames of S latent pixels are a + b·F + c·F·S + d·F·S² + e·S·F²
  (constant, per-frame embeddings, convolutions, spatial attention, temporal attention), fixed
  by three passes with their attention calls (``fit.fit_attention_monomials``).
- Text/image encoders: fixed sequence length, measured once.
- VAE plain decode (and i2v encode): FLOPs and peak in (F, S) per VAE class; tiled
  decodes are sums over tiles (``vae_tiles``).
"""

from __future__ import annotations

import math
import threading
from dataclasses import dataclass

from videogen.video.arch.preset import ArchPreset
from videogen.video.cost import probes
from videogen.video.cost.facts import SectionFacts, VaeLaw
from videogen.video.cost.fit import PolyFit, fit, fit_attention_monomials, fit_attention_split, term
from videogen.video.cost.measure import Measurement, measure, module_tensors
from videogen.video.cost.meta_models import component_key, denoiser_module, meta_module
from videogen.video.cost.shapes import (
    compression,
    cost_facts,
    denoiser_patch,
    latent_shape,
    pipeline_facts,
    section_facts,
)

_UNETS = ("UNet3DConditionModel", "UNetMotionModel", "UNetSpatioTemporalConditionModel")
_LOCK = threading.RLock()
_CACHE: dict[tuple, object] = {}


# FLOPs: convolutions (F·S, and S: the first causal chunk differs), mid-block attention per frame
# (F·S²); HunyuanVideo's mid-block attends over all frames of a window at once ((F·S)²);
# CogVideoX's frame batching decodes an odd first frame apart (O·S).
# Peaks: the working set of one chunk (S) plus the decoded frames accumulated (F·S); HunyuanVideo
# adds its (F·S)² causal mask. Wan and CogVideoX decode in chunks, and their peak reaches its
# steady state only after the first chunks (CogVideoX at 4-5 latent frames, where an even count
# peaks ~2% lower), so their peak points sit at 5 and 7 frames; each latent frame costs a Wan
# meta pass ~0.1 s, so the counts stay small.
_VAE_LAWS: dict[str, VaeLaw] = {
    "AutoencoderKLWan": VaeLaw(
        (term(s=1), term(f=1, s=1), term(f=1, s=2)),
        ((5, 0), (7, 0), (5, 1)),
        (term(s=1), term(f=1, s=1)),
        ((5, 0), (7, 0), (5, 1)),
    ),
    "AutoencoderKLCogVideoX": VaeLaw(
        (term(s=1), term(f=1, s=1), term(o=1, s=1)),
        ((5, 0), (6, 0), (7, 1)),
        (term(s=1), term(f=1, s=1)),
        ((5, 0), (7, 1)),
    ),
    "AutoencoderKLLTXVideo": VaeLaw(
        (term(), term(s=1), term(f=1, s=1)),
        ((2, 0), (5, 0), (2, 1)),
        (term(s=1), term(f=1, s=1)),
        ((2, 0), (5, 0), (2, 1)),
    ),
    "AutoencoderKLHunyuanVideo": VaeLaw(
        (term(s=1), term(f=1, s=1), term(f=1, s=2), term(f=2, s=2)),
        ((2, 0), (5, 0), (2, 1), (5, 1)),
        (term(s=1), term(f=1, s=1), term(f=2, s=2)),
        ((2, 0), (5, 0), (2, 1), (5, 1)),
    ),
    "AutoencoderKL": VaeLaw(
        (term(f=1, s=1), term(f=1, s=2)),
        ((2, 0), (4, 1)),
        (term(f=1, s=1),),
        ((2, 0), (4, 1)),
    ),
}
# i2v encode of one image (F = 1): convolutions (S) and mid-block attention (S²).
_ENCODE_ONE_LAW = ((term(), term(s=1), term(s=2)), (term(), term(s=1)))


def _vae_law(preset: ArchPreset) -> VaeLaw:
    """The decode law of the preset's VAE class: the shared table's, else its family's (``CostFacts.vae_laws``)."""
    name = preset.component("vae").class_name
    return _VAE_LAWS.get(name) or cost_facts(preset).vae_laws[name]


@dataclass(frozen=True)
class DenoiserModel:
    """One forward at batch 1. Variables: ``n`` (tokens) for transformers, ``f``/``s`` for UNets."""

    unet: bool
    flops: PolyFit
    peak: PolyFit
    points: tuple[tuple[int, int, int], ...]  # calibration latents (frames, height, width)
    section: SectionFacts | None = None  # FramePack: its packed context counts as tokens too

    def variables(self, frames: int, height: int, width: int, patch: tuple[int, int, int]) -> dict[str, float]:
        if self.unet:
            return {"f": frames, "s": height * width}
        return {"n": _tokens(frames, height, width, patch, self.section)}


def _tokens(frames: int, height: int, width: int, patch: tuple[int, int, int], section: SectionFacts | None) -> int:
    """Tokens a transformer attends over: the latents' patches (+ a FramePack section's packed context)."""
    pt, ph, pw = patch
    context = section.context_tokens(height, width) if section is not None else 0
    return (frames // pt) * (height // ph) * (width // pw) + context


@dataclass(frozen=True)
class VaeModel:
    flops: PolyFit
    peak: PolyFit


def measured_count() -> int:
    """How many measurements are kept (each a model built on the meta device once, then held): a process that
    keeps its heap out of full garbage collections freezes what a new one added (``serve.startup_heap``)."""
    return len(_CACHE)


def _cached(key: tuple, build):
    """``build()`` once per key. Keys name the component values measured (not the preset id), so
    presets sharing a component (every Wan preset's UMT5, LTX 0.9.0/0.9.5's transformer) share
    its measurements, and a scaled copy of a preset gets its own."""
    hit = _CACHE.get(key)
    if hit is not None:
        return hit
    with _LOCK:
        if key not in _CACHE:
            _CACHE[key] = build()
        return _CACHE[key]


def _default_latent(preset: ArchPreset) -> tuple[int, int, int]:
    from videogen.video.registry import get_spec

    d = get_spec(preset.family).defaults
    lat = latent_shape(preset, d.num_frames, d.height, d.width)
    return lat.frames, lat.height, lat.width


def _distinct(values: list[int], step: int, low: int, high: int) -> list[int]:
    """``values`` rounded to multiples of ``step`` within [low, high], made distinct (upwards, then down)."""
    out: list[int] = []
    for v in values:
        v = max(low, min(high, max(step, round(v / step) * step)))
        while v in out and v + step <= high:
            v += step
        while v in out and v - step >= low:
            v -= step
        out.append(v)
    return out


def _denoiser_points(preset: ArchPreset, unet: bool) -> list[tuple[int, int, int]]:
    f0, h0, w0 = _default_latent(preset)
    pt, ph, pw = denoiser_patch(preset)
    config = preset.component(preset.denoiser).config
    if unet:
        # Both F and S vary: 5 terms. Latent sides stay multiples of 8 (three 2x downsamplings).
        def side(v: int) -> int:
            return max(8, round(v / 8) * 8)

        fa, fb = max(2, f0 // 2), max(3, f0 * 3 // 2)
        small = (side(h0 * 3 // 4), side(w0 * 3 // 4))
        tiny = (side(h0 // 2), side(w0 // 2))
        return [(fa, h0, w0), (fb, h0, w0), (fa, *small), (fb, *small), (max(2, f0 * 3 // 4), *tiny)]
    high = 4 * f0
    if config.get("use_learned_positional_embeddings"):
        # CogVideoX-5B-I2V's learned positions exist only for its trained size and frame count.
        high = (config["sample_frames"] - 1) // config["temporal_compression_ratio"] + 1
    # Two frame counts off the default (the third is only needed if the attention split fails).
    frames = _distinct([f0 // 2, min(4 * f0 // 3, high - pt), f0 // 4], pt, pt, max(high, 3 * pt))
    return [(f, h0, w0) for f in frames]


def _per_token_timestep(preset: ArchPreset, task: str) -> bool:
    # Wan 2.2 (expand_timesteps) and the tasks a family lists (LTX image-to-video) give every
    # token its own timestep.
    expand = bool(preset.pipeline_kwargs.get("expand_timesteps"))
    return expand or task in cost_facts(preset).per_token_timestep_tasks


def _runs_controlnet(preset: ArchPreset, task: str) -> bool:
    """Whether ``task``'s pipeline runs the model's ControlNet beside the denoiser at every step
    (``CostFacts.controlnet_tasks``: AnimateDiff's control-to-video)."""
    return task in cost_facts(preset).controlnet_tasks and any(c.name == "controlnet" for c in preset.components)


def _measure_denoiser(preset: ArchPreset, task: str, frames: int, height: int, width: int) -> Measurement:
    module = denoiser_module(preset)
    controlnet = meta_module(preset.component("controlnet")) if _runs_controlnet(preset, task) else None
    facts = pipeline_facts(preset, task, num_frames=1)
    per_token = _per_token_timestep(preset, task)
    section = section_facts(preset, task)
    call, inputs = probes.denoiser_call(
        module,
        batch=1,
        frames=frames,
        height=height,
        width=width,
        text_tokens=facts.text_tokens,
        image_tokens=facts.image_tokens,
        per_token_timestep=per_token,
        history=tuple(part[0] for part in section.history) if section is not None else (),
        controlnet=controlnet,
    )
    weights = [*module_tensors(module), *(module_tensors(controlnet) if controlnet is not None else ())]
    return measure(call, exclude=[*weights, *inputs])


def denoiser_model(preset: ArchPreset, task: str) -> DenoiserModel:
    def build() -> DenoiserModel:
        unet = preset.component(preset.denoiser).class_name in _UNETS or any(
            c.name == "motion_adapter" for c in preset.components
        )
        points = _denoiser_points(preset, unet)
        patch = denoiser_patch(preset)
        if unet:
            # Base, more frames, fewer pixels: enough when the attention calls split the FLOPs.
            runs = [_measure_denoiser(preset, task, *p) for p in points[:3]]
            xs = [{"f": f, "s": h * w} for f, h, w in points]
            rest_terms = (term(), term(f=1), term(f=1, s=1))
            flops = fit_attention_monomials(xs[:3], [r.flops for r in runs], [r.attention for r in runs], rest_terms)
            if flops is None:
                runs += [_measure_denoiser(preset, task, *p) for p in points[3:]]
                flop_terms = (term(), term(f=1), term(f=1, s=1), term(f=1, s=2), term(f=2, s=1))
                flops = fit(flop_terms, xs, [r.flops for r in runs])
            peak = fit(rest_terms, xs[: len(runs)], [r.peak_bytes for r in runs])
            return DenoiserModel(unet, flops, peak, tuple(points[: len(runs)]))
        section = section_facts(preset, task)
        points = points[:2]
        runs = [_measure_denoiser(preset, task, *p) for p in points]
        xs = [{"n": _tokens(f, h, w, patch, section)} for f, h, w in points]
        flops = fit_attention_split(
            (xs[0]["n"], xs[1]["n"]), (runs[0].flops, runs[1].flops), (runs[0].attention, runs[1].attention)
        )
        if flops is None:
            points = _denoiser_points(preset, unet)
            runs.append(_measure_denoiser(preset, task, *points[2]))
            xs.append({"n": _tokens(*points[2], patch, section)})
            flops = fit((term(), term(n=1), term(n=2)), xs, [r.flops for r in runs])
        peak = fit((term(), term(n=1)), xs, [r.peak_bytes for r in runs])
        return DenoiserModel(unet=False, flops=flops, peak=peak, points=tuple(points), section=section)

    return _cached(denoiser_key(preset, task), build)  # type: ignore[return-value]


def denoiser_key(preset: ArchPreset, task: str) -> tuple:
    """What a denoiser's cost depends on: presets/tasks with equal keys share one model."""
    facts = pipeline_facts(preset, task, num_frames=1)
    step = (preset.denoiser, "motion_adapter", *(("controlnet",) if _runs_controlnet(preset, task) else ()))
    neutral = cost_facts(preset).cost_neutral_config
    parts = [
        c.model_copy(update={"config": {k: v for k, v in c.config.items() if k not in neutral}})
        for c in preset.components
        if c.name in step
    ]
    return (
        "denoiser",
        *map(component_key, parts),
        preset.family,
        facts.text_tokens,
        facts.image_tokens,
        _per_token_timestep(preset, task),
        section_facts(preset, task),
    )


def encoder_measurements(preset: ArchPreset, task: str) -> dict[str, Measurement]:
    """Each text encoder at its pipeline sequence length, and the image encoder (Wan 2.1 I2V) on one image."""
    facts = pipeline_facts(preset, task, num_frames=1)
    names = dict(facts.encoder_tokens)
    if facts.image_encoder_runs:
        names["image_encoder"] = 0
    out: dict[str, Measurement] = {}
    for name, tokens in names.items():
        component = preset.component(name)

        def build(component=component, tokens=tokens) -> Measurement:
            module = meta_module(component)
            call, inputs = probes.encoder_call(module, tokens=tokens)
            return measure(call, exclude=[*module_tensors(module), *inputs])

        out[name] = _cached(("encoder", component_key(component), tokens), build)  # type: ignore[assignment]
    return out


def vae_variables(frames: int, pixels: int) -> dict[str, float]:
    """The variables of a VAE fit for ``frames`` frames of ``pixels`` pixels each."""
    return {"f": frames, "s": pixels, "o": frames % 2}


def _vae_measure(preset: ArchPreset, make_call, points) -> dict[tuple[int, int, int], Measurement]:
    vae = meta_module(preset.component("vae"))
    out = {}
    for f, h, w in dict.fromkeys(points):
        call, inputs = make_call(vae, frames=f, height=h, width=w)
        out[(f, h, w)] = measure(call, exclude=[*module_tensors(vae), *inputs])
    return out


def _vae_fit(terms, points, runs, value) -> PolyFit:
    return fit(terms, [vae_variables(f, h * w) for f, h, w in points], [value(runs[p]) for p in points])


def vae_decode_model(preset: ArchPreset) -> VaeModel:
    """Plain decode (no tiling, no framewise split) of F latent frames of S latent pixels."""

    def build() -> VaeModel:
        law = _vae_law(preset)
        _, h0, w0 = _default_latent(preset)
        sides = [(h0, w0), (max(2, h0 // 2), max(2, w0 // 2)), (max(2, h0 * 3 // 4), max(2, w0 * 3 // 4))]
        flop_points = [(f, *sides[k]) for f, k in law.flop_points]
        peak_points = [(f, *sides[k]) for f, k in law.peak_points]
        runs = _vae_measure(preset, probes.vae_decode_call, flop_points + peak_points)
        return VaeModel(
            flops=_vae_fit(law.flop_terms, flop_points, runs, lambda m: m.flops),
            peak=_vae_fit(law.peak_terms, peak_points, runs, lambda m: m.peak_bytes),
        )

    key = ("vae_decode", component_key(preset.component("vae")), preset.family)
    return _cached(key, build)  # type: ignore[return-value]


def vae_encode_model(preset: ArchPreset, task: str, num_frames: int) -> VaeModel | None:
    """Plain encode of the i2v conditioning (F pixel frames of S pixels); None for text-to-video."""
    frames = pipeline_facts(preset, task, num_frames=num_frames).vae_encode_frames
    return vae_encode_fit(preset, single=frames == 1) if frames else None


def vae_encode_fit(preset: ArchPreset, single: bool) -> VaeModel:
    """Plain encode of F pixel frames of S pixels: one image (``single``: its own law) or a clip."""

    def build() -> VaeModel:
        from videogen.video.registry import get_spec

        spec = get_spec(preset.family)
        d = spec.defaults
        # Pixel sides the VAE accepts: multiples of the family's resolution multiple and of twice
        # the VAE's compression (Wan 2.2 patchifies 2x2 after compressing /8; LTX compresses /32).
        step = math.lcm(spec.resolution_multiple, 2 * compression(preset)[0])

        def side(v: int) -> int:
            return max(step, round(v / step) * step)

        sides = [(side(d.height * k), side(d.width * k)) for k in (1.0, 0.5, 0.75)]
        if single:
            points = [(1, h, w) for h, w in sides]
            flop_terms, peak_terms = _ENCODE_ONE_LAW
        else:
            # Wan 2.1 I2V (and video-to-video) encodes the whole clip, chunk by chunk like its decoder: clips of
            # k·t+1 frames for the VAE's temporal compression t (4: 5 and 9 frames; LTX 0.9.5's 8: 9 and 17).
            law = _vae_law(preset)
            flop_terms, peak_terms = law.flop_terms, law.peak_terms
            t = max(compression(preset)[1], 4)
            points = [(t + 1, *sides[0]), (2 * t + 1, *sides[0]), (t + 1, *sides[1])]
        runs = _vae_measure(preset, probes.vae_encode_call, points)
        return VaeModel(
            flops=_vae_fit(flop_terms, points, runs, lambda m: m.flops),
            peak=_vae_fit(peak_terms, points, runs, lambda m: m.peak_bytes),
        )

    key = ("vae_encode", component_key(preset.component("vae")), preset.family, single)
    return _cached(key, build)  # type: ignore[return-value]
