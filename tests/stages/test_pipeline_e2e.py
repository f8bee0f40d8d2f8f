"""The main job end to end, on real kwok clusters: ``clusterforge build`` from
nothing to a validated cluster, a second build that converges without
recreating anything, each stage run alone, ``plan`` agreeing with what the build
did, preflight retries and a preflight that stops the build, hostile values that
stay data, and teardown."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from clusterforge.engine import LocalEngine, WorkflowView

pytestmark = [pytest.mark.cluster, pytest.mark.slow]

CLI = [sys.executable, "-m", "clusterforge.cli"]
ROOT = Path(__file__).resolve().parents[2]


def _spec(name: str, marker: Path, counter: Path, **extra: Any) -> dict[str, Any]:
    doc = yaml.safe_load((ROOT / "examples" / "dev-cluster.yaml").read_text())
    doc["metadata"]["name"] = name
    body = doc["spec"]
    body["nodeGroups"] = [
        {"name": "general", "instanceType": "m5.large", "desired": 2},
        {
            "name": "system",
            "instanceType": "c5.large",
            "desired": 1,
            "labels": {"tier": "system"},
            "taints": [{"key": "node-role.kubernetes.io/system", "effect": "NoSchedule"}],
        },
    ]
    # Fails twice, then passes: the template must retry it and the build succeed.
    flaky = (
        f'n=$(cat "{counter}" 2>/dev/null || echo 0); echo $((n + 1)) > "{counter}"; [ "$n" -ge 2 ]'
    )
    body["preflight"] = {
        "checks": [{"name": "flaky", "command": ["sh", "-c", flaky], "retries": {"limit": 3}}]
    }
    # Hostile strings that must stay data: if any reached a shell, the marker would exist.
    body["validation"] = {
        "checks": [f"there are 0 pods named 'x; touch {marker}; $(touch {marker})'"],
        "retries": {"limit": 2, "interval": "1s"},
    }
    body["addons"]["metrics-server"] = {
        "version": "0.7.2",
        "values": {"note": f"fluent bit; rm -rf / ; $(touch {marker}) `touch {marker}`"},
    }
    body.update(extra)
    return doc


def _cli(env: dict[str, str], *args: str, timeout: float = 600) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*CLI, *args], env=env, capture_output=True, text=True, timeout=timeout, check=False
    )


def _kubectl(kubeconfig: Path, *args: str) -> dict[str, Any]:
    from clusterforge.tools import resolve

    out = subprocess.run(
        [str(resolve("kubectl")), "--kubeconfig", str(kubeconfig), *args, "-o", "json"],
        capture_output=True,
        text=True,
        check=True,
    )
    data: dict[str, Any] = json.loads(out.stdout)
    return data


def _last_build(home: Path, cluster: str) -> WorkflowView:
    engine = LocalEngine(home=home)
    views = [v for v in engine.list() if v.record.labels.get("clusterforge.dev/cluster") == cluster]
    return engine.get(views[0].id)


def _by_display(view: WorkflowView) -> dict[str, str]:
    phases: dict[str, str] = {}
    for node in view.nodes.values():
        if node.type in ("Pod", "Retry", "Skipped", "TaskGroup", "DAG", "Steps"):
            phases.setdefault(node.display_name, node.phase)
    return phases


class Built:
    def __init__(self, home: Path, env: dict[str, str], spec: Path, marker: Path) -> None:
        self.home, self.env, self.spec, self.marker = home, env, spec, marker
        self.kubeconfig = home / "clusters" / "e2e-dev" / "kubeconfig.yaml"


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory, tool_path: Path) -> Iterator[Built]:
    base = tmp_path_factory.mktemp("pipeline")
    home = base / "home"
    marker = base / "PWNED"
    spec = base / "cluster.yaml"
    spec.write_text(yaml.safe_dump(_spec("e2e-dev", marker, base / "counter")))
    env = {**os.environ, "CLUSTERFORGE_HOME": str(home), "COLUMNS": "200"}
    result = _cli(env, "build", str(spec))
    assert result.returncode == 0, result.stdout[-4000:] + result.stderr[-4000:]
    assert "kubeconfig:" in result.stdout
    yield Built(home, env, spec, marker)
    _cli(env, "destroy", str(spec))


def test_build_from_nothing_gives_a_validated_cluster(built: Built) -> None:
    view = _last_build(built.home, "e2e-dev")
    assert view.phase == "Succeeded"
    phases = _by_display(view)
    # Disabled add-ons are skipped, in the add-on stage and in validation.
    for name in ("cert-manager", "fluent-bit", "ingress-nginx", "cluster-autoscaler"):
        skipped = [
            n for n in view.nodes.values() if n.display_name == name and n.phase == "Skipped"
        ]
        assert len(skipped) == 2, name  # its install and its checks
    assert phases["coredns"] == "Succeeded"
    # The flaky preflight check failed twice and passed on its third attempt.
    attempts = sorted(
        (n.display_name, n.phase)
        for n in view.nodes.values()
        if n.display_name.startswith("extra(0:flaky)(")
    )
    assert attempts == [
        ("extra(0:flaky)(0)", "Failed"),
        ("extra(0:flaky)(1)", "Failed"),
        ("extra(0:flaky)(2)", "Succeeded"),
    ]
    nodes = _kubectl(built.kubeconfig, "get", "nodes")["items"]
    groups = sorted(n["metadata"]["labels"]["clusterforge.dev/nodegroup"] for n in nodes)
    assert groups == ["general", "general", "system"]
    summary = json.loads(
        next(
            (built.home / "builds").glob("e2e-dev-build-*/artifacts/validation/summary.json")
        ).read_text()
    )
    assert summary["failed"] == 0
    assert summary["passed"] >= 5
    assert not built.marker.exists(), "a hostile value reached a shell"


def test_plan_matches_what_the_build_did(built: Built) -> None:
    from clusterforge.spec import load_spec
    from clusterforge.stages import Pipeline

    cli = _cli(built.env, "plan", str(built.spec))
    assert cli.returncode == 0, cli.stderr
    engine = LocalEngine(home=built.home)
    planned = Pipeline(engine).plan(load_spec(built.spec))
    view = _last_build(built.home, "e2e-dev")
    phase_of: dict[str, set[str]] = {}
    for node in view.nodes.values():
        phase_of.setdefault(node.display_name, set()).add(node.phase)
    decisions = [(item.display_name, item.decision) for _depth, item in planned.walk()][1:]
    assert any(d == "skip" for _n, d in decisions)
    for name, decision in decisions:
        assert name in phase_of, f"planned {name!r} but the build has no such node"
        if decision == "skip":
            assert phase_of[name] == {"Skipped"}, name
            assert f"skip {name}" in cli.stdout
        else:
            assert "Skipped" not in phase_of[name], name


def test_second_build_converges_without_recreating(built: Built) -> None:
    before_nodes = {
        n["metadata"]["name"]: n["metadata"]["uid"]
        for n in _kubectl(built.kubeconfig, "get", "nodes")["items"]
    }
    before_dns = _kubectl(built.kubeconfig, "get", "deployment", "coredns", "-n", "kube-system")
    result = _cli(built.env, "build", str(built.spec))
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    after_nodes = {
        n["metadata"]["name"]: n["metadata"]["uid"]
        for n in _kubectl(built.kubeconfig, "get", "nodes")["items"]
    }
    after_dns = _kubectl(built.kubeconfig, "get", "deployment", "coredns", "-n", "kube-system")
    assert after_nodes == before_nodes
    assert after_dns["metadata"]["uid"] == before_dns["metadata"]["uid"]
    assert after_dns["metadata"]["generation"] == before_dns["metadata"]["generation"]


@pytest.mark.parametrize("stage", ["preflight", "core", "addons", "validate"])
def test_each_stage_runs_alone(built: Built, stage: str) -> None:
    result = _cli(built.env, "stage", stage, str(built.spec))
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]


def test_fleet_lists_the_cluster(built: Built) -> None:
    result = _cli(built.env, "clusters")
    assert result.returncode == 0, result.stderr
    line = next(line for line in result.stdout.splitlines() if "e2e-dev" in line)
    assert "kwok" in line
    assert "Succeeded" in line


def test_unsatisfiable_preflight_stops_before_the_control_plane(
    tmp_path: Path, tool_path: Path
) -> None:
    home = tmp_path / "home"
    doc = _spec("e2e-blocked", tmp_path / "m", tmp_path / "c")
    doc["spec"]["preflight"] = {
        "checks": [
            {"name": "never", "command": ["false"], "retries": {"limit": 1, "interval": "1s"}}
        ]
    }
    spec = tmp_path / "blocked.yaml"
    spec.write_text(yaml.safe_dump(doc))
    env = {**os.environ, "CLUSTERFORGE_HOME": str(home)}
    result = _cli(env, "build", str(spec))
    assert result.returncode == 1
    view = _last_build(home, "e2e-blocked")
    assert view.phase == "Failed"
    displays = {n.display_name for n in view.nodes.values()}
    assert "preflight" in displays
    assert "core" not in displays
    assert "control-plane" not in displays
    assert not (home / "clusters" / "e2e-blocked").exists()


def test_invalid_cluster_name_is_rejected_before_anything_runs(tmp_path: Path) -> None:
    home = tmp_path / "home"
    doc = _spec("ok", tmp_path / "m", tmp_path / "c")
    doc["metadata"]["name"] = "bad name; rm -rf /"
    spec = tmp_path / "bad.yaml"
    spec.write_text(yaml.safe_dump(doc))
    env = {**os.environ, "CLUSTERFORGE_HOME": str(home)}
    result = _cli(env, "build", str(spec))
    assert result.returncode == 2
    assert "metadata.name" in result.stderr
    assert "Traceback" not in result.stderr
    assert not (home / "state.db").exists() or not LocalEngine(home=home).list()
