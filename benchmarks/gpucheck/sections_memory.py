"""Memory: the admission ladder's rungs, and the denoiser's weights modes (issue 15), each measured peak beside the
cost model's estimate for the same rung and mode."""

from __future__ import annotations

from typing import Any

from gpucheck.context import Check
from gpucheck.measure import against_estimate, free_memory, raw_call
from gpucheck.sections_core import conditions
from gpucheck.settings import WEIGHTS_MODES
from videogen.video.placement import PLACEMENT_LADDER, move_to_rung


def _order(is_gpu: bool) -> list:
    """The ladder's rungs, cheapest first; group offload last, because diffusers 0.42.1 refuses model or sequential
    CPU offload on a pipeline whose components have group offloading hooks (``remove_all_hooks`` does not remove
    them), so the ladder's own order would lose the sequential rung. Without a GPU only the all-resident rungs run
    (``gpu`` places the pipeline on the policy's device: the CPU)."""
    rungs = [r for r in PLACEMENT_LADDER if is_gpu or r.placement == "gpu"]
    return [r for r in rungs if r.placement != "group_offload"] + [r for r in rungs if r.placement == "group_offload"]


def placement_rungs(check: Check, label: str) -> dict[str, Any]:
    """The loaded pipeline moved down the ladder with ``move_to_rung`` (what admission and the out-of-memory
    fallback do), a 1-step job with decode called at each rung; the pipeline is left at the last rung."""
    rig = check.rig(label)
    kwargs = rig.kwargs(1)
    estimate = rig.cost(kwargs)
    rows, current, where = [], rig.loaded.rung, conditions(rig, "One step and the decode per rung, called directly.")
    rig.dirty = True  # from here on the pipeline is wherever the last rung put it
    for rung in _order(check.is_gpu):
        try:
            current = move_to_rung(rig.pipe, rig.policy, current, rung)
            rig.loaded.rung = current
            row, _ = raw_call(rig, kwargs)
        except Exception as exc:  # noqa: BLE001 - a rung that cannot run is a figure too; the next may
            rows.append({"rung": rung.name, "error": f"{type(exc).__name__}: {str(exc)[:300]}"})
            free_memory()
            continue
        entry = estimate.memory_for(rung.placement, rung.vae_tiling, rung.vae_slicing)
        rows.append(
            {
                "rung": rung.name,
                **against_estimate(row["peak_mb"], entry.peak_bytes, check.is_gpu),
                "estimated_required_gb": entry.required_gb,
                "largest_stage": max(entry.stages, key=entry.stages.get),
                "resident_before_mb": row["resident_before_mb"],
                "step_s": row["first_step_s"],
                "decode_s": row["decode_s"],
                "job_s": row["job_s"],
            }
        )
    return {
        "conditions": where,
        "facts": {"rungs": [r.name for r in _order(check.is_gpu)]},
        "rows": rows,
        "notes": [
            "step_s is the job's only step: with an offload placement it includes moving the weights in",
            "estimated_peak_mb: the cost model's peak_bytes for the rung (live tensors, as the allocator counts them)",
        ],
    }


def weights(check: Check, label: str) -> dict[str, Any]:
    """The target's standard job with the denoiser in each weights mode, each loaded by the worker's own path
    (policy ``weights``): seconds per step, peak memory and the denoiser's bytes, each beside the estimate."""
    rows = []
    for mode in WEIGHTS_MODES:
        try:
            job = check.job(label, mode)
        except Exception as exc:  # noqa: BLE001 - the other modes still measure
            rows.append({"weights": mode, "error": f"{type(exc).__name__}: {str(exc)[:300]}"})
            check.drop_rigs()
            continue
        rows.append(
            {
                "weights": mode,
                "applied": job["weights_applied"],
                "fallback": job["weights_reason"],
                **{k: job[k] for k in ("build_s", "s_per_step", "first_step_s", "decode_s", "job_s")},
                **{k: job[k] for k in ("tflops_per_s", "share_of_peak")},
                **{k: job[k] for k in ("measured_peak_mb", "estimated_peak_mb", "measured_over_estimate")},
                "estimated_required_gb": job["estimated_required_gb"],
                "denoiser_bytes_measured": job["denoiser_bytes_measured"],
                "denoiser_bytes_estimated": job["denoiser_bytes_estimated"],
            }
        )
    base = next((r for r in rows if r.get("applied") == "bf16" and "error" not in r), None)
    for row in rows:
        if base is not None and "error" not in row:
            row["s_per_step_vs_bf16"] = row["s_per_step"] / base["s_per_step"]
            row["peak_vs_bf16"] = row["measured_peak_mb"] / base["measured_peak_mb"]
    t = check.targets[label]
    return {
        "conditions": f"{t.model} {t.task} {t.shape} (frames x height x width), {t.steps} steps, the standard job "
        "through GenerationWorker per mode, each mode its own load; on a GPU the all-resident rung.",
        "facts": {"modes": list(WEIGHTS_MODES)},
        "rows": rows,
        "notes": [
            "8-bit modes are weight-only: the matmuls run in the compute dtype, so a step is not faster",
            "denoiser bytes: measured = what the loaded denoiser holds (quantize.stored_bytes); estimated = the cost "
            "model's weight bytes for the mode",
        ],
    }
