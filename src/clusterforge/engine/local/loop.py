"""The engine's event loop: every workflow this process runs is a task of one
asyncio loop, in one thread.

Why: a thread and an event loop per workflow made 500 concurrent builds spend
two thirds of their time starting threads, each new one waiting for the GIL
the running ones held. One loop runs them all, and lets the runs share what
they would each do alone (:mod:`clusterforge.engine.local._operator.batch`):
one commit per loop turn for every journal, one query for every stop request
and heartbeat.

The loop is the process's (every ``LocalEngine`` of it schedules onto it),
started on first use and made again in a forked child (a fork does not copy
threads). Its thread is a daemon: a process that exits leaves its workflows
Running with a dead owner, for ``resume`` — as a killed engine does.

The cyclic garbage collector is tuned once, when the loop starts
(:func:`.collector.tune_collector`).
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import os
import threading
from collections.abc import Coroutine
from typing import Any, TypeVar

from .collector import tune_collector

_T = TypeVar("_T")


class EngineLoop:
    """An event loop running in a thread of its own; coroutines are handed to it."""

    def __init__(self) -> None:
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(
            target=self._serve, name="clusterforge-engine-loop", daemon=True
        )
        self.thread.start()

    def _serve(self) -> None:
        asyncio.set_event_loop(self.loop)
        self.loop.run_forever()

    def submit(self, coroutine: Coroutine[Any, Any, _T]) -> concurrent.futures.Future[_T]:
        """Run ``coroutine`` on the loop; its outcome is the returned future's."""
        return asyncio.run_coroutine_threadsafe(coroutine, self.loop)

    def in_loop_thread(self) -> bool:
        return threading.current_thread() is self.thread


_GUARD = threading.Lock()
_SHARED: tuple[int, EngineLoop] | None = None


def shared_loop() -> EngineLoop:
    """This process's engine loop (started, and the collector tuned, on first use)."""
    global _SHARED
    with _GUARD:
        if _SHARED is None or _SHARED[0] != os.getpid():
            if _SHARED is None:
                tune_collector()
            _SHARED = (os.getpid(), EngineLoop())
        return _SHARED[1]
