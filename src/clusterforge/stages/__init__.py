"""Stages: the cluster pipeline on top of the engine.

A spec becomes workflow parameters; the shipped stage library (``templates/``)
runs them — preflight, control plane → node groups, add-ons, validation — as
one master workflow or one stage at a time. Step commands (``clusterforge step
…``, in :mod:`clusterforge.stages.steps`) are implemented here too: they are
the only code that calls providers, add-on installs and DETIK checks.

The pipeline's names are loaded on first use: a step process imports
``clusterforge.stages.steps`` once per workflow step and must not pay for the
engine and the Argo models it never touches.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from clusterforge.stages.build_artifacts import BuildArtifacts
    from clusterforge.stages.pipeline import STAGES, BuildRecord, ClusterSummary, Pipeline
    from clusterforge.stages.summary import REPORT_FILES, build_summary, validation_report

_LAZY = {
    "STAGES": "clusterforge.stages.pipeline",
    "BuildRecord": "clusterforge.stages.pipeline",
    "ClusterSummary": "clusterforge.stages.pipeline",
    "Pipeline": "clusterforge.stages.pipeline",
    "build_summary": "clusterforge.stages.summary",
    "BuildArtifacts": "clusterforge.stages.build_artifacts",
    "REPORT_FILES": "clusterforge.stages.summary",
    "validation_report": "clusterforge.stages.summary",
}


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        return getattr(importlib.import_module(_LAZY[name]), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


__all__ = [
    "REPORT_FILES",
    "STAGES",
    "BuildArtifacts",
    "BuildRecord",
    "ClusterSummary",
    "Pipeline",
    "build_summary",
    "validation_report",
]
