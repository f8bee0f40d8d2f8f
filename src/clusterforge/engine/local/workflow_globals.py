"""The ``workflow.*`` variables Argo derives from a workflow's metadata and spec.

Argo's controller sets them once when it starts a workflow
(``setGlobalParameters`` in workflow/controller/operator.go, v3.7):

* ``workflow.serviceAccountName`` (empty when the spec names none),
  ``workflow.priority`` (only when ``spec.priority`` is set),
  ``workflow.scheduledTime`` (only when the CronWorkflow annotation is there);
* ``workflow.creationTimestamp.X`` for each strftime character Argo knows
  (github.com/argoproj/pkg/strftime), plus ``.s`` (Unix seconds) and
  ``.RFC3339``;
* ``workflow.annotations.NAME`` / ``workflow.labels.NAME`` from the metadata and
  ``spec.workflowMetadata``, and ``workflow.annotations`` /
  ``workflow.annotations.json`` / ``workflow.labels`` / ``workflow.labels.json``
  as ``json.Marshal`` of the metadata's maps (``null`` when there are none).

``workflow.duration`` changes while the workflow runs; :func:`duration` gives it
("%f" seconds since the start, as Argo's ``setGlobalRuntimeParameters``).
Timestamps are UTC with whole seconds, as a Kubernetes ``creationTimestamp`` is.
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from typing import Any

from clusterforge.workflow.expressions import go_json

__all__ = ["SCHEDULED_TIME_ANNOTATION", "creation_vars", "duration", "metadata_vars"]

SCHEDULED_TIME_ANNOTATION = "workflows.argoproj.io/scheduled-time"

# Argo's strftime characters and the C strftime directive that prints the same
# text for a UTC time in the C locale; 'Z', 'z' and 'L' are spelled out below.
_STRFTIME = {
    "B": "%B",
    "b": "%b",
    "m": "%m",
    "A": "%A",
    "a": "%a",
    "d": "%d",
    "H": "%H",
    "I": "%I",
    "M": "%M",
    "S": "%S",
    "Y": "%Y",
    "y": "%y",
    "p": "%p",
}
_FIXED = {"Z": "UTC", "z": "+0000", "L": ".000"}
_PREFIX = "workflow.creationTimestamp"


def creation_vars(created_at: float) -> dict[str, str]:
    """``workflow.creationTimestamp`` and its ``.X``, ``.s`` and ``.RFC3339`` forms."""
    seconds = int(created_at)
    moment = time.gmtime(seconds)
    rfc3339 = time.strftime("%Y-%m-%dT%H:%M:%SZ", moment)
    values = {_PREFIX: rfc3339, f"{_PREFIX}.RFC3339": rfc3339, f"{_PREFIX}.s": str(seconds)}
    for char, directive in _STRFTIME.items():
        values[f"{_PREFIX}.{char}"] = time.strftime(directive, moment)
    for char, text in _FIXED.items():
        values[f"{_PREFIX}.{char}"] = text
    return values


def metadata_vars(
    metadata: Mapping[str, Any], labels: Mapping[str, str], spec: Mapping[str, Any]
) -> dict[str, str]:
    """Labels, annotations, service account, priority and scheduled time, as Argo sets them."""
    annotations = dict(metadata.get("annotations") or {})
    values = {
        "workflow.serviceAccountName": str(spec.get("serviceAccountName") or ""),
        "workflow.annotations": _json_map(annotations),
        "workflow.annotations.json": _json_map(annotations),
        "workflow.labels": _json_map(labels),
        "workflow.labels.json": _json_map(labels),
    }
    if spec.get("priority") is not None:
        values["workflow.priority"] = str(int(spec["priority"]))
    if SCHEDULED_TIME_ANNOTATION in annotations:
        values["workflow.scheduledTime"] = str(annotations[SCHEDULED_TIME_ANNOTATION])
    extra = spec.get("workflowMetadata") or {}
    for kind, own in (("annotations", annotations), ("labels", labels)):
        for key, value in {**own, **(extra.get(kind) or {})}.items():
            values[f"workflow.{kind}.{key}"] = str(value)
    return values


def duration(started_at: float | None, now: float | None = None) -> str:
    """``workflow.duration``: seconds since the start, as Go's ``%f`` prints them."""
    if started_at is None:
        return "0.000000"
    return f"{max(0.0, (time.time() if now is None else now) - started_at):f}"


def _json_map(values: Mapping[str, Any]) -> str:
    return go_json({k: str(v) for k, v in values.items()}) if values else "null"
