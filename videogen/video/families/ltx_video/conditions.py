"""LTX-Video's keyframes and video-to-video on diffusers' ``LTXConditionPipeline``.

Keyframes: each settled condition (``task_media.settle_conditions``: decoded, sized, a clip cut to fit before the
job's end and to 8k+1 frames) becomes one ``LTXVideoCondition``. Extension is the same thing: a clip at frame 0 of
a longer job extends it forwards, a clip ending at the last frame extends it backwards.

LTX's own rule for a clip at a later frame (``LTXConditionPipeline.prepare_latents``): its first two latent frames
become extra tokens placed at ``frame_index``, and the rest overwrite the job's latents from latent frame
``frame_index // 8 + 2``. That lines up with the clip only when ``frame_index`` is a multiple of the VAE's temporal
compression (8): at frame 13 the overwritten latents would sit 5 frames early, and the video would jump. Nothing
fails inside the call, so such a clip is *moved* (an ``Adjustment``, like frames and sizes), not refused: down to the
multiple of 8 before it, which never cuts it (its room to the job's end only grows). An image (or a clip cut to one
frame) is placed at any frame: it only becomes tokens at its exact position.

Video-to-video: the pipeline's documented refinement path: the clip's VAE latents (normalised as the pipeline
normalises its conditions) in ``latents`` and ``denoise_strength``. It then runs ``min(int(steps x strength),
steps)`` of its steps (``get_timesteps``), the expression every other family's video-to-video uses, so the shared
``video_to_video.settle_clip`` settles strength and ``denoising_steps`` for LTX too. At strength 1 the pipeline
starts from pure noise and ignores the latents (as flow matching does for the other families at 1).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from videogen.errors import UnsupportedTaskError
from videogen.video.request import Adjustment

if TYPE_CHECKING:
    from videogen.video.task_media import SettledCondition

# The latent grid a clip's later frames are written on: LTX's VAE compresses 8 frames into one latent frame.
LATENT_FRAME_STRIDE = 8


def place_on_latent_grid(conditions: list[SettledCondition], stride: int = LATENT_FRAME_STRIDE) -> list[Adjustment]:
    """Move every clip of more than one frame that starts between latent frames to the multiple of ``stride``
    before it (in place), each move an ``Adjustment`` naming ``conditions[i].frame_index``."""
    moved = []
    for i, condition in enumerate(conditions):
        if condition.kind != "video" or len(condition.frames) < 2 or condition.frame_index % stride == 0:
            continue
        used = condition.frame_index - condition.frame_index % stride
        moved.append(
            Adjustment(
                field=f"conditions[{i}].frame_index",
                requested=condition.frame_index,
                used=used,
                reason=f"LTX-Video writes a clip's frames on its latent grid of {stride} frames: a clip starts at a "
                f"multiple of {stride} (moved earlier, so none of it is cut)",
            )
        )
        condition.frame_index = used
    return moved


def ltx_conditions(conditions: list[SettledCondition]) -> list[Any]:
    """The settled conditions as diffusers' own ``LTXVideoCondition``s."""
    from diffusers.pipelines.ltx.pipeline_ltx_condition import LTXVideoCondition

    return [
        LTXVideoCondition(
            image=c.frames[0] if c.kind == "image" else None,
            video=c.frames if c.kind == "video" else None,
            frame_index=c.frame_index,
            strength=c.strength,
        )
        for c in conditions
    ]


def refuse_old_scheduler(pipe, task: str) -> None:
    """LTXConditionPipeline hands the scheduler explicit timesteps without ``mu``; a checkpoint whose scheduler shifts
    dynamically (LTX-Video 0.9.0 / 0.9.1) would fail inside the call with a ValueError: say which to use instead."""
    config = getattr(getattr(pipe, "scheduler", None), "config", None)
    if getattr(config, "use_dynamic_shifting", False):
        from videogen.video.families.ltx_video.spec import CONDITION_MODEL_ID, SPEC

        raise UnsupportedTaskError(
            f"{task} runs on LTXConditionPipeline, which needs an LTX-Video 0.9.5 or later checkpoint (its scheduler "
            f"without dynamic shifting); this model's scheduler shifts dynamically (0.9.0/0.9.1): use e.g. "
            f"{CONDITION_MODEL_ID}",
            family=SPEC.id,
            task=task,
        )


def clip_latents(pipe, frames: list, height: int, width: int):
    """The clip's VAE latents ``[1, C, F', H', W']`` (the distribution's mode), normalised with the VAE's latent
    statistics exactly as ``LTXConditionPipeline.prepare_latents`` normalises a condition: what its ``latents``
    argument takes (the same form its ``output_type="latent"`` returns). Kept on the CPU: the pipeline moves them."""
    import torch
    from diffusers.pipelines.ltx.pipeline_ltx_condition import retrieve_latents

    vae = pipe.vae
    video = pipe.video_processor.preprocess_video(frames, height, width)
    with torch.no_grad():
        encoded = vae.encode(video.to(pipe._execution_device, dtype=vae.dtype))
        latents = retrieve_latents(encoded, sample_mode="argmax")
        latents = pipe._normalize_latents(latents, vae.latents_mean, vae.latents_std)
    return latents.float().cpu()


__all__ = ["LATENT_FRAME_STRIDE", "clip_latents", "ltx_conditions", "place_on_latent_grid", "refuse_old_scheduler"]
