"""What an input video's container says about it, read from its bytes before any decoder sees them.

Pure Python and bounded: the container is told from the bytes (ISO BMFF ``ftyp`` for MP4/MOV, the EBML
magic for WebM/Matroska), the top-level structure must cover the file exactly (a truncated upload is
refused here), and the sizes, duration and sample count the headers declare are read so that
``video_input`` can refuse a 10-hour or 65535x65535 header before ffmpeg runs.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass, field

MP4 = "mp4"
WEBM = "webm"
CONTAINERS_TEXT = "MP4, MOV or WebM"
EBML_MAGIC = b"\x1a\x45\xdf\xa3"

# Boxes whose children are boxes (the path to mvhd, tkhd, mdhd, stsd and stsz).
_MP4_CONTAINERS = {b"moov", b"trak", b"mdia", b"minf", b"stbl"}
# Sample entries of video codecs whose width and height follow the 78-byte VisualSampleEntry layout.
_VISUAL_ENTRIES = {b"avc1", b"avc3", b"hvc1", b"hev1", b"vp08", b"vp09", b"av01", b"mp4v", b"apcn", b"apch", b"apcs"}
_MAX_BOXES = 10_000  # a hostile file of millions of tiny boxes is refused, not walked


class ContainerError(ValueError):
    """The bytes are not a whole container of an accepted kind (``video_input`` maps it to the field)."""


@dataclass
class ContainerFacts:
    """What the headers declare (None where they do not say)."""

    kind: str
    duration_s: float | None = None
    sizes: list[tuple[int, int]] = field(default_factory=list)  # every (width, height) a header declares
    sample_counts: list[int] = field(default_factory=list)  # per video track (MP4 stsz)


def sniff(raw: bytes) -> str:
    """``"mp4"`` or ``"webm"``, decided from the magic bytes; ContainerError for anything else."""
    if len(raw) >= 12 and raw[4:8] == b"ftyp":
        return MP4
    if raw[:4] == EBML_MAGIC:
        return WEBM
    raise ContainerError(f"is not an {CONTAINERS_TEXT} video (told from its bytes)")


def read_facts(raw: bytes) -> ContainerFacts:
    kind = sniff(raw)
    return _mp4_facts(raw) if kind == MP4 else _webm_facts(raw)


# -- ISO BMFF (MP4 / MOV) ---------------------------------------------------------------------------


def _boxes(raw: bytes, start: int, end: int, counter: list[int]):
    """(type, payload start, box end) of each box in ``raw[start:end]``; ContainerError if they overrun."""
    offset = start
    while offset < end:
        counter[0] += 1
        if counter[0] > _MAX_BOXES:
            raise ContainerError(f"has more than {_MAX_BOXES} boxes")
        if end - offset < 8:
            raise ContainerError("is truncated (a box header is cut off)")
        length, kind = struct.unpack(">I4s", raw[offset : offset + 8])
        header = 8
        if length == 1:
            if end - offset < 16:
                raise ContainerError("is truncated (a box header is cut off)")
            length, header = struct.unpack(">Q", raw[offset + 8 : offset + 16])[0], 16
        elif length == 0:
            length = end - offset
        if length < header or offset + length > end:
            raise ContainerError(f"is truncated or corrupt (box {kind.decode('latin-1')!r} runs past its end)")
        yield kind, offset + header, offset + length
        offset += length


def _mp4_facts(raw: bytes) -> ContainerFacts:
    facts = ContainerFacts(kind=MP4)
    counter = [0]
    top = [kind for kind, _, _ in _boxes(raw, 0, len(raw), counter)]
    if b"moov" not in top or b"mdat" not in top:
        raise ContainerError("is not a whole MP4 (no moov or no mdat box: truncated or a fragment)")

    def walk(start: int, end: int, in_video_stbl: bool) -> None:
        for kind, body, box_end in _boxes(raw, start, end, counter):
            if kind in _MP4_CONTAINERS:
                walk(body, box_end, in_video_stbl or (kind == b"trak" and _is_video_trak(raw, body, box_end)))
            elif kind == b"mvhd":
                facts.duration_s = _mvhd_duration(raw, body, box_end)
            elif kind == b"tkhd":
                _tkhd_size(raw, body, box_end, facts)
            elif kind == b"stsd":
                _stsd_sizes(raw, body, box_end, facts)
            elif kind == b"stsz" and in_video_stbl and box_end - body >= 12:
                facts.sample_counts.append(struct.unpack(">I", raw[body + 8 : body + 12])[0])

    for kind, body, box_end in _boxes(raw, 0, len(raw), [0]):
        if kind == b"moov":
            walk(body, box_end, False)
    return facts


def _is_video_trak(raw: bytes, start: int, end: int) -> bool:
    """Whether a trak's hdlr says ``vide`` (looked up without recursion beyond mdia)."""
    for kind, body, box_end in _boxes(raw, start, end, [0]):
        if kind == b"mdia":
            for sub, sbody, send in _boxes(raw, body, box_end, [0]):
                if sub == b"hdlr" and send - sbody >= 12:
                    return raw[sbody + 8 : sbody + 12] == b"vide"
    return False


