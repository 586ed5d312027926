"""The artifact store's one interface, and what a job does with it.

An artifact is a job's file addressed by a key: ``videos/<job_id>.mp4`` and its pictures beside it
(``videos/<job_id>.thumbnail.jpg``, ...; the suffixes are ``videogen.video.outputs.VARIANTS``), and, with a
remote store, ``inputs/<job_id>.json`` (the media a client posted). A worker always renders into
``render_path`` on its own disk (as before: the local backend's files are already where they stay); then
``commit_outputs`` uploads them before the job's result is written, so a succeeded job always has its files.
``remove_job`` is what ``JobStore.remove_outputs`` (the one delete hook: retention, ``/v1`` delete, a job
deleted while it ran) calls.
"""

from __future__ import annotations

import json
import logging
from abc import ABC, abstractmethod
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

from videogen.errors import ArtifactUploadError, ErrorCode, JobStateError, ServiceBusyError
from videogen.serve.store.records import pack_inputs
from videogen.video.outputs import VARIANTS, media_type, output_paths, remove_outputs

logger = logging.getLogger("videogen.serve.artifacts")

# The ``image`` column holds ``{"artifact": "inputs/<job_id>.json"}`` when a job's inputs are in the store.
INPUTS_REF = "artifact"
# A download streams in chunks of this size (a local file's reads, an S3 GET's body).
CHUNK_BYTES = 256 * 1024
# How long a client is told to wait when the artifact store cannot be reached.
UNAVAILABLE_RETRY_AFTER_S = 5


def output_key(job_id: str, variant: str = "video") -> str:
    """The key of a job's MP4 (``video``) or of one of its pictures."""
    return f"videos/{job_id}{VARIANTS[variant][0]}"


def inputs_key(job_id: str) -> str:
    return f"inputs/{job_id}.json"


def unavailable(exc: BaseException, doing: str) -> ServiceBusyError:
    """A store that did not answer (connection refused, timeout, 5xx, denied) as a 503 with Retry-After."""
    return ServiceBusyError(
        f"the artifact store is unavailable ({doing}: {short_reason(exc)}); try again shortly",
        retry_after_s=UNAVAILABLE_RETRY_AFTER_S,
        code=ErrorCode.ARTIFACTS_UNAVAILABLE,
    )


def short_reason(exc: BaseException) -> str:
    """The first line of a store error (obstore appends a multi-line debug dump)."""
    text = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
    return f"{type(exc).__name__}: {text}"[:300]


class OpenedArtifact(ABC):
    """One object opened for a download: its length and version, then the bytes of one span.

    ``read`` fetches before it returns, so an object removed meanwhile is a ``FileNotFoundError`` the route
    turns into a clean 404/409, never a response cut short. ``presigned_url`` (s3 with ``presign_downloads``):
    where the client is redirected instead.
    """

    presigned_url: str | None = None

    def __init__(self, key: str, size: int, modified: float, etag: str):
        self.key, self.size, self.modified, self.etag = key, size, modified, etag

    @abstractmethod
    async def read(self, start: int, end: int) -> AsyncIterator[bytes]:
        """The bytes ``[start, end)`` as chunks; the iterator releases what the object holds once consumed."""

    def close(self) -> None:
        """Release the object without reading it (a redirect, a refused range)."""
        return None  # an S3 object holds nothing open between the HEAD and the GET


