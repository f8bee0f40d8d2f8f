"""Argo's ``Workflow`` object as the engine's :class:`WorkflowView`.

Our status shape already is Argo's, so this is a field-by-field copy of
``status.nodes`` into :class:`NodeRecord` (timestamps to epoch seconds, the
exit code from ``outputs.exitCode``) and of the Workflow's metadata and
phase into :class:`WorkflowRecord`. A Workflow the controller has not picked
up yet has no phase: it reads as Pending, as in ``argo get``.
"""

from __future__ import annotations

import calendar
import time
from typing import Any

from clusterforge.engine.status import WorkflowView
from clusterforge.store.records import NodeRecord, WorkflowRecord


def epoch(stamp: str | None) -> float | None:
    if not stamp:
        return None
    return float(calendar.timegm(time.strptime(stamp, "%Y-%m-%dT%H:%M:%SZ")))


def to_view(workflow: dict[str, Any], *, with_nodes: bool = True) -> WorkflowView:
    meta = workflow.get("metadata") or {}
    status = workflow.get("status") or {}
    name = str(meta.get("name", ""))
    params = ((workflow.get("spec") or {}).get("arguments") or {}).get("parameters") or []
    record = WorkflowRecord(
        id=name,
        name=name,
        namespace=str(meta.get("namespace", "")),
        uid=str(meta.get("uid", "")),
        manifest={k: v for k, v in workflow.items() if k != "status"},
        arguments={str(p.get("name")): str(p.get("value", "")) for p in params},
        labels=dict(meta.get("labels") or {}),
        phase=str(status.get("phase") or "Pending"),
        message=str(status.get("message") or ""),
        created_at=epoch(meta.get("creationTimestamp")) or 0.0,
        started_at=epoch(status.get("startedAt")),
        finished_at=epoch(status.get("finishedAt")),
        shutdown=(workflow.get("spec") or {}).get("shutdown"),
        outputs=dict(status.get("outputs") or {}),
    )
    nodes = {}
    if with_nodes:
        nodes = {nid: _node(name, node) for nid, node in (status.get("nodes") or {}).items()}
    return WorkflowView(record, nodes)


def _node(workflow: str, node: dict[str, Any]) -> NodeRecord:
    outputs = dict(node.get("outputs") or {})
    code = outputs.get("exitCode")
    return NodeRecord(
        workflow_id=workflow,
        id=str(node.get("id", "")),
        name=str(node.get("name", "")),
        display_name=str(node.get("displayName", "")),
        type=str(node.get("type", "")),
        template_name=str(node.get("templateName", "")),
        phase=str(node.get("phase") or "Pending"),
        message=str(node.get("message") or ""),
        boundary_id=str(node.get("boundaryID") or ""),
        children=list(node.get("children") or []),
        started_at=epoch(node.get("startedAt")),
        finished_at=epoch(node.get("finishedAt")),
        inputs=dict(node.get("inputs") or {}),
        outputs=outputs,
        exit_code=int(code) if isinstance(code, str) and code.lstrip("-").isdigit() else None,
    )
