"""Helpers for tests that start real kwok clusters: ports, processes, kubectl."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import time
from pathlib import Path
from typing import Any

import pytest
import yaml

PORT_OPTIONS = (
    "kubeApiserverPort",
    "etcdPort",
    "etcdPeerPort",
    "kubeControllerManagerPort",
    "kubeSchedulerPort",
    "kwokControllerPort",
)


def configured_ports(directory: Path) -> set[int]:
    documents = yaml.safe_load_all((directory / "kwok.yaml").read_text())
    config = next(d for d in documents if d.get("kind") == "KwokctlConfiguration")
    return {int(config["options"][key]) for key in PORT_OPTIONS if config["options"].get(key)}


def listeners_of(directory: Path, ports: set[int]) -> list[tuple[int, int]]:
    """``(port, pid)`` of sockets listening on ``ports`` owned by this cluster.

    A freed loopback port may be taken again at once by another cluster on the
    machine (other tests, other users); what must be gone is *this* cluster's
    listeners.
    """
    import psutil

    found = []
    for conn in psutil.net_connections(kind="tcp"):
        if conn.status != psutil.CONN_LISTEN or conn.laddr.port not in ports or conn.pid is None:
            continue
        try:
            cmdline = " ".join(psutil.Process(conn.pid).cmdline())
        except psutil.Error:
            continue
        if str(directory) in cmdline:
            found.append((conn.laddr.port, conn.pid))
    return found


def listening(port: int) -> bool:
    with socket.socket() as sock:
        sock.settimeout(1.0)
        return sock.connect_ex(("127.0.0.1", port)) == 0


def process_alive(pid: int) -> bool:
    """Alive and not a zombie (an exited process its parent has not reaped)."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    return stat.rpartition(")")[2].split()[0] != "Z"


def kubectl(tool_path: Path, kubeconfig: Path, *args: str, timeout: float = 120) -> str:
    done = subprocess.run(
        [str(tool_path / "kubectl"), f"--kubeconfig={kubeconfig}", *args],
        capture_output=True,
        text=True,
        timeout=timeout,
        env={**os.environ, "PATH": f"{tool_path}{os.pathsep}{os.environ['PATH']}"},
    )
    assert done.returncode == 0, f"kubectl {' '.join(args)}: {done.stderr}"
    return done.stdout


def kubectl_json(tool_path: Path, kubeconfig: Path, *args: str) -> dict[str, Any]:
    loaded: dict[str, Any] = json.loads(kubectl(tool_path, kubeconfig, *args, "-o", "json"))
    return loaded


def wait_for_pods(
    tool_path: Path, kubeconfig: Path, selector: str, phase: str, count: int, timeout: float = 120
) -> list[dict[str, Any]]:
    """Poll until exactly ``count`` pods match ``selector`` and are in ``phase``."""
    deadline = time.monotonic() + timeout
    while True:
        pods = kubectl_json(tool_path, kubeconfig, "get", "pods", "-l", selector)["items"]
        in_phase = [p for p in pods if p.get("status", {}).get("phase") == phase]
        if len(pods) == count and len(in_phase) == count:
            return in_phase
        if time.monotonic() > deadline:
            phases = [p.get("status", {}).get("phase") for p in pods]
            pytest.fail(f"pods {selector}: wanted {count} {phase}, have {phases}")
        time.sleep(0.5)
