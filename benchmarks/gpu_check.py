"""Every GPU figure VideoGen claims, in one run of at most ~8 minutes on an H200; on a CPU, the same sections on tiny
models in seconds (``--tiny``, the default without CUDA), which is how the suite keeps it from rotting.

On the GPU machine (no network, no diffusers: ``make gpu-bundle`` here first), through the device tool's ``run``
with ``carry: [".gpu-bundle"]`` and ``timeout_s: 600``:

    python3 -m pip install -q --no-index --no-deps --no-compile --target /tmp/site .gpu-bundle/*.whl && \\
      PYTHONPATH=/tmp/site:. PYTHONUNBUFFERED=1 python3 benchmarks/gpu_check.py --out $OUT 2>&1 | tee $OUT/gpu-check.log

It writes OUT/<device>/gpu-check.json and .md (copy them to benchmarks/results/<device>/ and commit them). VideoGen
is imported from the working tree, never installed there. Sections (``gpucheck.settings.SECTIONS``, in order):
raw diffusers vs ``GenerationWorker`` (s/step, share of the FLOP limit, peak memory vs the cost model, VAE decode)
on Wan2.1-1.3B and Wan 2.2 TI2V-5B; the few-step recipe vs the 50-step schedule; every attention backend and step
cache; the placement ladder's memory vs the estimate per rung; ``weights`` bf16 / fp8_storage / int8 on the 1.3B and
the 14B; regional compile. Each section starts only if its budget fits before the deadline, records its own
failure, and the files are rewritten after each, so a cut-short run still leaves what it measured.
"""

from __future__ import annotations

import os

os.environ.setdefault("HF_HUB_OFFLINE", "1")  # nothing is ever downloaded: say so before any library reads it

from videogen.rocm_env import apply_rocm_env

apply_rocm_env()

import argparse
import re
import sys
from functools import partial
from pathlib import Path
from typing import Any

import bench_speed  # noqa: F401 - before torch: it applies the ROCm environment again, which warns after torch
import torch
from gpucheck import encoding, settings
from gpucheck.context import Check
from gpucheck.runner import Report
from gpucheck.sections_core import baseline, recipe
from gpucheck.sections_levers import attention_backends, compile_regional, step_caches
from gpucheck.sections_memory import placement_rungs, weights

from videogen.video.hardware import VideoHardwareProfile
from videogen.video.worker import runtime_snapshot

RESULTS = Path(__file__).resolve().parent / "results"
SECTION_FUNCTIONS = {
    "baseline": baseline,
    "recipe": recipe,
    "attention_backends": attention_backends,
    "step_caches": step_caches,
    "placement_rungs": placement_rungs,
    "weights": weights,
    "compile": compile_regional,
}


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", type=Path, default=RESULTS, help="results root: writes OUT/<device>/NAME.json, .md")
    parser.add_argument("--name", default="gpu-check", help="the report's file name (a rerun of a few sections)")
    parser.add_argument("--tiny", action="store_true", help="tiny models (the default without CUDA)")
    parser.add_argument("--sections", nargs="*", choices=settings.SECTION_NAMES, help="default: all, in order")
    parser.add_argument("--budget-s", type=float, help=f"default {settings.DEFAULT_BUDGET_S:.0f} (tiny: none)")
    parser.add_argument("--grace-s", type=float, default=settings.GRACE_S, help="past the deadline, then exit")
    parser.add_argument("--mp4", choices=encoding.WRITERS, default="auto", help="see gpucheck/encoding.py")
    parser.add_argument("--compile-backend", help="torch.compile backend (default: inductor; tiny: eager)")
    for label in settings.GPU_TARGETS:
        parser.add_argument(f"--{label}-model", help=f"another model for the '{label}' sections")
    return parser.parse_args(argv)


def device_slug(profile: VideoHardwareProfile) -> str:
    """``NVIDIA H200`` -> ``nvidia-h200``; a CPU -> ``cpu``."""
    return re.sub(r"[^a-z0-9]+", "-", profile.device_name.lower()).strip("-") if profile.is_gpu else "cpu"


def main(argv: list[str] | None = None) -> dict[str, Any]:
    args = parse_args(argv)
    tiny = args.tiny or not torch.cuda.is_available()
    args.compile_backend = args.compile_backend or ("eager" if tiny else "inductor")
    base = settings.TINY_TARGETS if tiny else settings.GPU_TARGETS
    targets = {k: settings.with_model(t, getattr(args, f"{k}_model")) for k, t in base.items()}
    profile = VideoHardwareProfile.detect()
    check = Check(args, targets, profile)
    writer = encoding.choose(args.mp4)
    budget = args.budget_s or (1e6 if tiny else settings.DEFAULT_BUDGET_S)
    header = {
        "mode": "tiny models (CPU figures: structure only)" if tiny else "arch: presets (real size, random weights)",
        "device": check.device,
        "versions": runtime_snapshot()["packages"],
        "targets": {k: f"{t.model} {t.task} {t.shape}, {t.steps} steps" for k, t in targets.items()},
        "mp4_writer": writer,
        "argv": sys.argv[1:] if argv is None else argv,
    }
    report = Report(args.out / device_slug(profile), args.name, header, budget, args.grace_s)
    chosen = [s for s in settings.SECTIONS if not args.sections or s[0] in args.sections]
    report.plan([name for name, _, _ in chosen])
    report.write()
    report.start_watchdog()
    try:
        with encoding.mp4_writer(writer):
            for name, label, budget_s in chosen:
                section = SECTION_FUNCTIONS[name.split(":")[0]]
                report.run(name, budget_s, partial(section, check, label), on_failure=check.drop_rigs)
    finally:
        report.stop_watchdog()
        check.drop_rigs()
        report.write()
    print(f"wrote {report.json_path} and {report.md_path.name}", file=sys.stderr)
    return report.data


if __name__ == "__main__":
    main()
