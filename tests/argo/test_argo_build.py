"""``build``, ``stage``, ``destroy`` with ``--engine argo``: the stage library on the real
controller agrees with the local engine, node by node.

The same spec (examples/dev-cluster.yaml, renamed, plus one validation check that
fails until a pod named ``parity-gate`` exists in the built cluster) is built
twice: by the local engine in its own data home, and through the session's
management cluster (``argo_cluster``), whose host executor runs the steps. Both
builds fail at that check with the same tree; after the pod is created in each
built cluster, ``retry`` re-runs the validation only, and both succeed with the
same tree again — stage nodes, phases, skipped add-ons, outputs. Then both
clusters are destroyed with ``destroy``.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.management import CLI, Cluster

pytestmark = [pytest.mark.cluster, pytest.mark.slow]

REPO = Path(__file__).resolve().parents[2]
NAME = "parity"
GATE = "there are 1 pods named 'parity-gate'"


def _spec(path: Path, **extra: Any) -> Path:
    doc = yaml.safe_load((REPO / "examples" / "dev-cluster.yaml").read_text())
    doc["metadata"]["name"] = NAME
    doc["spec"]["validation"] = {"checks": [GATE], "retries": {"limit": 1, "interval": "1s"}}
    doc["spec"].update(extra)
    path.write_text(yaml.safe_dump(doc))
    return path


@dataclass
class Side:
    """One engine's side of the comparison: how to call the CLI, where its data lives."""

    kind: str
    env: dict[str, str]
    data_home: Path

    def cli(self, *args: str, timeout: float = 900) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [CLI, *args], env=self.env, capture_output=True, text=True, timeout=timeout, check=False
        )

    def build_id(self, stderr: str) -> str:
        found = re.search(r"build (\S+) started for cluster", stderr)
        assert found, stderr[-2000:]
        return found.group(1)

    def get(self, build_id: str) -> dict[str, Any]:
        got = self.cli("get", build_id, "-o", "json")
        assert got.returncode == 0, got.stderr
        data: dict[str, Any] = json.loads(got.stdout)
        return data

    def open_gate(self) -> None:
        """The pod the validation check waits for, in the cluster this side built."""
        from clusterforge.tools import resolve

        kubeconfig = self.data_home / "clusters" / NAME / "kubeconfig.yaml"
        pod = {
            "apiVersion": "v1",
            "kind": "Pod",
            "metadata": {"name": "parity-gate", "namespace": "default"},
            "spec": {"containers": [{"name": "c", "image": "busybox"}]},
        }
        subprocess.run(
            [str(resolve("kubectl")), f"--kubeconfig={kubeconfig}", "apply", "-f", "-"],
            input=json.dumps(pod),
            text=True,
            capture_output=True,
            check=True,
        )


def _tree(workflow: dict[str, Any], side: Side) -> dict[str, tuple[str, str, Any, Any]]:
    """Node name (the build id replaced) → type, phase, output parameters and exit
    code, with this side's build id and data home written alike."""
    build_id = workflow["metadata"]["name"]

    def same(text: str) -> str:
        return text.replace(str(side.data_home), "HOME").replace(build_id, "BUILD")

    tree = {}
    for node in workflow["status"]["nodes"].values():
        params = {
            p["name"]: same(str(p.get("value", "")))
            for p in (node.get("outputs") or {}).get("parameters") or []
        }
        exit_code = (node.get("outputs") or {}).get("exitCode")
        tree[same(node["name"])] = (node["type"], node["phase"], params, exit_code)
    return tree


@dataclass
class Builds:
    local: Side
    argo: Side
    local_id: str
    argo_id: str
    spec: Path


@pytest.fixture(scope="module")
def builds(argo_cluster: Cluster, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Builds]:
    """The spec built on each engine (one at a time: two kwok builds at once are too much
    for this machine); both clusters destroyed at the end."""
    base = tmp_path_factory.mktemp("parity")
    spec = _spec(base / "parity.yaml")
    local_home = base / "local-home"
    local = Side(
        "local",
        {**os.environ, "CLUSTERFORGE_HOME": str(local_home), "CLUSTERFORGE_ENGINE": "local"},
        local_home,
    )
    argo = Side(
        "argo",
        {
            **os.environ,
            "CLUSTERFORGE_HOME": str(argo_cluster.home),
            "CLUSTERFORGE_ENGINE": "local",  # the flags below choose Argo
        },
        argo_cluster.home,
    )
    flags = ("--engine", "argo", "--kubeconfig", str(argo_cluster.kubeconfig))
    ran_local = local.cli("build", str(spec))
    ran_argo = argo.cli("build", str(spec), *flags)
    try:
        assert ran_local.returncode == 1, ran_local.stderr[-3000:]
        assert ran_argo.returncode == 1, ran_argo.stdout[-3000:] + ran_argo.stderr[-3000:]
        argo.env.update(
            CLUSTERFORGE_ENGINE="argo", CLUSTERFORGE_KUBECONFIG=str(argo_cluster.kubeconfig)
        )
        yield Builds(
            local, argo, local.build_id(ran_local.stderr), argo.build_id(ran_argo.stderr), spec
        )
    finally:
        local.cli("destroy", str(spec))
        argo.cli("destroy", str(spec), *flags)


