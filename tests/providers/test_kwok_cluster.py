"""Real local clusters: a control plane from the pinned toolchain, fake nodes from kwok."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from pathlib import Path

import pytest
from kwok_helpers import (
    configured_ports,
    kubectl,
    kubectl_json,
    listeners_of,
    listening,
    process_alive,
    wait_for_pods,
)

from clusterforge.errors import InvalidInput
from clusterforge.providers import kwok
from clusterforge.providers.kwok import ClusterExists, NodeGroup, PortInUse, Taint

pytestmark = [pytest.mark.cluster, pytest.mark.slow]

GROUPS = [
    NodeGroup("workers", "m5.large", 3, labels={"team": "web"}),
    NodeGroup(
        "gpu",
        "r5.xlarge",
        2,
        labels={"accelerator": "none"},
        taints=(Taint("dedicated", "gpu", "NoSchedule"),),
        zones=("local-1c",),
    ),
]


def test_two_node_groups_run_pods_and_jobs_and_delete_leaves_nothing(
    cluster_home: Path, tool_path: Path
) -> None:
    info = kwok.create_cluster("groups", GROUPS)

    assert (info.state, info.nodes, info.provider) == ("running", 5, "kwok")
    assert info.directory == cluster_home / "clusters" / "groups"
    assert info.kubeconfig == info.directory / "kubeconfig.yaml"
    assert info.endpoint is not None
    assert info.endpoint.startswith("https://127.0.0.1:")
    config = info.kubeconfig

    nodes = {
        n["metadata"]["name"]: n for n in kubectl_json(tool_path, config, "get", "nodes")["items"]
    }
    assert sorted(nodes) == ["gpu-0", "gpu-1", "workers-0", "workers-1", "workers-2"]
    for node in nodes.values():
        ready = [c for c in node["status"]["conditions"] if c["type"] == "Ready"]
        assert ready[0]["status"] == "True", node["metadata"]["name"]
    worker = nodes["workers-1"]
    assert worker["metadata"]["labels"]["clusterforge.dev/nodegroup"] == "workers"
    assert worker["metadata"]["labels"]["node.kubernetes.io/instance-type"] == "m5.large"
    assert worker["metadata"]["labels"]["topology.kubernetes.io/zone"] == "local-1b"
    assert worker["metadata"]["labels"]["team"] == "web"
    assert worker["status"]["capacity"]["cpu"] == "2"
    assert worker["status"]["capacity"]["memory"] == "8Gi"
    assert worker["status"]["capacity"]["pods"] == "29"
    assert worker["status"]["allocatable"]["cpu"] == "1930m"
    assert not worker["spec"].get("taints")
    gpu = nodes["gpu-0"]
    assert gpu["metadata"]["labels"]["node.kubernetes.io/instance-type"] == "r5.xlarge"
    assert gpu["metadata"]["labels"]["topology.kubernetes.io/zone"] == "local-1c"
    assert gpu["spec"]["taints"] == [{"key": "dedicated", "value": "gpu", "effect": "NoSchedule"}]
    assert gpu["status"]["capacity"]["memory"] == "32Gi"

    kubectl(tool_path, config, "create", "deployment", "web", "--image=nginx", "--replicas=2")
    pods = wait_for_pods(tool_path, config, "app=web", "Running", 2)
    assert {pod["spec"]["nodeName"] for pod in pods} <= {"workers-0", "workers-1", "workers-2"}
    assert all(pod["status"].get("podIP") for pod in pods)

    kubectl(tool_path, config, "create", "job", "once", "--image=busybox", "--", "true")
    kubectl(tool_path, config, "wait", "--for=condition=complete", "job/once", "--timeout=120s")
    wait_for_pods(tool_path, config, "job-name=once", "Succeeded", 1)

    with pytest.raises(ClusterExists, match="clusterforge cluster delete groups"):
        kwok.create_cluster("groups", GROUPS)

    pids = kwok.cluster_processes("groups")
    assert set(pids) == {
        "etcd",
        "kube-apiserver",
        "kube-controller-manager",
        "kube-scheduler",
        "kwok-controller",
    }
    ports = configured_ports(info.directory)
    assert len(ports) == 6
    assert all(listening(port) for port in ports)
    assert {port for port, _ in listeners_of(info.directory, ports)} == ports

    kwok.delete_cluster("groups")

    assert not [pid for pid in pids.values() if process_alive(pid)]
    assert listeners_of(info.directory, ports) == []
    assert not info.directory.exists()
    assert kwok.list_clusters() == []


def test_create_again_converges_node_groups(cluster_home: Path, tool_path: Path) -> None:
    kwok.create_cluster("converge", GROUPS)
    pids = kwok.cluster_processes("converge")

    again = kwok.create_cluster("converge", GROUPS, exist_ok=True)
    assert again.nodes == 5
    assert kwok.cluster_processes("converge") == pids

    changed = [NodeGroup("workers", "c5.xlarge", 2, labels={"team": "api"})]
    info = kwok.create_cluster("converge", changed, exist_ok=True)

    nodes = kubectl_json(tool_path, info.kubeconfig, "get", "nodes")["items"]
    assert sorted(n["metadata"]["name"] for n in nodes) == ["workers-0", "workers-1"]
    for node in nodes:
        assert node["metadata"]["labels"]["node.kubernetes.io/instance-type"] == "c5.xlarge"
        assert node["metadata"]["labels"]["team"] == "api"
        assert node["status"]["capacity"]["cpu"] == "4"
        assert node["status"]["capacity"]["memory"] == "8Gi"

    assert kwok.apply_node_groups("converge", []) == []
    assert kubectl_json(tool_path, info.kubeconfig, "get", "nodes")["items"] == []


CREATE = (
    "import sys; from clusterforge.providers import kwok; "
    "kwok.create_cluster(sys.argv[1], [kwok.NodeGroup('pool', count=2)])"
)


def test_three_clusters_at_once_do_not_clash(
    cluster_home: Path, tool_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Three processes at once, two sharing a data directory and one on its
    # own: kwokctl only sees the clusters of its own directory.
    homes = {"one": cluster_home, "two": cluster_home, "three": cluster_home.parent / "other"}
    creating = {
        name: subprocess.Popen(
            [sys.executable, "-c", CREATE, name],
            env={**os.environ, "CLUSTERFORGE_HOME": str(home)},
            stderr=subprocess.PIPE,
            text=True,
        )
        for name, home in homes.items()
    }
    try:
        for name, process in creating.items():
            assert process.wait(timeout=300) == 0, f"{name}: {process.stderr.read()}"  # type: ignore[union-attr]

        infos, pids = [], []
        for name, home in homes.items():
            monkeypatch.setenv("CLUSTERFORGE_HOME", str(home))
            infos.append(kwok.get_cluster(name))
            pids += kwok.cluster_processes(name).values()
        assert [info.state for info in infos] == ["running"] * 3
        assert [info.nodes for info in infos] == [2, 2, 2]
        assert len({info.endpoint for info in infos}) == 3
        port_sets = [configured_ports(info.directory) for info in infos]
        all_ports = [port for ports in port_sets for port in ports]
        assert len(all_ports) == len(set(all_ports)) == 18
        for info in infos:
            nodes = kubectl(tool_path, info.kubeconfig, "get", "nodes", "-o", "name").split()
            assert nodes == ["node/pool-0", "node/pool-1"]
    finally:
        for name, home in homes.items():
            monkeypatch.setenv("CLUSTERFORGE_HOME", str(home))
            kwok.delete_cluster(name, missing_ok=True)

    assert not [pid for pid in pids if process_alive(pid)]
    for info, ports in zip(infos, port_sets, strict=True):
        assert listeners_of(info.directory, ports) == []
    monkeypatch.setenv("CLUSTERFORGE_HOME", str(cluster_home))
    assert kwok.list_clusters() == []


def test_requested_api_port_that_is_taken_is_refused(cluster_home: Path) -> None:
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        with pytest.raises(PortInUse, match=f"port {port} on 127.0.0.1 is already in use"):
            kwok.create_cluster("clash", [], api_port=port)
    assert not (cluster_home / "clusters" / "clash").exists()
    with pytest.raises(InvalidInput, match="DNS-1123"):
        kwok.create_cluster("Not_A_Name", [])


def test_api_port_can_be_chosen(cluster_home: Path, tool_path: Path) -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    info = kwok.create_cluster("fixed", [NodeGroup("pool", count=1)], api_port=port)
    assert info.endpoint == f"https://127.0.0.1:{port}"
    with pytest.raises(PortInUse, match="already used by cluster 'fixed'"):
        kwok.create_cluster("second", [], api_port=port)
    kwok.delete_cluster("fixed")
    assert listeners_of(info.directory, {port}) == []


def test_no_process_of_a_deleted_cluster_survives_kwokctl_being_gone(
    cluster_home: Path, tool_path: Path, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    info = kwok.create_cluster("orphan", [])
    pids = kwok.cluster_processes("orphan")
    # Without the toolchain (an empty cache, nothing on PATH) delete still
    # stops the processes named in the pid files.
    monkeypatch.setenv("CLUSTERFORGE_CACHE", str(tmp_path / "empty-cache"))
    monkeypatch.setenv("PATH", os.defpath)
    kwok.delete_cluster("orphan")
    assert not [pid for pid in pids.values() if process_alive(pid)]
    assert not info.directory.exists()
