"""What one HunyuanVideo 1.5 checkpoint says beyond its family (``ModelMeta.family_facts``), read from its configs.

The checkpoints share one architecture and differ in what a request should default to and where image-to-video
lands (diffusers' ``scripts/convert_hunyuan_video1_5_to_diffusers.py``):

- ``target_size`` (the transformer's): 640 for 480p, 960 for 720p: the resolution ``HunyuanVideo15ImageToVideoPipeline``
  generates at, whatever height and width were asked (``buckets.py``);
- ``guidance_scale`` (the guider's): 6.0, or 1.0 for the CFG-distilled checkpoints (one pass a step);
- ``step_distilled`` (the transformer's ``use_meanflow``): the 480p image-to-video step-distilled checkpoint, which the
  model card runs in 8 or 12 steps (the i2v pipeline gives it the next step's timestep as ``timestep_r``).
"""

from __future__ import annotations

from typing import Any

from videogen.video.families.hunyuan_video15.buckets import DEFAULT_TARGET_SIZE, bucket
from videogen.video.model_meta import ModelMeta

TARGET_SIZE = "target_size"
GUIDANCE_SCALE = "guidance_scale"
STEP_DISTILLED = "step_distilled"
STEP_DISTILLED_STEPS = 8  # tencent/HunyuanVideo-1.5's model card: "8 or 12 steps (recommended)"
# The text-to-video pipeline's own size without height and width: 16:9 at its target_size (default_aspect_ratio)
_DEFAULT_ASPECT = (9, 16)


def checkpoint_facts(preset, task: str) -> dict[str, Any]:
    """The facts of ``preset`` (an ``arch:`` preset, or one read from a model directory) for ``task``."""
    del task  # the same for both tasks
    transformer = preset.component(preset.denoiser).config
    facts: dict[str, Any] = {}
    if "target_size" in transformer:
        facts[TARGET_SIZE] = int(transformer["target_size"])
    if transformer.get("use_meanflow"):
        facts[STEP_DISTILLED] = True
    guider = getattr(preset, "guider", None)
    if guider is not None and "guidance_scale" in guider.config:
        facts[GUIDANCE_SCALE] = float(guider.config["guidance_scale"])
    return facts


def target_size(meta: ModelMeta | None) -> int:
    """The resolution the model's image-to-video generates at (the default checkpoint's when it has not said)."""
    return int(((meta.family_facts if meta else None) or {}).get(TARGET_SIZE, DEFAULT_TARGET_SIZE))


def request_defaults(meta: ModelMeta | None) -> dict[str, Any]:
    """Defaults the checkpoint implies over the family's: its resolution's 16:9 size (720x1280 at 720p), its
    guider's scale, a step-distilled model's steps."""
    facts = (meta.family_facts if meta else None) or {}
    defaults: dict[str, Any] = {}
    if TARGET_SIZE in facts:
        defaults["height"], defaults["width"] = bucket(*_DEFAULT_ASPECT, facts[TARGET_SIZE])
    if GUIDANCE_SCALE in facts:
        defaults["guidance_scale"] = facts[GUIDANCE_SCALE]
    if facts.get(STEP_DISTILLED):
        defaults["num_inference_steps"] = STEP_DISTILLED_STEPS
    return defaults
