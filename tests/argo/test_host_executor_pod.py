"""Reading an Argo step pod and reporting its outputs, without a cluster.

The pod below has the shape v3.7's controller gives a script step (emissary
prefix, the script path appended to the args, ARGO_TEMPLATE on the init and
wait containers); the cluster test (test_host_executor.py) runs real ones.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from clusterforge.engine.argo._outputs import collect, pod_status, task_result
from clusterforge.engine.argo._pod import PodNotRunnable, read_pod

TEMPLATE = {
    "name": "echo",
    "script": {"image": "python:3", "command": ["sh"], "source": "echo hi"},
    "outputs": {
        "parameters": [
            {"name": "a", "valueFrom": {"path": "/tmp/a"}},
            {"name": "b", "valueFrom": {"path": "/tmp/b", "default": "dflt"}},
        ]
    },
}


def _pod(template: dict[str, Any] = TEMPLATE, **main: Any) -> dict[str, Any]:
    argo_env = [
        {"name": "ARGO_TEMPLATE", "value": json.dumps(template)},
        {"name": "ARGO_INCLUDE_SCRIPT_OUTPUT", "value": "true"},
    ]
    container = {
        "name": "main",
        "image": "python:3",
        "command": ["/var/run/argo/argoexec", "emissary", "--loglevel", "info", "--", "sh"],
        "args": ["/argo/staging/script"],
        "env": [
            {"name": "GREETING", "value": "hi"},
            {"name": "POD_IP", "valueFrom": {"fieldRef": {"fieldPath": "status.podIP"}}},
        ],
        **main,
    }
    return {
        "metadata": {
            "name": "wf-echo-123",
            "namespace": "default",
            "uid": "pod-uid",
            "labels": {"workflows.argoproj.io/workflow": "wf"},
            "annotations": {"workflows.argoproj.io/node-id": "wf-123"},
            "ownerReferences": [{"kind": "Workflow", "name": "wf", "uid": "wf-uid"}],
        },
        "spec": {
            "initContainers": [{"name": "init", "image": "argoexec", "env": argo_env}],
            "containers": [{"name": "wait", "image": "argoexec", "env": argo_env}, container],
        },
    }


def test_the_step_is_what_follows_emissary() -> None:
    step = read_pod(_pod())
    assert step.argv == ["sh", "/argo/staging/script"]
    assert step.script == "echo hi"
    assert step.env == {"GREETING": "hi"}
    assert (step.node_id, step.workflow, step.workflow_uid) == ("wf-123", "wf", "wf-uid")
    assert step.include_result


def test_a_pod_without_a_command_or_template_is_refused() -> None:
    with pytest.raises(PodNotRunnable, match="no command"):
        read_pod(_pod(command=[], args=[]))
    pod = _pod()
    pod["spec"]["initContainers"] = []
    pod["spec"]["containers"][0]["env"] = []
    with pytest.raises(PodNotRunnable, match="ARGO_TEMPLATE"):
        read_pod(pod)


def test_outputs_come_from_the_private_tmp_and_stdout(tmp_path: Path) -> None:
    step = read_pod(_pod())
    (tmp_path / "tmp").mkdir()
    (tmp_path / "tmp" / "a").write_text("value\n\n")
    (tmp_path / "stdout").write_text("line 1\nline 2\n")
    collected = collect(step, tmp_path / "tmp", tmp_path / "stdout")
    assert collected.error is None
    assert collected.parameters == [
        {"name": "a", "value": "value\n"},
        {"name": "b", "value": "dflt"},
    ]
    assert collected.result == "line 1\nline 2"
    result = task_result(step, collected)
    assert result["metadata"]["name"] == "wf-123"
    assert result["metadata"]["labels"] == {
        "workflows.argoproj.io/workflow": "wf",
        "workflows.argoproj.io/report-outputs-completed": "true",
    }
    assert result["metadata"]["ownerReferences"][0]["uid"] == "wf-uid"


def test_a_missing_output_file_fails_the_wait_container(tmp_path: Path) -> None:
    step = read_pod(_pod())
    (tmp_path / "stdout").write_text("")
    collected = collect(step, tmp_path / "tmp", tmp_path / "stdout")
    assert collected.error is not None
    assert "'a'" in collected.error
    status = pod_status(_pod(), 0, "2026-12-03T00:00:00Z", None, collected.error)
    assert status["phase"] == "Failed"
    by_name = {c["name"]: c["state"]["terminated"] for c in status["containerStatuses"]}
    assert by_name["main"]["exitCode"] == 0
    assert by_name["wait"]["exitCode"] == 1


def test_an_exit_code_is_the_main_container_s() -> None:
    status = pod_status(_pod(), 3, "2026-12-03T00:00:00Z", None, None)
    assert status["phase"] == "Failed"
    main = next(c for c in status["containerStatuses"] if c["name"] == "main")
    assert main["state"]["terminated"] == {
        "exitCode": 3,
        "reason": "Error",
        "startedAt": "2026-12-03T00:00:00Z",
        "finishedAt": main["state"]["terminated"]["finishedAt"],
    }
    assert status["initContainerStatuses"][0]["state"]["terminated"]["exitCode"] == 0
