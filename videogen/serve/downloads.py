"""A job's file answered from a handle opened before the answer starts.

Starlette's ``FileResponse`` opens the file by its path only once it starts sending: a retention sweep
or a ``/v1`` delete that removes the file in between turns the download into a 500. Here the service
opens the file first (``JobService.open_video``: a file already gone is the job's clean 404, or 409),
and the answer streams from that handle. On POSIX an open file stays readable after it is unlinked, so
a download that has started always ends whole. One byte range (``Range: bytes=a-b``, ``a-``, ``-n``) is
answered with 206, as players and resumed downloads ask; any other ``Range`` gets the whole file (a
server may ignore it).
"""

from __future__ import annotations

import asyncio
import hashlib
import os
import re
from collections.abc import AsyncIterator
from email.utils import formatdate
from typing import BinaryIO

from fastapi.responses import StreamingResponse

CHUNK_BYTES = 256 * 1024
_RANGE = re.compile(r"^\s*bytes\s*=\s*(\d{0,18})\s*-\s*(\d{0,18})\s*$")


def byte_range(header: str | None, size: int) -> tuple[int, int] | None:
    """``[start, end)`` of one satisfiable byte range in a ``Range`` header; None for anything else."""
    match = _RANGE.match(header or "")
    if match is None or size == 0:
        return None
    first, last = match.groups()
    if not first and not last:
        return None
    if not first:  # the last n bytes
        count = int(last)
        return (max(0, size - count), size) if count else None
    start = int(first)
    end = min(size, int(last) + 1) if last else size
    return (start, end) if start < end else None


def file_response(
    file: BinaryIO, *, media_type: str, filename: str, range_header: str | None = None
) -> StreamingResponse:
    """Stream ``file`` (opened by the caller, closed here once sent or dropped) as an attachment."""
    info = os.fstat(file.fileno())
    tag = hashlib.md5(f"{info.st_mtime}-{info.st_size}".encode(), usedforsecurity=False).hexdigest()
    headers = {
        "accept-ranges": "bytes",
        "content-disposition": f'attachment; filename="{filename}"',
        "last-modified": formatdate(info.st_mtime, usegmt=True),
        "etag": f'"{tag}"',
    }
    span = byte_range(range_header, info.st_size)
    start, end = span or (0, info.st_size)
    if span is not None:
        headers["content-range"] = f"bytes {start}-{end - 1}/{info.st_size}"
    headers["content-length"] = str(end - start)

    async def body() -> AsyncIterator[bytes]:
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

    return StreamingResponse(body(), status_code=206 if span else 200, media_type=media_type, headers=headers)
