"""The pictures written beside a finished video: a thumbnail, a spritesheet and an animated preview.

Each is derived from the decoded frames already in memory (no second decode of
the MP4) with Pillow, and lands next to the MP4 under a name derived from it
(``<stem>.thumbnail.jpg`` ...), so whoever knows the video's path knows theirs.
Each file is written under a temporary name and renamed: a reader never sees a
half-written picture. A write that fails removes its temporary file and the
pictures this call already wrote (no video is left with half its pictures); a
full disk (ENOSPC, a quota, a file-size limit) is a ``StorageFullError``.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from videogen.video.encode import discard, is_storage_error, storage_full_error

# variant -> (file suffix after the video's stem, media type). "video" is the MP4 itself.
VARIANTS: dict[str, tuple[str, str]] = {
    "video": (".mp4", "video/mp4"),
    "thumbnail": (".thumbnail.jpg", "image/jpeg"),
    "spritesheet": (".spritesheet.jpg", "image/jpeg"),
    "preview": (".preview.webp", "image/webp"),
}
PICTURE_VARIANTS = ("thumbnail", "spritesheet", "preview")

SPRITESHEET_COLUMNS = 4
SPRITESHEET_MAX_TILES = 16
PREVIEW_MAX_SIDE = 256  # the animated preview is small: a gallery tile, not a second video
PREVIEW_MAX_FRAMES = 48


def output_paths(video_path: str | Path) -> dict[str, Path]:
    """Every variant's path for the video at ``video_path`` (``.../<stem>.mp4``)."""
    video_path = Path(video_path)
    stem = video_path.name.removesuffix(".mp4")
    return {variant: video_path.with_name(stem + suffix) for variant, (suffix, _) in VARIANTS.items()}


def media_type(variant: str) -> str:
    return VARIANTS[variant][1]


def thumbnail_index(num_frames: int) -> int:
    """The frame shown as the thumbnail: the middle one (the first is often still noise-like in short clips)."""
    return max(0, num_frames // 2)


def _atomic_save(image, path: Path, **save_kwargs) -> int:
    tmp = path.with_name(path.name + ".partial")
    try:
        image.save(tmp, **save_kwargs)
        tmp.replace(path)
        return path.stat().st_size
    except BaseException as exc:
        discard(tmp)
        if is_storage_error(exc):
            raise storage_full_error(path, exc.strerror or str(exc)) from exc
        raise


def _spritesheet(frames: np.ndarray):
    from PIL import Image

    count = len(frames)
    tiles = min(count, SPRITESHEET_MAX_TILES)
    picks = np.linspace(0, count - 1, tiles).round().astype(int)
    cols = min(SPRITESHEET_COLUMNS, tiles)
    rows = -(-tiles // cols)
    height, width = frames.shape[1:3]
    sheet = Image.new("RGB", (cols * width, rows * height))
    for n, index in enumerate(picks):
        sheet.paste(Image.fromarray(frames[index]), ((n % cols) * width, (n // cols) * height))
    return sheet, {
        "tiles": int(tiles),
        "columns": int(cols),
        "rows": int(rows),
        "tile_width": int(width),
        "tile_height": int(height),
        "frames": [int(i) for i in picks],
    }


def _preview_frames(frames: np.ndarray) -> list:
    from PIL import Image

    height, width = frames.shape[1:3]
    scale = min(1.0, PREVIEW_MAX_SIDE / max(height, width))
    size = (max(1, round(width * scale)), max(1, round(height * scale)))
    picks = np.linspace(0, len(frames) - 1, min(len(frames), PREVIEW_MAX_FRAMES)).round().astype(int)
    return [Image.fromarray(frames[i]).resize(size) if scale < 1.0 else Image.fromarray(frames[i]) for i in picks]


def write_outputs(frames: np.ndarray, video_path: str | Path, fps: int) -> dict[str, dict]:
    """Write the thumbnail, spritesheet and animated preview of uint8 ``[F, H, W, 3]`` frames.

    Returns ``{variant: {"bytes", "media_type", ...}}`` for the three pictures.
    """
    if frames.dtype != np.uint8 or frames.ndim != 4 or frames.shape[-1] != 3 or len(frames) == 0:
        raise ValueError(f"expected uint8 [F, H, W, 3] frames, got {frames.dtype} {frames.shape}")
    paths = output_paths(video_path)
    try:
        paths["thumbnail"].parent.mkdir(parents=True, exist_ok=True)
        return _write_pictures(frames, paths, fps)
    except BaseException as exc:
        for variant in PICTURE_VARIANTS:  # no picture stays without the others
            discard(paths[variant])
        if is_storage_error(exc):
            raise storage_full_error(paths["thumbnail"], exc.strerror or str(exc)) from exc
        raise


def _write_pictures(frames: np.ndarray, paths: dict[str, Path], fps: int) -> dict[str, dict]:
    from PIL import Image

    out: dict[str, dict] = {}

    index = thumbnail_index(len(frames))
    size = _atomic_save(Image.fromarray(frames[index]), paths["thumbnail"], format="JPEG", quality=90)
    out["thumbnail"] = {"bytes": size, "media_type": media_type("thumbnail"), "frame": index}

    sheet, layout = _spritesheet(frames)
    size = _atomic_save(sheet, paths["spritesheet"], format="JPEG", quality=85)
    out["spritesheet"] = {"bytes": size, "media_type": media_type("spritesheet"), **layout}

    pictures = _preview_frames(frames)
    # The preview lasts as long as the video: fewer frames, each shown longer.
    duration_ms = max(20, round(1000 * len(frames) / max(fps, 1) / len(pictures)))
    size = _atomic_save(
        pictures[0],
        paths["preview"],
        format="WEBP",
        save_all=True,
        append_images=pictures[1:],
        duration=duration_ms,
        loop=0,
        quality=70,
    )
    out["preview"] = {
        "bytes": size,
        "media_type": media_type("preview"),
        "frames": len(pictures),
        "width": pictures[0].width,
        "height": pictures[0].height,
    }
    return out


def remove_outputs(video_path: str | Path) -> list[Path]:
    """Delete the video and every picture derived from it; returns what was removed."""
    removed = []
    for path in output_paths(video_path).values():
        for candidate in (path, path.with_name(path.name + ".partial")):
            try:
                candidate.unlink()
                removed.append(candidate)
            except FileNotFoundError:
                pass
    return removed
