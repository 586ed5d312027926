"""What the GPU check measures: models, shapes, steps, and each section's time budget.

On a GPU the models are ``arch:`` presets (the published architectures with random weights, built on the device:
speed and memory are the real model's, the frames are noise). On a CPU (``--tiny``, or no CUDA) the same sections
run on the family's tiny models at a few pixels, in seconds: the check runs in the suite and cannot rot before a
GPU is at hand; its CPU figures say nothing about a GPU.
"""

from __future__ import annotations

from dataclasses import dataclass, replace


@dataclass(frozen=True)
class Target:
    """One model at one shape. ``steps``: denoising steps of a timed job (the first is a warm-up step: the
    steady seconds per step are the median of the others)."""

    label: str  # "small" | "mid" | "large": how sections name it
    family: str
    model: str
    task: str
    num_frames: int
    height: int
    width: int
    steps: int

    @property
    def shape(self) -> str:
        return f"{self.num_frames}x{self.height}x{self.width}"


GPU_TARGETS: dict[str, Target] = {
    # Wan2.1-T2V-1.3B at its published 480p shape: the levers, placements and weights modes are measured here.
    "small": Target("small", "wan", "arch:wan2.1-t2v-1.3b", "text-to-video", 81, 480, 832, 3),
    # a 5B-class model at its own default shape (Wan 2.2 TI2V-5B: 704x1280, 121 frames, the 48-channel VAE)
    "mid": Target("mid", "wan", "arch:wan2.2-ti2v-5b", "text-to-video", 121, 704, 1280, 3),
    # the 14B class (issue 15: 8-bit weights against bf16, the few-step recipe); 2 steps: ~7 s each
    "large": Target("large", "wan", "arch:wan2.1-t2v-14b", "text-to-video", 81, 480, 832, 2),
}

# The same roles on tiny models (a CPU): the plain tiny Wan and the tiny Wan 2.2 TI2V layout.
TINY_TARGETS: dict[str, Target] = {
    "small": Target("small", "wan", "tiny", "text-to-video", 5, 32, 32, 2),
    "mid": Target("mid", "wan", "tiny:wan2.2-ti2v-5b", "text-to-video", 5, 32, 32, 2),
    "large": Target("large", "wan", "tiny", "text-to-video", 5, 32, 32, 2),
}


def with_model(target: Target, model: str | None) -> Target:
    return target if model is None else replace(target, model=model)


# The few-step recipe of issue 15 (lightx2v's Wan step/CFG distillation: 4 steps, CFG off, shift 5), declared as an
# operator would. Its LoRA is left out: the weights are random either way, and an adapter's own FLOPs are about 1 %
# of a 14B step (README "Quantized weights"), which the job time here does not include.
RECIPE_NAME = "fast"
RECIPE = {
    "description": "lightx2v step/CFG distillation (without its LoRA): 4 steps, no CFG",
    "num_inference_steps": 4,
    "guidance_scale": 1.0,
    "scheduler": "FlowMatchEulerDiscreteScheduler",
    "flow_shift": 5.0,
}
# The step count the recipe is held against: issue 15's "50-step default" (diffusers' Wan default); the family's
# own default (VideoGen's) is reported beside it.
REFERENCE_STEPS = 50

WEIGHTS_MODES = ("bf16", "fp8_storage", "int8")

# Sections in the order they run: (name, target label or None, budget in seconds on an H200). A section starts
# only if its budget fits before the deadline (else it is recorded as skipped); the budgets are estimates from
# the cost model at the device's measured peak and published runs, builds included, not measurements.
SECTIONS: tuple[tuple[str, str | None, float], ...] = (
    ("baseline:small", "small", 45),  # build 1.3B + UMT5-XXL, raw and VideoGen 3-step jobs with decode
    ("recipe:small", "small", 12),  # one 4-step job without CFG
    ("attention_backends", "small", 25),  # each backend auto may pick: 3 latent-only steps
    ("step_caches", "small", 40),  # off + five caches, 6 latent-only steps each
    ("placement_rungs", "small", 60),  # the admission ladder: 1 step + decode per rung (offloads are slow)
    ("weights:small", "small", 40),  # fp8_storage and int8: a build and a job each (bf16 from the baseline)
    ("baseline:mid", "mid", 60),  # build 5B, raw and VideoGen 3-step jobs at 704x1280x121 (a heavy decode)
    ("recipe:large", "large", 65),  # build 14B, a 2-step CFG job and the 4-step recipe job
    ("weights:large", "large", 100),  # fp8_storage and int8: a 14B build and a job each
    ("compile", "small", 90),  # rebuild 1.3B, eager vs regional compile (inductor's first build dominates)
)
SECTION_NAMES = tuple(name for name, _, _ in SECTIONS)
DEFAULT_BUDGET_S = 450.0  # the deadline sections must fit in; the watchdog allows GRACE_S more, then writes and exits
GRACE_S = 60.0
CACHE_STEPS = {"gpu": 6, "tiny": 4}  # a step cache needs a few steps before it skips any
