"""The plain decode calls a VAE makes for one video, with and without tiling/slicing.

Tiled decoding splits the latents into overlapping tiles (and HunyuanVideo's/LTX's
framewise decoding into overlapping frame windows) and decodes each with the plain
decoder. So a decode's FLOPs are the sum of plain-decode FLOPs over its tiles, and its
peak memory the largest tile's plain-decode peak plus the decoded tiles held for blending
and the blended output. These loops mirror the ``_decode``/``tiled_decode``/
``_temporal_tiled_decode`` methods of the diffusers 0.42 VAEs, reading the tile sizes and
strides from the module (as ``enable_tiling`` left them).

Slicing (``enable_slicing``) decodes a batch one sample at a time. The 3D-VAE video
pipelines decode a batch of one video, so slicing changes nothing there; the
Stable-Diffusion-based pipelines decode frames as a batch, so slicing decodes frame by frame.
"""

from __future__ import annotations

from dataclasses import dataclass

from torch import nn

from videogen.video.cost.probes import FRAME_BATCH_VAES
from videogen.video.families import get_cost_facts


@dataclass(frozen=True)
class Tile:
    """One plain decode call: ``frames`` latent frames (a 2D VAE: a batch of frames) of ``height x width``."""

    frames: int
    height: int
    width: int


def _spatial(height: int, width: int, min_h: int, min_w: int, stride_h: int, stride_w: int) -> list[tuple[int, int]]:
    return [
        (min(min_h, height - i), min(min_w, width - j))
        for i in range(0, height, stride_h)
        for j in range(0, width, stride_w)
    ]


def decode_tiles(
    vae: nn.Module, family: str, frames: int, height: int, width: int, *, tiling: bool, slicing: bool
) -> list[Tile]:
    """The plain decode calls for latents of ``frames x height x width`` (batch 1) in ``family``'s pipeline."""
    chunk = get_cost_facts(family).decode_chunk
    cls = type(vae).__name__
    if cls in FRAME_BATCH_VAES:  # a VAE without tiling or slicing (SVD's) decodes plainly: placement skips them
        slicing = slicing and hasattr(vae, "use_slicing")
        return _sd_tiles(vae, chunk or frames, frames, height, width, tiling=tiling, slicing=slicing)
    if hasattr(vae, "tile_latent_min_height") and not hasattr(vae, "tile_sample_stride_height"):
        # tiles sized in latent pixels and strided by an overlap factor: one per side (CogVideoX) or one for both
        # (HunyuanVideo 1.5), each tile every frame
        min_h, min_w = vae.tile_latent_min_height, vae.tile_latent_min_width
        both = getattr(vae, "tile_overlap_factor", None)
        stride_h = int(min_h * (1 - getattr(vae, "tile_overlap_factor_height", both)))
        stride_w = int(min_w * (1 - getattr(vae, "tile_overlap_factor_width", both)))
    else:
        sc = vae.spatial_compression_ratio
        min_h, min_w = vae.tile_sample_min_height // sc, vae.tile_sample_min_width // sc
        stride_h, stride_w = vae.tile_sample_stride_height // sc, vae.tile_sample_stride_width // sc

    def spatial(f: int) -> list[Tile]:
        if tiling and (width > min_w or height > min_h):
            return [Tile(f, th, tw) for th, tw in _spatial(height, width, min_h, min_w, stride_h, stride_w)]
        return [Tile(f, height, width)]

    # HunyuanVideo decodes in overlapping frame windows by default (use_framewise_decoding=True),
    # tiled or not; LTX only when asked (its default is False).
    if cls in ("AutoencoderKLHunyuanVideo", "AutoencoderKLLTXVideo") and getattr(vae, "use_framewise_decoding", False):
        tc = vae.temporal_compression_ratio
        min_f, stride_f = vae.tile_sample_min_num_frames // tc, vae.tile_sample_stride_num_frames // tc
        if frames > min_f:
            return [t for i in range(0, frames, stride_f) for t in spatial(min(min_f + 1, frames - i))]
    return spatial(frames)


def _sd_tiles(
    vae: nn.Module, chunk: int, frames: int, height: int, width: int, *, tiling: bool, slicing: bool
) -> list[Tile]:
    # The pipeline decodes ``chunk`` frames per call (AnimateDiff's ``decode_chunk_size=16``; the
    # family's ``decode_chunk``), or every frame in one call (TextToVideoSD).
    batches = [min(chunk, frames - i) for i in range(0, frames, chunk)]
    if slicing:
        batches = [1 for b in batches for _ in range(b)]
    size = getattr(vae, "tile_latent_min_size", None)  # None: a VAE without tiling (SVD's)
    if tiling and size is not None and (height > size or width > size):
        stride = int(size * (1 - vae.tile_overlap_factor))
        return [Tile(b, th, tw) for b in batches for th, tw in _spatial(height, width, size, size, stride, stride)]
    return [Tile(b, height, width) for b in batches]
