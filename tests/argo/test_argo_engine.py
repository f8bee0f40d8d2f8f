"""``--engine argo``: the CLI's workflow commands against the real controller.

The same commands a local user runs (``run``, ``get -o json``, ``logs``,
``retry``, ``stop``) go to the management cluster of the session
(``argo_cluster``): the controller orchestrates, the host executor runs the
steps. Plus the three failures a user meets first, each one clear error.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.argo.conftest import Cluster

pytestmark = [pytest.mark.cluster, pytest.mark.slow]

CLI = str(Path(sys.executable).parent / "clusterforge")


def _cli(
    cluster: Cluster | None, *args: str, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    environment = {**os.environ, "CLUSTERFORGE_ENGINE": "argo", **(env or {})}
    if cluster is not None:
        environment["CLUSTERFORGE_KUBECONFIG"] = str(cluster.kubeconfig)
    return subprocess.run(
        [CLI, *args], capture_output=True, text=True, timeout=240, env=environment, check=False
    )


def _flaky(marker: Path) -> dict[str, Any]:
    """One step that always succeeds and one that fails until ``marker`` exists."""
    return {
        "apiVersion": "argoproj.io/v1alpha1",
        "kind": "Workflow",
        "metadata": {"generateName": "flaky-"},
        "spec": {
            "entrypoint": "main",
            "arguments": {"parameters": [{"name": "who", "value": "nobody"}]},
            "templates": [
                {
                    "name": "main",
                    "dag": {
                        "tasks": [
                            {"name": "steady", "template": "steady"},
                            {"name": "gate", "template": "gate", "depends": "steady"},
                        ]
                    },
                },
                {
                    "name": "steady",
                    "container": {
                        "image": "alpine:3",
                        "command": ["sh", "-c", "echo hello {{workflow.parameters.who}}"],
                    },
                },
                {
                    "name": "gate",
                    "container": {
                        "image": "alpine:3",
                        "command": ["sh", "-c", f"test -f {marker} || {{ echo closed; exit 4; }}"],
                    },
                },
            ],
        },
    }


def test_run_get_logs_retry_on_argo(argo_cluster: Cluster, tmp_path: Path) -> None:
    marker = tmp_path / "open"
    workflow = tmp_path / "flaky.yaml"
    workflow.write_text(yaml.safe_dump(_flaky(marker)))
    ran = _cli(argo_cluster, "run", str(workflow), "-p", "who=argo", "--wait", "-o", "json")
    assert ran.returncode != 0
    name = json.loads(ran.stdout)["metadata"]["name"]

    got = json.loads(_cli(argo_cluster, "get", name, "-o", "json").stdout)
    assert got["status"]["phase"] == "Failed"
    pods = {n["displayName"]: n for n in got["status"]["nodes"].values() if n["type"] == "Pod"}
    assert pods["steady"]["phase"] == "Succeeded"
    assert pods["gate"]["phase"] == "Failed"
    assert pods["gate"]["outputs"]["exitCode"] == "4"

    logs = _cli(argo_cluster, "logs", name)
    assert logs.returncode == 0, logs.stderr
    assert "hello argo" in logs.stdout
    assert "closed" in logs.stdout

    marker.write_text("")
    retried = _cli(argo_cluster, "retry", name, "--wait", "-o", "json")
    assert retried.returncode == 0, retried.stderr
    after = json.loads(_cli(argo_cluster, "get", name, "-o", "json").stdout)
    assert after["status"]["phase"] == "Succeeded"
    kept = after["status"]["nodes"][pods["steady"]["id"]]
    assert kept["finishedAt"] == pods["steady"]["finishedAt"]  # not re-run
    gates = [n for n in after["status"]["nodes"].values() if n["displayName"] == "gate"]
    assert [n["phase"] for n in gates] == ["Succeeded"]


def test_an_unreachable_api_server_is_one_clear_error(tmp_path: Path) -> None:
    kubeconfig = tmp_path / "kubeconfig"
    kubeconfig.write_text(
        yaml.safe_dump(
            {
                "apiVersion": "v1",
                "kind": "Config",
                "clusters": [{"name": "c", "cluster": {"server": "http://127.0.0.1:9"}}],
                "contexts": [{"name": "c", "context": {"cluster": "c", "user": "u"}}],
                "current-context": "c",
                "users": [{"name": "u", "user": {"token": "t"}}],
            }
        )
    )
    done = _cli(None, "get", "anything", env={"CLUSTERFORGE_KUBECONFIG": str(kubeconfig)})
    assert done.returncode != 0
    assert "cannot reach the Kubernetes API server at http://127.0.0.1:9" in done.stderr
    assert "Traceback" not in done.stderr


def test_a_workflow_no_controller_picks_up_is_deleted(
    argo_cluster: Cluster, tmp_path: Path
) -> None:
    workflow = tmp_path / "wf.yaml"
    workflow.write_text(yaml.safe_dump(_flaky(tmp_path / "x")))
    # Another namespace: the controller is --namespaced to default, so nothing picks it up.
    argo_cluster.kubectl_run("create", "namespace", "nobody-home")
    done = _cli(
        argo_cluster,
        "run",
        str(workflow),
        "--namespace",
        "nobody-home",
        env={"CLUSTERFORGE_ARGO_START_TIMEOUT": "3"},
    )
    assert done.returncode != 0
    assert "was not picked up by a workflow-controller within 3s" in done.stderr
    assert "Traceback" not in done.stderr
    left = argo_cluster.kubectl_run("get", "workflows", "-n", "nobody-home", "-o", "name")
    assert left.strip() == ""


def test_stop_ends_the_workflow_and_its_running_step(argo_cluster: Cluster, tmp_path: Path) -> None:
    token = f"{tmp_path.name}-nap"
    workflow = tmp_path / "nap.yaml"
    workflow.write_text(
        yaml.safe_dump(
            {
                "apiVersion": "argoproj.io/v1alpha1",
                "kind": "Workflow",
                "metadata": {"generateName": "nap-"},
                "spec": {
                    "entrypoint": "nap",
                    "templates": [
                        {
                            "name": "nap",
                            "container": {
                                "image": "alpine:3",
                                "command": ["sh", "-c", f"echo {token}; sleep 300"],
                            },
                        }
                    ],
                },
            }
        )
    )
    started = _cli(argo_cluster, "run", str(workflow))
    assert started.returncode == 0, started.stderr
    name = started.stdout.strip()
    deadline = time.monotonic() + 120
    while not any(line.text == token for line in _running_logs(name, argo_cluster)):
        assert time.monotonic() < deadline, "the step's output never showed in logs"
        time.sleep(0.5)
    stopped = _cli(argo_cluster, "stop", name)
    assert stopped.returncode == 0, stopped.stderr
    got = json.loads(_cli(argo_cluster, "get", name, "-o", "json").stdout)
    while got["status"]["phase"] not in {"Failed", "Error"}:
        assert time.monotonic() < deadline + 60, got["status"]
        time.sleep(0.5)
        got = json.loads(_cli(argo_cluster, "get", name, "-o", "json").stdout)
    assert "Stop" in got["status"]["message"]
    assert not _processes_with(token)


def _running_logs(name: str, cluster: Cluster) -> list[Any]:
    from clusterforge.engine import open_argo_engine

    return list(open_argo_engine(str(cluster.kubeconfig)).logs(name))


def _processes_with(token: str) -> list[int]:
    deadline = time.monotonic() + 15
    found: list[int] = []
    while time.monotonic() < deadline:
        found = []
        for entry in Path("/proc").iterdir():
            try:
                cmdline = (entry / "cmdline").read_bytes()
            except OSError:
                continue
            if entry.name.isdigit() and token.encode() in cmdline:
                found.append(int(entry.name))
        if not found:
            return found
        time.sleep(0.5)
    return found
