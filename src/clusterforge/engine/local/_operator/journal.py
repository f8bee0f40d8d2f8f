"""The node tree of one workflow, and the only code here that touches the store.

The status tree is the truth: every node has a deterministic name (as in Argo:
``wf.task``, ``wf.task(0:item)``, ``wf[0].step``, ``wf.task(1)`` for the
second attempt), and a name found fulfilled in the tree is never run again.
That one rule gives both resume-after-crash and ``retry``.

Changes are *group-committed*: :meth:`Journal.save` records a change in
memory and the loop's commit group (:mod:`batch`) writes the changes of every
journal of the loop in one transaction per turn; a step process starts only
after :meth:`Journal.durable` — so a fan-out of a thousand tasks, or a turn of
five hundred workflows, is one transaction, and a crash never re-runs a node
the store calls Succeeded.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Iterator
from typing import Any

from clusterforge.engine.local._operator.batch import CommitGroup, commit, commit_group
from clusterforge.engine.local._operator.context import Context
from clusterforge.engine.local.naming import node_id
from clusterforge.engine.phases import FULFILLED
from clusterforge.engine.suspension import RESUME_SCOPE, resume_key
from clusterforge.store import EventRow, NodeRecord, Store, WorkflowRecord, event_of


class Journal:
    """The nodes of one workflow run, in memory and (at each flush) in the store."""

    def __init__(self, store: Store, workflow: WorkflowRecord) -> None:
        self.store = store
        self.wf = workflow
        self.nodes: dict[str, NodeRecord] = {}
        self.by_name: dict[str, NodeRecord] = {}
        self.children_of: dict[str, dict[str, None]] = {}
        self._dirty: dict[str, NodeRecord] = {}
        self._events: list[EventRow] = []
        self._group: CommitGroup | None = None
        self._durable_waiter: asyncio.Future[None] | None = None
        # name -> called with the node each time it is saved (lifecycle hooks, hooks.py)
        self._observers: dict[str, Callable[[NodeRecord], None]] = {}

    # -- the tree --------------------------------------------------------------

    def load(self) -> None:
        """Read the tree a previous run left (resume, retry)."""
        self.nodes = self.store.get_nodes(self.wf.id)
        self.by_name = {n.name: n for n in self.nodes.values()}
        for node in self.nodes.values():
            if node.parent_id:
                self.children_of.setdefault(node.parent_id, {})[node.id] = None

    def fulfilled(self, name: str) -> NodeRecord | None:
        """The node ``name`` if it is already final (then it is returned, not run)."""
        node = self.by_name.get(name)
        return node if node is not None and node.phase in FULFILLED else None

    def children(self, node: NodeRecord) -> list[NodeRecord]:
        return [self.nodes[c] for c in node.children if c in self.nodes]

    def unfinished(self) -> Iterator[NodeRecord]:
        """Nodes not yet in a final phase (a snapshot: safe to finish them while iterating)."""
        return iter([n for n in self.nodes.values() if n.phase not in FULFILLED])

    def node(
        self,
        name: str,
        display: str,
        node_type: str,
        ctx: Context,
        template_name: str = "",
        phase: str = "Running",
        message: str = "",
    ) -> NodeRecord:
        """The node ``name``: the stored one, or a new one with these fields."""
        existing = self.by_name.get(name)
        if existing is not None:
            return existing
        nid = self.wf.name if name == self.wf.name else node_id(self.wf.name, name)
        now = time.time()
        node = NodeRecord(
            workflow_id=self.wf.id,
            id=nid,
            name=name,
            display_name=display,
            type=node_type,
            template_name=template_name,
            phase=phase,
            message=message,
            boundary_id=ctx.boundary_id,
            parent_id=ctx.parent_id,
            started_at=now,
            finished_at=now if phase in FULFILLED else None,
            # A node recreated by `retry` keeps the succeeded children it had.
            children=list(self.children_of.get(nid, {})),
        )
        parent = self.nodes.get(ctx.parent_id) if ctx.parent_id else None
        # children_of mirrors parent.children (both derive from parent_id): a dict
        # lookup, not a scan of a list that a fan-out makes thousands long.
        if parent is not None and nid not in self.children_of.get(parent.id, {}):
            # Not marked dirty: the store derives children from parent_id
            # (see Store.get_nodes), the parent's row is written when it changes.
            parent.children.append(nid)
        self.save(node)
        return node

    def finish(self, node: NodeRecord, phase: str, message: str = "") -> NodeRecord:
        node.phase = phase
        node.message = message
        node.finished_at = time.time()
        self.save(node)
        return node

    def error(self, name: str, display: str, ctx: Context, message: str) -> NodeRecord:
        """End node ``name`` (created if it never started) in Error."""
        return self.finish(self.node(name, display, "Skipped", ctx), "Error", message)

    def observe(self, name: str, observer: Callable[[NodeRecord], None]) -> None:
        """Call ``observer`` with node ``name`` now (if it exists) and each time it is
        saved: a lifecycle hook's expression is evaluated as its node changes phase,
        as Argo's controller evaluates it at each reconciliation."""
        self._observers[name] = observer
        existing = self.by_name.get(name)
        if existing is not None:
            observer(existing)

    def unobserve(self, name: str) -> None:
        self._observers.pop(name, None)

    # -- group commit ------------------------------------------------------------

    def save(self, node: NodeRecord, *, event: bool = True) -> None:
        """Record a node change; written with the next flush (see :meth:`flush`)."""
        self.nodes[node.id] = node
        self.by_name[node.name] = node
        if node.parent_id:
            self.children_of.setdefault(node.parent_id, {})[node.id] = None
        self._dirty[node.id] = node
        if event:
            self._events.append(event_of(node))
        self._schedule_flush()
        if self._observers and (observer := self._observers.get(node.name)) is not None:
            observer(node)

    def _schedule_flush(self) -> None:
        if self._group is None:
            self._group = commit_group()
        self._group.schedule(self)

    def flush(self) -> None:
        """Commit every pending node change and event now.

        Normally the loop's :class:`~.batch.CommitGroup` does this once per
        turn, for every journal of the loop in one transaction — always before
        a step process starts: nothing observable happens before the state that
        led to it is durable.
        """
        commit([self])

    def take(self) -> tuple[list[NodeRecord], list[EventRow]]:
        """The changes not yet committed (see :func:`~.batch.commit`)."""
        nodes, events = list(self._dirty.values()), self._events
        self._dirty, self._events = {}, []
        return nodes, events

    def committed(self, error: BaseException | None) -> None:
        """The changes taken are in the store (or failed): wake :meth:`durable`."""
        waiter, self._durable_waiter = self._durable_waiter, None
        if waiter is None or waiter.done():
            return
        if error is None:
            waiter.set_result(None)
        else:
            waiter.set_exception(error)

    async def durable(self) -> None:
        """Wait until every change recorded so far is committed.

        Steps about to start in the same event-loop turn share one commit.
        """
        if self._durable_waiter is None:
            self._durable_waiter = asyncio.get_running_loop().create_future()
            self._schedule_flush()
        await asyncio.shield(self._durable_waiter)

    # -- the workflow row ------------------------------------------------------------

    def take_resume(self, node_id: str) -> dict[str, Any] | None:
        """A resume request for the suspended node ``node_id`` (written by
        :func:`clusterforge.engine.suspension.resume_node`), removed once read."""
        key = resume_key(self.wf.id, node_id)
        request = self.store.kv_get(RESUME_SCOPE, key)
        if request is None:
            return None
        self.store.kv_delete(RESUME_SCOPE, key)
        return dict(request) if isinstance(request, dict) else {}

    def workflow_started(self) -> None:
        wf = self.wf
        if wf.started_at is None:
            wf.started_at = time.time()
        wf.phase = "Running"
        self.store.update_workflow(wf.id, phase="Running", started_at=wf.started_at, message="")

    def workflow_finished(self, phase: str, message: str, outputs: dict[str, Any]) -> None:
        """Flush the tree, then record the workflow's end (and release its owner)."""
        wf = self.wf
        wf.phase, wf.message, wf.finished_at, wf.outputs = phase, message, time.time(), outputs
        self.flush()
        self.store.update_workflow(
            wf.id,
            phase=phase,
            message=message,
            finished_at=wf.finished_at,
            outputs=outputs,
            owner=None,
        )
