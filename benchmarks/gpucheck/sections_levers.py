"""The speed levers VideoGen offers, each applied with VideoGen's own function to the loaded pipeline and timed on
latent-only calls (no decode: a lever acts on the denoising loop): every attention backend ``auto`` may pick, every
step cache the family takes, and regional compile."""

from __future__ import annotations

from typing import Any

from gpucheck.context import Check
from gpucheck.measure import flop_share, latents, raw_call, rel_error
from gpucheck.sections_core import conditions
from gpucheck.settings import CACHE_STEPS
from videogen.video import speed
from videogen.video.families import get_spec
from videogen.video.policy_overrides import STEP_CACHE_KINDS
from videogen.video.speed_measure import projection_calls

_ROW = ("steps", "denoise_s", "first_step_s", "s_per_step", "peak_mb")


def attention_backends(check: Check, label: str) -> dict[str, Any]:
    """Each backend of ``speed.attention_candidates`` for this device: applied through ``apply_attention_backend``
    (its probe decides whether it runs here) and timed; then ``auto``'s pick is put back."""
    rig = check.rig(label)
    profile, policy = rig.worker.profile, rig.policy
    picked = rig.loaded.provenance["levers"]["attention_backend"].get("applied") or "native"
    kwargs = rig.kwargs()
    flops = rig.cost(kwargs).flops.per_step

    def apply(name: str):
        return speed.apply_attention_backend(
            rig.pipe,
            name,
            backend=profile.backend,
            device=policy.device,
            dtype=policy.torch_dtype(),
            compute_capability=profile.compute_capability,
        )

    rows = []
    try:
        for name in speed.attention_candidates(profile.backend, profile.compute_capability):
            report = apply(name)
            if report.applied != name:
                why = next((t["reason"] for t in report.tried if t["backend"] == name), report.reason)
                rows.append({"backend": name, "usable": False, "reason": why})
                continue
            row, _ = raw_call(rig, kwargs, decode=False)
            rows.append(
                {
                    "backend": name,
                    "usable": True,
                    **{k: row[k] for k in _ROW},
                    **flop_share(flops, row["s_per_step"], check.device["peak_tflops"]),
                }
            )
    finally:
        apply(picked)
    timed = [r for r in rows if r["usable"]]
    native = next((r for r in timed if r["backend"] == "native"), None)
    for row in timed:
        row["speedup_vs_native"] = native["s_per_step"] / row["s_per_step"] if native else None
    fastest = min(timed, key=lambda r: r["s_per_step"])["backend"] if timed else None
    return {
        "conditions": conditions(rig, "Latent-only calls (no decode)."),
        "facts": {"auto_picked": picked, "fastest_measured": fastest},
        "rows": rows,
        "notes": ["auto tries these in this order and keeps the first whose probe passes"],
    }


def step_caches(check: Check, label: str) -> dict[str, Any]:
    """Cache off, then each kind the family takes (``set_step_cache`` with its default knobs), on latent-only calls
    of a few more steps (a cache skips nothing in its first steps). ``work_fraction``: the denoisers' projection
    calls against cache off; ``latent_rel_error``: the final latents' relative L2 distance from cache off."""
    rig = check.rig(label)
    spec, task = get_spec(rig.target.family), rig.target.task
    kwargs = rig.kwargs(CACHE_STEPS["gpu" if check.is_gpu else "tiny"])
    with projection_calls(rig.pipe) as calls:
        off, off_output = raw_call(rig, kwargs, decode=False)
    reference, off_calls = latents(off_output), calls[0]
    rows = [{"cache": "off", "applied": "off", **{k: off[k] for k in _ROW}, "speedup": 1.0, "work_fraction": 1.0}]
    for kind in STEP_CACHE_KINDS[1:]:
        why_not = spec.step_caches.unsupported_reason(kind, task)
        if why_not:
            rows.append({"cache": kind, "applied": "off", "reason": why_not})
            continue
        report = speed.set_step_cache(
            rig.pipe,
            speed.StepCacheSetting(kind=kind),
            support=spec.step_caches,
            task=task,
            guidance_scale=kwargs.get("guidance_scale"),
        )
        try:
            with projection_calls(rig.pipe) as calls:
                row, output = raw_call(rig, kwargs, decode=False)
        finally:
            speed.set_step_cache(rig.pipe, speed.StepCacheSetting(), support=spec.step_caches, task=task)
        rows.append(
            {
                "cache": kind,
                "applied": report.applied,
                **{k: row[k] for k in _ROW},
                "speedup": off["denoise_s"] / row["denoise_s"],
                "work_fraction": calls[0] / off_calls if off_calls else None,
                "latent_rel_error": rel_error(latents(output), reference),
                "reason": report.reason,
            }
        )
    return {
        "conditions": conditions(rig, f"{kwargs['num_inference_steps']} steps, latent-only calls, default knobs."),
        "facts": {"steps": kwargs["num_inference_steps"], "guidance_scale": kwargs.get("guidance_scale")},
        "rows": rows,
        "notes": [
            "speedup: denoising seconds of cache off over the cache's (all steps: a cache skips some steps whole)",
            "random weights move more per step than trained ones: the skips and drift here are not a trained model's",
        ],
    }


def compile_regional(check: Check, label: str) -> dict[str, Any]:
    """Eager, then ``apply_compile(pipe, "regional")`` and ``warm_up_compiled`` (the worker's warm-up: a 2-step
    latent call builds the graphs; its seconds are the compile's), then the same call compiled; then undone."""
    rig = check.rig(label)
    kwargs = rig.kwargs()
    eager, _ = raw_call(rig, kwargs, decode=False)
    saved = speed.COMPILE_KWARGS
    speed.COMPILE_KWARGS = saved | {"backend": check.args.compile_backend}
    try:
        report = speed.apply_compile(rig.pipe, "regional").model_dump(exclude_none=True)
        speed.warm_up_compiled(rig.pipe, kwargs | {"num_inference_steps": 2, "output_type": "latent"}, report)
        compiled = raw_call(rig, kwargs, decode=False)[0] if report["applied"] == "regional" else None
    finally:
        speed.uncompile(rig.pipe)
        speed.COMPILE_KWARGS = saved
    rows = [{"run": "eager", **{k: eager[k] for k in _ROW}, "speedup": 1.0}]
    if compiled is not None:
        rows.append(
            {
                "run": "regional compile",
                **{k: compiled[k] for k in _ROW},
                "speedup": eager["s_per_step"] / compiled["s_per_step"],
            }
        )
    return {
        "conditions": conditions(rig, f"torch.compile backend {check.args.compile_backend}; latent-only calls."),
        "facts": {
            "applied": report["applied"],
            "reason": report.get("reason"),
            "warm_up_compile_s": report.get("seconds"),
            "compile_backend": check.args.compile_backend,
        },
        "rows": rows,
        "notes": ["warm_up_compile_s: the 2-step warm-up call that builds the graphs (a replica pays it at start)"],
    }
