"""What a speed lever costs and saves, measured: frame drift (PSNR) and the denoisers' projection calls.

Used by the lever tests and ``benchmarks/bench_speed.py``; the levers themselves are in ``speed.py``.
"""

from __future__ import annotations

from contextlib import contextmanager
from typing import Any

from videogen.video.speed import denoisers


def psnr_db(frames: Any, reference: Any) -> float:
    """PSNR (dB) of uint8 frames against reference frames of the same shape; inf when identical."""
    import numpy as np

    mse = float(np.mean((np.asarray(frames, dtype=np.float64) - np.asarray(reference, dtype=np.float64)) ** 2))
    return float("inf") if mse == 0.0 else float(10.0 * np.log10(255.0**2 / mse))


@contextmanager
def projection_calls(pipe: Any):
    """Count the denoisers' ``nn.Linear`` calls (attention and feed-forward projections: where a denoiser's
    FLOPs are) inside the ``with``; yields a one-item list holding the count. A step cache skips blocks or
    attention inside ``forward``, where a hook on the block itself would still fire; its projections do not run."""
    import torch

    count = [0]

    def bump(*_args: Any) -> None:
        count[0] += 1

    handles = [
        m.register_forward_hook(bump)
        for model in denoisers(pipe)
        for m in model.modules()
        if isinstance(m, torch.nn.Linear)
    ]
    try:
        yield count
    finally:
        for handle in handles:
            handle.remove()
