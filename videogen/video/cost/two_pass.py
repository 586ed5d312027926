"""A job that denoises twice: a first pass at a smaller size, a latent upsampler, then a refining pass at the output
size (LTX-Video's latent upscale, ``families/ltx_video/upscale.py``).

Its settled ``params`` say so: ``first_pass_height`` / ``first_pass_width`` and ``refine_steps``. ``estimate_job``
prices the output-size pass like any job (its ``refine_steps``, its decode, its memory: the larger pass);
``with_first_pass`` adds what runs before it: the first pass's text and condition encodes and its denoising steps (no
decode: it stops at the latents), and one forward of the upsampler, counted on the meta device from the config in
the model directory (``CostFacts.latent_upsampler_class``). The upsampler's weights join the device memory where
they stay between jobs: with the VAE, on the device unless the placement offloads it.
"""

from __future__ import annotations

import functools
import json
from pathlib import Path
from typing import Any

import torch

from videogen.video.arch.preset import ArchPreset
from videogen.video.cost.conditioning import Conditioning
from videogen.video.cost.estimate import CostEstimate, Flops, LatentInfo, PlacementMemory, estimate_cost
from videogen.video.cost.repriced import seconds_at, with_stages
from videogen.video.dotted import resolve
from videogen.video.families import get_cost_facts
from videogen.video.model_meta import LATENT_UPSAMPLER_DIR
from videogen.video.spec import VIDEO_TO_VIDEO

# Placements that keep the VAE on the device between jobs (``placement.apply_load_policy``): the upsampler too.
_RESIDENT_WITH_VAE = ("gpu", "group_offload")


def with_first_pass(
    output_pass: CostEstimate,
    preset: ArchPreset,
    task: str,
    params: dict[str, Any],
    first_pass_steps: int,
    model_dir: Path | None,
) -> CostEstimate:
    """``output_pass`` (the refinement at the output size) with the first pass and the upsampler added."""
    first = estimate_cost(
        preset,
        task,
        int(params["num_frames"]),
        int(params["first_pass_height"]),
        int(params["first_pass_width"]),
        first_pass_steps,
        float(params["guidance_scale"]),
        dtype=output_pass.dtype,
        conditioning=Conditioning.from_params(params),  # keyframes condition the first pass too
        parallel=output_pass.parallel.config if output_pass.parallel else None,  # split the same way, a rank's
    )
    upsampler = _upsampler(preset.family, model_dir, first.latent, getattr(torch, output_pass.dtype))
    up_flops, up_bytes = upsampler or (0.0, 0)
    f, r = first.flops, output_pass.flops
    # a clip to edit enters the first pass only (as its latents); images and keyframes condition both passes
    refine_encode = 0.0 if task == VIDEO_TO_VIDEO else r.vae_encode
    flops = Flops(
        text_encode=f.text_encode + r.text_encode,  # each pass encodes the prompt
        image_encode=f.image_encode + r.image_encode,
        vae_encode=f.vae_encode + refine_encode,
        per_step=r.per_step,  # a step at the output size
        denoise_total=f.denoise_total + r.denoise_total,
        vae_decode=r.vae_decode,
        vae_decode_tiled=r.vae_decode_tiled,
        latent_upsample=up_flops,
        audio_decode=r.audio_decode,  # after the output pass's decode (LTX-2's sound)
        total=f.total - f.vae_decode + r.total - r.vae_encode + refine_encode + up_flops,
    )
    steps = {name: first.denoiser_steps.get(name, 0) + n for name, n in output_pass.denoiser_steps.items()}
    note = (
        f"two passes: {first_pass_steps} steps at {first.height}x{first.width}, the latent upsampler "
        f"({up_flops:.3g} FLOPs), then {sum(output_pass.denoiser_steps.values())} refining steps at "
        f"{output_pass.height}x{output_pass.width}; memory is the output-size pass's"
        + ("" if upsampler else " (the upsampler's config is not readable here: not counted)")
    )
    return output_pass.model_copy(
        update={
            "flops": flops,
            "denoiser_steps": steps,
            "memory": [_with_upsampler(entry, up_bytes) for entry in output_pass.memory],
            "seconds": seconds_at(output_pass.seconds, flops),
            "parallel": _parallel(first, output_pass, flops),
            "notes": [*output_pass.notes, note],
        }
    )


def _parallel(first: CostEstimate, output_pass: CostEstimate, flops: Flops):
    """Both passes' split (their tokens and exchanges); the job's one-device FLOPs: a rank's and what the split saved
    in each pass's denoising."""
    if output_pass.parallel is None or first.parallel is None:
        return None
    saved = sum(c.parallel.job_flops_total - c.flops.total for c in (first, output_pass))
    return output_pass.parallel.plus(first.parallel).model_copy(update={"job_flops_total": flops.total + saved})


def _upsampler(family: str, model_dir: Path | None, latent: LatentInfo, dtype: torch.dtype) -> tuple[float, int] | None:
    """(FLOPs of one forward on ``latent``, weight bytes) of the model directory's upsampler; None if unreadable."""
    class_path = get_cost_facts(family).latent_upsampler_class
    config = Path(model_dir) / LATENT_UPSAMPLER_DIR / "config.json" if model_dir is not None else None
    if class_path is None or config is None or not config.is_file():
        return None
    shape = (latent.channels, latent.frames, latent.height, latent.width)
    return _count(class_path, config.read_text(), shape, dtype)


@functools.lru_cache(maxsize=32)
def _count(class_path: str, config_text: str, shape: tuple[int, ...], dtype: torch.dtype) -> tuple[float, int]:
    cls = resolve(class_path)
    with torch.device("meta"):
        model = cls.from_config(json.loads(config_text)).to(dtype).eval()
    weights = sum(p.numel() * p.element_size() for p in model.parameters())
    from torch.utils.flop_counter import FlopCounterMode

    with torch.no_grad(), FlopCounterMode(display=False) as counter:
        model(torch.empty((1, *shape), device="meta", dtype=dtype))
    return float(counter.get_total_flops()), weights


def _with_upsampler(entry: PlacementMemory, weight_bytes: int) -> PlacementMemory:
    if not weight_bytes or entry.placement not in _RESIDENT_WITH_VAE:
        return entry
    return with_stages(entry, **{name: value + weight_bytes for name, value in entry.stages.items()})


__all__ = ["with_first_pass"]
