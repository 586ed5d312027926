"""The cost model (videogen.video.cost) against the meta-device models it is derived from.

FLOPs per step are checked against ``FlopCounterMode`` run directly on each preset's
meta-device denoiser (cut to two blocks of each kind: ``_shallow``) at its family's default
request size, a size the cost model was not calibrated at. Everything runs on the meta device: nothing is allocated.
"""

from __future__ import annotations

import inspect

import pytest
import torch
from torch.utils.flop_counter import FlopCounterMode

from videogen.video.arch.catalog import PRESETS, get_preset
from videogen.video.cost import calibrate, probes
from videogen.video.cost.estimate import PLACEMENT_LADDER, _decode, denoise_step_flops, estimate_cost
from videogen.video.cost.measure import measure, module_tensors
from videogen.video.cost.memory import PLACEMENTS, weight_bytes
from videogen.video.cost.meta_models import denoiser_module, meta_module
from videogen.video.cost.shapes import LatentShape, cfg_passes, latent_shape, pipeline_facts, section_facts
from videogen.video.cost.vae_tiles import decode_tiles
from videogen.video.registry import FAMILY_IDS, get_spec
from videogen.video.spec import FIRST_LAST_FRAME, IMAGE_TO_VIDEO, TEXT_TO_VIDEO

PRESET_TASKS = [(pid, task) for pid, preset in PRESETS.items() for task in preset.tasks]


def _distinct_denoisers() -> list:
    """One case per distinct denoiser cost (same module, text/image tokens, timestep layout), naming
    every preset/task it covers: LTX 0.9.0 and 0.9.5 share a transformer, SANA-Video's two tasks too."""
    groups: dict[tuple, list[tuple[str, str]]] = {}
    for pid, task in PRESET_TASKS:
        groups.setdefault(calibrate.denoiser_key(PRESETS[pid], task), []).append((pid, task))
    return [pytest.param(cases, id="+".join(f"{pid}[{task}]" for pid, task in cases)) for cases in groups.values()]


def _flop_cases() -> list:
    """The FLOP check's cases: one per kind of denoiser, run on its smallest member.

    A kind is what the calibrated law's form depends on: the family, the denoiser's class (and a ControlNet or motion
    adapter beside it), the conditioning tokens and the timestep layout. Members of a kind differ only in widths,
    depths and head counts, which calibration reads from each preset's own config at its own points; checking the law
    at an uncalibrated size once per kind is what the check proves, so the larger members (Wan 14B beside 1.3B, ...)
    are not traced again (each trace of a 40-block model costs seconds of the suite). Every case still names every
    preset/task of its kind, and those sharing the representative's exact denoiser are compared to its figure."""
    kinds: dict[tuple, list[list[tuple[str, str]]]] = {}
    for param in _distinct_denoisers():
        cases = param.values[0]
        preset, task = PRESETS[cases[0][0]], cases[0][1]
        facts = pipeline_facts(preset, task, num_frames=1)
        step = (
            preset.denoiser,
            "motion_adapter",
            *(("controlnet",) if calibrate._runs_controlnet(preset, task) else ()),
        )
        kind = (
            preset.family,
            # the class and its switches (CogVideoX 5B's rotary embeddings against 2B's learned ones): not its sizes
            tuple(
                (
                    c.class_name,
                    tuple(
                        sorted(
                            (k, str(v))
                            for k, v in c.config.items()
                            if not isinstance(v, (int, float)) or isinstance(v, bool)
                        )
                    ),
                )
                for c in preset.components
                if c.name in step
            ),
            facts.text_tokens,
            facts.image_tokens,
            calibrate._per_token_timestep(preset, task),
            section_facts(preset, task) is not None,
        )
        kinds.setdefault(kind, []).append(cases)

    def size(cases: list[tuple[str, str]]) -> int:
        preset = PRESETS[cases[0][0]]
        return preset.published_params.get(preset.denoiser, 0) or sum(preset.published_params.values())

    out = []
    for groups in kinds.values():
        groups = sorted(groups, key=size)
        rest = [case for group in groups[1:] for case in group]
        label = "+".join(f"{pid}[{task}]" for pid, task in groups[0])
        out.append(pytest.param(groups[0], rest, id=label + (f"(+{len(rest)} of its kind)" if rest else "")))
    return out


