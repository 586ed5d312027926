"""Per family x task: load time, then generate time (median of N runs), printed as a table.

    .venv/bin/python benchmarks/bench_generate.py [--model tiny] [--runs 3] [--frames 9] [--size 32] [--steps 2]

Speed figures live here, never in unit tests. On a GPU, run it with --model DIR per
family or with the tiny models to see the fixed overheads.
"""

from __future__ import annotations

from videogen.rocm_env import apply_rocm_env

apply_rocm_env()

import argparse
import statistics
import tempfile
import time
from pathlib import Path

from videogen.video.registry import SPECS
from videogen.video.request import VideoRequest
from videogen.video.worker import GenerationWorker


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--model", default="tiny")
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--frames", type=int, default=9)
    parser.add_argument("--size", type=int, default=32)
    parser.add_argument("--steps", type=int, default=2)
    parser.add_argument("--families", nargs="*", default=list(SPECS))
    args = parser.parse_args()

    import base64
    import io

    from PIL import Image

    buf = io.BytesIO()
    Image.new("RGB", (args.size, args.size), (120, 60, 30)).save(buf, format="PNG")
    image = base64.b64encode(buf.getvalue()).decode()
    worker = GenerationWorker(default_model=args.model)
    print(f"backend={worker.profile.backend} device={worker.profile.device_name} policy={worker.policy().placement}")
    print(f"{'family':16} {'task':15} {'load s':>8} {'gen s':>8} {'denoise':>8} {'decode':>8} {'encode':>8}")
    out = Path(tempfile.mkdtemp())
    for family in args.families:
        for task in SPECS[family].tasks:
            started = time.perf_counter()
            worker.warm(family, task)
            load_s = time.perf_counter() - started
            runs = []
            for i in range(args.runs):
                request = VideoRequest(
                    family=family,
                    task=task,
                    prompt="a boat on the sea",
                    seed=i,
                    image=image if task == "image-to-video" else None,
                    num_frames=args.frames,
                    height=args.size,
                    width=args.size,
                    num_inference_steps=args.steps,
                )
                t0 = time.perf_counter()
                result = worker.generate(request, out / f"{family}-{task}.mp4")
                runs.append((time.perf_counter() - t0, {s.name: s.seconds for s in result.stages}))
            med = statistics.median(r[0] for r in runs)
            stage = {k: statistics.median(r[1][k] for r in runs) for k in ("denoising", "decoding", "encoding")}
            print(
                f"{family:16} {task:15} {load_s:8.3f} {med:8.3f} {stage['denoising']:8.3f} "
                f"{stage['decoding']:8.3f} {stage['encoding']:8.3f}"
            )


if __name__ == "__main__":
    main()
