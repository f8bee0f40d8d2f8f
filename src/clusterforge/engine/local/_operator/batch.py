"""What the workflow runs of one event loop share: one commit per loop turn for
all their journals, and one watcher for all their stop requests and heartbeats.

Why: the engine runs every workflow of a process as tasks of one event loop
(:mod:`clusterforge.engine.local.loop`). Five hundred builds at once, each
committing its own changes every turn and polling its own stop request four
times a second, would spend the store's time on five hundred small
transactions and two thousand queries a second. Here a loop turn's changes of
*all* journals are one transaction (per database), and one query reads every
run's stop request, one writes every run's heartbeat.

Both are found through the running loop (:func:`commit_group`,
:func:`run_watcher`), so a run on its own loop (``asyncio.run``) works the
same, alone in its group. With :mod:`journal`, the only code here that
touches the store.
"""

from __future__ import annotations

import asyncio
import threading
import time
import weakref
from collections.abc import Callable
from typing import Protocol, TypeVar

from clusterforge.store import EventRow, NodeRecord, Store

SHUTDOWN_POLL = 0.25
"""Seconds between reads of the stop/terminate requests."""
HEARTBEAT_INTERVAL = 5.0
"""Seconds between writes of the owners' heartbeats."""

_T = TypeVar("_T")


class Committing(Protocol):
    """A journal, as the commit group sees it."""

    store: Store

    def take(self) -> tuple[list[NodeRecord], list[EventRow]]:
        """The changes recorded since the last commit (and forget them)."""
        ...

    def committed(self, error: BaseException | None) -> None:
        """The changes taken are committed (or failed with ``error``)."""
        ...


def commit(journals: list[Committing]) -> None:
    """Commit the pending changes of ``journals``: one transaction per database."""
    by_store: dict[Store, list[Committing]] = {}
    for journal in journals:
        by_store.setdefault(journal.store, []).append(journal)
    failure: BaseException | None = None
    for store, group in by_store.items():
        nodes: list[NodeRecord] = []
        events: list[EventRow] = []
        for journal in group:
            taken_nodes, taken_events = journal.take()
            nodes += taken_nodes
            events += taken_events
        try:
            store.put_nodes(nodes, events)
        except BaseException as err:
            failure = failure or err
            for journal in group:
                journal.committed(err)
            continue
        for journal in group:
            journal.committed(None)
    if failure is not None:
        raise failure


class CommitGroup:
    """The journals of one loop with changes not yet committed; one flush per turn."""

    def __init__(self, loop: asyncio.AbstractEventLoop) -> None:
        self._loop = loop
        self._pending: dict[Committing, None] = {}
        self._scheduled = False

    def schedule(self, journal: Committing) -> None:
        self._pending[journal] = None
        if not self._scheduled:
            self._scheduled = True
            self._loop.call_soon(self.flush)

    def flush(self) -> None:
        self._scheduled = False
        journals, self._pending = list(self._pending), {}
        commit(journals)


class Watched(Protocol):
    """A run, as the watcher sees it."""

    @property
    def store(self) -> Store: ...

    @property
    def workflow_id(self) -> str: ...

    def request_shutdown(self, strategy: str) -> None:
        """Another process asked to stop (``Stop``) or terminate the run."""
        ...


class RunWatcher:
    """Polls the stop requests of every run of one loop, and writes their
    owners' heartbeats: one query per database each time, for all runs."""

    def __init__(self) -> None:
        self._runs: dict[Store, dict[Watched, None]] = {}
        self._task: asyncio.Task[None] | None = None
        self._last_beat: dict[Store, float] = {}

    def add(self, run: Watched) -> None:
        self._runs.setdefault(run.store, {})[run] = None
        if self._task is None or self._task.done():
            self._task = asyncio.get_running_loop().create_task(self._watch())

    def remove(self, run: Watched) -> None:
        runs = self._runs.get(run.store)
        if runs is not None:
            runs.pop(run, None)
            if not runs:
                del self._runs[run.store]
                self._last_beat.pop(run.store, None)

    async def _watch(self) -> None:
        while self._runs:
            await asyncio.sleep(SHUTDOWN_POLL)
            for store, runs in list(self._runs.items()):
                self._poll(store, list(runs))

    def _poll(self, store: Store, runs: list[Watched]) -> None:
        ids = sorted({run.workflow_id for run in runs})
        now = time.monotonic()
        if now - self._last_beat.get(store, 0.0) >= HEARTBEAT_INTERVAL:
            store.heartbeat(ids)
            self._last_beat[store] = now
        requested = store.shutdowns_requested(ids)
        if requested:
            for run in runs:
                strategy = requested.get(run.workflow_id)
                if strategy:
                    run.request_shutdown(strategy)


_GUARD = threading.Lock()
_GROUPS: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, CommitGroup] = (
    weakref.WeakKeyDictionary()
)
_WATCHERS: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, RunWatcher] = (
    weakref.WeakKeyDictionary()
)


def _of_loop(
    table: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, _T],
    make: Callable[[asyncio.AbstractEventLoop], _T],
) -> _T:
    loop = asyncio.get_running_loop()
    with _GUARD:
        found = table.get(loop)
        if found is None:
            found = table[loop] = make(loop)
        return found


def commit_group() -> CommitGroup:
    """The commit group of the running loop."""
    return _of_loop(_GROUPS, CommitGroup)


def run_watcher() -> RunWatcher:
    """The run watcher of the running loop."""
    return _of_loop(_WATCHERS, lambda _loop: RunWatcher())
