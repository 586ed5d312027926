"""FramePack (``HunyuanVideoFramepackPipeline``): its sections, and the frame count they give.

The pipeline denoises ``latent_window_size`` (W) latent frames per section, each section conditioned on the
first image's latents and on packed history (1 clean, 2 latent frames at 2x and 16 at 4x compression). It runs
``S = max(1, ceil(num_frames / (4(W-1)+1)))`` sections and, whatever ``num_frames`` was, returns ``4·W·S + 1``
frames (HunyuanVideo's VAE is /4 in time): the first section decodes W latent frames (4W-3 frames), each later
one adds 4W frames after overlapping 4W-3, and the last one adds the first image's latent frame (+4). Read from
diffusers 0.42.1's ``__call__`` and checked by running it (``tests/families/test_framepack.py``): with W = 9,
num_frames 9..33 give 37 frames, 34..66 give 73, 67..99 give 109.

So the pipeline's ``num_frames`` only picks S. The adapter moves the job's ``num_frames`` to the nearest count
the pipeline really returns (``frame_rule``: 36k+1 with W = 9), reported as an adjustment, and hands the
pipeline ``pipeline_num_frames`` for that many sections: the job's frame count is the video's.

How long: FramePack is made for long videos (its own demo goes to minutes), far past the 129 frames HunyuanVideo's
other pipelines take, because every section costs the same: one window of W latent frames beside a fixed packed
history, and a VAE decode of at most 2W + 1 latent frames. Only the decoded video grows with the length (the
pipeline keeps every frame in pixels on the device, and the job keeps them to encode). ``MAX_SECTIONS`` = 10 bounds
a job at 361 frames: 12 s at FramePack's 30 fps (15 s at the family's 24). The cost model prices it section by
section: at 544x960 and 30 steps, 2.4e17 FLOPs (about 5 minutes at an H200's dense peak), 1.8x HunyuanVideo's own
129-frame clip, at the same peak memory as one section; the decoded frames add about 1.1 GB in bf16 on the device.
"""

from __future__ import annotations

import math

from videogen.video.spec import FrameRule

# FramePack's own default and the window its published transformer was trained with (lllyasviel's demo keeps 9
# and says not to change it); a smaller window would give finer frame counts at a quality cost.
LATENT_WINDOW_SIZE = 9
# The only sampling diffusers' pipeline takes a last_image with, and the one FramePackI2V_HY was trained for
# ("vanilla" is the F1 checkpoint's forward sampling; the pipeline refuses last_image with it).
SAMPLING_TYPE = "inverted_anti_drifting"
_TEMPORAL = 4  # HunyuanVideo's VAE: 4 frames per latent frame
# Packed history the transformer sees each section (inverted anti-drifting): latent frames and the
# (t, h, w) kernel of its patch embedder. The clean latents are the first image's and one history frame.
HISTORY = ((2, 1, 2), (2, 2, 4), (16, 4, 8))
# The most sections one job runs (see the module's docstring): 361 frames with W = 9.
MAX_SECTIONS = 10


def frames_per_section(window: int = LATENT_WINDOW_SIZE) -> int:
    """Frames each section adds to the video (the first section also gives the video's first frame)."""
    return _TEMPORAL * window


def section_input_frames(window: int = LATENT_WINDOW_SIZE) -> int:
    """Frames of one section's latents as the pipeline counts ``num_frames`` against them."""
    return (window - 1) * _TEMPORAL + 1


def sections(num_frames: int, window: int = LATENT_WINDOW_SIZE) -> int:
    """How many sections the pipeline runs for ``num_frames`` (its own rounding: up)."""
    return max(1, math.ceil(num_frames / section_input_frames(window)))


def output_frames(num_frames: int, window: int = LATENT_WINDOW_SIZE) -> int:
    """The frames the pipeline returns when asked for ``num_frames``."""
    return frames_per_section(window) * sections(num_frames, window) + 1


def pipeline_num_frames(video_frames: int, window: int = LATENT_WINDOW_SIZE) -> int:
    """The ``num_frames`` to hand the pipeline so that it returns ``video_frames`` (one of ``FRAME_RULE``'s)."""
    count = (video_frames - 1) // frames_per_section(window)
    return count * section_input_frames(window)


def frame_rule(min_frames: int, window: int = LATENT_WINDOW_SIZE) -> FrameRule:
    """The frames a FramePack job takes: ``min_frames`` (the family's least) up to ``MAX_SECTIONS`` sections, moved
    to the counts FramePack returns, 4·W·k + 1 (W = 9: 37, 73, 109, ... 361)."""
    step = frames_per_section(window)
    return FrameRule(
        multiple=step,
        remainder=1,
        min_frames=min_frames,
        max_frames=step * MAX_SECTIONS + 1,
        reason=f"FramePack returns whole sections of {step} frames plus the first, at most {MAX_SECTIONS} sections",
    )
