"""Engines run workflows; they know nothing about clusters.

One interface (:class:`Engine`), two backends: the local engine today, and
Argo Workflows later. Everything above this package gets an engine from
:func:`open_engine` and uses only the interface and the Argo-shaped
:class:`WorkflowView` it returns. ``LocalEngine`` stays importable from here
for tests and benchmarks that construct one directly.
"""

from clusterforge.engine.factory import (
    ENGINE_KINDS,
    engine_kind,
    open_argo_engine,
    open_engine,
    open_hosted_engine,
)
from clusterforge.engine.interface import (
    Engine,
    HostedEngine,
    LogLine,
    Records,
    StopStrategy,
    Submission,
    WatchedEngine,
)
from clusterforge.engine.local import LocalEngine, PlannedNode, isolation
from clusterforge.engine.status import WorkflowView

__all__ = [
    "ENGINE_KINDS",
    "Engine",
    "HostedEngine",
    "LocalEngine",
    "LogLine",
    "PlannedNode",
    "Records",
    "StopStrategy",
    "Submission",
    "WatchedEngine",
    "WorkflowView",
    "engine_kind",
    "isolation",
    "open_argo_engine",
    "open_engine",
    "open_hosted_engine",
]
