"""Local clusters: create, converge node groups, list, delete.

A cluster is a real control plane (etcd, kube-apiserver,
kube-controller-manager, kube-scheduler) plus kwok's controller standing in
for every kubelet, all started by ``kwokctl --runtime binary`` from the pinned
toolchain and bound to 127.0.0.1. Its whole life is one directory,
``<data>/clusters/<name>/`` (``$CLUSTERFORGE_HOME`` or
``$XDG_DATA_HOME/clusterforge``): configuration, PKI, etcd data, logs, pid
files and ``kubeconfig.yaml``. Deleting the cluster stops every process named
in its pid files and removes that directory, so nothing is left listening.

Every operation is safe to repeat. Creating a cluster that exists is an error
unless ``exist_ok`` (then it is started if stopped and its node groups are
converged); applying node groups computes the full desired set of Nodes and
makes the cluster match it — creating, updating and deleting only the nodes
clusterforge manages.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import shutil
import socket
import subprocess
import time
from collections.abc import Iterator, Mapping, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import yaml

from clusterforge import paths
from clusterforge.errors import InvalidInput, NotFound, OperationFailed
from clusterforge.providers.kwok import _processes
from clusterforge.providers.kwok._kwokctl import (
    Kwokctl,
    cluster_dir,
    clusters_dir,
    write_configuration,
)
from clusterforge.providers.kwok._model import (
    DEFAULT_ZONES,
    ClusterInfo,
    ClusterState,
    NodeGroup,
    Taint,
    validate_cluster_name,
)
from clusterforge.providers.kwok._nodes import NODEGROUP_LABEL, render_nodes
from clusterforge.tools import Toolchain

_METADATA = "clusterforge.json"
_PORT_OPTIONS = (
    "kubeApiserverPort",
    "etcdPort",
    "etcdPeerPort",
    "kubeControllerManagerPort",
    "kubeSchedulerPort",
    "kwokControllerPort",
)


class ClusterExists(InvalidInput):
    """A cluster of that name is already there."""


class ClusterNotFound(NotFound):
    """No cluster of that name."""


class PortInUse(InvalidInput):
    """A requested (or needed) loopback port is taken."""


def kubeconfig_path(name: str) -> Path:
    """The admin kubeconfig of cluster ``name`` (whether or not it exists yet)."""
    return cluster_dir(validate_cluster_name(name)) / "kubeconfig.yaml"


def create_cluster(
    name: str,
    node_groups: Sequence[NodeGroup] = (),
    *,
    api_port: int | None = None,
    exist_ok: bool = False,
    timeout: float = 180.0,
    apiserver_args: Mapping[str, str] | None = None,
) -> ClusterInfo:
    """Start a local cluster and give it ``node_groups``; returns it when Ready.

    ``apiserver_args`` are extra kube-apiserver flags for a new cluster (the aws
    simulation's authentication webhook); an existing cluster keeps its own.
    """
    validate_cluster_name(name)
    render_nodes(node_groups)  # a bad node group fails before anything starts
    kwokctl = Kwokctl()
    directory = cluster_dir(name)
    with _create_lock():
        if (directory / "kwok.yaml").is_file():
            if not exist_ok:
                raise ClusterExists(
                    f"cluster {name!r} already exists ({directory}); delete it with "
                    f"`clusterforge cluster delete {name}` or choose another name"
                )
            _ensure_started(kwokctl, name, directory, timeout)
        else:
            _create(kwokctl, name, directory, api_port, timeout, apiserver_args)
    _write_metadata(directory, node_groups)
    kubeconfig = directory / "kubeconfig.yaml"
    _wait_for_service_account(kwokctl.kubectl, kubeconfig, timeout)
    _apply_nodes(kwokctl.kubectl, kubeconfig, node_groups, wait=True, timeout=timeout)
    return get_cluster(name)


def ensure_control_plane(name: str, *, timeout: float = 180.0) -> ClusterInfo:
    """Create the cluster if it is absent, start it if stopped; never touch its Nodes.

    The pipeline's control-plane step: running it again on a built cluster
    changes nothing, and node groups are converged separately, one each.
    """
    validate_cluster_name(name)
    kwokctl = Kwokctl()
    directory = cluster_dir(name)
    with _create_lock():
        if (directory / "kwok.yaml").is_file():
            _ensure_started(kwokctl, name, directory, timeout)
        else:
            _create(kwokctl, name, directory, None, timeout)
            _write_metadata(directory, ())
    _wait_for_service_account(kwokctl.kubectl, directory / "kubeconfig.yaml", timeout)
    return get_cluster(name)


def apply_node_group(
    name: str, group: NodeGroup, *, wait: bool = True, timeout: float = 120.0
) -> list[str]:
    """Converge one node group's Nodes (create, resize, relabel); other groups untouched."""
    directory = _existing(name)
    kwokctl = Kwokctl()
    names = _apply_nodes(
        kwokctl.kubectl,
        directory / "kubeconfig.yaml",
        [group],
        wait=wait,
        timeout=timeout,
        only_group=group.name,
    )
    _merge_metadata(directory, group)
    return names


def apply_node_groups(
    name: str, node_groups: Sequence[NodeGroup], *, wait: bool = True, timeout: float = 120.0
) -> list[str]:
    """Make the cluster's managed Nodes exactly ``node_groups``; returns node names."""
    directory = _existing(name)
    kwokctl = Kwokctl()
    names = _apply_nodes(
        kwokctl.kubectl, directory / "kubeconfig.yaml", node_groups, wait=wait, timeout=timeout
    )
    _write_metadata(directory, node_groups)
    return names


def delete_cluster(name: str, *, missing_ok: bool = False) -> None:
    """Stop every process of the cluster and remove its directory."""
    validate_cluster_name(name)
    directory = cluster_dir(name)
    if not directory.exists():
        if missing_ok:
            return
        raise ClusterNotFound(_not_found_message(name))
    _teardown(name, directory)


def get_cluster(name: str) -> ClusterInfo:
    """The cluster's endpoint, state and node count."""
    directory = _existing(name)
    return _describe(name, directory)


def list_clusters() -> list[ClusterInfo]:
    """Every local cluster, by name."""
    root = clusters_dir()
    if not root.is_dir():
        return []
    return [
        _describe(entry.name, entry)
        for entry in sorted(root.iterdir())
        if entry.is_dir() and (entry / "kwok.yaml").is_file()
    ]


def cluster_processes(name: str) -> dict[str, int]:
    """``{component: pid}`` of the cluster's running processes."""
    return _processes.running_pids(_existing(name))


def cluster_rss(name: str) -> int:
    """Resident memory of all of the cluster's processes, in bytes."""
    return _processes.rss_bytes(cluster_processes(name))


# -- creating ----------------------------------------------------------------


def _create(
    kwokctl: Kwokctl,
    name: str,
    directory: Path,
    api_port: int | None,
    timeout: float,
    apiserver_args: Mapping[str, str] | None = None,
) -> None:
    if directory.exists():
        # A directory without kwokctl's config is debris of an interrupted create.
        _teardown(name, directory)
    if api_port is not None:
        _check_port(api_port)
    config_file = paths.data_home() / "tmp" / f"kwokctl-{name}.yaml"
    write_configuration(
        kwokctl.configuration(api_port=api_port, apiserver_args=apiserver_args), config_file
    )
    try:
        result = kwokctl.create(name, config_file, timeout=timeout)
    finally:
        config_file.unlink(missing_ok=True)
    if result.ok:
        return
    detail = result.summary()
    _teardown(name, directory)
    if "address already in use" in result.output:
        raise PortInUse(
            f"cluster {name!r} could not start: a port was already in use ({detail}); "
            "retry, or pass --api-port with a free port"
        )
    raise OperationFailed(f"kwokctl could not create cluster {name!r}:\n{detail}")


def _ensure_started(kwokctl: Kwokctl, name: str, directory: Path, timeout: float) -> None:
    pids = _processes.component_pids(directory)
    running = _processes.running_pids(directory)
    if pids and len(running) == len(pids):
        return
    _processes.stop(_processes.identify(directory))
    result = kwokctl.start(name, timeout=timeout)
    if not result.ok:
        raise OperationFailed(f"kwokctl could not start cluster {name!r}:\n{result.summary()}")


def _check_port(port: int) -> None:
    if not 1 <= port <= 65535:
        raise InvalidInput(f"--api-port {port} is not a TCP port (1-65535)")
    for other in list_clusters():
        if port in _configured_ports(other.directory):
            raise PortInUse(
                f"port {port} is already used by cluster {other.name!r}; choose another "
                "--api-port or leave it out to get a free port"
            )
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind(("127.0.0.1", port))
        except OSError:
            raise PortInUse(
                f"port {port} on 127.0.0.1 is already in use by another process; choose "
                "another --api-port or leave it out to get a free port"
            ) from None


def _configured_ports(directory: Path) -> set[int]:
    """The ports kwokctl assigned the cluster (its KwokctlConfiguration's options)."""
    try:
        documents = list(
            yaml.load_all((directory / "kwok.yaml").read_text(encoding="utf-8"), Loader=_LOADER)
        )
    except (OSError, yaml.YAMLError):
        return set()
    for document in documents:
        if isinstance(document, dict) and document.get("kind") == "KwokctlConfiguration":
            options = document.get("options") or {}
            return {int(options[key]) for key in _PORT_OPTIONS if options.get(key)}
    return set()


@contextlib.contextmanager
def _create_lock() -> Iterator[None]:
    """Serialise kwokctl's port selection between concurrent creates.

    kwokctl takes the first free port counting down from 32767 and only knows
    the clusters of its own work directory, so two creates at once — even for
    different data directories, as parallel test workers use — would pick the
    same ports. The lock lives in the cache, which all of them share.
    """
    lock = paths.cache_home() / "locks" / "kwok-create.lock"
    lock.parent.mkdir(parents=True, exist_ok=True)
    with lock.open("a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def _wait_for_service_account(kubectl: Path, kubeconfig: Path, timeout: float) -> None:
    """Pods are admitted only once the namespace's default ServiceAccount exists."""
    deadline = time.monotonic() + timeout
    while True:
        done = _kubectl(
            kubectl,
            kubeconfig,
            "get",
            "serviceaccount",
            "default",
            "-n",
            "default",
            "-o",
            "name",
            check=False,
        )
        if done.returncode == 0:
            return
        if time.monotonic() > deadline:
            raise OperationFailed(
                f"the cluster at {kubeconfig} did not become ready within {timeout:.0f}s: "
                f"{done.stderr.strip()}"
            )
        time.sleep(0.5)


# -- nodes -------------------------------------------------------------------


def _apply_nodes(
    kubectl: Path,
    kubeconfig: Path,
    node_groups: Sequence[NodeGroup],
    *,
    wait: bool,
    timeout: float,
    only_group: str | None = None,
) -> list[str]:
    nodes = render_nodes(node_groups)
    desired = {node["metadata"]["name"]: node for node in nodes}
    selector = f"{NODEGROUP_LABEL}={only_group}" if only_group else NODEGROUP_LABEL
    if nodes:
        document = yaml.safe_dump({"apiVersion": "v1", "kind": "List", "items": nodes})
        _kubectl(
            kubectl,
            kubeconfig,
            "apply",
            "--server-side",
            "--force-conflicts",
            "--field-manager=clusterforge",
            "-f",
            "-",
            input=document,
        )
    listed = _kubectl(kubectl, kubeconfig, "get", "nodes", "-l", selector, "-o", "json")
    current = {item["metadata"]["name"]: item for item in json.loads(listed.stdout)["items"]}
    obsolete = sorted(set(current) - set(desired))
    if obsolete:
        _kubectl(kubectl, kubeconfig, "delete", "node", "--wait=false", *obsolete)
    for name, node in desired.items():
        # Status is ignored when an existing Node is updated; an instance-type
        # change reaches capacity through the status subresource.
        existing = current.get(name)
        if existing is None:
            continue
        want = {key: node["status"][key] for key in ("capacity", "allocatable")}
        have = {key: (existing.get("status") or {}).get(key) for key in want}
        if have != want:
            _kubectl(
                kubectl,
                kubeconfig,
                "patch",
                "node",
                name,
                "--subresource=status",
                "--type=merge",
                "-p",
                json.dumps({"status": want}),
            )
    if wait and nodes:
        _kubectl(
            kubectl,
            kubeconfig,
            "wait",
            "--for=condition=Ready",
            "node",
            *desired,
            f"--timeout={int(timeout)}s",
            timeout=timeout + 30,
        )
    return list(desired)


def _kubectl(
    kubectl: Path,
    kubeconfig: Path,
    *args: str,
    input: str | None = None,
    check: bool = True,
    timeout: float = 120.0,
) -> subprocess.CompletedProcess[str]:
    argv = [str(kubectl), f"--kubeconfig={kubeconfig}", *args]
    try:
        done = subprocess.run(
            argv,
            capture_output=True,
            text=True,
            input=input,
            timeout=timeout,
            check=False,
            stdin=None if input is not None else subprocess.DEVNULL,
        )
    except subprocess.TimeoutExpired:
        raise OperationFailed(f"kubectl {' '.join(args)} timed out after {timeout:.0f}s") from None
    if check and done.returncode != 0:
        raise OperationFailed(f"kubectl {' '.join(args[:3])} failed: {done.stderr.strip()}")
    return done


# -- describing and deleting -------------------------------------------------


def _existing(name: str) -> Path:
    validate_cluster_name(name)
    directory = cluster_dir(name)
    if not (directory / "kwok.yaml").is_file():
        raise ClusterNotFound(_not_found_message(name))
    return directory


def _not_found_message(name: str) -> str:
    return (
        f"no cluster named {name!r} in {clusters_dir()}; `clusterforge cluster list` shows the "
        f"existing ones, `clusterforge cluster create {name}` makes it"
    )


def _describe(name: str, directory: Path) -> ClusterInfo:
    kubeconfig = directory / "kubeconfig.yaml"
    pids = _processes.component_pids(directory)
    running = _processes.running_pids(directory)
    state: ClusterState
    if pids and len(running) == len(pids):
        state = "running"
    elif running:
        state = "degraded"
    else:
        state = "stopped"
    endpoint = None
    clusters = _read_yaml(kubeconfig).get("clusters") or []
    if clusters:
        endpoint = (clusters[0].get("cluster") or {}).get("server")
    nodes = None
    if state == "running":
        nodes = _count_nodes(kubeconfig)
    return ClusterInfo(
        name=name,
        directory=directory,
        kubeconfig=kubeconfig,
        endpoint=endpoint,
        state=state,
        nodes=nodes,
    )


def _count_nodes(kubeconfig: Path) -> int | None:
    try:
        kubectl = Toolchain().resolve("kubectl")
    except NotFound:
        return None
    done = _kubectl(
        kubectl,
        kubeconfig,
        "get",
        "nodes",
        "-o",
        "name",
        "--request-timeout=5s",
        check=False,
        timeout=15,
    )
    if done.returncode != 0:
        return None
    return len(done.stdout.split())


def _teardown(name: str, directory: Path) -> None:
    # Identify the processes before kwokctl signals them: one that is exiting
    # no longer shows the command line that proves it is this cluster's.
    targets = _processes.identify(directory)
    # Without kwokctl the pid files are still enough to stop everything.
    with contextlib.suppress(NotFound):
        Kwokctl().delete(name)
    survivors = _processes.stop(targets)
    if survivors:
        raise OperationFailed(
            f"cluster {name!r}: processes {survivors} did not stop; kill them and retry"
        )
    shutil.rmtree(directory, ignore_errors=True)
    if directory.exists():
        raise OperationFailed(f"cluster {name!r}: could not remove {directory}")


def _write_metadata(directory: Path, node_groups: Sequence[NodeGroup]) -> None:
    data: dict[str, Any] = {
        "provider": "kwok",
        "updated_at": datetime.now(UTC).isoformat(),
        "node_groups": [
            {
                "name": group.name,
                "instance_type": group.instance_type,
                "count": group.count,
                "labels": dict(group.labels),
                "taints": [taint.manifest() for taint in group.taints],
                "zones": list(group.zones),
            }
            for group in node_groups
        ],
    }
    (directory / _METADATA).write_text(json.dumps(data, indent=2) + "\n", encoding="utf-8")


def _merge_metadata(directory: Path, group: NodeGroup) -> None:
    """Record one node group's shape next to the others already recorded."""
    path = directory / _METADATA
    try:
        known = json.loads(path.read_text(encoding="utf-8")).get("node_groups", [])
    except (OSError, ValueError):
        known = []
    groups = [
        NodeGroup(
            g["name"],
            instance_type=g["instance_type"],
            count=g["count"],
            labels=g.get("labels", {}),
            taints=tuple(
                Taint(t["key"], t.get("value", ""), t["effect"]) for t in g.get("taints", [])
            ),
            zones=tuple(g.get("zones", DEFAULT_ZONES)),
        )
        for g in known
        if g.get("name") != group.name
    ]
    _write_metadata(directory, sorted([*groups, group], key=lambda g: g.name))


def _read_yaml(path: Path) -> dict[str, Any]:
    try:
        loaded = yaml.load(path.read_text(encoding="utf-8"), Loader=_LOADER)  # noqa: S506
    except (OSError, yaml.YAMLError):
        return {}
    return loaded if isinstance(loaded, dict) else {}


_LOADER: Any = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
