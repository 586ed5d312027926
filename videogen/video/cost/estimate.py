"""``estimate_cost``: what one request costs on a preset's architecture, without weights or a GPU.

The first call for a preset/task measures it on the meta device (seconds, see ``calibrate``);
later calls only evaluate the fitted models. FLOPs are exact counts of matmuls, convolutions and attention (what
``FlopCounterMode`` counts), not of elementwise ops. Memory is an approximation (``memory``).
"""

from __future__ import annotations

import torch
from pydantic import BaseModel, Field

from videogen.video.arch.preset import ArchPreset
from videogen.video.cost import calibrate, memory, parallel_cost
from videogen.video.cost.conditioning import Conditioning, conditioning_load
from videogen.video.cost.device_peaks import device_peak
from videogen.video.cost.experts import expert_preset, expert_steps, same_architecture
from videogen.video.cost.meta_models import meta_module
from videogen.video.cost.shapes import (
    LatentShape,
    cfg_passes,
    compression,
    cost_facts,
    denoiser_patch,
    latent_shape,
    pipeline_facts,
    sections_of,
    text_encoder_runs,
    video_tokens,
)
from videogen.video.cost.vae_encodes import vae_encodes
from videogen.video.cost.vae_tiles import decode_tiles
from videogen.video.placement import PLACEMENT_LADDER
from videogen.video.policy_overrides import Placement

_DTYPES = {"bfloat16": torch.bfloat16, "float16": torch.float16, "float32": torch.float32}


class ComponentCost(BaseModel):
    name: str
    class_name: str
    params: int
    weight_bytes: int


class LatentInfo(BaseModel):
    channels: int
    frames: int
    height: int
    width: int


class Flops(BaseModel):
    """FLOPs of each stage of one request (multiply-add = 2 FLOPs)."""

    text_encode: float = Field(description="all text encoders, prompt and (with CFG) negative prompt")
    image_encode: float = Field(0.0, description="i2v image encoder (Wan 2.1 I2V's CLIP)")
    vae_encode: float = Field(
        0.0, description="the VAE encoding the inputs: an i2v image/clip, an input video, reference images, keyframes"
    )
    per_step: float = Field(description="one denoising step: every CFG pass")
    denoise_total: float
    vae_decode: float = Field(description="plain (untiled) decode; tiling adds the overlaps, see vae_decode_tiled")
    vae_decode_tiled: float
    latent_upsample: float = Field(0.0, description="a latent upsampler between two passes (LTX's latent upscale)")
    audio_decode: float = Field(0.0, description="decoders after the VAE's: LTX-2's audio VAE and vocoder")
    total: float = Field(description="text + image + VAE encode + denoise + latent upsample + untiled decode + audio")


class PlacementMemory(BaseModel):
    placement: Placement
    vae_tiling: bool
    vae_slicing: bool
    weights: str = Field("bf16", description="the denoisers' weights mode (videogen.video.weights)")
    stages: dict[str, int] = Field(description="device bytes per stage: resident weights + activation peak")
    peak_bytes: int = Field(description="largest stage: live tensors, as torch's allocator statistics would count")
    required_bytes: int = Field(description="peak plus allocator fragmentation and runtime overhead")
    required_gb: float


class Seconds(BaseModel):
    """Lower bounds: FLOPs at the device's full dense throughput (a real run reaches 40-70% of it)."""

    device: str
    tflops: float
    source: str
    text_encode: float
    denoise: float
    vae_decode: float
    total: float


class CostEstimate(BaseModel):
    preset: str
    family: str
    task: str
    dtype: str
    weights: str = Field("bf16", description="the denoisers' weights mode the component bytes are for")
    num_frames: int
    height: int
    width: int
    num_inference_steps: int
    guidance_scale: float
    components: list[ComponentCost]
    total_params: int
    total_weight_bytes: int
    latent: LatentInfo
    video_tokens: int = Field(description="tokens the denoiser attends over (UNets: latent pixels)")
    text_tokens: int
    cfg_passes: int
    cfg_mode: str
    denoiser_steps: dict[str, int] = Field(
        description="denoising steps each denoiser expert runs, high noise first (Wan 2.2 A14B: transformer for "
        "timesteps >= boundary_ratio * num_train_timesteps, transformer_2 below)"
    )
    flops: Flops
    memory: list[PlacementMemory]
    seconds: Seconds | None = None
    parallel: parallel_cost.ParallelCost | None = Field(None, description="the split across ranks: figures per rank")
    notes: list[str] = Field(default_factory=list)

    def memory_for(
        self, placement: Placement, vae_tiling: bool = False, vae_slicing: bool = False, weights: str | None = None
    ) -> PlacementMemory:
        """The entry for a rung; ``weights`` None: the estimate's own weights mode."""
        key = (placement, vae_tiling, vae_slicing, weights or self.weights)
        for entry in self.memory:
            if (entry.placement, entry.vae_tiling, entry.vae_slicing, entry.weights) == key:
                return entry
        raise KeyError(f"no memory estimate for {placement} tiling={vae_tiling} slicing={vae_slicing} {key[3]}")

    def first_fit(self, device_bytes: int) -> PlacementMemory | None:
        """The cheapest rung of ``PLACEMENT_LADDER`` whose required memory fits; None if none does."""
        for rung in PLACEMENT_LADDER:
            entry = self.memory_for(*rung)
            if entry.required_bytes <= device_bytes:
                return entry
        return None


