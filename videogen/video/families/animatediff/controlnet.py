"""AnimateDiff's control-to-video: ``AnimateDiffControlNetPipeline``, an SD 1.5 ControlNet beside the motion UNet.

The control video (one frame per output frame, at the job's size: ``task_media`` conforms it) is the pipeline's
``conditioning_frames``; the ControlNet runs on them at every step, on every frame, and its residuals, scaled by
``controlnet_conditioning_scale`` (a request's ``conditioning_scale``), join the UNet's down and mid blocks. No VAE
encodes the frames: the ControlNet embeds the pixels itself.

Which kind of clip it follows (depth, pose, edges, ...) is the ControlNet's, so the operator chooses it with the
model; the one assumed (``SPEC.default_model_ids``, the ``arch:animatediff-v1-5-2-controlnet`` preset) is
``lllyasviel/sd-controlnet-depth``, and every ``lllyasviel/sd-controlnet-*`` has its architecture. Where it comes
from:

- a pipeline directory (``model_index.json``: a saved AnimateDiff pipeline, the tiny model): its ``controlnet/``
  folder, a diffusers ``ControlNetModel`` (what ``AnimateDiffControlNetPipeline.save_pretrained`` writes);
- the family's default model, a lone motion adapter joined with the SD 1.5 base in ``VIDEOGEN_ANIMATEDIFF_BASE``:
  the local ``ControlNetModel`` directory in ``VIDEOGEN_ANIMATEDIFF_CONTROLNET`` (e.g. a download of
  ``lllyasviel/sd-controlnet-depth``).

A model without one is refused for control-to-video before anything loads, saying where to put it, and
``videogen models`` shows the task not supported on it; its other tasks are unaffected.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

CONTROLNET_ENV = "VIDEOGEN_ANIMATEDIFF_CONTROLNET"
CONTROLNET_DIR = "controlnet"
CONTROLNET_CLASS = "ControlNetModel"
ASSUMED_CONTROLNET = "lllyasviel/sd-controlnet-depth"


def _is_controlnet(path: Path) -> bool:
    try:
        return json.loads((path / "config.json").read_text()).get("_class_name") == CONTROLNET_CLASS
    except (OSError, ValueError, AttributeError):
        return False


def _is_pipeline_dir(model_dir: Path) -> bool:
    return (Path(model_dir) / "model_index.json").is_file()


def controlnet_dir(model_dir: Path) -> Path | None:
    """The ControlNet the model in ``model_dir`` runs control-to-video with; None when it has none."""
    if _is_pipeline_dir(model_dir):
        found = Path(model_dir) / CONTROLNET_DIR
    else:
        configured = os.environ.get(CONTROLNET_ENV)
        found = Path(configured).expanduser() if configured else None
    return found if found is not None and _is_controlnet(found) else None


def missing_controlnet_reason(model_dir: Path) -> str | None:
    """Why the model in ``model_dir`` cannot run control-to-video (it has no ControlNet); None when it has one."""
    if controlnet_dir(model_dir) is not None:
        return None
    needed = f"an SD 1.5 {CONTROLNET_CLASS} in diffusers format (e.g. {ASSUMED_CONTROLNET})"
    if _is_pipeline_dir(model_dir):
        return f"control-to-video needs {needed}; {model_dir} has none in {CONTROLNET_DIR}/"
    return (
        f"control-to-video needs {needed} beside the motion adapter; set {CONTROLNET_ENV} to a local directory "
        f"holding one (now {os.environ.get(CONTROLNET_ENV)!r})"
    )


def load_controlnet(model_dir: Path, torch_dtype):
    """The model's ControlNet, loaded like every weight here (safetensors, local files only)."""
    from diffusers import ControlNetModel

    return ControlNetModel.from_pretrained(
        str(controlnet_dir(model_dir)), dtype=torch_dtype, use_safetensors=True, local_files_only=True
    )


__all__ = [
    "ASSUMED_CONTROLNET",
    "CONTROLNET_DIR",
    "CONTROLNET_ENV",
    "controlnet_dir",
    "load_controlnet",
    "missing_controlnet_reason",
]
