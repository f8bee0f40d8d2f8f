"""The aws stages as a user runs them — ``clusterforge stage preflight|core`` and
``destroy`` on a spec — with every step a real subprocess of the local engine
reaching a moto server through ``AWS_ENDPOINT_URL``; ``plan`` without any AWS;
and the spec errors a region or version EKS does not offer."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

import tests.aws.eks_resources  # noqa: F401 - EKS resources inside the test server's stacks
from clusterforge.engine import LocalEngine, WorkflowView
from clusterforge.providers.aws import CHECKS
from tests.aws.conftest import REGION, Account

CLI = [sys.executable, "-m", "clusterforge.cli"]
ROOT = Path(__file__).resolve().parents[2]
AWS_CHECKS = tuple(CHECKS)


def _spec(account: Account, tmp_path: Path, **provider: Any) -> Path:
    doc = yaml.safe_load((ROOT / "examples" / "aws-cluster.yaml").read_text())
    body = doc["spec"]
    body["provider"].update(
        {
            "vpcId": account.vpc_id,
            "subnets": [{"id": sid, "zone": zone} for zone, sid in account.subnets.items()],
            "clusterRoleArn": account.cluster_role_arn,
            "roleArn": "arn:aws:iam::123456789012:role/clusterforge-builder",
            **provider,
        }
    )
    path = tmp_path / "aws-cluster.yaml"
    path.write_text(yaml.safe_dump(doc))
    return path


def _cli(home: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "CLUSTERFORGE_HOME": str(home), "COLUMNS": "200"}
    return subprocess.run(
        [*CLI, *args], env=env, capture_output=True, text=True, timeout=600, check=False
    )


def _last(home: Path, stage: str) -> WorkflowView:
    engine = LocalEngine(home=home)
    views = [v for v in engine.list() if v.record.labels.get("clusterforge.dev/stage") == stage]
    return engine.get(views[0].id)


def _phases(view: WorkflowView) -> dict[str, set[str]]:
    phases: dict[str, set[str]] = {}
    for node in view.nodes.values():
        if node.type in ("Pod", "Skipped"):
            phases.setdefault(node.display_name.split("(")[0], set()).add(node.phase)
    return phases


def _log(home: Path, view: WorkflowView) -> str:
    engine = LocalEngine(home=home)
    return "\n".join(line.text for line in engine.logs(view.id))


def _stacks(account: Account) -> list[str]:
    summaries = account.client("cloudformation").list_stacks()["StackSummaries"]
    return sorted(
        s["StackName"]
        for s in summaries
        if s["StackStatus"] != "DELETE_COMPLETE" and s["StackName"].startswith("clusterforge-")
    )


def test_preflight_core_rerun_and_destroy(account: Account, tmp_path: Path) -> None:
    home = tmp_path / "home"
    spec = _spec(account, tmp_path)
    done = _cli(home, "stage", "preflight", str(spec))
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    phases = _phases(_last(home, "preflight"))
    for check in AWS_CHECKS:
        assert phases[check] == {"Succeeded"}, check
    for check in ("tools", "ports", "memory", "disk"):
        assert phases[check] == {"Skipped"}, check

    done = _cli(home, "stage", "core", str(spec))
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    view = _last(home, "core")
    assert _phases(view)["control-plane"] == {"Succeeded"}
    assert _phases(view)["node-group"] == {"Succeeded"}
    log = _log(home, view)
    # Stack events are the step's log (moto records stack-level events only).
    assert "(AWS::CloudFormation::Stack) CREATE_COMPLETE" in log
    assert _stacks(account) == [
        "clusterforge-payments-prod-control-plane",
        "clusterforge-payments-prod-nodegroup-general",
        "clusterforge-payments-prod-nodegroup-system",
    ]
    kubeconfig = home / "aws" / "payments-prod" / "kubeconfig.yaml"
    exec_args = yaml.safe_load(kubeconfig.read_text())["users"][0]["user"]["exec"]["args"]
    assert exec_args[-2:] == ["--role-arn", "arn:aws:iam::123456789012:role/clusterforge-builder"]

    again = _cli(home, "stage", "core", str(spec))
    assert again.returncode == 0, again.stdout[-3000:] + again.stderr[-3000:]
    log = _log(home, _last(home, "core"))
    assert log.count("no changes") == 3
    assert "executing change set" not in log
    for secret in ("AKIAIOSFODNN7EXAMPLE", "wJalrXUtnFEMI"):
        assert secret not in log

    done = _cli(home, "destroy", str(spec))
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    assert _stacks(account) == []
    assert not kubeconfig.exists()


def test_a_slash_28_stops_the_preflight_stage(account: Account, tmp_path: Path) -> None:
    home = tmp_path / "home"
    subnets = [
        {"id": account.small_subnet, "zone": f"{REGION}a"},
        {"id": account.subnets[f"{REGION}b"], "zone": f"{REGION}b"},
    ]
    spec = _spec(account, tmp_path, subnets=subnets)
    done = _cli(home, "stage", "preflight", str(spec))
    assert done.returncode == 1
    view = _last(home, "preflight")
    phases = _phases(view)
    assert phases["subnets"] == {"Failed"}
    assert phases["exports"] == {"Succeeded"}
    failed = [n for n in view.nodes.values() if n.display_name.startswith("subnets")]
    assert len([n for n in failed if n.type == "Pod"]) == 3  # retried: preflight-retries 2
    log = _log(home, view)
    assert f"subnet {account.small_subnet} (10.0.100.0/28) has 11 free IP addresses" in log


def test_plan_lists_every_aws_check_stack_and_change_set(tmp_path: Path) -> None:
    done = _cli(tmp_path / "home", "plan", str(ROOT / "examples" / "aws-cluster.yaml"))
    assert done.returncode == 0, done.stderr
    for check in AWS_CHECKS:
        assert f"▶ run  {check} [check]" in done.stdout, check
    for check in ("tools", "ports", "memory", "disk"):
        assert f"⏭ skip {check} [check]" in done.stdout
    assert "1. clusterforge-payments-prod-control-plane [control-plane]" in done.stdout
    assert "Cluster (AWS::EKS::Cluster)" in done.stdout
    assert "2. clusterforge-payments-prod-nodegroup-system [node-group system, after 1]" in (
        done.stdout
    )
    assert "3. clusterforge-payments-prod-nodegroup-general" in done.stdout
    assert "CREATE when the stack is absent, UPDATE when present" in done.stdout


@pytest.mark.parametrize(
    ("change", "field", "message"),
    [
        ({"region": "eu-nowhere-1"}, "spec.provider.region", "not a region EKS offers"),
        ({"kubernetesVersion": "1.19"}, "spec.kubernetesVersion", "not a Kubernetes version EKS"),
        ({"kubernetesVersion": "1.33.2"}, "spec.kubernetesVersion", "EKS chooses the patch"),
        ({"dnsResolvers": ["dns.internal"]}, "spec.provider.dnsResolvers", "not an IPv4"),
        ({"controlPlaneLogging": ["kubelet"]}, "spec.provider.controlPlaneLogging", "api"),
    ],
)
def test_what_eks_does_not_offer_is_a_spec_error(
    tmp_path: Path, change: dict[str, Any], field: str, message: str
) -> None:
    doc = yaml.safe_load((ROOT / "examples" / "aws-cluster.yaml").read_text())
    if "kubernetesVersion" in change:
        doc["spec"].update(change)
    else:
        doc["spec"]["provider"].update(change)
    path = tmp_path / "bad.yaml"
    path.write_text(yaml.safe_dump(doc))
    done = _cli(tmp_path / "home", "spec", "validate", str(path))
    assert done.returncode == 2
    assert field in done.stderr
    assert message in done.stderr
    assert "Traceback" not in done.stderr


def test_preflight_template_runs_exactly_the_providers_checks() -> None:
    from clusterforge.templates import TEMPLATE_DIR

    template = yaml.safe_load((TEMPLATE_DIR / "preflight.yaml").read_text())
    tasks = template["spec"]["templates"][0]["dag"]["tasks"]
    aws_tasks = [t["name"] for t in tasks if t.get("when", "").endswith("== aws")]
    assert aws_tasks == list(CHECKS)
