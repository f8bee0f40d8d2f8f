"""Group commit: one thread commits the writes handed to it, many per transaction.

A server accepting a thousand triggers a second must not make a thousand
threads queue for the write lock, each paying its own ``BEGIN`` and
``COMMIT`` (and, in CPython, a fight for the GIL at every step of it). Instead
each request hands its write — a function of the store — to this writer and
waits for the outcome; the writer takes everything waiting, runs it in one
transaction, commits once, and only then completes the requests' futures. So
an answer that says "stored" is sent after its write is committed, never
before, and a write that failed is reported to its own request alone: when
one unit of a batch raises, the batch is rolled back and every unit runs
again in a transaction of its own.

Commits are as durable as any other write of the store (WAL with
``synchronous=NORMAL``: a committed transaction survives the process being
killed; only a crash of the machine itself may lose the last ones).
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Callable
from concurrent.futures import Future
from typing import Any, Protocol

__all__ = ["GroupCommit"]

IDLE_SECONDS = 10.0
"""A writer with nothing to do for this long ends its thread (the next write starts one)."""

MAX_BATCH = 512
"""Units committed together at most (bounds how long one transaction holds the lock)."""


class _Transactional(Protocol):
    def transaction(self) -> Any: ...


_Unit = tuple[Callable[[], Any], "Future[Any]"]


class GroupCommit:
    """The group-commit writer of one store (see the module docstring)."""

    def __init__(self, store: _Transactional) -> None:
        self.store = store
        self._queue: queue.SimpleQueue[_Unit] = queue.SimpleQueue()
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()

    def submit(self, work: Callable[[], Any]) -> Future[Any]:
        """Run ``work()`` (which writes through the store) in a shared transaction;
        the future completes once that transaction is committed."""
        future: Future[Any] = Future()
        with self._lock:
            self._queue.put((work, future))
            if self._thread is None:
                self._thread = threading.Thread(
                    target=self._run, name="clusterforge-group-commit", daemon=True
                )
                self._thread.start()
        return future

    def _run(self) -> None:
        while True:
            try:
                first = self._queue.get(timeout=IDLE_SECONDS)
            except queue.Empty:
                with self._lock:
                    if self._queue.empty():
                        self._thread = None
                        return
                continue
            batch = [first]
            while len(batch) < MAX_BATCH:
                try:
                    batch.append(self._queue.get_nowait())
                except queue.Empty:
                    break
            self._commit([u for u in batch if u[1].set_running_or_notify_cancel()])

    def _commit(self, batch: list[_Unit]) -> None:
        results: list[Any] = []
        try:
            with self.store.transaction():
                results = [work() for work, _future in batch]
        except BaseException as err:
            if len(batch) == 1:
                batch[0][1].set_exception(err)
                return
            for unit in batch:  # rolled back: each on its own, so one failure stays its own
                self._commit([unit])
            return
        for (_work, future), result in zip(batch, results, strict=True):
            future.set_result(result)
