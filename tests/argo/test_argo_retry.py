"""Argo's retry on a Workflow object, and the node view of one (no cluster).

The trees follow what v3.7's controller writes: a Steps node over StepGroups,
a Retry node over its attempts (Pods).
"""

from __future__ import annotations

import copy
from typing import Any

import pytest

from clusterforge.engine.argo._retry import reset_for_retry
from clusterforge.engine.argo._translate import to_view
from clusterforge.errors import InvalidInput


def _node(nid: str, kind: str, phase: str, children: tuple[str, ...] = (), **extra: Any) -> Any:
    return {
        "id": nid,
        "name": f"wf.{nid}",
        "displayName": nid,
        "type": kind,
        "phase": phase,
        "children": list(children),
        "startedAt": "2026-12-03T10:00:00Z",
        "finishedAt": "2026-12-03T10:01:00Z",
        **extra,
    }


def _workflow() -> dict[str, Any]:
    nodes = [
        _node("wf", "Steps", "Failed", ["g0"]),
        _node("g0", "StepGroup", "Failed", ["ok", "flaky"]),
        _node("ok", "Pod", "Succeeded", outputs={"exitCode": "0", "result": "fine"}),
        _node("flaky", "Retry", "Failed", ["flaky-0", "flaky-1"]),
        _node("flaky-0", "Pod", "Failed", outputs={"exitCode": "3"}, message="exit code 3"),
        _node("flaky-1", "Pod", "Failed", outputs={"exitCode": "3"}, message="exit code 3"),
    ]
    return {
        "metadata": {
            "name": "wf",
            "namespace": "default",
            "uid": "u1",
            "creationTimestamp": "2026-12-03T10:00:00Z",
            "labels": {"workflows.argoproj.io/completed": "true"},
        },
        "spec": {"arguments": {"parameters": [{"name": "p", "value": "v"}]}},
        "status": {
            "phase": "Failed",
            "message": "child failed",
            "startedAt": "2026-12-03T10:00:00Z",
            "finishedAt": "2026-12-03T10:01:00Z",
            "nodes": {n["id"]: n for n in nodes},
        },
    }


def test_retry_removes_the_failed_retry_node_and_keeps_succeeded_ones() -> None:
    workflow = _workflow()
    removed = reset_for_retry(workflow)
    assert removed == {"flaky", "flaky-0", "flaky-1"}
    nodes = workflow["status"]["nodes"]
    assert set(nodes) == {"wf", "g0", "ok"}
    assert nodes["ok"]["phase"] == "Succeeded"
    assert nodes["ok"]["outputs"]["result"] == "fine"
    assert nodes["g0"]["phase"] == "Running"
    assert nodes["g0"]["children"] == ["ok"]
    assert "finishedAt" not in nodes["wf"]
    assert workflow["status"]["phase"] == "Running"
    assert "finishedAt" not in workflow["status"]
    assert "workflows.argoproj.io/completed" not in workflow["metadata"]["labels"]


def test_a_workflow_that_did_not_fail_cannot_be_retried() -> None:
    workflow = _workflow()
    workflow["status"]["phase"] = "Running"
    before = copy.deepcopy(workflow)
    with pytest.raises(InvalidInput, match="only a Failed or Error workflow"):
        reset_for_retry(workflow)
    assert workflow == before


def test_the_node_view_is_argo_s_status() -> None:
    view = to_view(_workflow())
    assert (view.id, view.phase, view.done) == ("wf", "Failed", True)
    assert view.record.arguments == {"p": "v"}
    flaky = view.node("flaky-0")
    assert flaky is not None
    assert (flaky.type, flaky.phase, flaky.exit_code) == ("Pod", "Failed", 3)
    assert view.to_argo()["status"]["nodes"]["ok"]["outputs"]["result"] == "fine"
    assert view.progress() == "3/3"  # fulfilled Pod nodes, failed ones included


def test_a_dag_task_s_succeeded_dependency_is_kept() -> None:
    """In a DAG, ``gate`` (depends on ``steady``) is ``steady``'s child."""
    workflow = _workflow()
    workflow["status"]["nodes"] = {
        n["id"]: n
        for n in [
            _node("wf", "DAG", "Failed", ("steady",)),
            _node("steady", "Pod", "Succeeded", ("gate",), outputs={"exitCode": "0"}),
            _node("gate", "Pod", "Failed", outputs={"exitCode": "4"}),
        ]
    }
    assert reset_for_retry(workflow) == {"gate"}
    nodes = workflow["status"]["nodes"]
    assert nodes["steady"]["phase"] == "Succeeded"
    assert nodes["steady"]["outputs"] == {"exitCode": "0"}
    assert nodes["steady"]["children"] == []
    assert nodes["wf"]["phase"] == "Running"


def test_succeeded_groups_above_a_failed_step_are_kept() -> None:
    """Steps: group [1] is the child of the step in group [0], so a succeeded earlier
    group is an ancestor of the failed step; it stays Succeeded (set Running again,
    the controller would never complete it)."""
    nodes = {
        "wf": _plain_node("wf", "Steps", "Failed", ["g0"]),
        "g0": _plain_node("[0]", "StepGroup", "Succeeded", ["first"]),
        "first": _plain_node("first", "DAG", "Succeeded", ["g1"]),
        "g1": _plain_node("[1]", "StepGroup", "Failed", ["second"]),
        "second": _plain_node("second", "Pod", "Failed", []),
    }
    workflow = {
        "metadata": {"name": "wf", "labels": {}},
        "spec": {},
        "status": {"phase": "Failed", "nodes": nodes},
    }
    assert reset_for_retry(workflow) == {"second"}
    phases = {nid: n["phase"] for nid, n in workflow["status"]["nodes"].items()}
    assert phases == {"wf": "Running", "g0": "Succeeded", "first": "Succeeded", "g1": "Running"}


def _plain_node(display: str, kind: str, phase: str, children: list[str]) -> dict[str, Any]:
    return {"displayName": display, "name": display, "type": kind, "phase": phase,
            "children": children}  # fmt: skip
