"""The ``local`` artifact store: files under ``state_dir`` (``videos/<job_id>.mp4`` ...), as before.

A download streams from a handle opened before the answer starts: on POSIX an open file stays readable after
it is unlinked, so a retention sweep or a delete racing a download never cuts it short.
"""

from __future__ import annotations

import asyncio
import hashlib
import os
import shutil
from collections.abc import AsyncIterator
from pathlib import Path
from typing import BinaryIO

from videogen.serve.artifacts.base import CHUNK_BYTES, ArtifactStore, OpenedArtifact
from videogen.video.encode import discard


class OpenedFile(OpenedArtifact):
    def __init__(self, key: str, file: BinaryIO):
        info = os.fstat(file.fileno())
        tag = hashlib.md5(f"{info.st_mtime}-{info.st_size}".encode(), usedforsecurity=False).hexdigest()
        super().__init__(key, info.st_size, info.st_mtime, f'"{tag}"')
        self.file = file

    async def read(self, start: int, end: int) -> AsyncIterator[bytes]:
        file = self.file

        async def chunks() -> AsyncIterator[bytes]:
            try:
                await asyncio.to_thread(file.seek, start)
                left = end - start
                while left > 0:
                    chunk = await asyncio.to_thread(file.read, min(CHUNK_BYTES, left))
                    if not chunk:  # cannot happen to a file only ever replaced whole; never send past it
                        break
                    left -= len(chunk)
                    yield chunk
            finally:
                file.close()

        return chunks()

    def close(self) -> None:
        self.file.close()


class LocalArtifacts(ArtifactStore):
    backend = "local"

    def __init__(self, state_dir: str | os.PathLike):
        super().__init__(Path(state_dir))
        self.root = Path(state_dir)

    def path(self, key: str) -> Path:
        """The file of ``key``; keys are built by the service, and this refuses one that would leave the root."""
        parts = key.split("/")
        if key.startswith("/") or any(p in ("", ".", "..") for p in parts):
            raise ValueError(f"not an artifact key: {key!r}")
        return self.root.joinpath(*parts)

    def _write_atomically(self, key: str, write) -> None:
        path = self.path(key)
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(path.name + ".partial")
        try:
            write(tmp)
            tmp.replace(path)
        except BaseException:
            discard(tmp)
            raise

    def put_file(self, key: str, path: Path, content_type: str) -> None:
        if Path(path).resolve() != self.path(key).resolve():  # a render already in place stays as it is
            self._write_atomically(key, lambda tmp: shutil.copyfile(path, tmp))

    def put_bytes(self, key: str, data: bytes, content_type: str) -> None:
        self._write_atomically(key, lambda tmp: tmp.write_bytes(data))

    def get_bytes(self, key: str) -> bytes:
        return self.path(key).read_bytes()

    def get_range(self, key: str, start: int, end: int) -> bytes:
        with open(self.path(key), "rb") as file:
            file.seek(start)
            return file.read(max(0, end - start))

    def open(self, key: str) -> OpenedFile:
        return OpenedFile(key, open(self.path(key), "rb"))

    def delete(self, keys: list[str]) -> int:
        gone = 0
        for key in keys:
            try:
                self.path(key).unlink()
                gone += 1
            except FileNotFoundError:
                pass
        return gone

    def list(self, prefix: str) -> list[str]:
        folder = self.path(prefix.strip("/"))
        if not folder.is_dir():
            return []
        return sorted(p.relative_to(self.root).as_posix() for p in folder.rglob("*") if p.is_file())

    def describe(self) -> dict:
        return {"backend": self.backend, "dir": str(self.videos_dir)}