# Blocks a FLOP case keeps. A transformer's blocks are copies: the law's form per block and what runs around them
# (patch and time embeddings, refiners, projections) is what the check proves, and tracing 48 blocks (LTX-2) instead
# of two cost seconds per case. UNets keep their depth (few, unequal blocks). VACE keeps its hints in the kept blocks.
_TRACED_BLOCKS = 2


def _shallow(preset):
    """The preset with its denoiser cut to ``_TRACED_BLOCKS`` blocks of each kind (its own cost-model cache key)."""
    denoiser = preset.component(preset.denoiser)
    config = dict(denoiser.config)
    for key in ("num_layers", "num_single_layers", "num_text_blocks", "num_visual_blocks"):  # Kandinsky 5: the last two
        if key in config:
            config[key] = min(config[key], _TRACED_BLOCKS)
    if "vace_layers" in config:
        config["vace_layers"] = [layer for layer in config["vace_layers"] if layer < _TRACED_BLOCKS]
    cut = denoiser.model_copy(update={"config": config})
    return preset.model_copy(
        update={"components": [cut if c.name == preset.denoiser else c for c in preset.components]}
    )


def _defaults(preset):
    return get_spec(preset.family).defaults


def _direct_denoiser_flops(preset, task, num_frames, height, width, batch=1) -> int:
    """FlopCounterMode on the meta denoiser, no cost-model code in the count (plain SDPA path)."""
    lat = latent_shape(preset, num_frames, height, width)
    facts = pipeline_facts(preset, task, num_frames)
    per_token = calibrate._per_token_timestep(preset, task)
    section = section_facts(preset, task)  # FramePack: its packed history beside the window
    call, _ = probes.denoiser_call(
        denoiser_module(preset),
        batch=batch,
        frames=lat.frames,
        height=lat.height,
        width=lat.width,
        text_tokens=facts.text_tokens,
        image_tokens=facts.image_tokens,
        per_token_timestep=per_token,
        history=tuple(part[0] for part in section.history) if section else (),
        # AnimateDiff's control-to-video: its ControlNet runs first at every step
        controlnet=meta_module(preset.component("controlnet")) if calibrate._runs_controlnet(preset, task) else None,
    )
    with torch.no_grad(), FlopCounterMode(display=False) as counter:
        call()
    return counter.get_total_flops()


def test_every_family_has_a_preset():
    assert {p.family for p in PRESETS.values()} == set(FAMILY_IDS)


@pytest.mark.parametrize("preset_id", list(PRESETS))
def test_param_counts_and_weight_bytes_are_exact(preset_id):
    preset = get_preset(preset_id)
    counts = preset.param_counts()
    bf16 = weight_bytes(preset, torch.bfloat16)
    for comp in preset.components:
        module = meta_module(comp)  # the module the cost model measures
        params = list({id(p): p for p in module.parameters()}.values())
        assert counts[comp.name] == sum(p.numel() for p in params)
        buffers = sum(b.numel() * b.element_size() for b in module.buffers())
        # bfloat16 halves every parameter except the modules the libraries keep in float32.
        assert 2 * counts[comp.name] <= bf16[comp.name] - buffers <= 4 * counts[comp.name]


def test_weight_bytes_in_float32_and_kept_modules():
    preset = get_preset("wan2.1-t2v-1.3b")
    fp32, bf16 = weight_bytes(preset, torch.float32), weight_bytes(preset, torch.bfloat16)
    counts = preset.param_counts()
    transformer = meta_module(preset.component("transformer"), torch.float32)
    buffers = sum(b.numel() * b.element_size() for b in transformer.buffers())
    assert fp32["transformer"] == 4 * counts["transformer"] + buffers
    # Wan keeps its time embedding, norms and scale-shift tables in float32 (_keep_in_fp32_modules).
    kept = sum(
        p.numel()
        for name, p in transformer.named_parameters()
        if set(name.split(".")) & set(transformer._keep_in_fp32_modules)
    )
    assert kept > 0
    bf16_buffers = sum(b.numel() * b.element_size() for b in meta_module(preset.component("transformer")).buffers())
    assert bf16["transformer"] == 2 * counts["transformer"] + 2 * kept + bf16_buffers


