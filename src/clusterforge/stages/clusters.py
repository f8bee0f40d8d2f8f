"""Local clusters, as the front ends may touch them.

Front ends never import a provider (an import-linter contract); this facade
is the one door from the CLI, the API and the pipeline's summaries to the
kwok provider. It stays small on purpose: create, delete, list, kubeconfig,
plus the node-group converge the core stage uses — and, for the aws provider,
the kubeconfig path and the EKS token of ``clusterforge aws token``. Everything about how a
cluster is run lives in :mod:`clusterforge.providers.kwok`.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from clusterforge.providers import kwok
from clusterforge.providers.kwok import ClusterInfo, NodeGroup, Taint
from clusterforge.spec import ClusterSpec

DEFAULT_INSTANCE_TYPE = "m5.large"
DEFAULT_NODE_GROUP = "workers"


def create(
    name: str,
    *,
    nodes: int = 3,
    instance_type: str = DEFAULT_INSTANCE_TYPE,
    api_port: int | None = None,
) -> ClusterInfo:
    """A new local cluster with one node group of ``nodes`` nodes."""
    groups = [NodeGroup(DEFAULT_NODE_GROUP, instance_type=instance_type, count=nodes)]
    return kwok.create_cluster(name, groups, api_port=api_port)


def ensure(name: str, node_groups: Sequence[NodeGroup]) -> ClusterInfo:
    """Create the cluster if needed (or start it) and converge its node groups."""
    return kwok.create_cluster(name, node_groups, exist_ok=True)


def ensure_control_plane(name: str) -> ClusterInfo:
    """The pipeline's control-plane step: start it if needed; nodes are left alone."""
    return kwok.ensure_control_plane(name)


def apply_node_group(name: str, group: NodeGroup) -> list[str]:
    """The pipeline's node-group step: converge one group; other groups untouched."""
    return kwok.apply_node_group(name, group)


def delete(name: str, *, missing_ok: bool = False) -> None:
    """Stop the cluster's processes and remove its directory."""
    kwok.delete_cluster(name, missing_ok=missing_ok)


def list_all() -> list[ClusterInfo]:
    """Every local cluster with its endpoint, state and node count."""
    return kwok.list_clusters()


def get(name: str) -> ClusterInfo:
    return kwok.get_cluster(name)


def kubeconfig_path(name: str, provider: str = "kwok") -> Path:
    """The kubeconfig of cluster ``name``: kwok's admin one, or aws's exec-plugin one."""
    if provider == "aws":
        from clusterforge.providers import aws

        return aws.kubeconfig_path(name)
    return kwok.kubeconfig_path(name)


def aws_plan(spec: ClusterSpec) -> list[str]:
    """The aws stacks and change sets a build of ``spec`` would deploy (nothing is called)."""
    from clusterforge.providers import aws
    from clusterforge.stages.eks import eks_cluster

    return aws.plan_lines(eks_cluster(spec))


def aws_token(cluster: str, region: str, role_arn: str | None = None) -> str:
    """The EKS ExecCredential (JSON) for ``clusterforge aws token``: never logged or stored."""
    from clusterforge.providers import aws

    return aws.token(region, cluster, role_arn)


def instance_types() -> list[str]:
    return list(kwok.INSTANCE_TYPES)


__all__ = [
    "ClusterInfo",
    "NodeGroup",
    "Taint",
    "apply_node_group",
    "aws_plan",
    "aws_token",
    "create",
    "delete",
    "ensure",
    "ensure_control_plane",
    "get",
    "instance_types",
    "kubeconfig_path",
    "list_all",
]
