"""The embedded engine: Argo workflows as isolated host subprocesses, state in SQLite."""

from clusterforge.engine.local.engine import LocalEngine, owner_alive
from clusterforge.engine.local.planner import PlannedNode, plan
from clusterforge.engine.local.process import isolation

__all__ = ["LocalEngine", "PlannedNode", "isolation", "owner_alive", "plan"]
