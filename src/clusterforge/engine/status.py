"""A workflow as Argo shows it: the ``Workflow`` object with its ``status``.

Tools written for Argo (and our own CLI, API and UI) read this one shape:
``status.phase``, ``status.nodes{id: {displayName, type, templateName, phase,
message, startedAt, finishedAt, children, outputs}}``.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

from clusterforge.engine.phases import FULFILLED, WORKFLOW_DONE
from clusterforge.store import NodeRecord, WorkflowRecord


def iso(ts: float | None) -> str | None:
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(ts)) if ts else None


@dataclass(frozen=True)
class WorkflowView:
    """A workflow record with its nodes; what every engine backend returns."""

    record: WorkflowRecord
    nodes: dict[str, NodeRecord]

    @property
    def id(self) -> str:
        return self.record.id

    @property
    def phase(self) -> str:
        return self.record.phase

    @property
    def done(self) -> bool:
        return self.record.phase in WORKFLOW_DONE

    def node(self, key: str) -> NodeRecord | None:
        """Find a node by id, full name or display name."""
        if key in self.nodes:
            return self.nodes[key]
        for node in self.nodes.values():
            if key in (node.name, node.display_name):
                return node
        return None

    def progress(self) -> str:
        pods = [n for n in self.nodes.values() if n.type == "Pod"]
        done = [n for n in pods if n.phase in FULFILLED]
        return f"{len(done)}/{len(pods)}"

    def to_argo(self) -> dict[str, Any]:
        wf = self.record
        status: dict[str, Any] = {
            "phase": wf.phase,
            "startedAt": iso(wf.started_at),
            "finishedAt": iso(wf.finished_at),
            "progress": self.progress(),
            "nodes": {nid: _node(n) for nid, n in self.nodes.items()},
        }
        if wf.message:
            status["message"] = wf.message
        if wf.outputs:
            status["outputs"] = wf.outputs
        stored = _stored_templates(wf.templates)
        if stored:
            status["storedTemplates"] = stored
        metadata: dict[str, Any] = {
            "name": wf.name,
            "namespace": wf.namespace,
            "uid": wf.uid,
            "creationTimestamp": iso(wf.created_at),
        }
        if wf.labels:
            metadata["labels"] = dict(wf.labels)
        return {
            "apiVersion": "argoproj.io/v1alpha1",
            "kind": "Workflow",
            "metadata": metadata,
            "spec": wf.manifest.get("spec", {}),
            "status": status,
        }


def _stored_templates(templates: dict[str, Any]) -> dict[str, Any]:
    """The referenced WorkflowTemplates' templates, keyed as Argo's ``status.storedTemplates``
    (``namespaced/<workflow-template>/<template>``): what a viewer needs to draw the
    dependencies inside a stage that ran by ``templateRef``."""
    out: dict[str, Any] = {}
    for key, doc in templates.items():
        scope = key if key.startswith("cluster/") else f"namespaced/{key}"
        for template in (doc.get("spec") or {}).get("templates") or []:
            if isinstance(template, dict) and template.get("name"):
                out[f"{scope}/{template['name']}"] = template
    return out


def _node(n: NodeRecord) -> dict[str, Any]:
    out: dict[str, Any] = {
        "id": n.id,
        "name": n.name,
        "displayName": n.display_name,
        "type": n.type,
        "templateName": n.template_name,
        "phase": n.phase,
        "boundaryID": n.boundary_id,
        "startedAt": iso(n.started_at),
        "finishedAt": iso(n.finished_at),
    }
    if n.message:
        out["message"] = n.message
    if n.children:
        out["children"] = list(n.children)
    if n.inputs:
        out["inputs"] = n.inputs
    if n.outputs:
        out["outputs"] = n.outputs
    return out


__all__ = ["WORKFLOW_DONE", "WorkflowView", "iso"]