def _preset(preset_or_id: ArchPreset | str) -> ArchPreset:
    if isinstance(preset_or_id, ArchPreset):
        return preset_or_id
    from videogen.video.arch.catalog import get_preset

    return get_preset(preset_or_id)


def _activation_scale(dtype: torch.dtype) -> float:
    # Activations are measured in bfloat16; float32 doubles them (an upper bound: the parts a
    # model already computes in float32 stay the same size).
    return dtype.itemsize / 2


def _decode(preset: ArchPreset, dtype: torch.dtype, lat, tiling: bool, slicing: bool) -> tuple[float, int]:
    """(FLOPs, peak activation bytes) of decoding ``lat`` with the given VAE settings."""
    scale = _activation_scale(dtype)
    model = calibrate.vae_decode_model(preset)
    vae = meta_module(preset.component("vae"))
    tiles = decode_tiles(vae, preset.family, lat.frames, lat.height, lat.width, tiling=tiling, slicing=slicing)
    flops = sum(model.flops(**calibrate.vae_variables(t.frames, t.height * t.width)) for t in tiles)
    tile_peak = max(model.peak(**calibrate.vae_variables(t.frames, t.height * t.width)) for t in tiles) * scale
    if len(tiles) == 1:
        return flops, int(tile_peak)
    spatial, temporal = compression(preset)
    element = dtype.itemsize

    def pixels(frames: int, h: int, w: int) -> int:
        out_frames = (frames - 1) * temporal + 1 if temporal > 1 else frames
        return 3 * out_frames * h * spatial * w * spatial * element

    # Decoded tiles are all held until blended, then the blended video is assembled.
    held = sum(pixels(t.frames, t.height, t.width) for t in tiles)
    return flops, int(tile_peak + held + pixels(lat.frames, lat.height, lat.width))


def denoise_step_flops(
    preset_or_id: ArchPreset | str, task: str, num_frames: int, height: int, width: int, guidance_scale: float
) -> float:
    """FLOPs of one denoising step: one denoiser forward per CFG pass the family runs at ``guidance_scale``."""
    preset = _preset(preset_or_id)
    lat = latent_shape(preset, num_frames, height, width)
    model = calibrate.denoiser_model(preset, task)
    per_pass = model.flops(**model.variables(lat.frames, lat.height, lat.width, denoiser_patch(preset)))
    return per_pass * cfg_passes(preset, guidance_scale)


