"""The CLI against a server: the same commands, no local state involved."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import httpx

from .conftest import TOKEN, Server

CLI = [sys.executable, "-m", "clusterforge.cli"]


def _cli(
    server: Server, tmp_path: Path, *args: str, token: str = TOKEN
) -> subprocess.CompletedProcess[str]:
    env = {
        **os.environ,
        "CLUSTERFORGE_SERVER": server.url,
        "CLUSTERFORGE_TOKEN": token,
        "CLUSTERFORGE_HOME": str(tmp_path / "empty-local-home"),  # proves nothing is local
        "COLUMNS": "200",
    }
    return subprocess.run([*CLI, *args], env=env, capture_output=True, text=True, timeout=120)


def test_cli_drives_a_remote_workflow(client: httpx.Client, server: Server, tmp_path: Path) -> None:
    marker = server.home / f"cli-marker-{time.time()}"
    build = client.post("/api/v1/events/test/flaky", json={"marker": str(marker)}).json()
    wid = build["id"]

    follow = _cli(server, tmp_path, "logs", wid, "-f")
    assert follow.returncode == 0, follow.stderr
    assert f"{wid}: first try fails" in follow.stdout

    got = _cli(server, tmp_path, "get", wid, "-o", "json")
    assert got.returncode == 0, got.stderr
    doc = json.loads(got.stdout)
    assert doc["status"]["phase"] == "Failed"
    assert doc["metadata"]["name"] == wid

    tree = _cli(server, tmp_path, "get", wid)
    assert wid in tree.stdout
    assert "Failed" in tree.stdout

    listed = _cli(server, tmp_path, "list", "-o", "name", "--phase", "Failed")
    assert wid in listed.stdout.split()

    retried = _cli(server, tmp_path, "retry", wid)
    assert retried.returncode == 0, retried.stderr
    assert server.wait_done(client, wid)["status"]["phase"] == "Succeeded"
    logs = _cli(server, tmp_path, "logs", wid, wid)
    assert f"{wid}: second time lucky" in logs.stdout

    slow = client.post("/api/v1/events/test/slow", json={}).json()["id"]
    deadline = time.monotonic() + 30
    while client.get(f"/api/v1/builds/{slow}").json()["status"]["phase"] != "Running":
        assert time.monotonic() < deadline
        time.sleep(0.1)
    stopped = _cli(server, tmp_path, "stop", slow)
    assert stopped.returncode == 0, stopped.stderr
    assert server.wait_done(client, slow)["status"]["phase"] in ("Failed", "Error")


def test_cli_reports_server_errors_as_user_errors(server: Server, tmp_path: Path) -> None:
    missing = _cli(server, tmp_path, "get", "no-such-build")
    assert missing.returncode == 1
    assert "not found" in missing.stderr
    assert "Traceback" not in missing.stderr
    denied = _cli(server, tmp_path, "stop", "whatever", token="wrong-token-0123456789abcdef")
    assert denied.returncode == 1
    assert "bearer token is not valid" in denied.stderr
    assert "Traceback" not in denied.stderr
