"""Accept fast, run a few at a time: the server's bounded run queue.

A webhook can fire a thousand times a second; a machine can run a handful of
workflows at once. :class:`QueuedEngine` splits the two: ``submit`` checks the
workflow completely (nothing is stored if anything is wrong), stores it as
``Pending`` *owned by this server* — so no other process's ``resume`` takes
it — and puts its id on a queue; ``workers`` threads take ids off the queue
and run each to its end on the wrapped :class:`~clusterforge.engine.HostedEngine`.
Everything else (get, list, watch, logs, stop, retry) is the wrapped engine's.

On start the queue takes in every workflow left ``Pending``/``Running`` by a
server (or engine) that died, so a restart loses nothing it had accepted.
When a workflow ends the queue reports it to ``on_finished`` (the metrics).
With ``workers=0`` the server only accepts: workflows stay ``Pending`` until
a server with workers (or ``clusterforge resume``) runs them.

A multi-process server (``serve --processes N``, see :mod:`.supervisor`)
splits the two sides between processes: its acceptors store workflows
*handed off* (``hand_to``: the supervisor engine's ``handoff_owner()``)
and run nothing; its controller (``take_from``: the same owner) takes them
from the store every ``poll`` seconds and runs them. The
state database is the queue, so nothing accepted is lost when any of the
processes dies.
"""

from __future__ import annotations

import builtins
import logging
import queue
import threading
from collections.abc import Callable
from concurrent.futures import Future
from typing import Any

from clusterforge.api.serving import Delegating
from clusterforge.engine import (
    HostedEngine,
    Submission,
    WorkflowView,
)
from clusterforge.store import WorkflowRecord, workflow_row

__all__ = ["QueuedEngine"]

log = logging.getLogger("clusterforge.api")


class QueuedEngine(Delegating):
    """An ``Engine`` whose ``submit`` stores now and runs when a worker is free."""

    def __init__(
        self,
        engine: HostedEngine,
        *,
        workers: int = 4,
        on_finished: Callable[[WorkflowView], None] | None = None,
        hand_to: str | None = None,
        take_from: str | None = None,
        poll: float = 0.05,
    ) -> None:
        self.local = engine
        self.inner = engine
        self.kind = engine.kind
        self.workers = max(0, workers)  # 0: accept and store only; nothing runs here
        self.on_finished = on_finished
        self.hand_to = hand_to
        self.take_from = take_from
        self.poll = poll
        self._stopping = threading.Event()
        self._queue: queue.Queue[str | None] = queue.Queue()
        self._threads: list[threading.Thread] = []
        self._busy = 0
        self._lock = threading.Lock()

    # -- lifecycle ---------------------------------------------------------------

    def start(self) -> builtins.list[str]:
        """Start the workers; queue the workflows a dead owner left unfinished."""
        for index in range(self.workers):
            thread = threading.Thread(target=self._work, name=f"api-runner-{index}", daemon=True)
            thread.start()
            self._threads.append(thread)
        if self.hand_to is not None:
            return []  # the controller takes in what dead owners left
        orphans = self.local.orphans()
        for workflow_id in orphans:
            self._queue.put(workflow_id)
        if orphans:
            log.info("resuming %d interrupted workflow(s)", len(orphans))
        if self.take_from is not None:
            taker = threading.Thread(target=self._take, name="api-handoff", daemon=True)
            taker.start()
            self._threads.append(taker)
        return orphans

    def close(self, timeout: float = 5.0) -> None:
        self._stopping.set()
        for _ in range(self.workers):
            self._queue.put(None)
        for thread in self._threads:
            thread.join(timeout)

    def _take(self) -> None:
        """Controller: queue what the acceptors handed off, oldest first."""
        assert self.take_from is not None
        while not self._stopping.wait(self.poll):
            try:
                for workflow_id in self.local.take_handed_off(self.take_from):
                    self._queue.put(workflow_id)
            except Exception:  # a locked or failing database: try again next time
                log.exception("taking handed-off workflows failed")

    def alive(self) -> int:
        """How many workers are running."""
        return sum(t.is_alive() for t in self._threads if t.name.startswith("api-runner"))

    @property
    def queued(self) -> int:
        if self.hand_to is not None:
            return self.local.count_owned(self.hand_to)
        return self._queue.qsize()

    @property
    def running(self) -> int:
        return self._busy

    def _work(self) -> None:
        while True:
            workflow_id = self._queue.get()
            if workflow_id is None:
                return
            with self._lock:
                self._busy += 1
            try:
                self._run(workflow_id)
            except Exception:
                log.exception("workflow %s: the runner failed", workflow_id)
            finally:
                with self._lock:
                    self._busy -= 1

    def _run(self, workflow_id: str) -> None:
        if not self.local.exists(workflow_id):
            return
        record = self.local.summary(workflow_id).record
        if record.phase not in ("Pending", "Running"):
            return
        if record.owner not in (None, self.local.owner) and self.local.owner_alive(record.owner):
            return  # another live engine has it
        self.local.start(workflow_id)
        self.local.join(workflow_id)
        if self.on_finished is not None:
            self.on_finished(self.local.get(workflow_id))

    # -- Engine ------------------------------------------------------------------

    @property
    def owner(self) -> str:
        """The owner new workflows are stored with: this server, or the controller
        they are handed to."""
        return self.hand_to if self.hand_to is not None else self.local.owner

    def enqueue(self, record: WorkflowRecord) -> WorkflowView:
        """Store a prepared workflow as Pending, owned by this server, and queue it."""
        record.owner = self.owner
        self.local.create(record)
        self.queue(record.id)
        return WorkflowView(record, {})

    def admit(
        self, records: builtins.list[WorkflowRecord], then: Callable[[], None]
    ) -> Future[None]:
        """Store prepared workflows Pending, owned by this server, and what ``then``
        writes, in one grouped transaction (:meth:`HostedEngine.write_grouped`);
        queue them once committed. An accepted event is stored whole or not at all."""
        for record in records:
            record.owner = self.owner
        rows = [workflow_row(r) for r in records]  # encoded here: the writer only writes

        def unit() -> None:
            for row in rows:
                self.local.create(row)
            then()

        stored = self.local.write_grouped(unit)

        def queue(done: Future[None]) -> None:
            if done.exception() is None:
                for record in records:
                    self.queue(record.id)

        stored.add_done_callback(queue)
        return stored

    def queue(self, workflow_id: str) -> None:
        """Queue a workflow stored Pending with :attr:`owner` (see ``enqueue``); a
        handed-off one waits in the store for the controller instead."""
        if self.hand_to is None:
            self._queue.put(workflow_id)

    def submit(self, submission: Submission, *, detach: bool = False) -> WorkflowView:
        del detach  # the queue decides when it runs
        return self.enqueue(self.prepare(submission))

    def retry(self, workflow_id: str, *, detach: bool = False) -> WorkflowView:
        """Reset the workflow and run it again here (or hand it to the controller)."""
        if self.hand_to is not None:
            return self.local.requeue(workflow_id, hand_to=self.hand_to)
        return self.local.retry(workflow_id, detach=detach)

    def resume(self, workflow_ids: builtins.list[str] | None = None) -> builtins.list[str]:
        """Queue interrupted workflows (default: every orphan) on this server."""
        targets = workflow_ids or self.local.orphans()
        for workflow_id in targets:
            self.queue(workflow_id)
        return targets

    def __getattr__(self, name: str) -> Any:
        # tests reach the wrapped engine's own attributes (its store) through here
        return getattr(self.local, name)