def test_every_preset_task_has_a_flop_case():
    covered = [case for param in _flop_cases() for case in param.values[0] + param.values[1]]
    assert sorted(covered) == sorted(PRESET_TASKS)
    assert {PRESETS[param.values[0][0][0]].family for param in _flop_cases()} == set(FAMILY_IDS)


@pytest.mark.parametrize(("cases", "same_kind"), _flop_cases())
def test_flops_per_step_match_flop_counter_at_default_size(cases, same_kind):
    del same_kind  # named in the case's id, not traced again (``_flop_cases``)
    preset_id, task = cases[0]
    preset = _shallow(get_preset(preset_id))
    d = _defaults(preset)
    model = calibrate.denoiser_model(preset, task)
    assert model.flops.max_rel_residual < 1e-6  # the scaling law fits its calibration points exactly
    lat = latent_shape(preset, d.num_frames, d.height, d.width)
    assert (lat.frames, lat.height, lat.width) not in model.points  # a size it was not calibrated at
    direct = _direct_denoiser_flops(preset, task, d.num_frames, d.height, d.width)
    passes = cfg_passes(preset, d.guidance_scale)
    estimated = denoise_step_flops(preset, task, d.num_frames, d.height, d.width, d.guidance_scale)
    assert estimated == pytest.approx(passes * direct, rel=0.10)
    # in fact exact; LTX-2's audio stream is a whole number of latents (its clip's length x 25 a second, rounded) at
    # every point, which a law in video tokens follows within 1e-5
    assert estimated == pytest.approx(passes * direct, rel=1e-5 if preset.family == "ltx2" else 1e-6)
    assert passes == (1 if preset.family == "hunyuan-video" else 2)  # every default guidance is > 1
    for other_id, other_task in cases[1:]:  # the presets sharing this denoiser get the same numbers
        other = _shallow(get_preset(other_id))
        assert denoise_step_flops(other, other_task, d.num_frames, d.height, d.width, d.guidance_scale) == estimated


def test_flops_at_another_aspect_ratio_and_cfg_passes():
    wan = get_preset("wan2.1-t2v-1.3b")
    # 720x1280, 33 frames: a different aspect ratio and length than any calibration point.
    direct = _direct_denoiser_flops(wan, TEXT_TO_VIDEO, 33, 720, 1280)
    assert denoise_step_flops(wan, TEXT_TO_VIDEO, 33, 720, 1280, 1.0) == pytest.approx(direct, rel=1e-6)
    assert denoise_step_flops(wan, TEXT_TO_VIDEO, 33, 720, 1280, 5.0) == pytest.approx(2 * direct, rel=1e-6)
    # FACTS.md: Wan2.1-1.3B at 480x832x81, one forward 2.83e14, a two-pass CFG step 5.66e14.
    assert denoise_step_flops(wan, TEXT_TO_VIDEO, 81, 480, 832, 5.0) == pytest.approx(5.66e14, rel=0.005)
    # LTX batches both CFG branches: one forward at batch 2 is the whole step.
    ltx = get_preset("ltx-video-0.9.0")
    batched = _direct_denoiser_flops(ltx, TEXT_TO_VIDEO, 121, 480, 704, batch=2)
    assert denoise_step_flops(ltx, TEXT_TO_VIDEO, 121, 480, 704, 3.0) == pytest.approx(batched, rel=1e-6)
    # HunyuanVideo's guidance is an input of the transformer: one pass whatever the scale.
    hunyuan = get_preset("hunyuanvideo-t2v")
    assert cfg_passes(hunyuan, 6.0) == cfg_passes(hunyuan, 1.0) == 1


def _pipeline_latents(preset, num_frames, height, width):
    """The latents the diffusers pipeline's own ``prepare_latents`` makes, on the meta device."""
    import diffusers

    cls = getattr(diffusers, preset.pipeline_classes[TEXT_TO_VIDEO])
    kwargs = {}
    for name in inspect.signature(cls.__init__).parameters:
        if name in ("vae", preset.denoiser, "motion_adapter"):
            kwargs[name] = meta_module(preset.component(name))
        elif name == "scheduler":
            kwargs[name] = preset.scheduler.build()
        elif name not in ("self", "args", "kwargs"):
            kwargs[name] = None
    kwargs.update({k: v for k, v in preset.pipeline_kwargs.items() if k in kwargs})
    pipe = cls(**kwargs)
    channels = latent_shape(preset, num_frames, height, width).channels
    call = {
        "batch_size": 1,
        "num_channels_latents": channels,
        "num_frames": num_frames,
        "height": height,
        "width": width,
        "dtype": torch.float32,
        "device": torch.device("meta"),
        "generator": None,
    }
    accepted = inspect.signature(pipe.prepare_latents).parameters
    return pipe.prepare_latents(**{k: v for k, v in call.items() if k in accepted})


