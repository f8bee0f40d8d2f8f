"""The session's one local Argo management cluster, shared by every test area.

``clusterforge argo up`` costs a kwok cluster, the workflow-controller and the
host executor — too much for this machine once per module, so one runs per
session (per xdist worker) and tests/argo, tests/backends and the build parity
tests all use it. Tests that need an empty namespace call
:meth:`Cluster.clean`.
"""

from __future__ import annotations

import json
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

CLI = str(Path(sys.executable).parent / "clusterforge")


def run_cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([CLI, *args], capture_output=True, text=True, timeout=300, check=False)


MANAGEMENT = "hx"
_ARGO_TOOLS = {
    "workflow-controller",
    "kubectl",
    "kwok",
    "kwokctl",
    "etcd",
    "kube-apiserver",
    "kube-controller-manager",
    "kube-scheduler",
}


class Cluster:
    """A management cluster from `clusterforge argo up`: kubectl on it, run a Workflow."""

    def __init__(self, kubeconfig: Path, steps: Path, home: Path | None = None) -> None:
        self.kubeconfig = kubeconfig
        self.steps = steps
        self.home = home or steps.parents[2]
        """The data home ``argo up`` ran with: the host executor's steps see it."""
        self.kubectl = str(_kubectl())

    def clean(self) -> None:
        """An empty ``default`` namespace: no workflows, templates or records left by
        earlier tests (the controller and executor keep running)."""
        for kind in ("workflows", "workflowtemplates", "workflowtaskresults"):
            self.kubectl_run("delete", kind, "--all", "--wait=true")
        names = self.kubectl_run("get", "configmaps", "-o", "name").split()
        records = [n for n in names if n.startswith("configmap/clusterforge-records-")]
        if records:
            self.kubectl_run("delete", *records)
        self.kubectl_run("delete", "pods", "--all", "--grace-period=0", "--force")

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


@pytest.fixture(scope="session")
def argo_cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Cluster]:
    """``clusterforge argo up`` once per session (controller + host executor), down at
    the end; skipped, with the reason, when the controller or the kwok toolchain is
    not installed."""
    from clusterforge.tools import Toolchain

    missing = [s.name for s in Toolchain().status() if not s.ok and s.name in _ARGO_TOOLS]
    if missing:
        pytest.skip(f"not installed: {', '.join(missing)} (`clusterforge tools install`)")
    home = tmp_path_factory.mktemp("argo-hx-home")
    monkeypatch = pytest.MonkeyPatch()
    monkeypatch.setenv("CLUSTERFORGE_HOME", str(home))
    try:
        started = run_cli("argo", "up", "--name", MANAGEMENT)
        assert started.returncode == 0, started.stderr
        kubeconfig = Path(started.stdout.strip().splitlines()[-1])
        yield Cluster(kubeconfig, home / "argo" / MANAGEMENT / "steps", home)
    finally:
        run_cli("argo", "down", "--name", MANAGEMENT)
        monkeypatch.undo()


def _kubectl() -> str:
    from clusterforge.tools import resolve

    return str(resolve("kubectl"))