def estimate_cost(
    preset_or_id: ArchPreset | str,
    task: str,
    num_frames: int,
    height: int,
    width: int,
    num_inference_steps: int,
    guidance_scale: float,
    dtype: str = "bfloat16",
    device_name: str | None = None,
    weights: str = "bf16",
    gguf_file: str | None = None,
    rung_weights: tuple[str, ...] = (),
    conditioning: Conditioning | None = None,
    parallel: parallel_cost.ParallelConfig | None = None,
) -> CostEstimate:
    """The cost of one request (one video) on ``preset`` at ``dtype``, its denoisers in the ``weights`` mode;
    seconds when ``device_name`` is known. ``rung_weights``: more modes to price memory for (admission's
    quantized rungs). ``conditioning``: the job's reference images and keyframes (their encodes and tokens).
    ``parallel``: the replica's split across ranks; every figure is then one rank's (``parallel_cost``)."""
    preset = _preset(preset_or_id)
    if task not in preset.tasks:
        from videogen.errors import UnsupportedTaskError

        raise UnsupportedTaskError(f"{preset.id} does not offer {task}", field="task", allowed=list(preset.tasks))
    torch_dtype = _DTYPES[dtype]
    request = _Request(
        preset, task, num_frames, height, width, num_inference_steps, guidance_scale, torch_dtype, conditioning
    )
    flops = _flops(request)
    counts = preset.param_counts()
    bytes_of = memory.weight_bytes(preset, torch_dtype, weights, gguf_file)
    split = parallel_cost.Split.of(parallel, preset, request.passes, request.facts.cfg, request.tokens, torch_dtype)
    cost = CostEstimate(
        preset=preset.id,
        family=preset.family,
        task=task,
        dtype=dtype,
        weights=weights,
        num_frames=num_frames,
        height=height,
        width=width,
        num_inference_steps=num_inference_steps,
        guidance_scale=guidance_scale,
        components=[
            ComponentCost(name=c.name, class_name=c.class_name, params=counts[c.name], weight_bytes=bytes_of[c.name])
            for c in preset.components
        ],
        total_params=sum(counts.values()),
        total_weight_bytes=sum(bytes_of.values()),
        latent=LatentInfo(**vars(request.latent)),
        video_tokens=request.tokens,
        text_tokens=request.facts.text_tokens,
        cfg_passes=request.passes,
        cfg_mode=request.facts.cfg,
        denoiser_steps=dict(request.expert_steps),
        flops=flops,
        memory=_memory(request, (weights, *rung_weights), gguf_file, split),
        seconds=_seconds(flops, device_name),
        notes=[
            *request.facts.notes,
            *_expert_notes(preset, request.expert_steps),
            *([request.sections.note()] if request.sections else []),
            *request.load.notes,
        ],
    )
    return parallel_cost.per_rank(cost, split)


def _expert_notes(preset: ArchPreset, steps: dict[str, int]) -> list[str]:
    if preset.denoiser_2 is None:
        return []
    high, low = preset.denoiser, preset.denoiser_2
    return [
        f"two denoiser experts: {high} (high noise) runs {steps[high]} of {sum(steps.values())} steps "
        f"(timesteps >= {preset.boundary_ratio:g} x num_train_timesteps), {low} (low noise) {steps[low]}; "
        f"on the GPU both stay resident, with model CPU offload one at a time"
    ]


class _Request:
    """One request's shapes and the calibrated models it needs."""

    def __init__(self, preset, task, num_frames, height, width, steps, guidance_scale, dtype, conditioning) -> None:
        self.preset, self.task, self.steps, self.dtype = preset, task, steps, dtype
        self.facts = pipeline_facts(preset, task, num_frames)
        # the conditioning media: more VAE encodes, and latent frames the denoised sequence gains (reference images
        # in front, keyframes after frame 0), which the fitted denoiser prices as more tokens (FLOPs and peak)
        temporal = compression(preset)[1]
        self.load = conditioning_load(cost_facts(preset), task, conditioning or Conditioning(), temporal)
        self.encodes = vae_encodes(preset, task, num_frames, height * width, self.facts, self.load)
        self.latent = latent_shape(preset, num_frames, height, width)
        # FramePack: every step of every section denoises one window; the VAE decodes after each section
        self.sections = sections_of(preset, task, num_frames, height, width)
        decoded = self.sections.decoded if self.sections else (self.latent,)
        if self.sections:
            self.latent = self.sections.window
        self.passes = cfg_passes(preset, guidance_scale)
        self.text_runs = text_encoder_runs(preset, guidance_scale)
        self.denoiser = calibrate.denoiser_model(preset, task)
        lat, extra = self.latent, self.load.latent_frames
        self.added_tokens = video_tokens(preset, LatentShape(lat.channels, extra, lat.height, lat.width))
        self.denoiser_vars = self.denoiser.variables(lat.frames + extra, lat.height, lat.width, denoiser_patch(preset))
        context = self.sections.context_tokens if self.sections else 0  # the sequence the denoiser attends over
        self.tokens = video_tokens(preset, lat) + context + self.added_tokens
        # every expert's fitted model (one calibration when they are built alike) and the steps it runs
        self.experts = {
            name: self.denoiser
            if name == preset.denoiser or same_architecture(preset, name)
            else calibrate.denoiser_model(expert_preset(preset, name), task)
            for name in preset.denoisers
        }
        self.expert_steps = expert_steps(preset, task, steps)
        self.encoders = calibrate.encoder_measurements(preset, task)
        after = cost_facts(preset).after_decode  # the sound's decoders (LTX-2), after the VAE's
        self.after_decode = after(preset, num_frames) if after is not None else None
        # (FLOPs, peak) of the decode(s) for each (tiling, slicing): FLOPs summed, the largest peak
        self.decode = {}
        for t, sl in ((t, sl) for t in (False, True) for sl in (False, True)):
            each = [_decode(preset, dtype, lat, t, sl) for lat in decoded]
            self.decode[(t, sl)] = (sum(f for f, _ in each), max(peak for _, peak in each))