# One text-to-video preset per family, two sizes each (the second off the defaults).
_LATENT_CASES = [
    ("modelscope-t2v-1.7b", [(16, 256, 256), (24, 320, 512)]),
    ("wan2.1-t2v-1.3b", [(81, 480, 832), (45, 720, 1280)]),
    ("wan2.2-ti2v-5b", [(121, 704, 1280), (81, 480, 832)]),
    ("cogvideox-5b", [(49, 480, 720), (33, 480, 720)]),
    ("ltx-video-0.9.5", [(121, 480, 704), (65, 512, 768)]),
    ("hunyuanvideo-t2v", [(61, 544, 960), (129, 720, 1280)]),
    ("sana-video-2b-480p", [(81, 480, 832), (49, 480, 832)]),
    ("animatediff-v1-5-2", [(16, 512, 512), (24, 512, 768)]),
    ("hunyuanvideo-1.5-480p-t2v", [(121, 480, 848), (61, 720, 1280)]),
]


@pytest.mark.parametrize("preset_id,sizes", _LATENT_CASES)
def test_latent_shape_matches_the_pipelines_prepare_latents(preset_id, sizes):
    preset = get_preset(preset_id)
    for num_frames, height, width in sizes:
        ours = latent_shape(preset, num_frames, height, width)
        theirs = _pipeline_latents(preset, num_frames, height, width)
        if preset.family == "ltx-video":  # LTX packs latents to [B, tokens, C]
            assert tuple(theirs.shape) == (1, ours.frames * ours.height * ours.width, ours.channels)
        elif preset.family == "cogvideox":  # CogVideoX keeps frames before channels
            assert tuple(theirs.shape) == (1, ours.frames, ours.channels, ours.height, ours.width)
        else:
            assert tuple(theirs.shape) == (1, ours.channels, ours.frames, ours.height, ours.width)


def _vae_decode_direct(vae, latent, tiling: bool):
    """The VAE's own decode (tiled/framewise as configured), measured on the meta device."""
    f, h, w = latent
    channels = vae.config.z_dim if "z_dim" in vae.config else vae.config.latent_channels
    if type(vae).__name__ == "AutoencoderKL":
        z = torch.empty(f, channels, h, w, device="meta", dtype=torch.bfloat16)
    else:
        z = torch.empty(1, channels, f, h, w, device="meta", dtype=torch.bfloat16)
    kwargs = (
        {"temb": torch.empty(1, device="meta", dtype=torch.bfloat16)}
        if getattr(vae.config, "timestep_conditioning", False)
        else {}
    )
    if tiling:
        vae.enable_tiling()
    try:
        return measure(lambda: vae.decode(z, return_dict=False, **kwargs), exclude=[*module_tensors(vae), z])
    finally:
        vae.disable_tiling()


# (preset, a plain-decode latent off the calibration points, a latent that tiles or None)
_VAE_CASES = [
    ("wan2.1-t2v-1.3b", (6, 40, 72), (2, 40, 72)),
    ("cogvideox-2b", (9, 40, 60), None),
    ("ltx-video-0.9.0", (9, 12, 20), (9, 12, 24)),
    ("hunyuanvideo-t2v", (4, 40, 60), (8, 40, 60)),
    ("animatediff-v1-5-2", (4, 48, 48), (2, 72, 72)),
    ("hunyuanvideo-1.5-480p-t2v", (4, 24, 40), (3, 24, 40)),
    ("ltx-2-19b-dev", (3, 12, 20), (3, 12, 24)),
]


