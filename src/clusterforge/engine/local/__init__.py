"""The embedded engine: Argo workflows as isolated host subprocesses, state in SQLite."""

from clusterforge.engine.local.engine import (
    LocalEngine,
    current_owner,
    handoff_owner,
    owner_alive,
)
from clusterforge.engine.local.planner import PlannedNode, plan
from clusterforge.engine.local.process import isolation

__all__ = [
    "LocalEngine",
    "PlannedNode",
    "current_owner",
    "handoff_owner",
    "isolation",
    "owner_alive",
    "plan",
]