def test_a_failed_validation_is_the_same_on_both_engines(builds: Builds) -> None:
    local = builds.local.get(builds.local_id)
    argo = builds.argo.get(builds.argo_id)
    assert argo["status"]["phase"] == local["status"]["phase"] == "Failed"
    local_tree, argo_tree = _tree(local, builds.local), _tree(argo, builds.argo)
    assert set(argo_tree) == set(local_tree)
    differ = {n: (argo_tree[n], v) for n, v in local_tree.items() if argo_tree[n] != v}
    assert differ == {}, "node: (on Argo, locally)"
    phases = {n["displayName"]: n["phase"] for n in argo["status"]["nodes"].values()}
    for stage in ("preflight", "core", "addons"):
        assert phases[stage] == "Succeeded", phases
    assert phases["validation"] == "Failed"
    skipped = {
        n["displayName"] for n in argo["status"]["nodes"].values() if n["phase"] == "Skipped"
    }
    assert {"cert-manager", "fluent-bit", "ingress-nginx", "cluster-autoscaler"} <= skipped
    assert not {"coredns", "metrics-server"} & skipped

    logs = builds.argo.cli("logs", builds.argo_id)
    assert logs.returncode == 0, logs.stderr
    assert "parity-gate" in logs.stdout


def test_retry_reruns_the_validation_and_keeps_the_rest(builds: Builds) -> None:
    before = builds.argo.get(builds.argo_id)["status"]["nodes"]
    for side, build_id in ((builds.local, builds.local_id), (builds.argo, builds.argo_id)):
        side.open_gate()
        retried = side.cli("retry", build_id, "--wait", "-o", "json")
        assert retried.returncode == 0, (side.kind, retried.stderr[-3000:])
    local = builds.local.get(builds.local_id)
    argo = builds.argo.get(builds.argo_id)
    assert argo["status"]["phase"] == local["status"]["phase"] == "Succeeded"
    local_tree, argo_tree = _tree(local, builds.local), _tree(argo, builds.argo)
    for name, expected in local_tree.items():
        if expected[0] == "Pod":  # the failed attempts are gone on both; steps agree
            assert argo_tree.get(name) == expected, name
    assert {n for n, v in argo_tree.items() if v[0] == "Pod"} == {
        n for n, v in local_tree.items() if v[0] == "Pod"
    }
    after = argo["status"]["nodes"]
    for node_id, node in before.items():
        if node["type"] == "Pod" and node["phase"] == "Succeeded":
            assert after[node_id]["finishedAt"] == node["finishedAt"], node["displayName"]


def test_stop_ends_a_stage_on_argo(builds: Builds, tmp_path: Path) -> None:
    spec = _spec(
        tmp_path / "slow.yaml",
        preflight={"checks": [{"name": "slow", "command": ["sleep", "300"]}]},
    )
    started = subprocess.Popen(
        [CLI, "stage", "preflight", str(spec)],
        env=builds.argo.env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        build_id = _wait_for_running(builds.argo, "preflight")
        stopped = builds.argo.cli("stop", build_id)
        assert stopped.returncode == 0, stopped.stderr
        _out, err = started.communicate(timeout=180)
        assert started.returncode == 1, err[-2000:]
    finally:
        if started.poll() is None:
            started.kill()
    got = builds.argo.get(build_id)
    assert got["status"]["phase"] == "Failed"
    assert "Stop" in got["status"]["message"]


def _wait_for_running(side: Side, stage: str, timeout: float = 180) -> str:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        listed = side.cli("list", "-o", "json")
        for item in json.loads(listed.stdout or "[]"):
            if f"{NAME}-{stage}-" in item["name"] and item["phase"] == "Running":
                got = side.get(item["name"])
                if any(
                    n["type"] == "Pod" and n["phase"] == "Running"
                    for n in got["status"]["nodes"].values()
                ):
                    return str(item["name"])
        time.sleep(1)
    raise AssertionError(f"no running {stage} step within {timeout}s")
