"""The node events of Argo workflows, journaled as they are observed.

Argo keeps only each node's current state (``status.nodes``); a follower
that reconnects with ``Last-Event-ID`` needs the changes in a fixed order
with ids that never move. So every time a Workflow object is seen (a GET,
or an event of the watch in :mod:`._informer`), each node whose phase
differs from the last one journaled for it gets an event — appended to a
small SQLite journal on this machine, one per management cluster and
namespace. Its sequence numbers are the ids of the build streams and of the
change feed, and they survive a restart of the server that wrote them.

What the journal cannot see is a change that came and went between two
observations (Pending → Running → Succeeded seen only as Succeeded): a
follower gets the phase Argo reports, never a made-up intermediate one.
"""

from __future__ import annotations

import builtins
import hashlib
import time
from pathlib import Path
from typing import Any

from clusterforge.engine.argo._translate import to_view
from clusterforge.engine.status import WorkflowView
from clusterforge.store import EventRow, NodeEvent, Store

__all__ = ["ObservedJournal"]


class ObservedJournal:
    """Events of one namespace's Workflows, from what was observed of them."""

    def __init__(self, home: Path, server: str, namespace: str) -> None:
        key = hashlib.sha256(f"{server}\n{namespace}".encode()).hexdigest()[:16]
        self.store = Store(home / "argo-events" / f"{key}.db")

    def observe(self, workflow: dict[str, Any]) -> int:
        """Journal the node phase changes ``workflow`` shows; how many there were."""
        view = to_view(workflow)
        now = time.time()
        depth = _depths(view)
        # In the order they happened: by the time of the phase seen (Argo's times are
        # whole seconds), a step before the group that ended with it.
        nodes = sorted(
            view.nodes.values(),
            key=lambda n: (n.finished_at or n.started_at or now, -depth.get(n.id, 0), n.id),
        )
        rows: list[EventRow] = [
            (
                view.id,
                n.id,
                n.name,
                n.display_name,
                n.type,
                n.phase,
                n.message,
                n.finished_at or n.started_at or now,
            )
            for n in nodes
        ]
        return self.store.append_changed(view.id, rows) if rows else 0

    def events(self, workflow_id: str, after: int = 0) -> builtins.list[NodeEvent]:
        return self.store.events(workflow_id, after=after)

    def changes(self, after: int | None) -> tuple[int, builtins.list[str]]:
        if after is None:
            return self.store.latest_event(), []
        return self.store.changed_since(after)

    def forget(self, workflow_id: str) -> None:
        self.store.delete_workflow(workflow_id)


def _depths(view: WorkflowView) -> dict[str, int]:
    """How far below the workflow's root node each node is (through ``children``)."""
    depth: dict[str, int] = {}
    frontier = [view.id] if view.id in view.nodes else []
    level = 0
    while frontier:
        following = []
        for node_id in frontier:
            if node_id in depth or node_id not in view.nodes:
                continue
            depth[node_id] = level
            following.extend(view.nodes[node_id].children)
        frontier, level = following, level + 1
    return depth
