"""SkyReels-V2's diffusion forcing in plain Python: the windows a job denoises in, the transformer calls each runs, and
a request's ``ar_step`` / ``causal_block_size`` / ``overlap_history`` settled against them before anything loads.

Every number is the diffusers 0.42 pipelines' own (``SkyReelsV2DiffusionForcing*Pipeline.__call__``,
``prepare_latents``, ``generate_timestep_matrix``); a test holds the schedule equal to theirs.

- A clip of at most ``base_num_frames`` is one window. A longer one runs in windows of ``base_num_frames``, each after
  the first starting from the last ``overlap_history`` frames of the one before (as latent frames,
  ``(n - 1) // 4 + 1``), already clean; video-to-video's first window starts from the clip's last ``overlap_history``
  frames, VAE-encoded, likewise. Image-to-video's first window starts from the image's one clean latent frame;
  first-last-frame's too, and its last window ends with the last image's clean latent frame, one more than the window
  would have (``prepare_latents`` encodes both images; ``__call__`` appends the second to the last window and holds
  it at step 0; the decode drops it again, so the video keeps its length). It runs in one window: diffusers 0.42's
  long-video path appends the last image's one latent frame but counts the overlap's frames (``prefix_video_latents
  _frames``) into the last window, and the transformer fails on the mismatch; a longer first-last-frame job is refused
  naming ``num_frames`` and the window.
- In a window the latent frames go in causal blocks of ``causal_block_size``; each block lags the one before by
  ``ar_step`` steps (0: all together), so a window of ``b`` blocks to denoise takes ``steps + (b - 1) x ar_step``
  transformer calls per guidance branch, each over the whole window. The worker's progress counts those calls and the
  windows they fall in (``denoising_steps``, ``denoising_blocks``).
- The transformer's causal mask and the step matrix need every window, and the overlap carried between windows, to be
  whole blocks: a ``causal_block_size`` that does not divide them is refused, with the values that do (diffusers would
  fail inside the call, or drop overlap frames with only a warning).
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from typing import Any

from videogen.errors import InvalidRequestError
from videogen.video.request import Adjustment
from videogen.video.spec import FIRST_LAST_FRAME, IMAGE_TO_VIDEO, VIDEO_TO_VIDEO

TEMPORAL = 4  # the Wan VAE's temporal compression: every SkyReels-V2 checkpoint's
PIPELINE_BASE_NUM_FRAMES = 97  # the pipelines' default window: a 540P checkpoint's (a 720P one's is 121)
RECOMMENDED_OVERLAP = 17  # the pipelines' docstring: "17 and 37 are recommended"
LONG_VIDEO_ADDNOISE = 20  # the model card's addnoise_condition for long videos ("improves consistency")
# The request defaults of a checkpoint by its window, from the model zoo (540P: 544x960x97f, 720P: 720x1280x121f).
NATIVE_SIZE = {97: (544, 960), 121: (720, 1280)}
PARAMS_KEY = "forcing"  # where a job's settled forcing is kept in its params


def latent_frames(frames: int) -> int:
    return (frames - 1) // TEMPORAL + 1


def pixel_frames(latent: int) -> int:
    return (latent - 1) * TEMPORAL + 1


def whole_latent_frames(frames: int) -> int:
    """``frames`` down to the nearest ``4k + 1``: the frames the Wan VAE encodes into whole latent frames."""
    return (max(frames, 1) - 1) // TEMPORAL * TEMPORAL + 1


@dataclass(frozen=True)
class Window:
    """One window the pipeline denoises: its latent frames and how many of them start clean (image, overlap)."""

    latent_frames: int
    clean: int


def windows(task: str, latent: int, base: int, overlap: int | None) -> list[Window]:
    """The windows a job of ``latent`` latent frames runs in, at a window of ``base`` and ``overlap`` latent frames
    carried over (None: one window, a short clip)."""
    first_clean = {IMAGE_TO_VIDEO: 1, FIRST_LAST_FRAME: 1, VIDEO_TO_VIDEO: overlap or 0}.get(task, 0)
    if overlap is None:
        out = [Window(latent, first_clean)]
    else:
        count = 1 + (latent - base - 1) // (base - overlap) + 1  # the pipelines' n_iter
        out = []
        for k in range(count):
            if k == 0 and task != VIDEO_TO_VIDEO:  # a long text- or image-to-video starts with a whole window
                out.append(Window(base, first_clean))
                continue
            finished = k * (base - overlap) + overlap
            out.append(Window(min(latent - finished + overlap, base), overlap))
    if task == FIRST_LAST_FRAME:  # the last image's latent frame closes the last window
        out[-1] = Window(out[-1].latent_frames + 1, out[-1].clean)
    return out


@functools.lru_cache(maxsize=256)
def window_calls(latent: int, clean: int, block: int, steps: int, ar_step: int) -> int:
    """Transformer calls (per guidance branch) of one window: the rows of ``generate_timestep_matrix``."""
    blocks, ready, done = latent // block, clean // block, steps + 1
    row = [done] * ready + [0] * (blocks - ready)
    calls = 0
    while any(r < steps for r in row):
        new: list[int] = []
        for i, r in enumerate(row):
            # a block starts once the one before is clean, else trails it by ar_step (clamped after the row)
            new.append(r + 1 if i == 0 or row[i - 1] >= steps else new[i - 1] - ar_step)
        row = [min(max(v, 0), done) for v in new]
        calls += 1
    return calls


@dataclass(frozen=True)
class Forcing:
    """One diffusion-forcing job, settled: its knobs, the frames the pipeline generates and its windows."""

    ar_step: int
    causal_block_size: int | None  # None: the model's own (its num_frame_per_block)
    overlap_history: int | None  # None: one window, nothing overlaps
    base_num_frames: int
    generated_frames: int  # the pipeline's num_frames (video-to-video: the overlap and the new frames)
    windows: tuple[tuple[int, int], ...]  # (latent frames, transformer calls) per window, in order
    clip_frames: int = 0  # video-to-video: the input clip's frames, which open the output

    @property
    def calls(self) -> int:
        return sum(calls for _, calls in self.windows)

    @property
    def long(self) -> bool:
        return self.overlap_history is not None

    def pipeline_kwargs(self) -> dict[str, Any]:
        kwargs: dict[str, Any] = {
            "num_frames": self.generated_frames,
            "base_num_frames": self.base_num_frames,
            "ar_step": self.ar_step,
            "addnoise_condition": LONG_VIDEO_ADDNOISE if self.long else 0,
        }
        if self.causal_block_size is not None:
            kwargs["causal_block_size"] = self.causal_block_size
        if self.overlap_history is not None:
            kwargs["overlap_history"] = self.overlap_history
        return kwargs

    def to_params(self) -> dict[str, Any]:
        return {
            "ar_step": self.ar_step,
            "causal_block_size": self.causal_block_size,
            "overlap_history": self.overlap_history,
            "base_num_frames": self.base_num_frames,
            "generated_frames": self.generated_frames,
            "clip_frames": self.clip_frames,
            "windows": [list(window) for window in self.windows],
        }

    @classmethod
    def from_params(cls, params: dict[str, Any]) -> Forcing | None:
        recorded = params.get(PARAMS_KEY)
        if not recorded:
            return None
        return cls(**{**recorded, "windows": tuple(tuple(w) for w in recorded["windows"])})


def settle(
    task: str,
    *,
    frames: int,
    steps: int,
    base_num_frames: int,
    ar_step: int | None,
    causal_block_size: int | None,
    overlap_history: int | None,
    clip_frames: int = 0,
    model_block: int = 1,
) -> tuple[Forcing, list[Adjustment]]:
    """The forcing a job of ``frames`` output frames runs (video-to-video: ``clip_frames`` of them the input clip's),
    or an ``InvalidRequestError`` naming the field and the values allowed. ``model_block``: the loaded model's own
    causal block size, used when the request names none."""
    adjustments: list[Adjustment] = []
    extend = task == VIDEO_TO_VIDEO
    if task == FIRST_LAST_FRAME and frames > base_num_frames:
        raise InvalidRequestError(
            "num_frames",
            f"{frames} frames is more than one window (base_num_frames {base_num_frames}): first-last-frame runs in "
            "one window (diffusers' long-video path miscounts the last image's latent frame and fails)",
            allowed={"max": base_num_frames},
        )
    overlap = _settle_overlap(frames, base_num_frames, overlap_history, clip_frames, extend, adjustments)
    generated = frames - clip_frames + overlap if extend and overlap else frames
    base = latent_frames(base_num_frames)
    overlap_latent = latent_frames(overlap) if overlap else None
    runs = windows(task, latent_frames(generated), base, overlap_latent)
    block = causal_block_size or model_block
    _check_block(block, runs, overlap_latent, frames, base_num_frames, own=causal_block_size is None)
    ar = ar_step or 0
    calls = tuple((w.latent_frames, window_calls(w.latent_frames, w.clean, block, steps, ar)) for w in runs)
    if ar and all(w.latent_frames // block - w.clean // block <= 1 for w in runs):
        adjustments.append(
            Adjustment(
                field="ar_step",
                requested=ar,
                used=0,
                reason=f"every window has one block of {block} latent frame(s) to denoise: no block to lag behind",
            )
        )
        ar = 0
    forcing = Forcing(
        ar_step=ar,
        causal_block_size=causal_block_size,
        overlap_history=overlap,
        base_num_frames=base_num_frames,
        generated_frames=generated,
        windows=calls,
        clip_frames=clip_frames if extend else 0,
    )
    return forcing, adjustments


def one_window_more(clip_frames: int, base_num_frames: int, overlap_history: int | None) -> int:
    """Video-to-video's output when the request names no length: the clip and one window after it (the window's
    frames less the overlap it starts from)."""
    overlap = _settle_overlap(clip_frames + 1, base_num_frames, overlap_history, clip_frames, True, [])
    return clip_frames + base_num_frames - (overlap or 0)


def _settle_overlap(
    frames: int, base_num_frames: int, asked: int | None, clip_frames: int, extend: bool, adjustments: list[Adjustment]
) -> int | None:
    """The frames each window shares with the one before: None for a clip that fits one window."""
    if not extend and frames <= base_num_frames:
        if asked is not None:
            adjustments.append(
                Adjustment(
                    field="overlap_history",
                    requested=asked,
                    used=None,
                    reason=f"{frames} frames fit one window of base_num_frames {base_num_frames}: nothing overlaps",
                )
            )
        return None
    # fewer latent frames than the window, so each window adds some; video-to-video: no more than the clip has
    most = base_num_frames - 1
    if extend:
        most = min(most, clip_frames)
    if asked is None:
        return whole_latent_frames(min(RECOMMENDED_OVERLAP, most))
    if not 1 <= asked <= most:
        why = f"the clip's {clip_frames} frames" if extend and most == clip_frames else "base_num_frames - 1"
        raise InvalidRequestError(
            "overlap_history",
            f"{asked} frames is outside 1..{most} ({why}: each window must add frames of its own)",
            allowed={"min": 1, "max": most},
        )
    used = whole_latent_frames(asked)
    if used != asked:
        adjustments.append(
            Adjustment(
                field="overlap_history",
                requested=asked,
                used=used,
                reason="the Wan VAE turns 4k+1 frames into whole latent frames: the overlap is the nearest such count "
                "below",
            )
        )
    return used


def _check_block(block: int, runs: list[Window], overlap: int | None, frames: int, base_frames: int, own: bool):
    sizes = sorted({w.latent_frames for w in runs} | ({overlap} if overlap else set()))
    allowed = [b for b in range(1, sizes[0] + 1) if all(size % b == 0 for size in sizes)]
    if block in allowed:
        return
    whose = f"this model's own causal_block_size (num_frame_per_block) {block}" if own else f"{block}"
    lengths = ", ".join(map(str, sorted({w.latent_frames for w in runs})))
    carried = f", and the {overlap} carried from one window to the next" if overlap else ""
    raise InvalidRequestError(
        "causal_block_size",
        f"{whose} does not divide the latent frames of every window ({lengths} for {frames} frames at "
        f"base_num_frames {base_frames}{carried}): blocks must be whole",
        allowed=allowed,
    )


__all__ = [
    "LONG_VIDEO_ADDNOISE",
    "NATIVE_SIZE",
    "PARAMS_KEY",
    "PIPELINE_BASE_NUM_FRAMES",
    "Forcing",
    "Window",
    "latent_frames",
    "pixel_frames",
    "settle",
    "window_calls",
    "windows",
]
