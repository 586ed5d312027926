"""CogVideoX-Fun control-to-video (``CogVideoXFunControlPipeline``): what a checkpoint needs to run it.

The pipeline VAE-encodes the control video (a pose / depth / edge clip the user made, one frame per output frame,
conformed by ``task_media``) once, whole, and concatenates its latents with the noise latents channel-wise at every
step: the transformer's ``in_channels`` are twice the VAE's ``latent_channels`` (the pipeline draws
``in_channels // 2`` noise channels), as in the CogVideoX-Fun control checkpoints (``alibaba-pai/CogVideoX-Fun-V1.1-
5b-Pose``: 32 = 2 x 16). It takes no reference images and has no conditioning scale: the control enters as an input
of the transformer, not as a residual one could scale (``SPEC.task_optional_inputs``).

A text-to-video checkpoint (16 input channels) would fail inside the call, so it is refused before it runs, naming
the model; ``videogen models`` says the same from the checkpoint's config files. An image-to-video checkpoint has
the same doubled channels (the image's latents) and cannot be told apart by its shape: it would run, steered by the
control latents as if they were an image's.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path

from videogen.errors import UnsupportedTaskError
from videogen.video.families.cogvideox.spec import SPEC
from videogen.video.spec import CONTROL_TO_VIDEO


def control_unavailable_reason(transformer_config: Mapping, vae_config: Mapping) -> str | None:
    """Why a checkpoint of these configs cannot run control-to-video; None when its transformer takes the noise and
    the control latents side by side."""
    in_channels, latent = int(transformer_config["in_channels"]), int(vae_config["latent_channels"])
    if in_channels == 2 * latent:
        return None
    return (
        f"control-to-video needs a CogVideoX-Fun control checkpoint, whose transformer takes the noise and the control "
        f"video's latents side by side ({2 * latent} input channels for this VAE's {latent}); this model's takes "
        f"{in_channels}. Use {SPEC.default_model_ids[CONTROL_TO_VIDEO]}"
    )


def directory_unavailable_reason(model_dir: Path) -> str | None:
    """``control_unavailable_reason`` read from a model directory's config files (None when they cannot be read:
    the load says what is wrong then)."""
    try:
        transformer, vae = (
            json.loads((Path(model_dir) / part / "config.json").read_text()) for part in ("transformer", "vae")
        )
        return control_unavailable_reason(transformer, vae)
    except (OSError, ValueError, KeyError, TypeError):
        return None


def check_control(pipe) -> None:
    """Refuse a loaded pipeline whose transformer cannot take the control latents, before it runs."""
    reason = control_unavailable_reason(pipe.transformer.config, pipe.vae.config)
    if reason is not None:
        raise UnsupportedTaskError(reason, field="model", family=SPEC.id, task=CONTROL_TO_VIDEO)


__all__ = ["check_control", "control_unavailable_reason", "directory_unavailable_reason"]
