"""Argo's retry of a failed Workflow, done on the object (as ``argo retry`` does).

Following ``workflow/util.FormulateRetryWorkflow`` (v3.7) for the default
case (no ``--restart-successful``, no node selector):

* only a Failed or Errored workflow can be retried;
* every failed or errored Pod node is deleted — when it is an attempt of a
  Retry node, that Retry node with all its attempts, so the step gets its
  whole retry budget again — together with everything below it, and the
  exit handler (``<name>.onExit``) likewise;
* every failed grouping node (DAG, Steps, StepGroup, TaskGroup, Retry)
  above a deleted one is reset (Running, no finish time or message); steps
  — including a DAG task's succeeded dependencies, whose child it is — and
  succeeded groups (an earlier step group, whose child the next one is) are
  kept with their outputs;
* the Workflow is Running again, ``completed`` label removed.

The caller deletes the removed nodes' pods and writes the object back; the
controller then re-creates exactly what is missing.
"""

from __future__ import annotations

from typing import Any

from clusterforge.errors import InvalidInput

_FAILED = {"Failed", "Error"}
_KEPT = {"Succeeded", "Skipped"}
_STEP_TYPES = {"Pod", "Container", "Skipped", "Suspend", "HTTP", "Plugin"}
_COMPLETED_LABEL = "workflows.argoproj.io/completed"
_PHASE_LABEL = "workflows.argoproj.io/phase"


def reset_for_retry(workflow: dict[str, Any]) -> set[str]:
    """Reset ``workflow`` in place; the ids of the nodes removed."""
    name = str(workflow["metadata"]["name"])
    status = workflow.get("status") or {}
    if status.get("phase") == "Succeeded":  # the local engine's words
        raise InvalidInput(f"workflow {name!r} succeeded; nothing to retry")
    if status.get("phase") not in _FAILED:
        raise InvalidInput(
            f"workflow {name!r} is {status.get('phase') or 'Pending'}: only a Failed or Error "
            "workflow can be retried"
        )
    nodes: dict[str, dict[str, Any]] = status.get("nodes") or {}
    parents = {child: nid for nid, node in nodes.items() for child in node.get("children") or []}
    removed: set[str] = set()
    for nid, node in nodes.items():
        if node.get("type") == "Pod" and node.get("phase") in _FAILED:
            top = parents.get(nid)
            target = top if top is not None and nodes[top].get("type") == "Retry" else nid
            removed |= _subtree(nodes, target)
        elif node.get("name") == f"{name}.onExit":
            removed |= _subtree(nodes, nid)
    # In a DAG a task is its dependency's child, and in steps a group is the child of
    # the group before: of the nodes above a removed one, only the failed grouping
    # nodes are reset (Argo resets failed groups and keeps whatever succeeded; a
    # succeeded group set Running again is never completed by the controller).
    reset = {
        up
        for nid in removed
        for up in _ancestors(parents, nid)
        if nodes[up].get("type") not in _STEP_TYPES and nodes[up].get("phase") not in _KEPT
    } - removed
    for nid in removed:
        nodes.pop(nid, None)
    for nid, node in nodes.items():
        node["children"] = [c for c in node.get("children") or [] if c not in removed]
        if nid in reset:
            node["phase"] = "Running"
            for key in ("finishedAt", "message", "outputs"):
                node.pop(key, None)
    completion = status.get("taskResultsCompletionStatus") or {}
    for nid in removed:
        completion.pop(nid, None)
    for key in ("finishedAt", "message", "outputs"):
        status.pop(key, None)
    status["phase"] = "Running"
    labels = workflow["metadata"].setdefault("labels", {})
    labels.pop(_COMPLETED_LABEL, None)
    labels[_PHASE_LABEL] = "Running"
    workflow.get("spec", {}).pop("shutdown", None)
    return removed


def _subtree(nodes: dict[str, dict[str, Any]], root: str) -> set[str]:
    found, todo = set(), [root]
    while todo:
        nid = todo.pop()
        if nid in found or nid not in nodes:
            continue
        found.add(nid)
        todo.extend(nodes[nid].get("children") or [])
    return found


def _ancestors(parents: dict[str, str], nid: str) -> list[str]:
    out = []
    while nid in parents and parents[nid] not in out:
        nid = parents[nid]
        out.append(nid)
    return out
