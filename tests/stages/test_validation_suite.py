"""The validation suite on the larger example: every catalog add-on installed in
dependency order and proven by its sentences; then one add-on scaled to zero,
and the validation stage fails naming the exact sentence, in its summary,
JUnit XML and TAP reports."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml

from clusterforge.addons import checks
from clusterforge.engine import LocalEngine

pytestmark = [pytest.mark.cluster, pytest.mark.slow]

CLI = [sys.executable, "-m", "clusterforge.cli"]
ROOT = Path(__file__).resolve().parents[2]
CATALOG = (
    "coredns",
    "metrics-server",
    "cert-manager",
    "fluent-bit",
    "ingress-nginx",
    "cluster-autoscaler",
)


def _cli(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*CLI, *args], env=env, capture_output=True, text=True, timeout=900, check=False
    )


class Large:
    def __init__(self, home: Path, env: dict[str, str], doc: dict[str, object], base: Path) -> None:
        self.home, self.env, self.doc, self.base = home, env, doc, base
        self.spec = base / "large.yaml"
        self.kubeconfig = home / "clusters" / "e2e-large" / "kubeconfig.yaml"


@pytest.fixture(scope="module")
def large(tmp_path_factory: pytest.TempPathFactory, tool_path: Path) -> Iterator[Large]:
    base = tmp_path_factory.mktemp("large")
    doc = yaml.safe_load((ROOT / "examples" / "large-cluster.yaml").read_text())
    doc["metadata"]["name"] = "e2e-large"
    env = {**os.environ, "CLUSTERFORGE_HOME": str(base / "home"), "COLUMNS": "200"}
    cluster = Large(base / "home", env, doc, base)
    cluster.spec.write_text(yaml.safe_dump(doc))
    result = _cli(env, "build", str(cluster.spec))
    assert result.returncode == 0, result.stdout[-4000:] + result.stderr[-3000:]
    yield cluster
    _cli(env, "destroy", str(cluster.spec))


def test_every_catalog_addon_installs_in_order_and_validates(large: Large) -> None:
    engine = LocalEngine(home=large.home)
    view = engine.get(engine.list()[0].id)
    assert view.phase == "Succeeded"
    installs = {
        n.display_name: n
        for n in view.nodes.values()
        if n.template_name == "install" and n.type == "Retry"
    }
    assert set(installs) == set(CATALOG)
    # Dependencies first: each add-on started after the add-ons it needs finished.
    needs = {
        "metrics-server": "coredns",
        "cert-manager": "coredns",
        "fluent-bit": "coredns",
        "ingress-nginx": "cert-manager",
        "cluster-autoscaler": "metrics-server",
    }
    for addon, dependency in needs.items():
        assert (installs[addon].started_at or 0) >= (installs[dependency].finished_at or 0), addon
    report = next(large.home.glob("builds/*/artifacts/validation"))
    summary = json.loads((report / "summary.json").read_text())
    assert summary["failed"] == 0
    names = {c["name"] for c in summary["checks"]}
    assert {f"addon {a}" for a in CATALOG} <= names
    assert "<failure" not in (report / "junit.xml").read_text()
    assert "not ok" not in (report / "results.tap").read_text()
    assert any("popeye" in note for note in summary["tools"])  # run, or said to be skipped


def test_scaled_down_addon_fails_validation_naming_the_sentence(large: Large) -> None:
    from clusterforge.tools import resolve

    subprocess.run(
        [
            str(resolve("kubectl")),
            "--kubeconfig",
            str(large.kubeconfig),
            "-n",
            "kube-system",
            "scale",
            "deployment/metrics-server",
            "--replicas=0",
        ],
        check=True,
        capture_output=True,
    )
    # One attempt per check: the sentence itself already retries for a minute.
    doc = json.loads(json.dumps(large.doc))
    doc["spec"]["validation"]["retries"] = {"limit": 0, "interval": "1s"}
    quick = large.base / "quick.yaml"
    quick.write_text(yaml.safe_dump(doc))
    result = _cli(large.env, "stage", "validate", str(quick))
    assert result.returncode == 1
    sentence = next(s for s in checks("metrics-server") if "pods named" in s)
    assert sentence in result.stdout
    engine = LocalEngine(home=large.home)
    latest = engine.get(engine.list()[0].id)
    failed = {n.display_name for n in latest.nodes.values() if n.phase == "Failed"}
    assert "metrics-server" in failed
    assert "coredns" not in failed
    report = sorted(
        large.home.glob("builds/*/artifacts/validation"), key=lambda p: p.stat().st_mtime
    )[-1]
    summary = json.loads((report / "summary.json").read_text())
    failing = [c for c in summary["checks"] if not c["ok"]]
    assert [c["name"] for c in failing] == ["addon metrics-server"]
    assert sentence in failing[0]["message"]
    assert "addon metrics-server" in (report / "junit.xml").read_text()
    assert "not ok" in (report / "results.tap").read_text()
