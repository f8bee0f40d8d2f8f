"""The core stage's stacks against a moto server: created in order, converged through
change sets (a re-run executes nothing), failures named, torn down to nothing.

moto skips EKS resources inside CloudFormation; tests/aws/eks_resources.py
gives the test server handlers that turn them into clusters and node groups of
moto's own EKS model, so DescribeCluster answers after a deploy as on AWS.
"""

from __future__ import annotations

import base64
from typing import Any

import pytest
import yaml

import tests.aws.eks_resources  # noqa: F401 - registers the EKS resource handlers
from clusterforge.errors import OperationFailed
from tests.aws.conftest import REGION, Account, eks_cluster

ACCOUNT_ID = "123456789012"


class Log(list[str]):
    def __call__(self, line: str) -> None:
        self.append(line)


def _backend() -> Any:
    from moto.cloudformation.models import cloudformation_backends

    return cloudformation_backends[ACCOUNT_ID][REGION]


def _stack_names(account: Account) -> list[str]:
    cfn = account.client("cloudformation")
    return sorted(
        s["StackName"]
        for s in cfn.list_stacks()["StackSummaries"]
        if s["StackStatus"] != "DELETE_COMPLETE" and s["StackName"].startswith("clusterforge-")
    )


def _build(account: Account, cluster: Any, log: Log) -> Any:
    from clusterforge.providers import aws

    plane = aws.ensure_control_plane(cluster, log)
    groups = [aws.apply_node_group(cluster, g.name, log) for g in cluster.node_groups]
    return plane, groups


@pytest.fixture
def home(tmp_path: Any, monkeypatch: pytest.MonkeyPatch) -> Any:
    monkeypatch.setenv("CLUSTERFORGE_HOME", str(tmp_path / "home"))
    return tmp_path / "home"


def test_control_plane_then_node_groups(account: Account, home: Any) -> None:
    cluster = eks_cluster(account)
    log = Log()
    plane, groups = _build(account, cluster, log)
    assert plane.stack.action == "created"
    assert plane.stack.status == "CREATE_COMPLETE"
    assert [g.action for g in groups] == ["created", "created"]
    assert _stack_names(account) == [
        "clusterforge-payments-control-plane",
        "clusterforge-payments-nodegroup-general",
        "clusterforge-payments-nodegroup-system",
    ]
    # The stacks' order is the stage's: the control plane stack's events come first.
    created = [line for line in log if "AWS::CloudFormation::Stack) CREATE_COMPLETE" in line]
    assert "control-plane" in created[0]
    # What the templates asked EKS for is what EKS has.
    eks = account.client("eks")
    described = eks.describe_cluster(name="payments")["cluster"]
    assert described["version"] == "1.33"
    assert described["roleArn"] == account.cluster_role_arn
    assert described["tags"]["team"] == "payments"
    general = eks.describe_nodegroup(clusterName="payments", nodegroupName="general")["nodegroup"]
    assert general["scalingConfig"] == {"minSize": 3, "desiredSize": 6, "maxSize": 20}
    assert general["instanceTypes"] == ["c5.2xlarge"]
    assert general["labels"]["clusterforge.dev/nodegroup"] == "general"
    assert sorted(general["subnets"]) == sorted(
        [account.subnets[f"{REGION}a"], account.subnets[f"{REGION}b"]]
    )
    system = eks.describe_nodegroup(clusterName="payments", nodegroupName="system")["nodegroup"]
    assert system["taints"] == [{"key": "dedicated", "value": "system", "effect": "NO_SCHEDULE"}]


