"""The embedded provider: real local control planes with simulated nodes.

A kwok cluster is the real Kubernetes control plane — etcd, kube-apiserver,
kube-controller-manager, kube-scheduler, from the pinned toolchain — with
kwok's controller playing every kubelet, so hundreds of nodes cost almost
nothing and add-ons, helm and validation all talk to a genuine API server.
Clusters are started by ``kwokctl --runtime binary`` on loopback ports and live
in ``<data>/clusters/<name>/``; node groups become fake Nodes with the
capacity of their instance type (see :data:`INSTANCE_TYPES`).

This is the only code that starts or stops local clusters; callers (the
``stages`` layer) describe node groups with :class:`NodeGroup` and
:class:`Taint` and get :class:`ClusterInfo` back.
"""

from __future__ import annotations

from clusterforge.providers.kwok._cluster import (
    ClusterExists,
    ClusterNotFound,
    PortInUse,
    apply_node_group,
    apply_node_groups,
    cluster_processes,
    cluster_rss,
    create_cluster,
    delete_cluster,
    ensure_control_plane,
    get_cluster,
    kubeconfig_path,
    list_clusters,
)
from clusterforge.providers.kwok._instances import INSTANCE_TYPES, InstanceType, instance_type
from clusterforge.providers.kwok._kwokctl import cluster_dir, clusters_dir
from clusterforge.providers.kwok._model import (
    DEFAULT_ZONES,
    ClusterInfo,
    NodeGroup,
    Taint,
    validate_cluster_name,
)
from clusterforge.providers.kwok._nodes import NODEGROUP_LABEL, render_nodes

__all__ = [
    "DEFAULT_ZONES",
    "INSTANCE_TYPES",
    "NODEGROUP_LABEL",
    "ClusterExists",
    "ClusterInfo",
    "ClusterNotFound",
    "InstanceType",
    "NodeGroup",
    "PortInUse",
    "Taint",
    "apply_node_group",
    "apply_node_groups",
    "cluster_dir",
    "cluster_processes",
    "cluster_rss",
    "clusters_dir",
    "create_cluster",
    "delete_cluster",
    "ensure_control_plane",
    "get_cluster",
    "instance_type",
    "kubeconfig_path",
    "list_clusters",
    "render_nodes",
    "validate_cluster_name",
]
