"""``clusterforge serve --engine argo``: the API submits to the real controller and
follows it through one Kubernetes watch — build streams, ``Last-Event-ID`` and
the UI's change feed included."""

from __future__ import annotations

import json
import os
import subprocess
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.argo.conftest import CLI, REPO, Cluster
from tests.serve_process import start_serve

TOKEN = "argo-serve-token-0123456789"
SENSORS = REPO / "tests" / "api" / "sensors"


class Serve:
    """A real ``clusterforge serve --engine argo`` process; restartable on the same home
    and port (a client made before a restart keeps working after it)."""

    def __init__(self, kubeconfig: Path, home: Path) -> None:
        self.home = home
        self.url = ""
        self.args = ["--engine", "argo", "--kubeconfig", str(kubeconfig)]
        self.args += ["--sensor-dir", str(SENSORS), "--data-dir", str(home)]
        self.env = {**os.environ, "CLUSTERFORGE_TOKENS": TOKEN, "CLUSTERFORGE_HOME": str(home)}
        self.process: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        port = int(self.url.rsplit(":", 1)[1]) if self.url else None
        self.process, self.url = start_serve(
            self.args, self.env, self.home / "serve.log", port=port
        )
        ready = httpx.get(f"{self.url}/readyz", timeout=2).json()
        assert ready["checks"]["workers"] == "1/1 alive"  # the watch

    def stop(self) -> None:
        if self.process is not None:
            self.process.terminate()
            self.process.wait(30)


@pytest.fixture(scope="module")
def argo_server(argo_cluster: Cluster, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Serve]:
    """``clusterforge serve --engine argo`` on the management cluster."""
    serve = Serve(argo_cluster.kubeconfig, tmp_path_factory.mktemp("argo-serve"))
    serve.start()
    try:
        yield serve
    finally:
        serve.stop()


def _client(url: str) -> httpx.Client:
    return httpx.Client(base_url=url, headers={"Authorization": f"Bearer {TOKEN}"}, timeout=120)


def _stream(client: httpx.Client, path: str, headers: dict[str, str]) -> Iterator[dict[str, Any]]:
    """Each server-sent event of ``path`` as ``{"id", "event", "data"}``."""
    with client.stream("GET", path, headers=headers) as response:
        assert response.status_code == 200
        event: dict[str, Any] = {}
        for line in response.iter_lines():
            if line.startswith("id: "):
                event["id"] = int(line[4:])
            elif line.startswith("event: "):
                event["event"] = line[7:]
            elif line.startswith("data: "):
                event["data"] = json.loads(line[6:])
            elif not line and "event" in event:
                yield event
                event = {}


def _counted(metrics: str, template: str, phase: str, count: int) -> bool:
    """Whether ``count`` steps of ``template`` ended in ``phase`` (any label order)."""
    return any(
        line.startswith("clusterforge_step_duration_seconds_count{")
        and f'template="{template}"' in line
        and f'phase="{phase}"' in line
        and line.endswith(f" {float(count)}")
        for line in metrics.splitlines()
    )


