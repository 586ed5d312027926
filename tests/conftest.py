"""Shared fixtures: every test session builds tiny models into its own cache dir."""

from __future__ import annotations

import os
import tempfile

import pytest
from s3_server import s3_server  # noqa: F401 - the session's SeaweedFS (started only for a test that asks)

# Set before anything builds a tiny model, and inherited by subprocesses and Ray workers.
os.environ.setdefault("VIDEOGEN_CACHE_DIR", tempfile.mkdtemp(prefix="videogen-test-cache-"))
os.environ.setdefault("HF_HUB_OFFLINE", "1")
# Under pytest-xdist (``make test`` runs the tests without Ray on two workers): one torch thread a worker. The tiny
# models' work is Python-bound, so two single-threaded workers share the 2 cores better than one process's 2 threads.
if os.environ.get("PYTEST_XDIST_WORKER"):
    os.environ.setdefault("OMP_NUM_THREADS", "1")


@pytest.fixture(scope="session")
def png_b64() -> str:
    """A small real PNG, base64-encoded, for image-to-video requests."""
    import testkit

    return testkit.png_b64()
