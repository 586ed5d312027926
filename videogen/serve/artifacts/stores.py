"""The artifact store an app config names, opened once per replica (``JobStore.artifacts``)."""

from __future__ import annotations

import os

from videogen.serve.artifacts.base import ArtifactStore
from videogen.serve.artifacts.config import ArtifactsConfig
from videogen.serve.artifacts.local import LocalArtifacts


def open_artifacts(config: ArtifactsConfig | None, state_dir: str | os.PathLike) -> ArtifactStore:
    if config is None or config.backend == "local":
        return LocalArtifacts(state_dir)
    from videogen.serve.artifacts.s3 import S3Artifacts

    return S3Artifacts(config, state_dir)
