"""The provider's vocabulary: what an EKS cluster request holds, in plain values.

The stages layer maps a validated cluster spec onto :class:`EksCluster`; the
provider needs nothing else (it never reads the spec), so its checks, stack
templates and kubeconfig are testable from plain values. Names of everything
the build creates derive from the cluster name (:func:`control_plane_stack`,
:func:`node_group_stack`), so a re-run finds what an earlier run made.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType

#: Prefix of every stack the provider creates.
STACK_PREFIX = "clusterforge"
#: Control-plane log types EKS knows (``Logging.ClusterLogging.EnabledTypes``).
LOG_TYPES: tuple[str, ...] = ("api", "audit", "authenticator", "controllerManager", "scheduler")
#: Kubernetes taint effects as EKS spells them.
TAINT_EFFECTS = {
    "NoSchedule": "NO_SCHEDULE",
    "NoExecute": "NO_EXECUTE",
    "PreferNoSchedule": "PREFER_NO_SCHEDULE",
}
#: The label every node of a group carries (also on kwok): the group's name.
NODEGROUP_LABEL = "clusterforge.dev/nodegroup"


@dataclass(frozen=True)
class Subnet:
    id: str
    zone: str


@dataclass(frozen=True)
class Taint:
    key: str
    value: str
    effect: str  # Kubernetes spelling: NoSchedule, NoExecute, PreferNoSchedule


@dataclass(frozen=True)
class EksNodeGroup:
    """One managed node group: its own stack, after the control plane."""

    name: str
    instance_type: str
    min: int
    desired: int
    max: int
    zones: tuple[str, ...]
    labels: Mapping[str, str] = field(default_factory=dict)
    taints: tuple[Taint, ...] = ()
    max_unavailable: int = 1

    def __post_init__(self) -> None:
        object.__setattr__(self, "labels", MappingProxyType(dict(self.labels)))


@dataclass(frozen=True)
class EksCluster:
    """Everything the aws provider checks and builds for one cluster."""

    name: str
    region: str
    vpc_id: str
    subnets: tuple[Subnet, ...]
    kubernetes_version: str  # MAJOR.MINOR
    node_groups: tuple[EksNodeGroup, ...] = ()
    role_arn: str | None = None  # assumed for every call
    cluster_role_arn: str | None = None  # EKS service role; created by the stack when None
    node_role_arn: str | None = None  # node instance role; created per group when None
    endpoint_public: bool = True
    endpoint_private: bool = True
    public_access_cidrs: tuple[str, ...] = ()
    logging: tuple[str, ...] = ()
    tags: Mapping[str, str] = field(default_factory=dict)
    min_free_ips: int = 100
    required_exports: tuple[str, ...] = ()
    required_ssm_parameters: tuple[str, ...] = ()
    dns_resolvers: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        object.__setattr__(self, "tags", MappingProxyType(dict(self.tags)))

    def node_group(self, name: str) -> EksNodeGroup:
        for group in self.node_groups:
            if group.name == name:
                return group
        known = ", ".join(g.name for g in self.node_groups)
        from clusterforge.errors import InvalidInput

        raise InvalidInput(f"cluster {self.name} has no node group {name!r}; it has: {known}")

    def subnet_ids(self, zones: tuple[str, ...] = ()) -> list[str]:
        """Subnets in ``zones`` (every subnet when empty), in spec order."""
        return [s.id for s in self.subnets if not zones or s.zone in zones]


def control_plane_stack(cluster: str) -> str:
    return f"{STACK_PREFIX}-{cluster}-control-plane"


def node_group_stack(cluster: str, group: str) -> str:
    return f"{STACK_PREFIX}-{cluster}-nodegroup-{group}"


def node_group_stack_prefix(cluster: str) -> str:
    return f"{STACK_PREFIX}-{cluster}-nodegroup-"