@pytest.mark.parametrize("preset_id,plain,tiled", _VAE_CASES)
def test_vae_decode_model_matches_the_vae(preset_id, plain, tiled):
    preset = get_preset(preset_id)
    vae = meta_module(preset.component("vae"))
    model = calibrate.vae_decode_model(preset)
    f, h, w = plain
    call, inputs = probes.vae_decode_call(vae, frames=f, height=h, width=w)
    direct = measure(call, exclude=[*module_tensors(vae), *inputs])
    point = calibrate.vae_variables(f, h * w)
    assert model.flops(**point) == pytest.approx(direct.flops, rel=1e-6)
    assert model.peak(**point) == pytest.approx(direct.peak_bytes, rel=0.10)
    if tiled is None:
        return
    # Tiled: the sum of plain decodes over the tile plan is the VAE's own tiled decode, and the
    # peak model (largest tile + every decoded tile held + the output) errs on the safe side.
    f, h, w = tiled
    tiles = decode_tiles(vae, preset.family, f, h, w, tiling=True, slicing=False)
    assert len(tiles) > 1
    own = _vae_decode_direct(vae, tiled, tiling=True)
    assert sum(model.flops(**calibrate.vae_variables(t.frames, t.height * t.width)) for t in tiles) == pytest.approx(
        own.flops, rel=1e-6
    )
    lat = LatentShape(0, f, h, w)
    _, peak = _decode(preset, torch.bfloat16, lat, True, False)
    assert own.peak_bytes * 0.95 <= peak <= own.peak_bytes * 1.6


def test_estimate_wan_default_request():
    e = estimate_cost("wan2.1-t2v-1.3b", TEXT_TO_VIDEO, 81, 480, 832, 30, 5.0, device_name="NVIDIA H200")
    assert (e.latent.frames, e.latent.height, e.latent.width, e.latent.channels) == (21, 60, 104, 16)
    assert (e.video_tokens, e.text_tokens, e.cfg_passes) == (21 * 30 * 52, 512, 2)
    assert e.flops.per_step == pytest.approx(5.66e14, rel=0.005)
    assert e.flops.denoise_total == pytest.approx(30 * e.flops.per_step)
    assert e.flops.vae_decode_tiled > e.flops.vae_decode > 0  # tiles overlap
    assert e.flops.text_encode > 0 and e.flops.vae_encode == 0
    assert e.seconds is not None and e.seconds.denoise == pytest.approx(30 * 5.66e14 / 790e12, rel=0.01)
    assert {c.name: c.params for c in e.components} == get_preset("wan2.1-t2v-1.3b").param_counts()
    assert {m.placement for m in e.memory} == set(PLACEMENTS)
    # Fully resident needs the most, sequential offload the least; nothing on the device on the CPU.
    # (Group offload keeps the VAE and a text encoder without block lists resident, so it can
    # need more than model offload: the ladder is ordered by speed, not memory.)
    ladder = [e.memory_for(*rung).required_bytes for rung in PLACEMENT_LADDER]
    assert ladder[0] == max(ladder) and ladder[-1] == min(ladder)
    assert ladder[1] <= ladder[0] and ladder[3] < ladder[2]
    assert e.memory_for("cpu").required_bytes == 0
    gpu = e.memory_for("gpu")
    assert gpu.peak_bytes >= e.total_weight_bytes
    # Tiling lowers the VAE-decode peak (480x832 is larger than one 256x256 tile).
    assert e.memory_for("gpu", True).stages["vae_decode"] < gpu.stages["vae_decode"]
    assert e.first_fit(int(140 * 2**30)).placement == "gpu"
    assert e.first_fit(int(4 * 2**30)) is None or e.first_fit(int(4 * 2**30)).placement == "sequential_offload"
    unknown = estimate_cost("wan2.1-t2v-1.3b", TEXT_TO_VIDEO, 81, 480, 832, 30, 5.0, device_name="Unknown GPU")
    assert unknown.seconds is None


def test_memory_grows_with_frames_and_size():
    small = estimate_cost("wan2.1-t2v-1.3b", TEXT_TO_VIDEO, 33, 480, 832, 30, 5.0)
    longer = estimate_cost("wan2.1-t2v-1.3b", TEXT_TO_VIDEO, 81, 480, 832, 30, 5.0)
    larger = estimate_cost("wan2.1-t2v-1.3b", TEXT_TO_VIDEO, 81, 720, 1280, 30, 5.0)
    for a, b in ((small, longer), (longer, larger)):
        assert b.flops.total > a.flops.total
        for entry in a.memory:
            bigger = b.memory_for(entry.placement, entry.vae_tiling, entry.vae_slicing)
            assert bigger.peak_bytes >= entry.peak_bytes
            assert bigger.stages.get("denoise", 0) >= entry.stages.get("denoise", 0)


