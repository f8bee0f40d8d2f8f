"""The engine a server works with, on either kind of backend.

The routes need a little more than :class:`~clusterforge.engine.Engine`:
the run-queue figures (``/readyz``, ``/metrics``), a lifecycle the app's
lifespan drives, and :meth:`ServerEngine.admit` — store the workflows a
webhook event fired together with what the event leaves behind (a sensor's
partial matches, the idempotency answer). Two implementations:

* :class:`~clusterforge.api.runner.QueuedEngine` — the local engine: this
  server runs the workflows in its own worker threads.
* :class:`WatchingEngine` — an engine whose workflows something else runs
  (``serve --engine argo``: Argo's controller). Submitting creates them
  there, detached; a single watch follows every workflow, journals its node
  events (the build streams and the change feed read that journal) and
  reports each end to the metrics and the artifact publisher. Its one
  "worker" is that watch.
"""

from __future__ import annotations

import builtins
import logging
from collections.abc import Callable, Iterator, Mapping
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Protocol

from clusterforge.engine import (
    Engine,
    LogLine,
    PlannedNode,
    Records,
    StopStrategy,
    Submission,
    WatchedEngine,
    WorkflowView,
)
from clusterforge.store import NodeEvent, WorkflowRecord

__all__ = ["Delegating", "ServerEngine", "WatchingEngine"]

log = logging.getLogger("clusterforge.api")


class ServerEngine(Engine, Protocol):
    """What a server's routes use of its engine."""

    workers: int

    @property
    def queued(self) -> int: ...

    @property
    def running(self) -> int: ...

    def start(self) -> builtins.list[str]: ...

    def close(self, timeout: float = 5.0) -> None: ...

    def alive(self) -> int:
        """How many of :attr:`workers` are running."""
        ...

    def admit(
        self, records: builtins.list[WorkflowRecord], then: Callable[[], None]
    ) -> Future[None]:
        """Store prepared workflows and run ``then`` (which writes records) with them;
        start them once stored. The future fails with the first error."""
        ...


class Delegating:
    """The :class:`Engine` methods a server engine hands to the engine it wraps
    (``inner``) unchanged; the server engines override what they do differently."""

    inner: Engine
    kind: str

    def submit(self, submission: Submission, *, detach: bool = False) -> WorkflowView:
        return self.inner.submit(submission, detach=detach)

    @property
    def warnings(self) -> builtins.list[str]:
        return list(self.inner.warnings)

    @property
    def records(self) -> Records:
        return self.inner.records

    def prepare(self, submission: Submission, *, check_generated: bool = True) -> WorkflowRecord:
        return self.inner.prepare(submission, check_generated=check_generated)

    def plan(self, submission: Submission) -> PlannedNode:
        return self.inner.plan(submission)

    def get(self, workflow_id: str) -> WorkflowView:
        return self.inner.get(workflow_id)

    def summary(self, workflow_id: str) -> WorkflowView:
        return self.inner.summary(workflow_id)

    def exists(self, workflow_id: str) -> bool:
        return self.inner.exists(workflow_id)

    def list(
        self,
        *,
        phase: str | None = None,
        labels: Mapping[str, str] | None = None,
        limit: int | None = None,
        offset: int = 0,
    ) -> builtins.list[WorkflowView]:
        return self.inner.list(phase=phase, labels=labels, limit=limit, offset=offset)

    def events(self, workflow_id: str, *, after: int = 0) -> builtins.list[NodeEvent]:
        return self.inner.events(workflow_id, after=after)

    def watch(self, workflow_id: str, *, after: int = 0) -> Iterator[NodeEvent]:
        return self.inner.watch(workflow_id, after=after)

    def changes(self, after: int | None = None) -> tuple[int, builtins.list[str]]:
        return self.inner.changes(after)

    def logs(
        self, workflow_id: str, node: str | None = None, *, follow: bool = False
    ) -> Iterator[LogLine]:
        return self.inner.logs(workflow_id, node, follow=follow)

    def wait(self, workflow_id: str, *, timeout: float | None = None) -> WorkflowView:
        return self.inner.wait(workflow_id, timeout=timeout)

    def retry(self, workflow_id: str, *, detach: bool = False) -> WorkflowView:
        return self.inner.retry(workflow_id, detach=detach)

    def stop(self, workflow_id: str, *, strategy: StopStrategy = "Stop") -> WorkflowView:
        return self.inner.stop(workflow_id, strategy=strategy)

    def delete(self, workflow_id: str) -> None:
        self.inner.delete(workflow_id)

    def resume(self, workflow_ids: builtins.list[str] | None = None) -> builtins.list[str]:
        return self.inner.resume(workflow_ids)


class WatchingEngine(Delegating):
    """A :class:`ServerEngine` over an engine whose workflows run elsewhere."""

    workers = 1

    def __init__(
        self, engine: WatchedEngine, *, on_finished: Callable[[WorkflowView], None] | None = None
    ) -> None:
        self.inner = engine
        self.watched = engine
        self.kind = engine.kind
        self.on_finished = on_finished
        self._watch: object | None = None
        self._submits = ThreadPoolExecutor(max_workers=4, thread_name_prefix="api-submit")
        # publishing a build's reports reads its logs: never on the watch's thread
        self._endings = ThreadPoolExecutor(max_workers=1, thread_name_prefix="api-finished")

    # -- lifecycle -----------------------------------------------------------------

    def start(self) -> builtins.list[str]:
        self._watch = self.watched.watching(self._finished)
        return []

    def close(self, timeout: float = 5.0) -> None:
        del timeout
        self.watched.close()
        self._submits.shutdown(wait=False, cancel_futures=True)
        self._endings.shutdown(wait=False, cancel_futures=True)

    def alive(self) -> int:
        alive = getattr(self._watch, "alive", None)
        return int(bool(alive and alive()))

    @property
    def queued(self) -> int:
        return 0  # the controller queues

    @property
    def running(self) -> int:
        return sum(1 for view in self.inner.list(phase="Running"))

    def _finished(self, view: WorkflowView) -> None:
        if self.on_finished is not None:
            self._endings.submit(self._report, self.on_finished, view)

    @staticmethod
    def _report(report: Callable[[WorkflowView], None], view: WorkflowView) -> None:
        try:
            report(view)
        except Exception:  # a failing report must not go unnoticed, nor stop the next
            log.exception("workflow %s: reporting its end failed", view.id)

    # -- submitting ----------------------------------------------------------------

    def submit(self, submission: Submission, *, detach: bool = False) -> WorkflowView:
        del detach  # a server never waits for a workflow's end
        return self.inner.submit(submission, detach=True)

    def admit(
        self, records: builtins.list[WorkflowRecord], then: Callable[[], None]
    ) -> Future[None]:
        """Create each workflow where it runs, then write ``then``'s records. Not
        one transaction: a failure part-way leaves the workflows created before it
        (as an Argo Events sensor's triggers would)."""

        def create() -> None:
            for record in records:
                self.inner.submit(
                    Submission(
                        document=record.manifest,
                        arguments=record.arguments,
                        labels=record.labels,
                        name=record.id,
                    ),
                    detach=True,
                )
            then()

        return self._submits.submit(create)

    def retry(self, workflow_id: str, *, detach: bool = False) -> WorkflowView:
        del detach  # a server never waits for a workflow's end
        return self.inner.retry(workflow_id, detach=True)
