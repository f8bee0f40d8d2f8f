"""A local Argo management cluster: kwok plus the real workflow-controller.

``clusterforge argo up`` gives a developer what a platform team runs
centrally, on one machine: a kwok cluster (a real API server, simulated
nodes), Argo's full CRDs applied server-side (the full CRDs carry the whole
schema, so the API server prunes and validates as in production), the
controller's ConfigMap, and Argo's ``workflow-controller`` — the binary the
toolchain builds from the pinned module — as a host process talking to the
cluster through its kubeconfig. Leader election is off (one replica, no
Lease needed); the metrics port is a free loopback port written into the
ConfigMap. Argo hard-codes its health endpoint on :6060; a second cluster's
controller logs that the port is taken and carries on.

kwok runs no containers, so ``up`` also starts the host executor
(``clusterforge.engine.argo.host_executor``, its own process): it runs each
step pod Argo creates as a host process and reports its outputs and exit
code the way Argo's executor and a kubelet would (docs/argo.md says exactly
how that differs from a kubelet).

State lives under ``<data home>/argo/<name>/``: the controller's and the
executor's pids, their logs, the steps' output (``steps/``) and the facts
``status`` prints.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path

import yaml

from clusterforge import paths
from clusterforge.errors import InvalidInput, NotFound, OperationFailed
from clusterforge.providers.kwok import NodeGroup
from clusterforge.stages import clusters
from clusterforge.stages.argo._schemas import workflows_module_dir
from clusterforge.tools import resolve

NAMESPACE = "default"
CONFIGMAP = "workflow-controller-configmap"
_CRD_SUBDIR = Path("manifests") / "base" / "crds" / "full"

Report = Callable[[str], None]


def _quiet(_message: str) -> None:
    return None


@dataclass(frozen=True)
class Management:
    """One local management cluster, as ``argo status`` shows it."""

    name: str
    cluster: str
    kubeconfig: str
    pid: int
    metrics_port: int
    log: str
    controller_running: bool = False
    executor_running: bool = False
    executor_pid: int = 0
    executor_log: str = ""
    steps_dir: str = ""


_NAME = re.compile(r"^[a-z0-9]([-a-z0-9]{0,40}[a-z0-9])?$")


def check_name(name: str) -> str:
    """A management cluster name becomes a directory and a cluster name: validate it."""
    if not _NAME.fullmatch(name):
        raise InvalidInput(
            f"--name {name!r}: use lower-case letters, digits and '-' (at most 42 characters)"
        )
    return name


def state_dir(name: str) -> Path:
    return paths.data_home() / "argo" / check_name(name)


def cluster_name(name: str) -> str:
    """The kwok cluster behind management cluster ``name``."""
    return f"argo-{name}"


def up(name: str, *, report: Report = _quiet) -> Management:
    """Create management cluster ``name``; on any failure nothing is left behind."""
    check_name(name)
    crds = crd_files()
    controller = resolve("workflow-controller")
    kubectl = resolve("kubectl")
    existing = read_state(name)
    if existing is not None and existing.controller_running:
        raise InvalidInput(
            f"management cluster {name!r} is already up (controller pid {existing.pid}); "
            f"`clusterforge argo down --name {name}` first"
        )
    directory = state_dir(name)
    pid: int | None = None
    executor = 0
    try:
        kubeconfig, port = _provision(name, crds, kubectl, report)
        directory.mkdir(parents=True, exist_ok=True)
        log = directory / "workflow-controller.log"
        report(f"starting {controller.name} (log: {log})")
        pid = _start_controller(controller, kubeconfig, log)
        executor_log = directory / "host-executor.log"
        report(f"starting the host executor (log: {executor_log})")
        executor = _start_host_executor(kubeconfig, directory / "steps", executor_log)
        state = Management(
            name,
            cluster_name(name),
            str(kubeconfig),
            pid,
            port,
            str(log),
            controller_running=True,
            executor_running=True,
            executor_pid=executor,
            executor_log=str(executor_log),
            steps_dir=str(directory / "steps"),
        )
        (directory / "state.json").write_text(json.dumps(asdict(state), indent=2), "utf-8")
        _wait_for_metrics(port, pid, log)
    except BaseException:
        report("failed; removing what was started")
        for started in (pid, executor):
            if started:
                _stop(started)
        clusters.delete(cluster_name(name), missing_ok=True)
        shutil.rmtree(directory, ignore_errors=True)
        raise
    return state


def _provision(name: str, crds: list[Path], kubectl: Path, report: Report) -> tuple[Path, int]:
    """The kwok cluster with Argo's CRDs and the controller's ConfigMap."""
    report(f"starting the kwok cluster {cluster_name(name)}")
    info = clusters.ensure(cluster_name(name), [NodeGroup("workers", count=2)])
    kubeconfig = Path(info.kubeconfig)
    report(f"applying Argo's CRDs ({len(crds)}, server-side)")
    files = [f"-f={crd}" for crd in crds]
    for crd in files:  # one at a time: on a busy machine all eight in one request time out
        _kubectl(kubectl, kubeconfig, "apply", "--server-side", crd, attempts=3)
    _kubectl(kubectl, kubeconfig, "wait", "--for=condition=Established", "--timeout=180s", *files)
    port = free_port()
    report(f"writing {CONFIGMAP} (metrics on 127.0.0.1:{port})")
    configmap = controller_configmap(port)
    _kubectl(kubectl, kubeconfig, "apply", "--server-side", "-f=-", stdin=configmap)
    return kubeconfig, port


def down(name: str, *, report: Report = _quiet) -> None:
    """Stop the controller and delete the kwok cluster; nothing is left behind."""
    state = read_state(name)
    if state is None:
        raise NotFound(f"no management cluster {name!r}; `clusterforge argo status` lists them")
    if state.controller_running:
        report(f"stopping workflow-controller (pid {state.pid})")
        _stop(state.pid)
    if state.executor_running:
        report(f"stopping the host executor (pid {state.executor_pid})")
        _stop(state.executor_pid)
    report(f"deleting the kwok cluster {state.cluster}")
    clusters.delete(state.cluster, missing_ok=True)
    shutil.rmtree(state_dir(name))


def status() -> list[Management]:
    """Every management cluster this user has, and whether its controller runs."""
    root = paths.data_home() / "argo"
    names = [item.name for item in sorted(root.iterdir())] if root.is_dir() else []
    found = [read_state(name) for name in names if _NAME.fullmatch(name)]
    return [state for state in found if state is not None]


def read_state(name: str) -> Management | None:
    path = state_dir(name) / "state.json"
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        state = Management(**{**data, "controller_running": False, "executor_running": False})
    except (OSError, ValueError, TypeError):
        return None
    executor = bool(state.executor_pid) and _alive(state.executor_pid)
    return Management(
        **{**asdict(state), "controller_running": _alive(state.pid), "executor_running": executor}
    )


def crd_files() -> list[Path]:
    """Argo's full CRDs from the pinned module (downloaded by the toolchain build)."""
    folder = workflows_module_dir() / _CRD_SUBDIR
    files = sorted(folder.glob("argoproj.io_*.yaml"))
    if not files:
        raise NotFound(
            f"Argo's CRDs are not in the Go module cache ({folder}); run "
            "`clusterforge tools install workflow-controller`"
        )
    return files


