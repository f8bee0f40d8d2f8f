"""Stages: the cluster pipeline on top of the engine.

A spec becomes workflow parameters; the shipped stage library (``templates/``)
runs them — preflight, control plane → node groups, add-ons, validation — as
one master workflow or one stage at a time. Step commands (``clusterforge step
…``) are implemented here too: they are the only code that calls providers,
add-on installs and DETIK checks.
"""

from clusterforge.stages.pipeline import STAGES, BuildRecord, ClusterSummary, Pipeline
from clusterforge.stages.summary import build_summary

__all__ = ["STAGES", "BuildRecord", "ClusterSummary", "Pipeline", "build_summary"]
