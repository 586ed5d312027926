"""The model registry: the data view over every family's ``VideoModelSpec``.

Static facts only, the same on every machine. What a family can do *here*
(installed diffusers, hardware, the model it is set to use) is
``videogen.video.support``.
"""

from __future__ import annotations

from videogen.video.families import FAMILY_IDS, SPECS, get_spec
from videogen.video.spec import VideoModelSpec


def static_model_facts(spec: VideoModelSpec) -> dict:
    """A family's public facts that need no diffusers, torch or hardware to state."""
    return {
        "id": spec.id,
        "display_name": spec.display_name,
        "task_kind": spec.task_kind,
        "tasks": spec.tasks,
        "pipeline_classes": spec.pipeline_classes,
        "required_inputs": spec.required_inputs,
        "optional_inputs": spec.optional_inputs,
        "recommended_dtype": spec.recommended_dtype,
        "rocm_notes": spec.rocm_notes,
        "support_level": spec.support_level.value,
        "frame_rule": spec.frame_rule.describe(),
        "resolution_multiple": spec.resolution_multiple,
        "defaults": spec.defaults.model_dump(),
        "step_caches": spec.step_caches.model_dump(),
        "audio": spec.audio,
        "request_fields": list(spec.request_fields),
    }


__all__ = ["FAMILY_IDS", "SPECS", "get_spec", "static_model_facts"]