def _mvhd_duration(raw: bytes, body: int, end: int) -> float | None:
    if end - body < 20:
        raise ContainerError("is corrupt (a short mvhd box)")
    version = raw[body]
    if version == 1:
        if end - body < 32:
            raise ContainerError("is corrupt (a short mvhd box)")
        timescale, duration = struct.unpack(">IQ", raw[body + 20 : body + 32])
    else:
        timescale, duration = struct.unpack(">II", raw[body + 12 : body + 20])
    if timescale == 0:
        raise ContainerError("is corrupt (mvhd timescale 0)")
    return duration / timescale


def _tkhd_size(raw: bytes, body: int, end: int, facts: ContainerFacts) -> None:
    # width and height are the last 8 bytes of tkhd, 16.16 fixed point.
    if end - body >= 84:
        width, height = struct.unpack(">II", raw[end - 8 : end])
        if width or height:  # audio tracks declare 0x0
            facts.sizes.append((width >> 16, height >> 16))


def _stsd_sizes(raw: bytes, body: int, end: int, facts: ContainerFacts) -> None:
    if end - body < 8:
        return
    counter = [0]
    for kind, entry, entry_end in _boxes(raw, body + 8, end, counter):
        if kind in _VISUAL_ENTRIES and entry_end - entry >= 28:
            facts.sizes.append(struct.unpack(">HH", raw[entry + 24 : entry + 28]))


# -- EBML (WebM / Matroska) -------------------------------------------------------------------------

_SEGMENT, _INFO, _TRACKS, _CLUSTER = 0x18538067, 0x1549A966, 0x1654AE6B, 0x1F43B675
_TIMECODE_SCALE, _DURATION = 0x2AD7B1, 0x4489
_TRACK_ENTRY, _VIDEO, _PIXEL_WIDTH, _PIXEL_HEIGHT = 0xAE, 0xE0, 0xB0, 0xBA
_UNKNOWN = -1


def _vint(raw: bytes, offset: int, keep_marker: bool) -> tuple[int, int]:
    """An EBML variable-length integer at ``offset``: (value, length); ``_UNKNOWN`` for an all-ones size."""
    if offset >= len(raw):
        raise ContainerError("is truncated (an element header is cut off)")
    first = raw[offset]
    length = 1
    while length <= 8 and not first & (0x80 >> (length - 1)):
        length += 1
    if length > 8:
        raise ContainerError("is corrupt (an invalid EBML length)")
    if offset + length > len(raw):
        raise ContainerError("is truncated (an element header is cut off)")
    value = first if keep_marker else first & (0xFF >> length)
    for byte in raw[offset + 1 : offset + length]:
        value = (value << 8) | byte
    if not keep_marker and value == (1 << (7 * length)) - 1:
        return _UNKNOWN, length
    return value, length


def _elements(raw: bytes, start: int, end: int, counter: list[int], stop_at_cluster: bool = False):
    offset = start
    while offset < end:
        counter[0] += 1
        if counter[0] > _MAX_BOXES:
            raise ContainerError(f"has more than {_MAX_BOXES} header elements")
        ident, id_len = _vint(raw, offset, keep_marker=True)
        size, size_len = _vint(raw, offset + id_len, keep_marker=False)
        body = offset + id_len + size_len
        if size == _UNKNOWN:  # live-streamed: runs to the end of its parent
            size = end - body
        if body + size > end:
            raise ContainerError("is truncated (an element runs past the end of the file)")
        yield ident, body, body + size
        if stop_at_cluster and ident == _CLUSTER:
            return
        offset = body + size


def _uint(raw: bytes, body: int, end: int) -> int:
    return int.from_bytes(raw[body:end], "big") if 0 < end - body <= 8 else 0


def _webm_facts(raw: bytes) -> ContainerFacts:
    facts = ContainerFacts(kind=WEBM)
    counter = [0]
    segments = [(body, end) for ident, body, end in _elements(raw, 0, len(raw), counter) if ident == _SEGMENT]
    if not segments:
        raise ContainerError("is not a whole WebM (no Segment: truncated or a fragment)")
    scale, duration = 1_000_000, None
    for ident, body, end in _elements(raw, segments[0][0], segments[0][1], counter, stop_at_cluster=True):
        if ident == _INFO:
            for sub, sbody, send in _elements(raw, body, end, counter):
                if sub == _TIMECODE_SCALE:
                    scale = _uint(raw, sbody, send) or scale
                elif sub == _DURATION and send - sbody in (4, 8):
                    duration = struct.unpack(">f" if send - sbody == 4 else ">d", raw[sbody:send])[0]
        elif ident == _TRACKS:
            for entry, ebody, eend in _elements(raw, body, end, counter):
                if entry == _TRACK_ENTRY:
                    _webm_track_size(raw, ebody, eend, counter, facts)
    if duration is not None:
        facts.duration_s = duration * scale / 1e9
    return facts


def _webm_track_size(raw: bytes, body: int, end: int, counter: list[int], facts: ContainerFacts) -> None:
    for ident, vbody, vend in _elements(raw, body, end, counter):
        if ident == _VIDEO:
            width = height = 0
            for sub, sbody, send in _elements(raw, vbody, vend, counter):
                if sub == _PIXEL_WIDTH:
                    width = _uint(raw, sbody, send)
                elif sub == _PIXEL_HEIGHT:
                    height = _uint(raw, sbody, send)
            facts.sizes.append((width, height))
