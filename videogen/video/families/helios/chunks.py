"""Helios' chunks: how ``HeliosPipeline`` and ``HeliosPyramidPipeline`` cut a video, and the steps each chunk runs.

Both pipelines generate autoregressively (diffusers 0.42.1 ``pipelines/helios``): chunk after chunk of W latent frames
(``num_latent_frames_per_chunk``; 9 in every published call, so 4(W-1)+1 = 33 frames), each denoised beside a
compressed history of what came before (``history_sizes`` [16, 2, 1] latent frames, patched 4x, 2x and 1x coarser)
and decoded by the VAE on its own. They run ``ceil(num_frames / 33)`` chunks whatever ``num_frames`` is and return
every chunk's frames cut to a 4k+1 count: asked for 81 frames they run three chunks and return 97. The job keeps the
first ``num_frames`` (the adapter cuts the rest), so a job's frames are what it asked for and its cost is its chunks'.

``HeliosPipeline`` runs ``num_inference_steps`` steps per chunk. ``HeliosPyramidPipeline`` runs each chunk in stages
(the scheduler's ``stages``, 3 in both published pyramid checkpoints), each at twice the previous one's side, with its
own step count (``pyramid_num_inference_steps_list``); the job's ``num_inference_steps`` is a chunk's steps over all
its stages, split evenly. A step-distilled checkpoint's first chunk (``is_amplify_first_chunk``, the docs' call for
Helios-Distilled) runs every stage's steps twice.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

# The job's params key of a settled job's chunks (the cost model prices them, the progress counts their steps).
PARAMS_KEY = "helios_chunks"
# The call kwarg a model directory may set (the tiny models' smaller chunks), and the pipelines' default.
CHUNK_KWARG = "num_latent_frames_per_chunk"
CHUNK_LATENT_FRAMES = 9
# Wan 2.1's VAE: 4 frames per latent frame (the pipelines read vae.config.scale_factor_temporal).
TEMPORAL = 4
# history_sizes (the pipelines' default): the long, mid and short history, in latent frames. The short one gets the
# first frame's latents in front of it (keep_first_frame): 2 latent frames.
HISTORY_SIZES = (16, 2, 1)


def chunk_frames(latent_frames: int = CHUNK_LATENT_FRAMES) -> int:
    """Frames one chunk decodes to."""
    return (latent_frames - 1) * TEMPORAL + 1


def chunk_count(num_frames: int, latent_frames: int = CHUNK_LATENT_FRAMES) -> int:
    """Chunks the pipelines run for ``num_frames`` (their own rounding: up)."""
    return max(1, -(-num_frames // chunk_frames(latent_frames)))


def stage_steps(steps: int, stages: int) -> tuple[int, ...]:
    """``steps`` over ``stages`` pyramid stages, evenly (the earlier stages take what does not divide)."""
    base, extra = divmod(steps, stages)
    return tuple(base + (1 if stage < extra else 0) for stage in range(stages))


@dataclass(frozen=True)
class Chunks:
    """One job's chunks, as settled by the adapter and recorded in its params."""

    count: int
    latent_frames: int  # W: latent frames per chunk
    steps: int  # steps per chunk, over all its stages
    stage_steps: tuple[int, ...] | None = None  # HeliosPyramidPipeline: per stage; None for HeliosPipeline
    amplify_first: bool = False  # the first chunk runs every stage's steps twice (step-distilled)
    clip_frames: int = 0  # video-to-video: the frames of the clip it continues

    @property
    def frames(self) -> int:
        """Frames one chunk decodes to."""
        return chunk_frames(self.latent_frames)

    @property
    def calls(self) -> list[int]:
        """Denoising steps of each chunk, in order (the progress's blocks)."""
        first = 2 * self.steps if self.amplify_first else self.steps
        return [first] + [self.steps] * (self.count - 1)

    @property
    def encoded_clip_chunks(self) -> int:
        """Video-to-video: the clip's whole chunks the pipeline VAE-encodes (from its end), besides its first frame."""
        return self.clip_frames // self.frames

    def to_params(self) -> dict[str, Any]:
        return {
            "count": self.count,
            "latent_frames": self.latent_frames,
            "steps": self.steps,
            "stage_steps": list(self.stage_steps) if self.stage_steps else None,
            "amplify_first": self.amplify_first,
            "clip_frames": self.clip_frames,
        }

    @classmethod
    def from_params(cls, params: dict[str, Any]) -> Chunks | None:
        """The chunks a job's params record; None for params settled without them."""
        raw = params.get(PARAMS_KEY)
        if not raw:
            return None
        stages = raw.get("stage_steps")
        return cls(
            count=int(raw["count"]),
            latent_frames=int(raw["latent_frames"]),
            steps=int(raw["steps"]),
            stage_steps=tuple(int(s) for s in stages) if stages else None,
            amplify_first=bool(raw.get("amplify_first")),
            clip_frames=int(raw.get("clip_frames", 0)),
        )


__all__ = [
    "CHUNK_KWARG",
    "CHUNK_LATENT_FRAMES",
    "HISTORY_SIZES",
    "PARAMS_KEY",
    "TEMPORAL",
    "Chunks",
    "chunk_count",
    "chunk_frames",
    "stage_steps",
]