def controller_configmap(metrics_port: int, namespace: str = NAMESPACE) -> str:
    """The controller's ConfigMap: metrics on a free port, plain HTTP, loopback."""
    config = {
        "metricsConfig": yaml.safe_dump(
            {"enabled": True, "port": metrics_port, "secure": False}, sort_keys=False
        ),
    }
    return yaml.safe_dump(
        {
            "apiVersion": "v1",
            "kind": "ConfigMap",
            "metadata": {"name": CONFIGMAP, "namespace": namespace},
            "data": config,
        },
        sort_keys=False,
    )


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _start_controller(controller: Path, kubeconfig: Path, log: Path) -> int:
    env = {**os.environ, "LEADER_ELECTION_DISABLE": "true"}
    argv = [
        str(controller),
        f"--kubeconfig={kubeconfig}",
        f"--namespace={NAMESPACE}",
        "--namespaced",
        f"--configmap={CONFIGMAP}",
        "--workflow-workers=4",
        "--loglevel=info",
    ]
    return _spawn(argv, log, env)


def _spawn(argv: list[str], log: Path, env: dict[str, str] | None = None) -> int:
    """A host process in its own session (so ``_stop`` ends its whole group), output to ``log``."""
    with log.open("ab") as out:
        process = subprocess.Popen(
            argv,
            stdin=subprocess.DEVNULL,
            stdout=out,
            stderr=subprocess.STDOUT,
            env=env,
            start_new_session=True,
        )
    return process.pid


def _start_host_executor(kubeconfig: Path, steps: Path, log: Path) -> int:
    """The host executor as its own process, in its own session (see the module doc)."""
    argv = [
        sys.executable,
        "-m",
        "clusterforge.engine.argo.host_executor",
        f"--kubeconfig={kubeconfig}",
        f"--namespace={NAMESPACE}",
        f"--work-dir={steps}",
    ]
    return _spawn(argv, log)


def _wait_for_metrics(port: int, pid: int, log: Path, timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if not _alive(pid):
            tail = log.read_text(encoding="utf-8", errors="replace").splitlines()[-10:]
            raise OperationFailed("workflow-controller exited at start:\n" + "\n".join(tail))
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1.0):
                return
        except OSError:
            time.sleep(0.5)
    raise OperationFailed(
        f"workflow-controller (pid {pid}) did not serve metrics on {port} within "
        f"{timeout:.0f}s; see {log}"
    )


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    try:
        stat = Path(f"/proc/{pid}/stat").read_text(encoding="utf-8")
    except OSError:
        return True
    return stat.rsplit(")", 1)[-1].split()[0] != "Z"


def _stop(pid: int, timeout: float = 20.0) -> None:
    try:
        os.killpg(pid, signal.SIGTERM)
    except ProcessLookupError:
        return
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and _alive(pid):
        time.sleep(0.2)
    if _alive(pid):
        os.killpg(pid, signal.SIGKILL)


def _kubectl(
    kubectl: Path, kubeconfig: Path, *args: str, stdin: str | None = None, attempts: int = 1
) -> subprocess.CompletedProcess[str]:
    """Run kubectl; a server-side timeout is retried up to ``attempts`` times."""
    for attempt in range(1, attempts + 1):
        done = subprocess.run(
            [str(kubectl), f"--kubeconfig={kubeconfig}", *args],
            input=stdin,
            capture_output=True,
            text=True,
            check=False,
            timeout=300,
        )
        if done.returncode == 0:
            return done
        if "Timeout" not in done.stderr or attempt == attempts:
            break
        time.sleep(2.0 * attempt)
    raise OperationFailed(f"kubectl {args[0]} failed: {done.stderr.strip()[-800:]}")