def test_kubeconfig_comes_from_describe_cluster_and_holds_no_secret(
    account: Account, home: Any
) -> None:
    cluster = eks_cluster(account)
    plane, _groups = _build(account, cluster, Log())
    described = account.client("eks").describe_cluster(name="payments")["cluster"]
    text = plane.kubeconfig.read_text()
    config = yaml.safe_load(text)
    assert config["clusters"][0]["cluster"]["server"] == described["endpoint"]
    ca = config["clusters"][0]["cluster"]["certificate-authority-data"]
    assert ca == described["certificateAuthority"]["data"]
    user = config["users"][0]["user"]
    assert set(user) == {"exec"}
    assert user["exec"]["args"] == ["aws", "token", "--cluster", "payments", "--region", REGION]
    assert plane.kubeconfig.stat().st_mode & 0o077 == 0
    for secret in ("AKIAIOSFODNN7EXAMPLE", "wJalrXUtnFEMI", "token:", "client-key"):
        assert secret not in text


def test_rerun_executes_no_change_set(account: Account, home: Any) -> None:
    cluster = eks_cluster(account)
    _build(account, cluster, Log())
    events_before = {name: len(s.events) for name, s in _named_stacks().items()}
    log = Log()
    plane, groups = _build(account, cluster, log)
    assert plane.stack.action == "unchanged"
    assert [g.action for g in groups] == ["unchanged", "unchanged"]
    assert plane.stack.change_set is None
    # Nothing executed: no stack got a new event. moto keeps executed change sets
    # (AWS drops them): the first build's three remain; the re-run's were deleted.
    assert {name: len(s.events) for name, s in _named_stacks().items()} == events_before
    summaries = account.client("cloudformation").list_change_sets(
        StackName="clusterforge-payments-control-plane"
    )["Summaries"]
    assert sorted(s["ExecutionStatus"] for s in summaries) == ["EXECUTE_COMPLETE"] * 3
    assert sum("no changes" in line for line in log) == 3


def _named_stacks() -> dict[str, Any]:
    return {s.name: s for s in _backend().stacks.values() if s.status != "DELETE_COMPLETE"}


def test_a_change_is_applied_through_a_change_set(account: Account, home: Any) -> None:
    import dataclasses

    from clusterforge.providers import aws

    cluster = eks_cluster(account)
    _build(account, cluster, Log())
    general = dataclasses.replace(cluster.node_group("general"), desired=8)
    changed = dataclasses.replace(cluster, node_groups=(cluster.node_groups[0], general))
    log = Log()
    result = aws.apply_node_group(changed, "general", log)
    assert result.action == "updated"
    assert result.change_set is not None
    assert any(f"executing change set {result.change_set} (UPDATE)" in line for line in log)
    group = account.client("eks").describe_nodegroup(
        clusterName="payments", nodegroupName="general"
    )["nodegroup"]
    assert group["scalingConfig"]["desiredSize"] == 8
    # The other group's stack was not touched.
    assert aws.apply_node_group(changed, "system", Log()).action == "unchanged"


def test_node_group_before_control_plane_is_refused(account: Account, home: Any) -> None:
    from clusterforge.providers import aws

    with pytest.raises(OperationFailed, match=r"control plane stack .* does not exist"):
        aws.apply_node_group(eks_cluster(account), "general", Log())
    assert _stack_names(account) == []


def test_teardown_deletes_node_groups_then_control_plane(account: Account, home: Any) -> None:
    from clusterforge.providers import aws

    cluster = eks_cluster(account)
    plane, _groups = _build(account, cluster, Log())
    log = Log()
    deleted = aws.destroy(cluster, log)
    assert deleted == [
        "clusterforge-payments-nodegroup-general",
        "clusterforge-payments-nodegroup-system",
        "clusterforge-payments-control-plane",
    ]
    assert _stack_names(account) == []
    assert account.client("eks").list_clusters()["clusters"] == []
    assert not plane.kubeconfig.exists()
    assert aws.destroy(cluster, Log()) == []  # a second teardown finds nothing to do


def test_rollback_complete_is_deleted_before_the_retry(account: Account, home: Any) -> None:
    from clusterforge.providers import aws

    cluster = eks_cluster(account)
    aws.ensure_control_plane(cluster, Log())
    # What a failed create leaves: the stack in ROLLBACK_COMPLETE (moto never rolls back).
    stack = _named_stacks()["clusterforge-payments-control-plane"]
    stack.status = "ROLLBACK_COMPLETE"
    old_id = stack.stack_id
    log = Log()
    plane = aws.ensure_control_plane(cluster, log)
    assert plane.stack.action == "created"
    assert any("ROLLBACK_COMPLETE from a failed create: deleting it" in line for line in log)
    assert _named_stacks()["clusterforge-payments-control-plane"].stack_id != old_id


