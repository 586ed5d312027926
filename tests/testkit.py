"""Helpers every test layer shares (unit, families, serve): one PNG maker.

``tests/`` is on ``sys.path`` (pytest puts the root conftest's folder there),
so any test imports this as ``import testkit``.
"""

from __future__ import annotations

import base64
import io


def png_bytes(width: int = 48, height: int | None = None, seed: int = 0) -> bytes:
    """A real PNG of random pixels (fixed seed: the same bytes every run)."""
    import numpy as np
    from PIL import Image

    height = width if height is None else height
    pixels = np.random.default_rng(seed).integers(0, 255, (height, width, 3), dtype=np.uint8)
    buf = io.BytesIO()
    Image.fromarray(pixels).save(buf, format="PNG")
    return buf.getvalue()


def png_b64(width: int = 48, height: int | None = None, seed: int = 0) -> str:
    """``png_bytes`` as base64, the request's ``image`` form."""
    return base64.b64encode(png_bytes(width, height, seed)).decode("ascii")


def png_data_url(width: int = 48, height: int | None = None, seed: int = 0) -> str:
    return "data:image/png;base64," + png_b64(width, height, seed)


def blank_png_b64(width: int, height: int) -> str:
    """A real PNG of ``width`` x ``height`` pixels that stays small on the wire (one bit a pixel, all black):
    for sizes near the pixel cap."""
    from PIL import Image

    buf = io.BytesIO()
    Image.new("1", (width, height)).save(buf, format="PNG")
    return base64.b64encode(buf.getvalue()).decode("ascii")


def run_cli(capsys, *args: str) -> tuple[int, str, str]:
    """``videogen ARGS`` in this process (the ``main`` the console script calls): its exit status, stdout, stderr.

    A subprocess would start Python and import torch and diffusers again, 5-8 s a call on 2 cores;
    tests/unit/test_cli.py runs the installed console script itself, as a user does."""
    from videogen.cli import main

    capsys.readouterr()  # only this call's output
    try:
        code = main(list(args))
    except SystemExit as exc:  # the argument parser's errors exit (one line, status 2)
        code = exc.code
    out, err = capsys.readouterr()
    return code, out, err


def job_fields(family: str = "wan", **overrides) -> dict:
    """The fields of a queued job (``Jobs.create``'s, ``NewJob``'s): a tiny wan text-to-video unless ``overrides``
    say otherwise, with every field a test does not care about filled in."""
    from videogen.video.progress import Progress

    fields = dict(
        family=family,
        task="text-to-video",
        request={"family": family, "prompt": "x"},
        image=None,
        model=None,
        params={},
        adjustments=[],
        progress=Progress.queued(),
        max_attempts=2,
        dispatcher=None,
        lease_s=1,
    )
    return {**fields, **overrides}


def queue_job(store, **overrides):
    """A queued job written straight to a ``JobStore`` (``job_fields``): the store's own ``create``."""
    return store.jobs.create(**job_fields(**overrides))
