"""The store: the only code that touches SQLite.

Workflows, their nodes (attempts included, as Argo's Pod nodes), parameters
and outputs, and the event journal live in one WAL-mode database; the engine
writes, and every reader (CLI, API, UI) goes through :class:`Store`.
"""

from clusterforge.store.db import EventRow, Store, WorkflowRow, event_of, workflow_row
from clusterforge.store.records import NodeEvent, NodeRecord, WorkflowRecord

__all__ = [
    "EventRow",
    "NodeEvent",
    "NodeRecord",
    "Store",
    "WorkflowRecord",
    "WorkflowRow",
    "event_of",
    "workflow_row",
]
