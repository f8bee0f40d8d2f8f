"""The host executor: Argo's real controller orchestrates real steps on kwok.

One management cluster (``clusterforge argo up``, the session's ``argo_cluster``); each test
creates a Workflow in it and reads back what the controller made of the host
processes' results: phases, output parameters, ``outputs.result``, exit
codes and retries, exactly as Argo reports them on a real cluster.
"""

from __future__ import annotations

from typing import Any

import pytest

from tests.argo.conftest import Cluster

pytestmark = [pytest.mark.cluster, pytest.mark.slow]


def _nodes(workflow: dict[str, Any], kind: str = "Pod") -> dict[str, dict[str, Any]]:
    nodes = workflow["status"].get("nodes", {})
    return {n["displayName"]: n for n in nodes.values() if n["type"] == kind}


def _params(node: dict[str, Any]) -> dict[str, str]:
    return {p["name"]: p["value"] for p in node.get("outputs", {}).get("parameters", [])}


PASS_PARAMETER: dict[str, Any] = {
    "apiVersion": "argoproj.io/v1alpha1",
    "kind": "Workflow",
    "metadata": {"name": "pass"},
    "spec": {
        "entrypoint": "main",
        "templates": [
            {
                "name": "main",
                "steps": [
                    [{"name": "hello", "template": "hello"}],
                    [
                        {
                            "name": "echo",
                            "template": "echo",
                            "arguments": {
                                "parameters": [
                                    {
                                        "name": "text",
                                        "value": "{{steps.hello.outputs.parameters.greeting}}",
                                    }
                                ]
                            },
                        }
                    ],
                    [
                        {
                            "name": "last",
                            "template": "echo",
                            "arguments": {
                                "parameters": [
                                    {"name": "text", "value": "{{steps.echo.outputs.result}}"}
                                ]
                            },
                        }
                    ],
                ],
            },
            {
                "name": "hello",
                "container": {
                    "image": "alpine:3",
                    "command": ["sh", "-c"],
                    "args": ['echo "hello $WHO" > /tmp/greeting; echo done'],
                    "env": [{"name": "WHO", "value": "argo"}],
                },
                "outputs": {
                    "parameters": [
                        {"name": "greeting", "valueFrom": {"path": "/tmp/greeting"}},
                        {
                            "name": "missing",
                            "valueFrom": {"path": "/tmp/nothing", "default": "fallback"},
                        },
                    ]
                },
            },
            {
                "name": "echo",
                "inputs": {"parameters": [{"name": "text"}]},
                "script": {
                    "image": "python:3",
                    "command": ["sh"],
                    "source": 'printf "%s!\\n" "{{inputs.parameters.text}}"',
                },
            },
        ],
    },
}


def test_an_output_parameter_passes_between_real_steps(argo_cluster: Cluster) -> None:
    workflow = argo_cluster.run(PASS_PARAMETER)
    assert workflow["status"]["phase"] == "Succeeded", workflow["status"].get("message")
    pods = _nodes(workflow)
    assert set(pods) == {"hello", "echo", "last"}
    assert _params(pods["hello"]) == {"greeting": "hello argo", "missing": "fallback"}
    assert pods["hello"]["outputs"]["exitCode"] == "0"
    assert pods["echo"]["inputs"]["parameters"][0]["value"] == "hello argo"
    # outputs.result is captured because a later step references it (as Argo does)
    assert pods["echo"]["outputs"]["result"] == "hello argo!"
    assert pods["last"]["inputs"]["parameters"][0]["value"] == "hello argo!"
    assert all(node["phase"] == "Succeeded" for node in pods.values())


RETRIED_EXIT: dict[str, Any] = {
    "apiVersion": "argoproj.io/v1alpha1",
    "kind": "Workflow",
    "metadata": {"name": "exits"},
    "spec": {
        "entrypoint": "fail",
        "templates": [
            {
                "name": "fail",
                "retryStrategy": {"limit": "2"},
                "container": {
                    "image": "alpine:3",
                    "command": ["sh", "-c", "echo attempt >&2; exit 3"],
                },
            }
        ],
    },
}


def test_an_exit_code_fails_the_node_after_its_retries(argo_cluster: Cluster) -> None:
    workflow = argo_cluster.run(RETRIED_EXIT)
    assert workflow["status"]["phase"] == "Failed"
    attempts = _nodes(workflow)
    assert len(attempts) == 3
    for node in attempts.values():
        assert node["phase"] == "Failed"
        assert node["outputs"]["exitCode"] == "3"
        assert "exit code 3" in node["message"]
    retry = next(iter(_nodes(workflow, "Retry").values()))
    assert retry["phase"] == "Failed"


PRIVATE_TMP: dict[str, Any] = {
    "apiVersion": "argoproj.io/v1alpha1",
    "kind": "Workflow",
    "metadata": {"name": "tmp"},
    "spec": {
        "entrypoint": "main",
        "templates": [
            {
                "name": "main",
                "steps": [
                    [
                        {
                            "name": f"w{index}",
                            "template": "write",
                            "arguments": {"parameters": [{"name": "v", "value": str(index)}]},
                        }
                        for index in range(3)
                    ]
                ],
            },
            {
                "name": "write",
                "inputs": {"parameters": [{"name": "v"}]},
                "container": {
                    "image": "alpine:3",
                    "command": ["sh", "-c", "echo {{inputs.parameters.v}} > /tmp/out; sleep 1"],
                },
                "outputs": {"parameters": [{"name": "out", "valueFrom": {"path": "/tmp/out"}}]},
            },
        ],
    },
}


def test_parallel_steps_each_have_a_private_tmp(argo_cluster: Cluster) -> None:
    workflow = argo_cluster.run(PRIVATE_TMP)
    assert workflow["status"]["phase"] == "Succeeded", workflow["status"].get("message")
    pods = _nodes(workflow)
    assert {name: _params(node)["out"] for name, node in pods.items()} == {
        "w0": "0",
        "w1": "1",
        "w2": "2",
    }
