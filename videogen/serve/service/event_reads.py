"""One store read, and one encoding of each frame, for all of this ingress's streams of one job.

The streams of one job are woken together (``event_feed``) and would each read the same new events from the store
and encode the same SSE frames: with N viewers of a job (a page, its client, a dashboard), N reads and N JSON
encodings per event, on the replica that also takes the submissions. ``SharedEventReads`` lets the streams that
ask for the same job's events after the same id share one read, its frames encoded once, in the read's thread.

A stream may join a read only before that read has started. A stream clears its wake-up flag and then asks for
events; a read already under way may miss an event committed after it began and before that stream cleared its
flag, whose wake-up the stream has just cleared. Joining only a read not yet started keeps the feed's rule: every
event is in the read a stream gets, or sets its flag after it. The read starts on the loop's next pass, after the
streams woken by the same event have all asked.

A stream that has sent an event brings its record (``known``): the read then applies the new events onto it, one
statement with no transaction (``EventLog.since``'s ``state_at``), instead of rebuilding it from the log first.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Generic, TypeVar

Record = TypeVar("Record")
Frame = tuple[int, Record, str]  # (event id, record, its SSE frame)


class SharedEventReads(Generic[Record]):
    """``since(job_id, after_seq)``: the job's events after ``after_seq`` as (id, record, frame), read once for
    every caller that asks before the read starts. ``read`` blocks (it runs on the loop's default executor)."""

    def __init__(
        self,
        read: Callable[[str, int, Record | None], list[tuple[int, Record]]],
        encode: Callable[[int, Record], str],
    ):
        self._read, self._encode = read, encode
        self._waiting: dict[tuple[str, int, asyncio.AbstractEventLoop], asyncio.Future] = {}
        self._known: dict[tuple[str, int, asyncio.AbstractEventLoop], Record] = {}

    async def since(self, job_id: str, after_seq: int, known: Record | None = None) -> list[Frame]:
        """``known``: the record at ``after_seq`` when the caller has it from an event (the read then needs not
        rebuild it from the log); any caller sharing the read may bring it."""
        loop = asyncio.get_running_loop()
        key = (job_id, after_seq, loop)
        if known is not None:
            self._known.setdefault(key, known)
        shared = self._waiting.get(key)
        if shared is None:
            shared = self._waiting[key] = loop.create_future()
            loop.call_soon(self._start, key, shared)
        # shielded: a stream that goes away (its client left) does not cancel the read the others wait on
        return await asyncio.shield(shared)

    @property
    def waiting(self) -> int:
        """Reads asked for and not started yet (0 between passes of the loop)."""
        return len(self._waiting)

    def _start(self, key: tuple[str, int, asyncio.AbstractEventLoop], shared: asyncio.Future) -> None:
        del self._waiting[key]  # from here on a new caller starts a read of its own (see the module docstring)
        known = self._known.pop(key, None)
        job_id, after_seq, loop = key
        read = loop.run_in_executor(None, self._read_encoded, job_id, after_seq, known)
        read.add_done_callback(lambda done: _settle(shared, done))

    def _read_encoded(self, job_id: str, after_seq: int, known: Record | None) -> list[Frame]:
        return [(seq, rec, self._encode(seq, rec)) for seq, rec in self._read(job_id, after_seq, known)]


def _settle(shared: asyncio.Future, done: asyncio.Future) -> None:
    if shared.done():
        return
    if done.cancelled():
        shared.cancel()
        return
    exc = done.exception()
    if exc is None:
        shared.set_result(done.result())
        return
    shared.set_exception(exc)
    shared.exception()  # retrieved here: every stream still waiting gets it raised; none left is not an error
