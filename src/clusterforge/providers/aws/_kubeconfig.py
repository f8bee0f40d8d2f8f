"""A kubeconfig for an EKS cluster: endpoint and CA from EKS, identity from an exec plugin.

The endpoint and the cluster's CA certificate come from ``DescribeCluster``;
the user entry holds no secret — kubectl runs ``clusterforge aws token
--cluster NAME --region R`` (plus ``--role-arn`` when the spec assumes a role)
for a fresh short-lived token each time. The file is written atomically with
mode 0600 all the same, next to where kwok keeps its clusters' kubeconfigs.
"""

from __future__ import annotations

import os
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import yaml

from clusterforge.errors import OperationFailed
from clusterforge.providers.aws._errors import aws_call
from clusterforge.providers.aws._session import Aws


def describe_cluster(aws: Aws, cluster: str) -> dict[str, Any]:
    with aws_call(f"describing EKS cluster {cluster}"):
        found: dict[str, Any] = aws.client("eks").describe_cluster(name=cluster)["cluster"]
    return found


def wait_active(
    aws: Aws, cluster: str, log: Callable[[str], None], nodegroup: str | None = None
) -> dict[str, Any]:
    """DescribeCluster (or DescribeNodegroup) once the resource is ACTIVE.

    After CloudFormation reports the stack complete EKS already is ACTIVE; the
    wait covers an EKS that is still CREATING or UPDATING, and fails on FAILED.
    """
    from clusterforge.providers.aws._session import poll_seconds
    from clusterforge.providers.aws._stacks import STACK_TIMEOUT

    eks = aws.client("eks")
    what = f"node group {nodegroup} of {cluster}" if nodegroup else f"EKS cluster {cluster}"
    deadline = time.monotonic() + STACK_TIMEOUT
    last = ""
    while True:
        with aws_call(f"describing {what}"):
            if nodegroup:
                found = eks.describe_nodegroup(clusterName=cluster, nodegroupName=nodegroup)
                item: dict[str, Any] = found["nodegroup"]
            else:
                item = eks.describe_cluster(name=cluster)["cluster"]
        status = str(item.get("status", ""))
        if status == "ACTIVE":
            return item
        if status in ("FAILED", "CREATE_FAILED", "DEGRADED", "DELETE_FAILED"):
            issues = (item.get("health") or {}).get("issues") or []
            detail = "; ".join(str(i.get("message", "")) for i in issues)
            raise OperationFailed(f"{what} is {status}" + (f": {detail}" if detail else ""))
        if status != last:
            log(f"{what} is {status}: waiting until it is ACTIVE")
            last = status
        if time.monotonic() > deadline:
            raise OperationFailed(f"{what} still {status} after {STACK_TIMEOUT / 60:.0f} minutes")
        time.sleep(poll_seconds())


def exec_command() -> str:
    """The program kubectl runs for a token: this installation's own ``clusterforge``."""
    beside = Path(sys.executable).parent / "clusterforge"
    return str(beside) if beside.is_file() else "clusterforge"


def kubeconfig_document(aws: Aws, cluster: str, described: dict[str, Any]) -> dict[str, Any]:
    endpoint = described.get("endpoint")
    ca = (described.get("certificateAuthority") or {}).get("data")
    if not endpoint or not ca:
        raise OperationFailed(
            f"EKS cluster {cluster} has no endpoint or CA yet (status "
            f"{described.get('status', '?')}): wait until it is ACTIVE, then retry"
        )
    args = ["aws", "token", "--cluster", cluster, "--region", aws.region]
    if aws.role_arn:
        args += ["--role-arn", aws.role_arn]
    name = f"{cluster}.{aws.region}.eks"
    return {
        "apiVersion": "v1",
        "kind": "Config",
        "clusters": [
            {"name": name, "cluster": {"server": endpoint, "certificate-authority-data": ca}}
        ],
        "users": [
            {
                "name": name,
                "user": {
                    "exec": {
                        "apiVersion": "client.authentication.k8s.io/v1beta1",
                        "command": exec_command(),
                        "args": args,
                        "interactiveMode": "Never",
                        "provideClusterInfo": False,
                    }
                },
            }
        ],
        "contexts": [{"name": name, "context": {"cluster": name, "user": name}}],
        "current-context": name,
    }


def write_kubeconfig(path: Path, document: dict[str, Any]) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(path.name + ".partial")
    fd = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        yaml.safe_dump(document, handle, sort_keys=False)
    partial.replace(path)
    return path
