"""What the sections share: the device, the models (one resident at a time), and each model's standard job.

One loaded model at a time (``rig``): asking for another frees the one before, so a peak measured on a model never
counts another's weights. A target's standard job (its shape and steps, through ``GenerationWorker``) is measured
once per weights mode (``job``) and read by every section that needs it: the baseline's VideoGen row, the recipe's
reference, the weights table's bf16 row.
"""

from __future__ import annotations

import argparse
import tempfile
from pathlib import Path
from typing import Any

from bench_speed import device_facts

from gpucheck.measure import Rig, against_estimate, flop_share, free_memory, worker_job
from gpucheck.settings import RECIPE, RECIPE_NAME, Target
from videogen.video.hardware import VideoHardwareProfile
from videogen.video.worker import GenerationWorker


class Check:
    def __init__(self, args: argparse.Namespace, targets: dict[str, Target], profile: VideoHardwareProfile):
        self.args, self.targets, self.profile = args, targets, profile
        self.is_gpu = profile.is_gpu
        self.device = device_facts(GenerationWorker(profile=profile))  # the FLOP limit every share is taken of
        self.tmp = Path(tempfile.mkdtemp(prefix="gpu-check-"))
        self._rigs: dict[tuple, Rig] = {}
        self._jobs: dict[tuple, dict[str, Any]] = {}

    def overrides(self, weights: str) -> dict[str, Any]:
        """The load policy of every model here: ``weights``, and on a GPU everything resident with no VAE saver
        (the first rung of the ladder; the rungs section walks the rest)."""
        pins = {"placement": "gpu", "vae_tiling": False, "vae_slicing": False} if self.is_gpu else {}
        return {"weights": weights, **pins}

    def rig(self, label: str, weights: str = "bf16") -> Rig:
        """The target's model loaded in ``weights``, the only one resident (built on first use)."""
        key = self._key(label, weights)
        rig = self._rigs.get(key)
        if rig is not None and not rig.dirty:
            return rig
        self.drop_rigs()
        target = self.targets[label]
        worker = GenerationWorker(
            models={target.family: target.model},
            profile=self.profile,
            policy_overrides=self.overrides(weights),
            recipes={target.family: {RECIPE_NAME: RECIPE}},
        )
        self._rigs[key] = rig = Rig(target, weights, worker)
        return rig

    def _key(self, label: str, weights: str) -> tuple:
        """Targets alike but for their label share a model and its job (on a CPU, "small" and "large" do)."""
        t = self.targets[label]
        return (t.family, t.model, t.task, t.shape, t.steps, weights)

    def drop_rigs(self) -> None:
        self._rigs.clear()
        free_memory()

    def out_path(self, name: str) -> Path:
        return self.tmp / f"{name.replace(':', '-')}.mp4"

    def job(self, label: str, weights: str = "bf16") -> dict[str, Any]:
        """The target's standard job in ``weights`` through the worker, measured once: seconds per step and their
        share of the FLOP limit, decode, peak memory against the cost model's, what the load applied."""
        key = self._key(label, weights)
        if key in self._jobs:
            return self._jobs[key]
        rig = self.rig(label, weights)
        # Untimed, as a replica's start does: the cost model's first measurement of this architecture (seconds on
        # the meta device) and the runtime facts a job reports, so the timed job is a steady replica's.
        rig.worker.estimate(rig.request())
        rig.worker.diagnostics(rig.target.family)
        row, result = worker_job(rig, rig.request(), self.out_path(f"job-{label}-{weights}"))
        settled = {k: result.params[k] for k in ("num_frames", "height", "width", "num_inference_steps")}
        estimate = rig.cost({**settled, "guidance_scale": result.params.get("guidance_scale", 1.0)})
        rung = rig.estimate_rung()
        entry = estimate.memory_for(*rung)
        load = rig.loaded.provenance["levers"]["weights"]
        name = next(iter(load["stored_bytes"]))  # the (first) denoiser: transformer or unet
        estimated = {c.name: c.weight_bytes for c in estimate.components}
        row.update(
            weights_requested=load["requested"],
            weights_applied=load["applied"],
            weights_reason=load.get("reason") or None,
            denoiser_bytes_measured=load["stored_bytes"][name],
            denoiser_bytes_estimated=estimated[name],
            build_s=rig.build_s,
            flops_per_step=estimate.flops.per_step,
            **flop_share(estimate.flops.per_step, row["s_per_step"], self.device["peak_tflops"]),
            **against_estimate(row["peak_mb"], entry.peak_bytes, self.is_gpu),
            estimated_required_gb=entry.required_gb,
            estimate_rung=rung.name,
        )
        self._jobs[key] = row
        return row