def test_a_workflow_is_submitted_to_argo_and_followed_over_sse(argo_server: Serve) -> None:
    client = _client(argo_server.url)
    announced: list[list[str]] = []

    def listen() -> None:  # the UI's feed, from now on
        for event in _stream(client, "/api/v1/changes", {}):
            announced.append(event["data"]["workflows"])
            return

    listener = threading.Thread(target=listen, daemon=True)
    listener.start()
    time.sleep(1.0)
    accepted = client.post("/api/v1/events/test/steps", json={"pause": "0.3"})
    assert accepted.status_code == 202, accepted.text
    build = accepted.json()["id"]

    events = list(_stream(client, f"/api/v1/builds/{build}/events", {}))
    end = events[-1]
    assert end["event"] == "end"
    assert end["data"]["phase"] == "Succeeded", end
    nodes = [e for e in events if e["event"] == "node"]
    ids = [e["id"] for e in nodes]
    assert ids == sorted(set(ids))  # strictly increasing: a resumable journal
    last_phase = {e["data"]["displayName"]: e["data"]["phase"] for e in nodes}
    assert {last_phase[step] for step in ("one", "two", "three")} == {"Succeeded"}
    assert last_phase[build] == "Succeeded"

    # a reconnect resumes exactly after the last id it saw: the same events again
    middle = nodes[len(nodes) // 2]["id"]
    again = list(_stream(client, f"/api/v1/builds/{build}/events", {"Last-Event-ID": str(middle)}))
    assert [e["id"] for e in again if e["event"] == "node"] == [i for i in ids if i > middle]
    assert again[-1]["event"] == "end"

    listener.join(30)
    assert announced
    assert build in announced[0]
    resumed = next(_stream(client, "/api/v1/changes", {"Last-Event-ID": str(ids[0] - 1)}))
    assert build in resumed["data"]["workflows"]

    doc = client.get(f"/api/v1/builds/{build}").json()
    assert doc["status"]["phase"] == "Succeeded"
    assert doc["metadata"]["labels"]["clusterforge.dev/sensor"] == "steps"
    logs = client.get(f"/api/v1/builds/{build}/logs").text
    assert logs.count("napped") == 3
    listed = client.get("/api/v1/builds").json()["items"]
    assert build in [item["id"] for item in listed]

    # the watch reported the end: the steps are counted in /metrics
    deadline = time.monotonic() + 30
    while not _counted(client.get("/metrics").text, "nap", "Succeeded", 3):
        assert time.monotonic() < deadline, client.get("/metrics").text[-2000:]
        time.sleep(0.5)

    # the journal outlives the server: after a restart the same ids resume the same way
    argo_server.stop()
    argo_server.start()
    restarted = list(
        _stream(client, f"/api/v1/builds/{build}/events", {"Last-Event-ID": str(middle)})
    )
    assert [e["id"] for e in restarted if e["event"] == "node"] == [i for i in ids if i > middle]
    assert restarted[-1]["data"]["phase"] == "Succeeded"


def test_a_server_on_argo_refuses_several_processes(tmp_path: Path) -> None:
    done = subprocess.run(
        [CLI, "serve", "--engine", "argo", "--processes", "2", "--data-dir", str(tmp_path)],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
        env={**os.environ, "CLUSTERFORGE_TOKENS": TOKEN},
    )
    assert done.returncode != 0
    assert "--processes" in done.stderr
    assert "Traceback" not in done.stderr


def test_the_watch_lists_again_when_its_version_is_gone(argo_cluster: Cluster) -> None:
    """A watch from a compacted resourceVersion gets 410 Gone: the informer lists
    again instead of failing, and keeps delivering changes after that."""
    from clusterforge.engine.argo._informer import Informer
    from clusterforge.engine.argo._kube import Kube

    seen: list[tuple[str, str]] = []
    informer = Informer(
        Kube(str(argo_cluster.kubeconfig), "default"),
        "workflowtemplates",
        lambda kind, obj: seen.append((kind, obj["metadata"]["name"])),
    )
    informer._follow("1")  # returns (410 handled) rather than raising
    informer.start()
    try:
        assert informer.synced.is_set()
        name = f"informer-{os.getpid()}"
        template = {"apiVersion": "argoproj.io/v1alpha1", "kind": "WorkflowTemplate"}
        template["metadata"] = {"name": name}
        template["spec"] = {"templates": [{"name": "t", "container": {"image": "a"}}]}
        argo_cluster.kubectl_run("create", "-f", "-", stdin=json.dumps(template))
        argo_cluster.kubectl_run("delete", "workflowtemplate", name)
        deadline = time.monotonic() + 30
        while ("DELETED", name) not in seen and time.monotonic() < deadline:
            informer.wait_change(1.0)
        assert ("ADDED", name) in seen
        assert ("DELETED", name) in seen
        assert informer.get(name) is None
    finally:
        informer.stop()