class ArtifactStore(ABC):
    """Put, get (whole or a range), open for a download, delete, list: by key. Keys are built here, never by
    a client. A missing object is ``FileNotFoundError``; a store that does not answer on a read is
    ``ServiceBusyError`` (503 ``artifacts_unavailable``)."""

    backend: str

    def __init__(self, state_dir: Path):
        # Where a worker renders (and, for the local backend, where the files stay): state_dir/videos as before.
        self.videos_dir = Path(state_dir) / "videos"
        self.videos_dir.mkdir(parents=True, exist_ok=True)

    # -- objects ------------------------------------------------------------------------------------
    @abstractmethod
    def put_file(self, key: str, path: Path, content_type: str) -> None:
        """Store the local file at ``path`` whole under ``key`` (atomically: a reader sees all or nothing)."""

    @abstractmethod
    def put_bytes(self, key: str, data: bytes, content_type: str) -> None: ...

    @abstractmethod
    def get_bytes(self, key: str) -> bytes: ...

    @abstractmethod
    def get_range(self, key: str, start: int, end: int) -> bytes:
        """Bytes ``[start, end)`` of the object (fewer when it ends first)."""

    @abstractmethod
    def open(self, key: str) -> OpenedArtifact: ...

    @abstractmethod
    def delete(self, keys: list[str]) -> int:
        """Delete these objects (absent ones are no error); how many went."""

    @abstractmethod
    def list(self, prefix: str) -> list[str]:
        """The keys under ``prefix`` (a folder: ``videos``), sorted."""

    def describe(self) -> dict[str, Any]:
        """What ``/api/video/runtime`` shows (no secret)."""
        return {"backend": self.backend}

    # -- a job's files ----------------------------------------------------------------------------------
    def render_path(self, job_id: str) -> Path:
        """Where a worker writes the job's MP4 (its pictures land beside it)."""
        return self.videos_dir / f"{job_id}.mp4"

    def commit_outputs(self, job_id: str) -> None:
        """Make the rendered files the job's artifacts; raises ``ArtifactUploadError`` (none of them stored)."""
        return None  # local: the render is already where it stays

    def remove_job(self, job_id: str) -> int:
        """Delete every file of the job (outputs, inputs, leftovers of a render on this node); how many went."""
        return len(remove_outputs(self.render_path(job_id)))

    def keep_inputs(self, job_id: str, inputs: dict[str, Any]) -> str | None:
        """What the job row's ``image`` column keeps of its inline inputs: here, the inputs themselves."""
        return pack_inputs(inputs)

    def discard_inputs(self, job_id: str) -> None:
        """Drop the inputs ``keep_inputs`` stored for a job that was then not created."""
        return None  # local: the inputs live in the job row only

    def load_inputs(self, inputs: dict[str, Any]) -> dict[str, Any]:
        """A job's inputs as ``JobRecord.inputs`` gives them, fetched from the store when the row holds a key."""
        if set(inputs) != {INPUTS_REF}:
            return inputs
        try:
            raw = self.get_bytes(inputs[INPUTS_REF])
        except FileNotFoundError:
            raise JobStateError(
                f"the job's inputs ({inputs[INPUTS_REF]}) are missing from the artifact store"
            ) from None
        return json.loads(raw)


class RemoteArtifactStore(ArtifactStore):
    """A store off this node: renders are uploaded, then the local copies go; inputs are kept in the store."""

    def commit_outputs(self, job_id: str) -> None:
        paths = output_paths(self.render_path(job_id))
        stored: list[str] = []
        try:
            for variant, path in paths.items():  # the video and whichever pictures were written
                if path.is_file():
                    key = output_key(job_id, variant)
                    try:
                        self.put_file(key, path, media_type(variant))
                    except Exception as exc:  # noqa: BLE001 - any failure of the store fails the job with its reason
                        self._delete_quietly(stored)
                        raise ArtifactUploadError(
                            f"the {variant} of job {job_id} could not be uploaded to the artifact store "
                            f"({self.backend} {key}): {short_reason(exc)}",
                            key=key,
                            reason=short_reason(exc),
                        ) from exc
                    stored.append(key)
        finally:
            remove_outputs(self.render_path(job_id))  # the local copies, uploaded or not

    def remove_job(self, job_id: str) -> int:
        local = super().remove_job(job_id)
        keys = [*(output_key(job_id, v) for v in VARIANTS), inputs_key(job_id)]
        try:
            return local + self.delete(keys)
        except Exception as exc:  # noqa: BLE001 - the caller keeps the job and tries again (a 503, the next sweep)
            raise unavailable(exc, f"deleting the objects of job {job_id}") from exc

    def keep_inputs(self, job_id: str, inputs: dict[str, Any]) -> str | None:
        """The inputs go to ``inputs/<job_id>.json`` (a worker on any node reads them); the row keeps the key."""
        present = {k: v for k, v in inputs.items() if v}
        if not present:
            return None
        key = inputs_key(job_id)
        try:
            self.put_bytes(key, json.dumps(present).encode(), "application/json")
        except Exception as exc:  # noqa: BLE001 - the submission is refused with a 503, nothing is queued
            raise unavailable(exc, f"storing the job's inputs at {key}") from exc
        return json.dumps({INPUTS_REF: key})

    def discard_inputs(self, job_id: str) -> None:
        self._delete_quietly([inputs_key(job_id)])

    def _delete_quietly(self, keys: list[str]) -> None:
        try:
            self.delete(keys)
        except Exception:  # noqa: BLE001 - the store is failing already; the upload's error is the one reported
            logger.warning("could not remove %s from the artifact store", keys, exc_info=True)
