"""``videogen estimate``: what a request would cost, and where and whether it would run.

Answers from the architecture alone (the cost model on the meta device: no weights, no
GPU), for this machine or for a named GPU (``--gpu "NVIDIA H200"``): parameters per
component, FLOPs per stage, memory per placement rung, the rung the worker would pick,
the time at the device's FLOP peak and the expected time, and the admission verdict.
"""

from __future__ import annotations

import json
from typing import Any

from videogen.cli_policy import policy_overrides
from videogen.cli_recipes import recipes_from_args
from videogen.cli_request import EXIT_BAD_INPUT, request_from_args
from videogen.errors import CapacityError, VideoGenError


def _profile(args):
    from videogen.video.hardware import VideoHardwareProfile

    if not args.gpu:
        return VideoHardwareProfile.detect()
    name = args.gpu.strip()
    backend = "rocm" if any(k in name.upper() for k in ("AMD", "INSTINCT", "RADEON", "MI3", "MI2")) else "cuda"
    overrides: dict[str, Any] = {"device_name": name}
    return VideoHardwareProfile.synthetic(backend, args.vram or _named_vram(name), **overrides)


def _named_vram(name: str) -> float | None:
    """Memory of a card in the device table (GB as torch reports it), when --vram is not given."""
    from videogen.video.cost.device_peaks import device_peak

    entry = device_peak(name)
    return entry.memory_gb if entry is not None else None


def parallel_from_args(args):
    """``--parallel`` as a ``ParallelConfig`` (None without it); a bad value is an error naming the flag."""
    from pydantic import ValidationError

    from videogen.errors import InvalidRequestError
    from videogen.video.parallel.config import ParallelConfig

    text = getattr(args, "parallel", None)
    if not text:
        return None
    try:
        return ParallelConfig.parse(text)
    except ValidationError as exc:
        err = exc.errors()[0]
        key = ".".join(str(part) for part in err["loc"]) or "value"
        raise InvalidRequestError("parallel", f"{text!r}: {key}: {err['msg']}; e.g. cfg=2,ulysses=4") from None
    except ValueError as exc:
        raise InvalidRequestError("parallel", str(exc).removeprefix("parallel: ")) from None


def _check_parallel(worker, family: str, task: str, config) -> list[str]:
    """Refuse a split the model cannot run (``parallel.<key>`` named), as a replica's build would; else its notes."""
    from videogen.video.job_cost import preset_for_source
    from videogen.video.parallel.validate import ParallelFacts, check_parallel

    source = worker.source(family)
    preset = preset_for_source(source, task)  # a published checkpoint's preset needs no files here
    facts = ParallelFacts.from_arch(preset) if preset is not None else ParallelFacts.from_source(source, task)
    return check_parallel(config, facts, worker.policy(family).attention_backend)


def estimate_payload(args) -> dict[str, Any]:
    """The estimate as JSON: figures always, the admission verdict (rung or refusal) beside them."""
    from videogen.video.admission import estimate_weights
    from videogen.video.families import get_adapter, get_spec
    from videogen.video.job_cost import estimate_job
    from videogen.video.worker import GenerationWorker

    request = request_from_args(args, image_required=False)
    parallel = parallel_from_args(args)
    worker = GenerationWorker(
        models={args.family: args.model},
        profile=_profile(args),
        job_timeout_s=args.job_timeout_s,
        policy_overrides=policy_overrides(args),
        recipes={args.family: recipes_from_args(args) or {}},
        parallel=parallel,
    )
    family, task = request.family, request.task
    get_spec(family).check_task(task)
    parallel_notes = _check_parallel(worker, family, task, parallel) if parallel else []
    params = get_adapter(family).resolve_params(request, worker.model_meta(family, task)).params
    policy = worker.policy(family)
    priced = estimate_job(worker.source(family), task, params, policy.dtype, worker.profile, **estimate_weights(policy))
    if priced is None:
        raise VideoGenError(
            f"no cost estimate for {args.model or 'the default model'}: its architecture cannot be read "
            "here (weights not on this machine); try --model arch:PRESET",
            field="model",
        )
    payload: dict[str, Any] = {
        "hardware": {
            k: getattr(worker.profile, k) for k in ("backend", "device_name", "total_vram_gb", "system_ram_gb")
        },
        "policy": {
            k: getattr(policy, k)
            for k in ("dtype", "placement", "vae_tiling", "vae_slicing", "weights", "quantized_rungs")
        },
        "parallel": parallel
        and {"config": parallel.describe(), "world_size": parallel.world_size, "notes": parallel_notes},
        "estimate": priced[0].model_dump(),
        "admission": None,
        "refused": None,
    }
    try:
        plan = worker.estimate(request)
        payload["admission"] = plan.admission.model_dump() if plan else None
    except CapacityError as exc:
        payload["refused"] = exc.to_dict()
    return payload


