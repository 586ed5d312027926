"""Published end-to-end runs, and the efficiency they give the time estimate before a replica measures itself.

Each run is a real job someone timed and published, with its conditions. The cost model prices the same job
(its ``arch:`` preset on the meta device, through ``job_cost.estimate_job``), and one efficiency turns the
device's datasheet bf16 peak (``device_peaks``) into the FLOP/s that reproduces these times. The efficiency is
relative to the *datasheet* peak, because that is the figure every listed device has; the table's measured
peak (a plain matmul) is the lower bound ``seconds_at_device_peak`` only, never multiplied by it again.

What each run implies (cost-model FLOPs / published seconds / datasheet FLOP/s), and the residual of the
estimate at ``DATASHEET_EFFICIENCY`` = 0.34 (estimate / published - 1), checked by tests/unit/test_time_model.py:

    FastVideo, Wan2.1-T2V-1.3B, A100, eager          0.353    +3.8 %
    xDiT, HunyuanVideo, one H100                      0.322    -5.3 %
    LightX2V, Wan2.1-I2V-14B-480P, H100, per step     0.349    +2.7 %

One constant meets every run within 6 % across two devices (Ampere, Hopper), two families and two model sizes,
so there is no per-device class. No AMD run is published with its conditions: AMD devices use the same share of
their datasheet peak, an assumption until one is. A compiled run is faster (FastVideo's torch.compile run implies
0.463); it is listed for its conditions and not used, because compile is off by default.
"""

from __future__ import annotations

from dataclasses import dataclass

# The share of the datasheet dense bf16 peak a single-device job reaches end to end (attention, norms,
# elementwise work, launch gaps, the VAE), derived from the runs below (the module docstring has the figures).
DATASHEET_EFFICIENCY = 0.34


@dataclass(frozen=True)
class PublishedRun:
    source: str
    reference: str  # where the figure is published
    model: str  # the ``arch:`` preset of the checkpoint the run used (its family is the preset's)
    task: str
    num_frames: int
    height: int
    width: int
    steps: int
    guidance_scale: float  # decides only the number of passes per step (CFG on or off), not the FLOPs of one
    device: str  # as torch names it, so the device table matches it
    seconds: float
    per_step: bool  # True: ``seconds`` is one denoising step (every CFG pass), not the whole job
    conditions: str
    calibrates: bool = True  # False: listed for its conditions, not used for the default efficiency


PUBLISHED_RUNS: tuple[PublishedRun, ...] = (
    PublishedRun(
        source="FastVideo",
        reference="FastVideo docs, inference performance (Wan2.1-T2V-1.3B)",
        model="wan2.1-t2v-1.3b",
        task="text-to-video",
        num_frames=81,
        height=480,
        width=832,
        steps=50,
        guidance_scale=5.0,
        device="NVIDIA A100-SXM4-80GB",
        seconds=259.7,
        per_step=False,
        conditions="one A100, bf16, eager (no torch.compile), CFG on, end to end",
    ),
    PublishedRun(
        source="FastVideo",
        reference="FastVideo docs, inference performance (Wan2.1-T2V-1.3B)",
        model="wan2.1-t2v-1.3b",
        task="text-to-video",
        num_frames=81,
        height=480,
        width=832,
        steps=50,
        guidance_scale=5.0,
        device="NVIDIA A100-SXM4-80GB",
        seconds=198.1,
        per_step=False,
        conditions="one A100, bf16, torch.compile, CFG on, end to end",
        calibrates=False,
    ),
    PublishedRun(
        source="xDiT",
        reference="xDiT docs, HunyuanVideo performance (1 GPU; 2/4/8 with Ulysses: 925/514/338 s)",
        model="hunyuanvideo-t2v",
        task="text-to-video",
        num_frames=129,
        height=720,
        width=1280,
        steps=50,
        guidance_scale=6.0,
        device="NVIDIA H100 80GB HBM3",
        seconds=1904.0,
        per_step=False,
        conditions="one H100, bf16, embedded guidance (one pass a step), end to end",
    ),
    PublishedRun(
        source="LightX2V",
        reference="LightX2V README, performance (diffusers baseline)",
        model="wan2.1-i2v-14b-480p",
        task="image-to-video",
        num_frames=81,
        height=480,
        width=832,
        steps=40,
        guidance_scale=5.0,
        device="NVIDIA H100 80GB HBM3",
        seconds=9.77,
        per_step=True,
        conditions="one H100, diffusers, bf16, CFG on; seconds per denoising step",
    ),
)
