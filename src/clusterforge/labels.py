"""The workflow labels clusterforge sets, defined once.

A build is a workflow labelled with the cluster it builds and the stage it
runs; the pipeline writes these labels and the API, CLI and UI select by them,
so both sides must spell them the same way. A top-level module (like
:mod:`clusterforge.errors`) so the API can read them without importing the
pipeline.
"""

from __future__ import annotations

__all__ = ["LABEL_CLUSTER", "LABEL_STAGE"]

LABEL_CLUSTER = "clusterforge.dev/cluster"
LABEL_STAGE = "clusterforge.dev/stage"
