"""The whole four-stage aws build in the simulation (moto's EKS API + a kwok data plane):
``clusterforge build examples/aws-cluster.yaml`` (pointed at the seeded account)
passes preflight against the account, deploys the stacks, installs the add-ons
and validates them over the kubeconfig the provider wrote from DescribeCluster
(authenticating with ``clusterforge aws token``), and has the same stage tree a
kwok build of the same cluster has. Then ``destroy`` leaves no stack and no
cluster. See tests/aws/simulation.py for exactly what is simulated."""

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

import tests.aws.eks_resources as eks_resources
from clusterforge.engine import LocalEngine, WorkflowView
from tests.aws.conftest import Account
from tests.aws.simulation import KwokDataPlane, TokenWebhook

pytestmark = [pytest.mark.cluster, pytest.mark.slow]

CLI = [sys.executable, "-m", "clusterforge.cli"]
ROOT = Path(__file__).resolve().parents[2]


def _doc(account: Account) -> dict[str, Any]:
    doc = yaml.safe_load((ROOT / "examples" / "aws-cluster.yaml").read_text())
    doc["spec"]["provider"].update(
        {
            "vpcId": account.vpc_id,
            "subnets": [{"id": sid, "zone": zone} for zone, sid in account.subnets.items()],
            "clusterRoleArn": account.cluster_role_arn,
        }
    )
    # Small enough for a two-core machine; every other field as the example has it.
    doc["spec"]["nodeGroups"][0]["desired"] = 2
    doc["spec"]["nodeGroups"][0]["max"] = 2
    doc["spec"]["nodeGroups"][1].update({"desired": 2, "min": 1, "max": 4})
    doc["spec"]["validation"] = {"retries": {"limit": 10, "interval": "3s"}}
    return doc


def _kwok_twin(doc: dict[str, Any]) -> dict[str, Any]:
    twin = json.loads(json.dumps(doc))
    twin["spec"]["provider"] = {"type": "kwok"}
    twin["spec"]["kubernetesVersion"] = "1.34"
    for group in twin["spec"]["nodeGroups"]:
        group.pop("zones", None)
    return twin


@pytest.fixture
def simulated(
    account: Account, tmp_path: Path, tool_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Iterator[tuple[Path, KwokDataPlane, TokenWebhook]]:
    home = tmp_path / "home"
    monkeypatch.setenv("CLUSTERFORGE_HOME", str(home))
    webhook = TokenWebhook(account.endpoint, {os.environ["AWS_ACCESS_KEY_ID"]})
    plane = KwokDataPlane(webhook, home)
    eks_resources.DATA_PLANE.append(plane)
    try:
        yield home, plane, webhook
    finally:
        eks_resources.DATA_PLANE.remove(plane)
        from clusterforge.providers import kwok

        for info in kwok.list_clusters():
            kwok.delete_cluster(info.name, missing_ok=True)
        webhook.close()


def _cli(home: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "CLUSTERFORGE_HOME": str(home), "COLUMNS": "200"}
    return subprocess.run(
        [*CLI, *args], env=env, capture_output=True, text=True, timeout=1800, check=False
    )


def _tree(view: WorkflowView) -> set[tuple[str, str]]:
    """(stage/node, phase) of every task below the core, add-on and validation stages."""
    return {
        (node.display_name, "Skipped" if node.phase == "Skipped" else "ran")
        for node in view.nodes.values()
        if node.type in ("Pod", "Retry", "Skipped") and not node.display_name.endswith(")")
    }


def test_four_stage_build_in_the_simulation(
    account: Account, simulated: tuple[Path, KwokDataPlane, TokenWebhook], tmp_path: Path
) -> None:
    from clusterforge.spec import parse_spec
    from clusterforge.stages import Pipeline

    home, plane, webhook = simulated
    doc = _doc(account)
    spec = tmp_path / "aws-cluster.yaml"
    spec.write_text(yaml.safe_dump(doc))
    done = _cli(home, "build", str(spec))
    assert done.returncode == 0, done.stdout[-5000:] + done.stderr[-3000:] + str(plane.errors)
    assert not plane.errors
    engine = LocalEngine(home=home)
    view = engine.get(engine.list()[0].id)
    assert view.phase == "Succeeded"

    # Validation passed against the kwok data plane, reached through the EKS kubeconfig.
    summary = json.loads(
        next(
            (home / "builds").glob("payments-prod-build-*/artifacts/validation/summary.json")
        ).read_text()
    )
    assert summary["failed"] == 0
    assert summary["passed"] >= 7
    assert any(allowed for allowed, _who in webhook.reviews)
    assert not [why for allowed, why in webhook.reviews if not allowed]

    kubeconfig = home / "aws" / "payments-prod" / "kubeconfig.yaml"
    from clusterforge.tools import resolve

    nodes = json.loads(
        subprocess.run(
            [
                str(resolve("kubectl")),
                "--kubeconfig",
                str(kubeconfig),
                "get",
                "nodes",
                "-o",
                "json",
            ],
            capture_output=True,
            text=True,
            check=True,
            env={**os.environ, "CLUSTERFORGE_HOME": str(home)},
        ).stdout
    )["items"]
    zones = {n["metadata"]["labels"]["topology.kubernetes.io/zone"] for n in nodes}
    assert zones <= set(account.subnets)
    assert len(nodes) == 4

    # The same stage tree as a kwok build of the same cluster: every task but the
    # provider's own preflight checks runs (or is skipped) the same way.
    twin = Pipeline(LocalEngine(home=tmp_path / "plan")).plan(
        parse_spec(_kwok_twin(doc), source="twin")
    )
    planned = {
        (item.display_name, "Skipped" if item.decision == "skip" else "ran")
        for _depth, item in twin.walk()
        if not item.children and not item.display_name.endswith(")")
    }
    provider_checks = {
        "tools", "ports", "memory", "disk", "subnets", "subnet-layout", "exports",
        "ssm-parameters", "dhcp-options", "cluster-role", "kubernetes-version", "stacks",
    }  # fmt: skip
    built = {(n, p) for n, p in _tree(view) if n not in provider_checks}
    expected = {(n, p) for n, p in planned if n not in provider_checks}
    assert built == expected

    done = _cli(home, "destroy", str(spec))
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    stacks = account.client("cloudformation").list_stacks()["StackSummaries"]
    assert all(
        s["StackStatus"] == "DELETE_COMPLETE"
        for s in stacks
        if s["StackName"].startswith("clusterforge-")
    )
    from clusterforge.providers import kwok

    assert [c.name for c in kwok.list_clusters()] == []
    assert not kubeconfig.exists()
