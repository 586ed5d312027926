"""A job's file answered from the artifact store, opened before the answer starts.

The service opens the object first (``JobService.open_output``: a file already gone is the job's clean 404,
or 409), and the answer streams from it: a local file from a handle opened beforehand (on POSIX an open file
stays readable after it is unlinked, so a retention sweep racing a download never cuts it short), an S3
object from a GET sent before the first byte goes out. One byte range (``Range: bytes=a-b``, ``a-``, ``-n``)
is answered with 206, as players and resumed downloads ask; a range that starts past the end (or ``-0``) is
416 with ``Content-Range: bytes */<size>`` (RFC 9110); a header that is not one valid range (other units,
several ranges, ``5-1``) is ignored and the whole file sent, as a server may. With ``presign_downloads`` the
answer is a 307 to a presigned URL of the object instead (the client sends its ``Range`` there).
"""

from __future__ import annotations

import re
from email.utils import formatdate

from fastapi.responses import RedirectResponse, Response, StreamingResponse

from videogen.errors import JobStateError, RangeNotSatisfiableError
from videogen.serve.artifacts.base import OpenedArtifact

_RANGE = re.compile(r"^\s*bytes\s*=\s*(\d{0,18})\s*-\s*(\d{0,18})\s*$")


def byte_range(header: str | None, size: int) -> tuple[int, int] | None:
    """``[start, end)`` of the one byte range in a ``Range`` header; None when there is no valid one (the whole
    file is sent). Raises ``RangeNotSatisfiableError`` for a valid range that selects no byte of the file."""
    match = _RANGE.match(header or "")
    if match is None or size == 0:
        return None
    first, last = match.groups()
    if not first and not last:
        return None
    if not first:  # the last n bytes
        count = int(last)
        if not count:
            raise RangeNotSatisfiableError(f"Range {header!r}: a suffix of 0 bytes selects nothing", size=size)
        return max(0, size - count), size
    start = int(first)
    if last and int(last) < start:
        return None  # not a valid range: ignored
    if start >= size:
        raise RangeNotSatisfiableError(f"Range {header!r} starts past the end of the file ({size} bytes)", size=size)
    return start, (min(size, int(last) + 1) if last else size)


# The answers of a download route besides 200 and the errors (OpenAPI ``responses=``).
DOWNLOAD_ANSWERS = {
    206: {"description": "the one byte range asked with Range: bytes=first-last, first- or -suffix"},
    307: {"description": "artifacts.presign_downloads: the file at a presigned URL of the object store"},
}


async def download_response(opened: OpenedArtifact, *, media_type: str, range_header: str | None = None) -> Response:
    """Answer with ``opened`` (closed here once sent, refused or dropped) as an attachment named by its key."""
    filename = opened.key.rpartition("/")[2]
    if opened.presigned_url:
        opened.close()
        return RedirectResponse(opened.presigned_url, status_code=307)
    headers = {
        "accept-ranges": "bytes",
        "content-disposition": f'attachment; filename="{filename}"',
        "last-modified": formatdate(opened.modified, usegmt=True),
        "etag": opened.etag,
    }
    try:
        span = byte_range(range_header, opened.size)
        start, end = span or (0, opened.size)
        chunks = await opened.read(start, end)
    except FileNotFoundError:
        opened.close()
        raise JobStateError(f"the file {filename} was removed while it was being opened") from None
    except BaseException:
        opened.close()
        raise
    if span is not None:
        headers["content-range"] = f"bytes {start}-{end - 1}/{opened.size}"
    headers["content-length"] = str(end - start)
    return StreamingResponse(chunks, status_code=206 if span else 200, media_type=media_type, headers=headers)
