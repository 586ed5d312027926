"""Submissions' inserts gathered into one transaction each (a group commit), for a store on a database server.

On PostgreSQL a submission's insert was two or three round trips (``postgres_tx``), and under load each round trip's answer
also waits for the GIL, which the ingress's event loop and the other submission threads hold: a submission that
takes a millisecond on an idle server held its thread for 12–30 ms served on the 2-core box (round six of
``benchmarks/results/cpu/submit-profile.md``), so the threads, not the server, bounded the submissions a second.
Here the admission threads hand their inserts to one writer thread, which takes every insert waiting when it is free
and writes them together (``Jobs.create_many``: their queues' and owners' locks with one count of each, their inserts,
their events with the commit): two round trips a batch, whatever its size, and each queue and owner counted once
(each submission's insert counted its own, a scan of the owner's jobs of the last minute each). Nothing waits to fill
a batch: under light load a batch is one insert, and under heavy load the inserts that arrive while one batch is
written make the next.

A refusal (a full queue) is each submission's own, as one at a time; an error of the batch's transaction (the
server gone) is every one of its submissions'; any other failure (a bug, a value the database refuses) has the
batch's inserts made again one at a time, so it stays with the submission it belongs to. A batch holds the whole of
its owners' locks (``Database.lock_for_batch``): one owner's submissions through two ingress replicas take turns, a
batch each.
"""

from __future__ import annotations

import copy
import logging
import queue
import threading
from concurrent.futures import Future

from videogen.errors import VideoGenError
from videogen.serve.store.job_inserts import NewJob
from videogen.serve.store.jobs import Jobs
from videogen.serve.store.records import JobRecord

logger = logging.getLogger("videogen.serve")

# The most inserts one transaction takes: its query string stays a few hundred kB at most, and its locks short.
MAX_BATCH = 64


class InsertBatches:
    """``submit(job)`` from any thread (or ``create``, which waits): the job inserted (or its refusal) once its batch
    has committed. The writer thread starts with the first insert and ends with ``close``."""

    def __init__(self, jobs: Jobs, max_batch: int = MAX_BATCH):
        self.jobs, self.max_batch = jobs, max_batch
        self._waiting: queue.SimpleQueue[tuple[NewJob, Future] | None] = queue.SimpleQueue()
        self._writer: threading.Thread | None = None
        self._start = threading.Lock()
        self.batches = 0  # written so far (how the inserts were grouped: tests, profiling)

    def create(self, job: NewJob) -> JobRecord:
        """``job`` inserted (refused: raised), blocking."""
        return self.submit(job).result()

    def submit(self, job: NewJob) -> Future[JobRecord]:
        """``job`` queued for the next batch: its record, or its refusal, once that has committed."""
        done: Future[JobRecord] = Future()
        self._waiting.put((job, done))
        self._ensure_writer()
        return done

    def close(self) -> None:
        """Stop the writer once what waits now is written."""
        if self._writer is not None:
            self._waiting.put(None)
            self._writer.join()
            self._writer = None

    def _ensure_writer(self) -> None:
        with self._start:
            if self._writer is None:
                self._writer = threading.Thread(target=self._write_all, name="videogen-inserts", daemon=True)
                self._writer.start()

    def _write_all(self) -> None:
        while True:
            first = self._waiting.get()
            if first is None:
                return
            batch = [first]
            while len(batch) < self.max_batch:
                try:
                    item = self._waiting.get_nowait()
                except queue.Empty:
                    break
                if item is None:  # closing: what was taken is written first
                    self._waiting.put(None)
                    break
                batch.append(item)
            self._write(batch)

    def _write(self, batch: list[tuple[NewJob, Future]]) -> None:
        self.batches += 1
        try:
            results = self.jobs.create_many([job for job, _ in batch])
        except VideoGenError as exc:  # the store's own refusal (unavailable, busy): every one of them
            for _, done in batch:
                done.set_exception(copy.copy(exc))
            return
        except BaseException as exc:  # noqa: BLE001 - stays with the submission it belongs to, below
            if len(batch) == 1:
                batch[0][1].set_exception(exc)
                return
            logger.warning("a batch of %d submissions failed (%r); writing them one at a time", len(batch), exc)
            for job, done in batch:
                try:
                    done.set_result(self.jobs.create_job(job))
                except BaseException as one:  # noqa: BLE001 - handed to the submission's thread, raised there
                    done.set_exception(one)
            return
        for (_, done), result in zip(batch, results, strict=True):
            if isinstance(result, BaseException):
                done.set_exception(result)
            else:
                done.set_result(result)
