"""What one model lets a request ask for: the frames and pixel sides of a family's task, where the model says
otherwise than its family (``ModelMeta``).

A family states its rules (``VideoModelSpec.frame_rule``, ``resolution_multiple``, ``min_size``/``max_size``). A
model may run a task through another pipeline with frames of its own (a FramePack checkpoint's image-to-video:
``VideoModelSpec.pipeline_frame_rules``) or need a coarser size grid than its family (Wan 2.2 TI2V-5B's /16 VAE with
2x2 patches: multiples of 32, where Wan 2.1 takes 16). Every place that checks or shows a request's limits (the
adapter, the ingress's status, ``/v1``, ``videogen models``) reads them here, so a model is refused and adjusted with
the ranges it really has. What a checkpoint says is read from its files by ``checkpoint_facts``.
"""

from __future__ import annotations

from typing import Any

from videogen.video.model_meta import ModelMeta
from videogen.video.spec import FrameRule, VideoModelSpec


def pipeline_class(spec: VideoModelSpec, task: str, meta: ModelMeta | None = None) -> str:
    """The diffusers pipeline class that runs ``task`` on the model (the family's unless the model says)."""
    return (meta.pipeline_class if meta is not None else None) or spec.pipeline_classes[task]


def frame_rule(spec: VideoModelSpec, task: str, meta: ModelMeta | None = None) -> FrameRule:
    """The frame counts ``task`` takes on the model."""
    return spec.frame_rule_for(task, pipeline_class(spec, task, meta))


def size_multiple(spec: VideoModelSpec, meta: ModelMeta | None = None) -> int:
    """Height and width are multiples of this on the model."""
    return (meta.resolution_multiple if meta is not None else None) or spec.resolution_multiple


def min_size(spec: VideoModelSpec, meta: ModelMeta | None = None) -> int:
    """The smallest side the model takes: a tiny model any positive multiple (tiny models generate far below a real
    model's minimum), a real one the family's minimum, up to a multiple."""
    m = size_multiple(spec, meta)
    if meta is not None and meta.tiny:
        return m
    return -(-spec.min_size // m) * m


def request_limits(spec: VideoModelSpec, task: str, meta: ModelMeta | None = None) -> dict[str, Any]:
    """The frames and sizes ``task`` accepts on the model, as the ingress validates them (shown to clients)."""
    rule = frame_rule(spec, task, meta)
    return {
        "pipeline_class": pipeline_class(spec, task, meta),
        "num_frames": {
            "min": rule.min_frames,
            "max": rule.max_frames,
            "multiple": rule.multiple,
            "remainder": rule.remainder,
            "rule": rule.describe(),
        },
        "size": {"min": min_size(spec, meta), "max": spec.max_size, "multiple": size_multiple(spec, meta)},
    }


__all__ = ["frame_rule", "min_size", "pipeline_class", "request_limits", "size_multiple"]
