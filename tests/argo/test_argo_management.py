"""``clusterforge argo up|status|down``: kwok plus Argo's real workflow-controller.

The controller is the binary the toolchain builds from argo-workflows; a
Workflow created in the cluster must be picked up by it (its status.phase
set). kwok never runs containers, so the steps do not finish here — that is
the host executor's job, not this test's.
"""

from __future__ import annotations

import json
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from clusterforge.tools import resolve
from tests.argo.conftest import run_cli

pytestmark = [pytest.mark.cluster, pytest.mark.slow]

WORKFLOW = """\
apiVersion: argoproj.io/v1alpha1
kind: Workflow
metadata:
  name: hello
spec:
  entrypoint: main
  templates:
  - name: main
    container:
      image: alpine:3
      command: [echo, hello]
"""


@pytest.fixture
def home(tmp_path: Path, tool_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    monkeypatch.setenv("CLUSTERFORGE_HOME", str(tmp_path / "home"))
    try:
        yield tmp_path / "home"
    finally:
        run_cli("argo", "down", "--name", "t1")


def test_a_workflow_is_picked_up_by_the_real_controller(home: Path, tmp_path: Path) -> None:
    started = run_cli("argo", "up", "--name", "t1")
    assert started.returncode == 0, started.stderr
    kubeconfig = Path(started.stdout.strip().splitlines()[-1])
    assert kubeconfig.is_file()
    status = run_cli("argo", "status")
    assert "t1: controller pid" in status.stdout
    assert "running" in status.stdout
    assert "NOT running" not in status.stdout
    again = run_cli("argo", "up", "--name", "t1")
    assert again.returncode != 0
    assert "already up" in again.stderr

    kubectl = str(resolve("kubectl"))
    workflow = tmp_path / "wf.yaml"
    workflow.write_text(WORKFLOW)
    created = subprocess.run(
        [kubectl, f"--kubeconfig={kubeconfig}", "create", "-f", str(workflow)],
        capture_output=True,
        text=True,
    )
    assert created.returncode == 0, created.stderr
    phase, nodes = "", {}
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline and not phase:
        got = subprocess.run(
            [kubectl, f"--kubeconfig={kubeconfig}", "get", "workflow", "hello", "-o", "json"],
            capture_output=True,
            text=True,
        )
        status_obj = json.loads(got.stdout or "{}").get("status", {})
        phase, nodes = status_obj.get("phase", ""), status_obj.get("nodes", {})
        time.sleep(1)
    assert phase in ("Pending", "Running", "Succeeded", "Failed", "Error"), phase
    # the controller made the step's pod, with Argo's labels
    pods = subprocess.run(
        [
            kubectl,
            f"--kubeconfig={kubeconfig}",
            "get",
            "pods",
            "-l",
            "workflows.argoproj.io/workflow=hello",
            "-o",
            "name",
        ],
        capture_output=True,
        text=True,
    )
    deadline = time.monotonic() + 60
    while not pods.stdout.strip() and time.monotonic() < deadline:
        time.sleep(1)
        pods = subprocess.run(pods.args, capture_output=True, text=True)
    assert pods.stdout.strip().startswith("pod/hello"), (pods.stdout, nodes)

    stopped = run_cli("argo", "down", "--name", "t1")
    assert stopped.returncode == 0, stopped.stderr
    assert "no management cluster" in run_cli("argo", "status").stdout


def test_bad_names_and_missing_clusters_are_clear_errors(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("CLUSTERFORGE_HOME", str(tmp_path))
    bad = run_cli("argo", "up", "--name", "../x")
    assert bad.returncode != 0
    assert "--name" in bad.stderr
    missing = run_cli("argo", "down", "--name", "nothing")
    assert missing.returncode != 0
    assert "no management cluster 'nothing'" in missing.stderr
    assert "Traceback" not in bad.stderr + missing.stderr
    assert not (tmp_path / "argo").exists()
