"""Shared fixtures: every test session builds tiny models into its own cache dir."""

from __future__ import annotations

import os
import tempfile

import pytest

# Set before anything builds a tiny model, and inherited by subprocesses and Ray workers.
os.environ.setdefault("VIDEOGEN_CACHE_DIR", tempfile.mkdtemp(prefix="videogen-test-cache-"))
os.environ.setdefault("HF_HUB_OFFLINE", "1")


@pytest.fixture(scope="session")
def png_b64() -> str:
    """A small real PNG, base64-encoded, for image-to-video requests."""
    import base64
    import io

    import numpy as np
    from PIL import Image

    rng = np.random.default_rng(0)
    img = Image.fromarray(rng.integers(0, 255, (48, 48, 3), dtype=np.uint8))
    buf = io.BytesIO()
    img.save(buf, format="PNG")
    return base64.b64encode(buf.getvalue()).decode()
