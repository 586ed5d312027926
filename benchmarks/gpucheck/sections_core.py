"""Raw diffusers against VideoGen, and the few-step recipe against the full schedule."""

from __future__ import annotations

from typing import Any

from gpucheck.context import Check
from gpucheck.measure import Rig, against_estimate, flop_share, raw_call, worker_job
from gpucheck.settings import RECIPE, RECIPE_NAME, REFERENCE_STEPS
from videogen.video.families import get_spec

_TIMES = ("steps", "job_s", "text_encode_s", "denoise_s", "first_step_s", "s_per_step", "decode_s", "mp4_s")


def conditions(rig: Rig, extra: str = "") -> str:
    """The model, shape, dtype, rung and attention backend a section's figures were measured at."""
    t = rig.target
    return (
        f"{t.model} {t.task} {t.shape} (frames x height x width), {rig.policy.dtype}, rung {rig.loaded.rung.name}, "
        f"attention {rig.loaded.provenance['levers']['attention_backend'].get('applied')}; steady s/step = median "
        f"of steps 2..n (the first carries first-call costs), device synchronised at each denoiser call. {extra}"
    ).strip()


def baseline(check: Check, label: str) -> dict[str, Any]:
    """The target's job twice: the loaded pipeline called directly with VideoGen's kwargs (first, so it pays the
    first-call costs outside its steady steps), then through ``GenerationWorker.generate``."""
    rig = check.rig(label)
    kwargs = rig.kwargs()
    raw, _ = raw_call(rig, kwargs)
    job = check.job(label)
    estimate = rig.cost(kwargs)
    entry = estimate.memory_for(*rig.estimate_rung())
    peak = check.device["peak_tflops"]
    rows = []
    for name, row in (("raw diffusers", raw), ("videogen", job)):
        rows.append(
            {
                "run": name,
                **{k: row.get(k) for k in _TIMES},
                **flop_share(estimate.flops.per_step, row["s_per_step"], peak),
                "decode_tflops_per_s": estimate.flops.vae_decode / row["decode_s"] / 1e12,
                **against_estimate(row["peak_mb"], entry.peak_bytes, check.is_gpu),
            }
        )
    facts = {
        "build_s": rig.build_s,
        "flops_per_step": estimate.flops.per_step,
        "vae_decode_flops": estimate.flops.vae_decode,
        "device_peak_tflops": peak,
        "videogen_vs_raw_s_per_step_pct": round(100.0 * (job["s_per_step"] / raw["s_per_step"] - 1.0), 2),
        "videogen_vs_raw_job_pct": round(100.0 * ((job["job_s"] - (job["mp4_s"] or 0.0)) / raw["job_s"] - 1.0), 2),
        "expected_s_before_measuring": job["expected_s"],
        "measured_pipeline_s": job["pipeline_s"],
        "estimated_required_gb": entry.required_gb,
        "estimated_stages_mb": {k: round(v / 2**20, 1) for k, v in entry.stages.items()},
    }
    notes = [
        "videogen_vs_raw_job_pct leaves out VideoGen's MP4 encode (raw diffusers writes no video)",
        "expected_s_before_measuring: the worker's first estimate (device peak at the published-run efficiency); "
        "measured_pipeline_s: its denoising + decoding stages",
    ]
    return {"conditions": conditions(rig), "facts": facts, "rows": rows, "notes": notes}


def _flops(estimate) -> dict[str, float]:
    return {"cost_model_flops": estimate.flops.total, "cost_model_denoise_flops": estimate.flops.denoise_total}


def recipe(check: Check, label: str) -> dict[str, Any]:
    """The few-step recipe's job, measured, against the full schedule extrapolated from the standard job's steady
    seconds per step (that job runs only a few steps: the long one is not run)."""
    rig = check.rig(label)
    default = check.job(label)
    fast, result = worker_job(rig, rig.request(recipe=RECIPE_NAME), check.out_path(f"recipe-{label}"))
    family_steps = {**get_spec(rig.target.family).defaults.model_dump(), **rig.loaded.meta.request_defaults}[
        "num_inference_steps"
    ]
    fixed = default["text_encode_s"] + default["decode_s"]
    recipe_s = fast["text_encode_s"] + fast["denoise_s"] + fast["decode_s"]
    kwargs = rig.kwargs()
    rows = [
        {
            "schedule": f"recipe {RECIPE_NAME}",
            "how": "measured",
            "steps": fast["steps"],
            "guidance_scale": fast["guidance_scale"],
            "s_per_step": fast["s_per_step"],
            "pipeline_s": recipe_s,
            "job_s": fast["job_s"],
            "speedup": 1.0,
            **_flops(rig.cost({**kwargs, "num_inference_steps": fast["steps"], "guidance_scale": 1.0})),
        }
    ]
    for steps in dict.fromkeys((REFERENCE_STEPS, family_steps)):
        extrapolated = fixed + steps * default["s_per_step"]
        rows.append(
            {
                "schedule": f"{steps} steps" + (" (the family's default)" if steps == family_steps else ""),
                "how": f"extrapolated: text + decode + {steps} x the measured s/step",
                "steps": steps,
                "guidance_scale": default["guidance_scale"],
                "s_per_step": default["s_per_step"],
                "pipeline_s": extrapolated,
                "job_s": None,
                "speedup": extrapolated / recipe_s,
                **_flops(rig.cost({**kwargs, "num_inference_steps": steps})),
            }
        )
    for row in rows:  # what the cost model expects of the same comparison: all stages, and the denoising alone
        row["cost_model_speedup"] = row["cost_model_flops"] / rows[0]["cost_model_flops"]
        row["cost_model_denoise_ratio"] = row["cost_model_denoise_flops"] / rows[0]["cost_model_denoise_flops"]
    adjustments = [f"{a.field}: {a.reason}" for a in result.adjustments]
    return {
        "conditions": conditions(
            rig,
            f"Recipe {RECIPE}; its LoRA left out (random weights; its FLOPs are ~1 % of a step). "
            "pipeline_s = text encode + denoise + decode (no MP4).",
        ),
        "facts": {"reference_job_steps": default["steps"], "recipe_adjustments": adjustments},
        "rows": rows,
        "notes": ["the full schedules are extrapolated from the standard job's steady s/step, not run"],
    }