def _flops(r: _Request) -> Flops:
    text = sum(r.encoders[n].flops for n in r.facts.encoder_tokens) * r.text_runs
    image = r.encoders["image_encoder"].flops * r.facts.image_encoder_runs if "image_encoder" in r.encoders else 0.0
    vae_encode = sum(encode.flops for encode in r.encodes)
    # Each step runs one expert; CFG (decided by guidance_scale alone) runs that expert once per pass.
    per_expert = {name: r.experts[name].flops(**r.denoiser_vars) * r.passes for name in r.expert_steps}
    denoise = sum(per_expert[name] * n for name, n in r.expert_steps.items()) * (r.sections.count if r.sections else 1)
    # experts built alike (Wan 2.2 A14B) cost the same per step; otherwise per_step is the request's average
    distinct = set(per_expert.values())
    per_step = distinct.pop() if len(distinct) == 1 else denoise / max(r.steps, 1)
    decode = r.decode[(False, False)][0]
    audio = r.after_decode.flops if r.after_decode else 0.0
    return Flops(
        text_encode=text,
        image_encode=image,
        vae_encode=vae_encode,
        per_step=per_step,
        denoise_total=denoise,
        vae_decode=decode,
        vae_decode_tiled=r.decode[(True, False)][0],
        audio_decode=audio,
        total=text + image + vae_encode + denoise + decode + audio,
    )


def _memory(
    r: _Request, modes: tuple[str, ...], gguf_file: str | None, split: parallel_cost.Split | None
) -> list[PlacementMemory]:
    scale = _activation_scale(r.dtype)
    stages = [
        memory.Stage("text_encode", (name,), int(scale * r.encoders[name].peak_bytes))
        for name in r.facts.encoder_tokens
    ]
    if "image_encoder" in r.encoders:
        image_peak = int(scale * r.encoders["image_encoder"].peak_bytes)
        stages.append(memory.Stage("image_encode", ("image_encoder",), image_peak))
    if r.encodes:  # one after another: the largest is the stage's peak
        stages.append(memory.Stage("vae_encode", ("vae",), int(scale * max(e.peak for e in r.encodes))))
    # Batched CFG runs both branches in one forward: twice the activations.
    batch = 2 if r.facts.cfg == "batched" and r.passes == 2 else 1
    for name, model in r.experts.items():
        # One expert runs at a time: placements that move weights in per running model (model CPU offload, group,
        # sequential) hold one expert's; "gpu" holds every component, both experts included.
        parts = tuple(c.name for c in r.preset.components if c.name in (name, "motion_adapter"))
        peak = scale * model.peak(**r.denoiser_vars) * batch  # one rank's share of it when split across ranks
        stages.append(memory.Stage("denoise", parts, int(split.activation(peak) if split else peak)))
    if r.after_decode:
        stages.append(memory.Stage("audio_decode", r.after_decode.components, int(scale * r.after_decode.peak_bytes)))
    entries = []
    for mode, placement in ((m, p) for m in dict.fromkeys(modes) for p in memory.PLACEMENTS):
        res = memory.component_residency(r.preset, r.dtype, mode, gguf_file)  # cached per component and mode
        total_weights = sum(x.full for x in res.values())
        for (tiling, slicing), (_, decode_peak) in r.decode.items():
            per_stage: dict[str, int] = {}
            for stage in [*stages, memory.Stage("vae_decode", ("vae",), decode_peak)]:
                value = memory.stage_peak(stage, placement, res, total_weights)
                per_stage[stage.name] = max(per_stage.get(stage.name, 0), value)
            peak = max(per_stage.values())
            required = memory.required_bytes(peak)
            entries.append(
                PlacementMemory(
                    placement=placement,
                    vae_tiling=tiling,
                    vae_slicing=slicing,
                    weights=mode,
                    stages=per_stage,
                    peak_bytes=peak,
                    required_bytes=required,
                    required_gb=round(required / memory.GIB, 2),
                )
            )
    return entries


def _seconds(flops: Flops, device_name: str | None) -> Seconds | None:
    entry = device_peak(device_name)
    if entry is None:
        return None
    rate = entry.tflops * 1e12
    return Seconds(
        device=device_name or "",
        tflops=entry.tflops,
        source=entry.source,
        text_encode=(flops.text_encode + flops.image_encode + flops.vae_encode) / rate,
        denoise=flops.denoise_total / rate,
        vae_decode=(flops.vae_decode + flops.audio_decode) / rate,
        total=flops.total / rate,
    )
