"""``clusterforge cluster …`` end to end, as a user types it."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from pathlib import Path

import pytest
from kwok_helpers import kubectl

CLI = str(Path(sys.executable).parent / "clusterforge")


def run(home: Path, *args: str, **env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [CLI, "cluster", *args],
        capture_output=True,
        text=True,
        timeout=300,
        env={**os.environ, "CLUSTERFORGE_HOME": str(home), "COLUMNS": "200", **env},
    )


@pytest.mark.cluster
def test_create_list_kubeconfig_delete(cluster_home: Path, tool_path: Path) -> None:
    created = run(cluster_home, "create", "cli-1", "--nodes", "2", "--instance-type", "c5.large")
    assert created.returncode == 0, created.stderr
    assert "cluster cli-1 ready" in created.stderr
    assert "2 nodes" in created.stderr

    listed = run(cluster_home, "list")
    assert listed.returncode == 0, listed.stderr
    row = next(line for line in listed.stdout.splitlines() if "cli-1" in line)
    assert "kwok" in row
    assert "https://127.0.0.1:" in row
    assert "running" in row
    assert "│ 2 " in row

    path = run(cluster_home, "kubeconfig", "cli-1")
    kubeconfig = Path(path.stdout.strip())
    assert kubeconfig == cluster_home / "clusters" / "cli-1" / "kubeconfig.yaml"
    nodes = kubectl(tool_path, kubeconfig, "get", "nodes", "-L", "node.kubernetes.io/instance-type")
    assert nodes.count("c5.large") == 2
    assert "server: https://127.0.0.1:" in run(cluster_home, "kubeconfig", "cli-1", "--raw").stdout

    again = run(cluster_home, "create", "cli-1")
    assert again.returncode == 2
    assert "cluster 'cli-1' already exists" in again.stderr
    assert "clusterforge cluster delete cli-1" in again.stderr

    deleted = run(cluster_home, "delete", "cli-1")
    assert deleted.returncode == 0, deleted.stderr
    gone = run(cluster_home, "delete", "cli-1")
    assert gone.returncode == 1
    assert "no cluster named 'cli-1'" in gone.stderr
    assert "Traceback" not in gone.stderr


@pytest.mark.cluster
def test_user_mistakes_get_one_clear_message(cluster_home: Path) -> None:
    invalid = run(cluster_home, "create", "Not_Valid")
    assert invalid.returncode == 2
    assert "invalid cluster name 'Not_Valid'" in invalid.stderr

    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        clash = run(cluster_home, "create", "clash", "--api-port", str(port))
    assert clash.returncode == 2
    assert f"port {port} on 127.0.0.1 is already in use" in clash.stderr

    unknown = run(cluster_home, "create", "odd", "--instance-type", "m9.huge")
    assert unknown.returncode == 2
    assert "unknown instance type 'm9.huge'" in unknown.stderr
    for result in (invalid, clash, unknown):
        assert "Traceback" not in result.stderr


def test_missing_tool_names_the_install_command(tmp_path: Path) -> None:
    missing = run(
        tmp_path / "home",
        "create",
        "dev",
        CLUSTERFORGE_CACHE=str(tmp_path / "empty-cache"),
        PATH=os.defpath,
    )
    assert missing.returncode == 1
    assert "kwokctl v0.8.0 is not installed; run `clusterforge tools install kwokctl`" in (
        missing.stderr
    )
    assert "Traceback" not in missing.stderr