def test_failing_resource_and_reason_are_in_the_error(
    account: Account, home: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    from moto.cloudformation.models import Event

    from clusterforge.providers import aws

    backend = _backend()
    execute = backend.execute_change_set

    def fail_after_execute(change_set_name: str, stack_name: str | None = None) -> None:
        # Fault injection: the create runs, then EKS refuses the cluster, and
        # CloudFormation rolls the stack back — as AWS reports it.
        execute(change_set_name, stack_name)
        stack = next(s for s in backend.stacks.values() if s.name == stack_name)
        stack.events.append(
            Event(
                stack.stack_id,
                stack.name,
                "Cluster",
                "",
                "AWS::EKS::Cluster",
                "CREATE_FAILED",
                'Resource handler returned message: "Subnet does not have enough free '
                'addresses (Service: Eks, Status Code: 400)"',
                None,
            )
        )
        stack.status = "ROLLBACK_COMPLETE"

    cluster = eks_cluster(account)
    with monkeypatch.context() as patch:
        patch.setattr(backend, "execute_change_set", fail_after_execute)
        with pytest.raises(OperationFailed) as err:
            aws.ensure_control_plane(cluster, Log())
    message = str(err.value)
    assert "ended ROLLBACK_COMPLETE" in message
    assert "Cluster (AWS::EKS::Cluster)" in message
    assert "Subnet does not have enough free addresses" in message
    # Teardown leaves nothing half-created.
    aws.destroy(cluster, Log())
    assert _stack_names(account) == []


def test_no_credential_in_logs_or_errors(account: Account, home: Any) -> None:
    from clusterforge.providers import aws

    log = Log()
    cluster = eks_cluster(account)
    _build(account, cluster, log)
    aws.destroy(cluster, log)
    text = "\n".join(log)
    assert "AKIAIOSFODNN7EXAMPLE" not in text
    assert "wJalrXUtnFEMI" not in text


def test_redaction_of_credential_shapes() -> None:
    from clusterforge.providers import aws

    url = "https://sts.x/?Action=GetCallerIdentity&X-Amz-Credential=AKIAIOSFODNN7EXAMPLE%2F2026&X-Amz-Signature=abc123"
    token = "k8s-aws-v1." + base64.urlsafe_b64encode(url.encode()).decode()
    text = aws.redact(f"{url} {token} aws_secret_access_key=wJalrXUtnFEMI/K7 ASIAABCDEFGHIJKLMNOP")
    for secret in ("AKIAIOSFODNN7EXAMPLE", "abc123", token, "wJalrXUtnFEMI", "ABCDEFGHIJKLMNOP"):
        assert secret not in text
    assert "X-Amz-Signature=***" in text


def test_a_never_executed_create_is_created_anew(account: Account, home: Any) -> None:
    from clusterforge.providers import aws

    cluster = eks_cluster(account)
    cfn = account.client("cloudformation")
    cfn.create_change_set(
        StackName="clusterforge-payments-control-plane",
        ChangeSetName="abandoned",
        ChangeSetType="CREATE",
        TemplateBody=aws.render(aws.control_plane_template(cluster)),
    )
    assert _named_stacks()["clusterforge-payments-control-plane"].status == "REVIEW_IN_PROGRESS"
    assert "REVIEW_IN_PROGRESS" in aws.run_check(cluster, "stacks")  # not a blocker
    log = Log()
    plane = aws.ensure_control_plane(cluster, log)
    assert plane.stack.action == "created"
    assert plane.stack.status == "CREATE_COMPLETE"
    assert any("REVIEW_IN_PROGRESS from a create never executed" in line for line in log)