def test_i2v_estimates_count_the_conditioning():
    e = estimate_cost("wan2.1-i2v-14b-480p", IMAGE_TO_VIDEO, 81, 480, 832, 30, 5.0)
    assert e.flops.image_encode > 0 and e.flops.vae_encode > 0  # CLIP-H image tokens; the whole clip encoded
    assert "vae_encode" in e.memory_for("gpu").stages


def test_wan_first_last_frame_is_priced_like_i2v_with_two_images():
    """WanImageToVideoPipeline with last_image: both images through CLIP-H (2 x 257 tokens in the image
    cross-attention, which FLF2V's transformer folds into one sequence), the clip between them VAE-encoded once."""
    i2v = pipeline_facts(get_preset("wan2.1-i2v-14b-480p"), IMAGE_TO_VIDEO, 81)
    flf_preset = get_preset("wan2.1-flf2v-14b-720p")
    flf = pipeline_facts(flf_preset, FIRST_LAST_FRAME, 81)
    assert (i2v.image_tokens, i2v.image_encoder_runs) == (257, 1)
    assert (flf.image_tokens, flf.image_encoder_runs) == (2 * 257, 2)
    assert flf.image_tokens == flf_preset.component("transformer").config["pos_embed_seq_len"]
    assert (flf.vae_encode_frames, flf.vae_encode_runs) == (i2v.vae_encode_frames, i2v.vae_encode_runs) == (81, 1)
    assert flf.text_tokens == i2v.text_tokens
    # one CLIP-H measurement for both presets: twice the image-encode FLOPs
    assert (
        calibrate.encoder_measurements(flf_preset, FIRST_LAST_FRAME)["image_encoder"]
        == (calibrate.encoder_measurements(get_preset("wan2.1-i2v-14b-480p"), IMAGE_TO_VIDEO)["image_encoder"])
    )


def test_group_offload_counts_each_component_by_its_own_name_when_one_is_absent():
    from videogen.video.cost.memory import Residency, Stage, stage_peak

    res = {"vae": Residency(full=100, group=40, leaf=10), "transformer": Residency(full=1000, group=300, leaf=50)}
    # A stage naming a component the preset lacks (no image encoder) before the ones it has.
    stage = Stage("encode", ("image_encoder", "transformer", "vae"), activation_bytes=7)
    # The VAE stays whole on the GPU; the transformer brings its group; the missing encoder brings nothing.
    assert stage_peak(stage, "group_offload", res, total_weights=1100) == 100 + 300 + 7


def test_an_unknown_family_is_refused_not_costed_as_another():
    """A preset of a family VideoGen does not list gets an error naming it, never UNet/CLIP defaults."""
    from videogen.errors import UnknownFamilyError

    real = get_preset("animatediff-v1-5-2")
    fake = real.model_copy(update={"family": "made-up-family", "id": "made-up-preset"})
    assert fake.family not in FAMILY_IDS
    vae = meta_module(fake.component("vae"))
    refusals = (
        lambda: estimate_cost(fake, TEXT_TO_VIDEO, 16, 512, 512, 25, 7.5),
        lambda: latent_shape(fake, 16, 512, 512),
        lambda: pipeline_facts(fake, TEXT_TO_VIDEO, 16),
        lambda: cfg_passes(fake, 7.5),
        lambda: calibrate._per_token_timestep(fake, TEXT_TO_VIDEO),
        lambda: decode_tiles(vae, fake.family, 16, 64, 64, tiling=False, slicing=False),
    )
    for refuse in refusals:
        with pytest.raises(UnknownFamilyError, match="made-up-family") as info:
            refuse()
        assert info.value.field == "family" and info.value.allowed == list(FAMILY_IDS)
    # The same preset under its own family is costed.
    assert latent_shape(real, 16, 512, 512) == LatentShape(4, 16, 64, 64)


