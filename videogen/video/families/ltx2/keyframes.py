"""LTX-2's keyframes on diffusers' ``LTX2ConditionPipeline``: images and clips placed at frames of the video.

Each settled condition (``task_media.settle_conditions``: decoded, sized, a clip cut to fit before the job's end and
to 8k+1 frames) becomes one ``LTX2VideoCondition``. Unlike LTX-Video's condition pipeline, LTX-2's takes a *latent*
frame index (``preprocess_conditions``: "Interpret the index as a latent index, following the original LTX-2 code"):

- latent index 0 is pixel frame 0 (the causal VAE's first latent frame holds that frame alone): the condition
  overwrites the first latent frames in place (an image: one; a clip at 0: as many as it spans, i.e. extension
  forwards);
- latent index ``k >= 1`` places the condition at pixel frame ``(k - 1) x 8 + 1`` (``prepare_latents``:
  ``pixel_frame_idx``), where all of its latent frames join the sequence as extra tokens with their own positions.

So a condition after frame 0 starts on the grid 1, 9, 17, ...: one requested between two grid frames is *moved*
(an ``Adjustment``, like frames and sizes) to the grid frame at or before it, which never cuts a clip (its room to
the job's end only grows). The last frame of an 8k+1-frame video, 8k, lands on 8k - 7: the frame diffusers' own
example's ``index=-1`` gives, and the earliest the model can place a condition that still covers the last frame.
A single-frame condition is H.264-recompressed at the model's CRF, as LTX-2 was trained on them (the pipeline does
that with PyAV, which VideoGen does not install: ``image_crf`` does it here and the pipeline gets ``crf=0``).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from videogen.video.request import Adjustment

if TYPE_CHECKING:
    from videogen.video.task_media import SettledCondition

# LTX-2's VAE compresses 8 frames into one latent frame after the first (which holds frame 0 alone).
TEMPORAL = 8


def latent_index(frame_index: int, temporal: int = TEMPORAL) -> int:
    """The latent frame a condition requested at pixel ``frame_index`` goes to: the grid frame at or before it."""
    return 0 if frame_index == 0 else (frame_index - 1) // temporal + 1


def grid_frame(index: int, temporal: int = TEMPORAL) -> int:
    """The pixel frame the pipeline places a condition at latent ``index`` at."""
    return 0 if index == 0 else (index - 1) * temporal + 1


def place_on_keyframe_grid(conditions: list[SettledCondition], temporal: int = TEMPORAL) -> list[Adjustment]:
    """Move every condition that starts between two of LTX-2's keyframe positions to the one before it (in place),
    each move an ``Adjustment`` naming ``conditions[i].frame_index``."""
    moved = []
    for i, condition in enumerate(conditions):
        used = grid_frame(latent_index(condition.frame_index, temporal), temporal)
        if used == condition.frame_index:
            continue
        moved.append(
            Adjustment(
                field=f"conditions[{i}].frame_index",
                requested=condition.frame_index,
                used=used,
                reason=f"LTX-2 places a condition after frame 0 at a latent frame's first frame (1, "
                f"{1 + temporal}, {1 + 2 * temporal}, ...): moved to the one before",
            )
        )
        condition.frame_index = used
    return moved


def ltx2_conditions(conditions: list[SettledCondition], crf: int, temporal: int = TEMPORAL) -> list[Any]:
    """The settled (placed) conditions as diffusers' own ``LTX2VideoCondition``s, at their latent indices, each
    single frame compressed at ``crf`` (the model's: ``resolve_default_image_crf``)."""
    from diffusers.pipelines.ltx2.pipeline_ltx2_condition import LTX2VideoCondition

    from videogen.video.families.ltx2.image_crf import compress

    return [
        LTX2VideoCondition(
            frames=compress(c.frames[0], crf) if len(c.frames) == 1 else c.frames,
            index=latent_index(c.frame_index, temporal),
            strength=c.strength,
            crf=0,  # compressed here already
        )
        for c in conditions
    ]


__all__ = ["TEMPORAL", "grid_frame", "latent_index", "ltx2_conditions", "place_on_keyframe_grid"]
