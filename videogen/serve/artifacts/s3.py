"""The ``s3`` artifact store: any S3-compatible service, through obstore.

Why obstore: it is maintained (Development Seed, on the Apache Arrow ``object_store`` crate), a single small
wheel with no dependency beyond ``typing-extensions`` (boto3 brings botocore's ~100 MB of service models;
s3fs brings aiobotocore and fsspec), and it has everything used here in one API, sync and async: atomic PUT,
ranged and streamed GET, HEAD, bulk DELETE, LIST and presigned URLs, with retries and timeouts configured
per store.

Every upload is one PUT up to ``MULTIPART_ABOVE_BYTES`` (S3 makes a PUT atomic: the object appears whole or
not at all). Above it a multipart upload is used; one that fails is never visible as an object either (only
``CompleteMultipartUpload`` creates it), but obstore does not always abort it, so a bucket lifecycle rule that
aborts incomplete multipart uploads after a day is recommended (README, "Artifact storage").
"""

from __future__ import annotations

import os
from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path
from typing import Any

from videogen.serve.artifacts.base import CHUNK_BYTES, OpenedArtifact, RemoteArtifactStore, unavailable
from videogen.serve.artifacts.config import ArtifactsConfig

MULTIPART_ABOVE_BYTES = 256 * 1024 * 1024  # a rendered video is far smaller; a single PUT needs no cleanup


def _missing(exc: BaseException) -> bool:
    from obstore.exceptions import NotFoundError

    return isinstance(exc, (FileNotFoundError, NotFoundError))


class OpenedObject(OpenedArtifact):
    def __init__(self, artifacts: S3Artifacts, key: str, meta: dict[str, Any], presigned_url: str | None):
        modified = meta["last_modified"].timestamp()
        super().__init__(key, int(meta["size"]), modified, meta.get("e_tag") or f'"{meta["size"]}-{modified}"')
        self.artifacts = artifacts
        self.presigned_url = presigned_url

    async def read(self, start: int, end: int) -> AsyncIterator[bytes]:
        import obstore

        async def nothing() -> AsyncIterator[bytes]:
            return
            yield

        if end <= start:  # an empty object (S3 refuses a zero-length range)
            return nothing()
        try:  # the GET is sent now, before any byte of the answer: a missing object is still a clean error
            result = await obstore.get_async(self.artifacts.store, self.key, options={"range": (start, end)})
        except Exception as exc:
            if _missing(exc):
                raise FileNotFoundError(self.key) from None
            raise unavailable(exc, f"reading {self.key}") from exc

        async def chunks() -> AsyncIterator[bytes]:
            async for chunk in result.stream(min_chunk_size=CHUNK_BYTES):
                yield bytes(chunk)

        return chunks()


class S3Artifacts(RemoteArtifactStore):
    backend = "s3"

    def __init__(self, config: ArtifactsConfig, state_dir: str | os.PathLike):
        from obstore.store import S3Store

        super().__init__(Path(state_dir))
        self.config = config
        credentials: dict[str, str] = {}
        for field, option in (("access_key_id_env", "access_key_id"), ("secret_access_key_env", "secret_access_key")):
            name = getattr(config, field)
            if name is not None:
                if not os.environ.get(name):
                    raise ValueError(f"artifacts.{field}: the environment variable {name} is not set in this replica")
                credentials[option] = os.environ[name]
        if config.endpoint_url:
            credentials["endpoint"] = config.endpoint_url
        self.store = S3Store(
            config.bucket,
            prefix=config.prefix or None,
            region=config.region,
            client_options={
                "allow_http": config.allow_http,
                "timeout": timedelta(seconds=config.timeout_s),
                "connect_timeout": timedelta(seconds=min(10.0, config.timeout_s)),
            },
            retry_config={
                "max_retries": config.max_retries,
                "retry_timeout": timedelta(seconds=config.timeout_s),
                "backoff": {"init_backoff": timedelta(milliseconds=100), "max_backoff": timedelta(seconds=5)},
            },
            **credentials,
        )

    def describe(self) -> dict:
        c = self.config
        return {
            "backend": self.backend,
            "bucket": c.bucket,
            "prefix": c.prefix,
            "endpoint_url": c.endpoint_url,
            "region": c.region,
            "presign_downloads": c.presign_downloads,
        }

    # -- writes: raise the store's own error (the caller says what failed) -------------------------------
    def put_file(self, key: str, path: Path, content_type: str) -> None:
        import obstore

        multipart = Path(path).stat().st_size > MULTIPART_ABOVE_BYTES
        obstore.put(self.store, key, Path(path), use_multipart=multipart, attributes={"Content-Type": content_type})

    def put_bytes(self, key: str, data: bytes, content_type: str) -> None:
        import obstore

        obstore.put(self.store, key, data, use_multipart=False, attributes={"Content-Type": content_type})

    def delete(self, keys: list[str]) -> int:
        import obstore

        if keys:
            obstore.delete(self.store, keys)  # one bulk request; S3 counts an absent key as deleted
        return len(keys)

    # -- reads: a missing object is FileNotFoundError, a store that does not answer a 503 ------------------
    def _read(self, key: str, doing: str, call):
        try:
            return call()
        except Exception as exc:
            if _missing(exc):
                raise FileNotFoundError(key) from None
            raise unavailable(exc, f"{doing} {key}") from exc

    def get_bytes(self, key: str) -> bytes:
        import obstore

        return self._read(key, "reading", lambda: bytes(obstore.get(self.store, key).bytes()))

    def get_range(self, key: str, start: int, end: int) -> bytes:
        import obstore

        return self._read(key, "reading", lambda: bytes(obstore.get_range(self.store, key, start=start, end=end)))

    def open(self, key: str) -> OpenedObject:
        import obstore

        meta = self._read(key, "opening", lambda: obstore.head(self.store, key))
        url = None
        if self.config.presign_downloads:
            expiry = timedelta(seconds=self.config.presign_expiry_s)
            url = self._read(key, "signing", lambda: obstore.sign(self.store, "GET", key, expiry))
        return OpenedObject(self, key, meta, url)

    def list(self, prefix: str) -> list[str]:
        import obstore

        batches = self._read(prefix, "listing", lambda: list(obstore.list(self.store, prefix=prefix.strip("/"))))
        return sorted(meta["path"] for batch in batches for meta in batch)
