"""Node groups as fake Node objects.

kwok's controller adopts any Node annotated ``kwok.x-k8s.io/node: fake`` and
plays its kubelet: it marks it Ready, keeps its lease, and moves pods bound to
it through Running (and, for pods of Jobs, to Succeeded) with its default
stages. So a node group is simply ``count`` Node objects with the group's
labels, taints and instance-type capacity. Rendering is a pure function of the
node groups, which is what makes applying it idempotent: the same groups give
the same objects, and server-side apply converges a cluster onto them.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from typing import Any

from clusterforge.errors import InvalidInput
from clusterforge.providers.kwok._instances import instance_type
from clusterforge.providers.kwok._model import NodeGroup
from clusterforge.spec.nodegroups import NODE_GROUP_LABEL

# One label names a node's group everywhere (spec, provider, validation), like
# EKS's eks.amazonaws.com/nodegroup.
NODEGROUP_LABEL = NODE_GROUP_LABEL
FAKE_NODE_ANNOTATION = "kwok.x-k8s.io/node"
REGION = "local-1"

# Labels the provider sets itself; a user label may not override them.
_RESERVED = (
    NODEGROUP_LABEL,
    "node.kubernetes.io/instance-type",
    "topology.kubernetes.io/zone",
    "topology.kubernetes.io/region",
    "kubernetes.io/hostname",
)


def node_name(group: NodeGroup, index: int) -> str:
    return f"{group.name}-{index}"


def render_nodes(groups: Iterable[NodeGroup]) -> list[dict[str, Any]]:
    """The Node objects for ``groups``, in a stable order."""
    groups = list(groups)
    seen: set[str] = set()
    for group in groups:
        if group.name in seen:
            raise InvalidInput(f"node group {group.name!r} is defined twice; names must be unique")
        seen.add(group.name)
        clash = sorted(set(group.labels) & set(_RESERVED))
        if clash:
            raise InvalidInput(
                f"node group {group.name}: label {clash[0]!r} is set by clusterforge; remove it"
            )
    # "<group>-<index>" never collides across groups: an index has no "-".
    return [_node(group, index) for group in groups for index in range(group.count)]


def _node(group: NodeGroup, index: int) -> dict[str, Any]:
    kind = instance_type(group.instance_type)
    name = node_name(group, index)
    labels = {
        "beta.kubernetes.io/arch": "amd64",
        "beta.kubernetes.io/os": "linux",
        "kubernetes.io/arch": "amd64",
        "kubernetes.io/os": "linux",
        "type": "kwok",
        **group.labels,
        "kubernetes.io/hostname": name,
        NODEGROUP_LABEL: group.name,
        "node.kubernetes.io/instance-type": kind.name,
        "topology.kubernetes.io/region": REGION,
        "topology.kubernetes.io/zone": group.zones[index % len(group.zones)],
    }
    return {
        "apiVersion": "v1",
        "kind": "Node",
        "metadata": {
            "name": name,
            "annotations": {
                FAKE_NODE_ANNOTATION: "fake",
                "node.alpha.kubernetes.io/ttl": "0",
            },
            "labels": labels,
        },
        "spec": {"taints": [taint.manifest() for taint in group.taints]},
        "status": {
            "capacity": kind.capacity(),
            "allocatable": kind.allocatable(),
            "addresses": [
                {"type": "InternalIP", "address": _fake_ip(name)},
                {"type": "Hostname", "address": name},
            ],
        },
    }


def _fake_ip(name: str) -> str:
    """A stable address in 10.128.0.0/9 derived from the node name."""
    digest = hashlib.sha256(name.encode()).digest()
    return f"10.{128 + digest[0] % 128}.{digest[1]}.{1 + digest[2] % 254}"
