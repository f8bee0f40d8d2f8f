"""Engines run workflows; they know nothing about clusters.

One interface (:class:`Engine`), two backends: :class:`LocalEngine` here, and
Argo Workflows later. Everything above this package uses only the interface and
the Argo-shaped :class:`WorkflowView` it returns.
"""

from clusterforge.engine.interface import Engine, LogLine, Submission
from clusterforge.engine.local import LocalEngine, PlannedNode, isolation, plan
from clusterforge.engine.status import WorkflowView

__all__ = [
    "Engine",
    "LocalEngine",
    "LogLine",
    "PlannedNode",
    "Submission",
    "WorkflowView",
    "isolation",
    "plan",
]