def _print_text(p: dict[str, Any]) -> None:
    est, hw = p["estimate"], p["hardware"]
    prm = est["params"]
    print(
        f"{est['family']} {est['task']} on {est['model'] or 'default'} ({est['preset']}), {est['dtype']}"
        + (f", denoiser weights {est['weights']}" if est.get("weights", "bf16") != "bf16" else "")
        + ": "
        f"{prm['num_frames']} frames {prm['height']}x{prm['width']}, {prm['num_inference_steps']} steps"
        + (f" ({prm['denoising_steps']} run at its strength)" if prm.get("denoising_steps") is not None else "")
    )
    print("parameters   " + ", ".join(f"{k} {v / 1e9:.3g}B" for k, v in est["parameters"].items()))
    f = est["flops"]
    print(
        f"FLOPs        per step {f['per_step']:.3g}  denoise {f['denoise_total']:.3g}  text {f['text_encode']:.3g}  "
        + (f"VAE encode {f['vae_encode']:.3g}  " if f.get("vae_encode") else "")
        + f"VAE decode {f['vae_decode']:.3g}  total {f['total']:.3g}"
    )
    from videogen.video.cost.conditioning import PARAMS_KEY

    conditioning = prm.get(PARAMS_KEY) or {}  # what the media add: their encodes, the tokens they lengthen by
    if conditioning:
        media = [f"{conditioning['reference_images']} reference image(s)"] if "reference_images" in conditioning else []
        media += [f"{len(conditioning['keyframes'])} keyframe(s)"] if "keyframes" in conditioning else []
        print(f"conditioning {', '.join(media)}; the denoised sequence: {est['video_tokens']} tokens")
    split = est.get("parallel")
    if split:
        _print_parallel(split)
    print(
        ("memory per rank (GB) " if split else "memory (GB)  ")
        + ", ".join(f"{k} {v:g}" for k, v in est["memory_gb"].items())
    )
    peak = est["seconds_at_device_peak"]
    expected = est["expected_seconds"]
    print(
        f"on {hw['device_name']}: "
        + (f"{peak:.1f} s at the FLOP peak, " if peak else "")
        + (f"about {expected:.1f} s expected" if expected else "no measured throughput yet")
    )
    tp = est.get("throughput")
    if tp:  # how the expected time was found: the device's default, or what a replica measured
        print(
            f"throughput   {tp['flops_per_s'] / 1e12:.3g} TFLOP/s + {tp['fixed_s_per_step']:.3g} s per step "
            f"({tp['source']}: {tp['method']})"
        )
    if p["refused"]:
        print(f"refused: {p['refused']['message']}")
    elif p["admission"]:
        a = p["admission"]
        print(f"would run at {a['rung']} ({a['required_gb']} GB of {a['capacity_gb']} GB)")


def _print_parallel(split: dict[str, Any]) -> None:
    """The split: world size, what each rank holds and sends, and the time that takes on the link."""
    sent = ", ".join(
        f"{e['axis']} {e['bytes_per_step'] / 1e6:.3g} MB/step ({e['collective']})" for e in split["exchanges"]
    )
    link = split.get("link_gbps")
    seconds = split.get("communication_seconds")
    print(
        f"parallel     {split['parallel']}: {split['world_size']} ranks, each holding the whole model "
        f"({split['weights_bytes_per_rank'] / 2**30:.2f} GB of weights); a rank computes {split['denoise_share']:.3g} "
        f"of the denoising; figures below are one rank's"
    )
    print(
        f"exchanges    {sent or 'none'}; {split['communication_bytes'] / 1e9:.3g} GB a rank in all"
        + (f", {seconds:.3g} s at {link:g} GB/s" if seconds is not None and link else "")
    )


def cmd_estimate(args) -> int:
    import diffusers.utils.logging

    diffusers.utils.logging.set_verbosity_error()  # meta-device builds warn about dtypes no weights will ever have
    payload = estimate_payload(args)
    if args.json:
        print(json.dumps(payload, indent=2))
    else:
        _print_text(payload)
    return EXIT_BAD_INPUT if payload["refused"] and not args.json else 0


__all__ = ["cmd_estimate", "estimate_payload"]