# (preset, task, frames x height x width, the plain conditioning, the same with 2 more media, the latent frames and
# the encodes (pixel frames) they add): VACE's reference images (each one latent frame in front of the video's, one
# frame encoded), LTX keyframes (an image at frame 0 adds no tokens; one at 40 adds its latent frame, a 33-frame clip
# at 96 its first two of five)
_CONDITIONED = [
    pytest.param(
        "wan2.1-vace-1.3b",
        "video-inpaint",
        (81, 480, 832),
        {},
        {"reference_images": 2},
        (2, (1, 1)),
        id="vace-references",
    ),
    pytest.param(
        "ltx-video-0.9.5",
        "keyframes",
        (161, 512, 768),
        {"keyframes": ((0, 1),)},
        {"keyframes": ((0, 1), (40, 1), (96, 33))},
        (3, (1, 33)),
        id="ltx-keyframes",
    ),
]


@pytest.mark.parametrize("preset_id,task,size,plain,more,adds", _CONDITIONED)
def test_conditioning_media_lengthen_the_sequence_and_add_encodes(preset_id, task, size, plain, more, adds):
    """Two more conditioning media: the sequence the transformer runs gains their latent frames (priced exactly as
    the meta-device transformer counts a forward at that length), the VAE encodes each, and the estimate grows by
    between the token ratio and its square: a transformer's FLOPs are a + b*n + c*n^2 in its n tokens (a, b, c >= 0,
    the n-free part a far below the attention's c*n0*n1 at these sizes)."""
    from videogen.video.cost.conditioning import Conditioning

    preset, (frames, height, width), (added, encodes) = get_preset(preset_id), size, adds
    base, longer = (
        estimate_cost(preset, task, frames, height, width, 30, 5.0, conditioning=Conditioning(**media))
        for media in (plain, more)
    )
    per_frame = base.video_tokens // base.latent.frames  # LTX and Wan VACE: one token per latent cell / 2x2 patch
    assert longer.video_tokens - base.video_tokens == added * per_frame
    assert longer.latent == base.latent  # the video itself is the same: the added frames are dropped before decoding
    temporal = (frames - 1) // (base.latent.frames - 1)
    direct = _direct_denoiser_flops(preset, task, frames + added * temporal, height, width)
    assert longer.flops.per_step == pytest.approx(base.cfg_passes * direct, rel=1e-6)
    n = longer.video_tokens / base.video_tokens
    assert n <= longer.flops.per_step / base.flops.per_step <= n * n
    assert longer.flops.denoise_total == pytest.approx(30 * longer.flops.per_step)
    # the encodes: each added image is one frame at the job's size (its own law), the clip its 33 frames
    extra = sum(
        calibrate.vae_encode_fit(preset, single=f == 1).flops(**calibrate.vae_variables(f, height * width))
        for f in encodes
    )
    assert longer.flops.vae_encode - base.flops.vae_encode == pytest.approx(extra, rel=1e-9) and extra > 0
    assert longer.flops.total > base.flops.total
    for entry in base.memory:  # a longer sequence holds more activations; the encode stage is at least as large
        grown = longer.memory_for(entry.placement, entry.vae_tiling, entry.vae_slicing)
        assert grown.stages["denoise"] >= entry.stages["denoise"]
        assert grown.stages["vae_encode"] >= entry.stages["vae_encode"]
    assert longer.memory_for("gpu").stages["denoise"] > base.memory_for("gpu").stages["denoise"]  # on the device
    assert any("latent frame" in note for note in longer.notes)


def test_conditioning_round_trips_through_the_params_and_only_counts_where_the_family_says():
    from videogen.video.cost.conditioning import Conditioning, conditioning_load
    from videogen.video.families import get_cost_facts

    media = Conditioning(reference_images=2, keyframes=((0, 9), (16, 1)))
    assert Conditioning.from_params({"conditioning": media.to_params()}) == media
    assert Conditioning.from_params({}) == Conditioning() and Conditioning().to_params() == {}
    # keyframes mean nothing to VACE and reference images nothing to LTX: each family prices its own media only
    vace = conditioning_load(get_cost_facts("wan"), "video-inpaint", media, temporal=4)
    ltx = conditioning_load(get_cost_facts("ltx-video"), "keyframes", media, temporal=8)
    assert (vace.latent_frames, vace.encodes) == (2, (1, 1))
    assert (ltx.latent_frames, ltx.encodes) == (1, (9, 1))  # the clip at 0 in place; the image at 16: one frame
    assert conditioning_load(get_cost_facts("wan"), TEXT_TO_VIDEO, media, temporal=4).latent_frames == 0
