"""The host executor: Argo's real controller orchestrates real steps on kwok.

One management cluster (``clusterforge argo up``) for the module; each test
creates a Workflow in it and reads back what the controller made of the host
processes' results: phases, output parameters, ``outputs.result``, exit
codes and retries, exactly as Argo reports them on a real cluster.
"""

from __future__ import annotations

import json
import subprocess
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from clusterforge.tools import resolve
from tests.argo.conftest import run_cli

pytestmark = [pytest.mark.cluster, pytest.mark.slow]

NAME = "hx"


class Cluster:
    def __init__(self, kubeconfig: Path, steps: Path) -> None:
        self.kubeconfig = kubeconfig
        self.steps = steps
        self.kubectl = str(resolve("kubectl"))

    def kubectl_run(self, *args: str, stdin: str | None = None) -> str:
        done = subprocess.run(
            [self.kubectl, f"--kubeconfig={self.kubeconfig}", *args],
            input=stdin,
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
        assert done.returncode == 0, done.stderr
        return done.stdout

    def run(self, workflow: dict[str, Any], timeout: float = 120) -> dict[str, Any]:
        """Create ``workflow`` under a fresh name; the Workflow once it has ended."""
        name = f"{workflow['metadata']['name']}-{uuid.uuid4().hex[:6]}"
        workflow = {**workflow, "metadata": {"name": name}}
        self.kubectl_run("create", "-f", "-", stdin=yaml.safe_dump(workflow))
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            got = json.loads(self.kubectl_run("get", "workflow", name, "-o", "json"))
            if got.get("status", {}).get("phase") in {"Succeeded", "Failed", "Error"}:
                return dict(got)
            time.sleep(0.5)
        raise AssertionError(f"{name} did not end within {timeout}s: {got.get('status')}")


@pytest.fixture(scope="module")
def cluster(tool_path: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Cluster]:
    home = tmp_path_factory.mktemp("argo-hx-home")
    monkeypatch = pytest.MonkeyPatch()
    monkeypatch.setenv("CLUSTERFORGE_HOME", str(home))
    try:
        started = run_cli("argo", "up", "--name", NAME)
        assert started.returncode == 0, started.stderr
        kubeconfig = Path(started.stdout.strip().splitlines()[-1])
        yield Cluster(kubeconfig, home / "argo" / NAME / "steps")
    finally:
        run_cli("argo", "down", "--name", NAME)
        monkeypatch.undo()


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


def test_an_output_parameter_passes_between_real_steps(cluster: Cluster) -> None:
    workflow = cluster.run(PASS_PARAMETER)
    assert workflow["status"]["phase"] == "Succeeded", workflow["status"].get("message")
    pods = _nodes(workflow)
    assert set(pods) == {"hello", "echo"}
    assert _params(pods["hello"]) == {"greeting": "hello argo", "missing": "fallback"}
    assert pods["hello"]["outputs"]["exitCode"] == "0"
    assert pods["echo"]["inputs"]["parameters"][0]["value"] == "hello argo"
    assert pods["echo"]["outputs"]["result"] == "hello argo!"
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


def test_an_exit_code_fails_the_node_after_its_retries(cluster: Cluster) -> None:
    workflow = cluster.run(RETRIED_EXIT)
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


def test_parallel_steps_each_have_a_private_tmp(cluster: Cluster) -> None:
    workflow = cluster.run(PRIVATE_TMP)
    assert workflow["status"]["phase"] == "Succeeded", workflow["status"].get("message")
    pods = _nodes(workflow)
    assert {name: _params(node)["out"] for name, node in pods.items()} == {
        "w0": "0",
        "w1": "1",
        "w2": "2",
    }
