"""The aws provider's operations, as the core stage and teardown call them.

``ensure_control_plane`` converges the control-plane stack and writes the
kubeconfig from ``DescribeCluster``; ``apply_node_group`` converges one node
group's stack (the stage runs it only after the control plane); ``destroy``
deletes every node-group stack, then the control plane, waiting for each.
Every step prints its progress (stack events) to stdout, the step's log.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from clusterforge import paths
from clusterforge.errors import OperationFailed
from clusterforge.providers.aws import _stacks
from clusterforge.providers.aws._errors import aws_call
from clusterforge.providers.aws._kubeconfig import (
    kubeconfig_document,
    wait_active,
    write_kubeconfig,
)
from clusterforge.providers.aws._model import (
    EksCluster,
    control_plane_stack,
    node_group_stack,
    node_group_stack_prefix,
)
from clusterforge.providers.aws._preflight import CHECKS
from clusterforge.providers.aws._session import Aws
from clusterforge.providers.aws._templates import (
    control_plane_template,
    node_group_template,
    render,
)


@dataclass(frozen=True)
class ControlPlane:
    stack: _stacks.DeployResult
    endpoint: str
    kubeconfig: Path


def account(cluster: EksCluster) -> Aws:
    return Aws(cluster.region, cluster.role_arn)


def kubeconfig_path(name: str) -> Path:
    """Where the kubeconfig of EKS cluster ``name`` is written."""
    return paths.data_home() / "aws" / name / "kubeconfig.yaml"


def run_check(cluster: EksCluster, name: str) -> str:
    check = CHECKS.get(name)
    if check is None:
        raise OperationFailed(f"unknown aws preflight check {name!r}; known: {', '.join(CHECKS)}")
    return check(account(cluster), cluster)


def _tags(cluster: EksCluster) -> dict[str, str]:
    return {"clusterforge.dev/cluster": cluster.name, **cluster.tags}


def write_cluster_kubeconfig(aws: Aws, cluster: str, log: _stacks.Log = print) -> tuple[str, Path]:
    described = wait_active(aws, cluster, log)
    document = kubeconfig_document(aws, cluster, described)
    return described["endpoint"], write_kubeconfig(kubeconfig_path(cluster), document)


def ensure_control_plane(cluster: EksCluster, log: _stacks.Log = print) -> ControlPlane:
    """Converge the control-plane stack, then write the kubeconfig from EKS."""
    aws = account(cluster)
    body = render(control_plane_template(cluster))
    result = _stacks.deploy(
        aws.client("cloudformation"), control_plane_stack(cluster.name), body, _tags(cluster), log
    )
    endpoint, path = write_cluster_kubeconfig(aws, cluster.name, log)
    return ControlPlane(result, endpoint, path)


def apply_node_group(
    cluster: EksCluster, group: str, log: _stacks.Log = print
) -> _stacks.DeployResult:
    """Converge one node group's stack (after the control plane)."""
    aws = account(cluster)
    cfn = aws.client("cloudformation")
    if _stacks.stack_status(cfn, control_plane_stack(cluster.name)) is None:
        raise OperationFailed(
            f"node group {group}: the control plane stack {control_plane_stack(cluster.name)} "
            "does not exist; run the core stage (control plane first)"
        )
    body = render(node_group_template(cluster, cluster.node_group(group)))
    result = _stacks.deploy(cfn, node_group_stack(cluster.name, group), body, _tags(cluster), log)
    wait_active(aws, cluster.name, log, nodegroup=group)
    return result


def cluster_stacks(aws: Aws, name: str) -> list[str]:
    """Node-group stacks of the cluster (any not deleted), then its control plane stack."""
    cfn = aws.client("cloudformation")
    prefix = node_group_stack_prefix(name)
    groups: list[str] = []
    with aws_call("listing CloudFormation stacks"):
        for page in cfn.get_paginator("list_stacks").paginate():
            groups.extend(
                s["StackName"]
                for s in page.get("StackSummaries", [])
                if s["StackName"].startswith(prefix) and s["StackStatus"] != "DELETE_COMPLETE"
            )
    return [*sorted(set(groups)), control_plane_stack(name)]


def destroy(cluster: EksCluster, log: _stacks.Log = print) -> list[str]:
    """Delete the node-group stacks, then the control plane; the names actually deleted."""
    aws = account(cluster)
    cfn = aws.client("cloudformation")
    deleted = [name for name in cluster_stacks(aws, cluster.name) if _stacks.delete(cfn, name, log)]
    kubeconfig_path(cluster.name).unlink(missing_ok=True)
    return deleted


def token(region: str, cluster: str, role_arn: str | None = None) -> str:
    """The ExecCredential JSON for ``clusterforge aws token``."""
    from clusterforge.providers.aws._token import exec_credential

    return exec_credential(Aws(region, role_arn), cluster)
