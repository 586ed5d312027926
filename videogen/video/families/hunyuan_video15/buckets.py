"""The size ``HunyuanVideo15ImageToVideoPipeline`` generates: it takes no height or width, but the resolution
bucket of its transformer's ``target_size`` (640: 480p, 960: 720p) nearest the image's aspect ratio.

The rule of diffusers 0.42's ``HunyuanVideo15ImageProcessor.calculate_default_height_width`` (``generate_crop_size_list``
and ``get_closest_ratio``, copied from Tencent's ``hyvideo/utils/data_utils.py``), in plain Python so the ingress can
settle a request's size without torch; a test holds it equal to diffusers' own.
"""

from __future__ import annotations

_PATCH = 16  # the pipeline's vae_scale_factor: the VAE's spatial compression
_MAX_RATIO = 4.0

# The target_size of the default image-to-video checkpoint (480p), for a model that has not said its own.
DEFAULT_TARGET_SIZE = 640


def crop_sizes(target_size: float) -> list[tuple[int, int]]:
    """(height, width) buckets of about ``target_size``² pixels, multiples of 16, up to 4:1 either way."""
    patches = round((target_size / _PATCH) ** 2)
    sizes = []
    hp, wp = patches, 1
    while hp > 0:
        if max(hp, wp) / min(hp, wp) <= _MAX_RATIO:
            sizes.append((hp * _PATCH, wp * _PATCH))
        if (wp + 1) * hp <= patches:
            wp += 1
        else:
            hp -= 1
    return sizes


def bucket(height: int, width: int, target_size: float) -> tuple[int, int]:
    """(height, width) the pipeline generates for an image of ``height x width`` at ``target_size``: the bucket of
    the nearest aspect ratio on the image's side of square (never wider than a landscape image, never taller than a
    portrait one)."""
    sizes = crop_sizes(target_size)
    aspect = float(height) / float(width)
    ratios = [round(float(h) / float(w), 5) for h, w in sizes]
    if aspect >= 1:
        candidates = [(i, r - aspect) for i, r in enumerate(ratios) if r - aspect <= 0]
    else:
        candidates = [(i, r - aspect) for i, r in enumerate(ratios) if r - aspect >= 0]
    index = min(candidates, key=lambda pair: abs(pair[1]))[0]
    return sizes[index]
