"""Resource templates against the session's kwok cluster, beyond one run: an engine
killed while a node waits on its conditions does not act twice when resumed,
deleting a workflow deletes what its ``setOwnerReference`` templates created
(through the owner ConfigMap and Kubernetes' garbage collector), and a server
started with ``--kubeconfig`` runs workflows posted to its API against it.

A resource node has a log, as Argo's pod for it has: the kubectl commands run,
the object acted on, each condition evaluation, the outputs saved — shown by
``logs`` and archived as ``main-logs`` with ``archiveLogs``. Nothing secret
reaches it: not a Secret's data kubectl printed, nor the kubeconfig."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml
from tests.api.conftest import start_server, stop_server
from tests.management import Cluster

from clusterforge.engine import LocalEngine, Submission
from clusterforge.engine.local._operator.resource_log import redact

CLI = [sys.executable, "-m", "clusterforge.cli"]

WAITING = """
apiVersion: argoproj.io/v1alpha1
kind: Workflow
metadata: {name: resource-crash}
spec:
  entrypoint: main
  templates:
  - name: main
    steps: [[{name: made, template: made}]]
  - name: made
    resource:
      action: create
      successCondition: metadata.labels.go == yes
      manifest: |
        apiVersion: v1
        kind: ConfigMap
        metadata: {name: crash-made}
    outputs:
      parameters: [{name: uid, valueFrom: {jsonPath: '{.metadata.uid}'}}]
"""

OWNING = """
apiVersion: argoproj.io/v1alpha1
kind: Workflow
metadata: {name: resource-owner}
spec:
  entrypoint: main
  templates:
  - name: main
    resource:
      action: create
      setOwnerReference: true
      manifest: |
        apiVersion: v1
        kind: ConfigMap
        metadata: {name: owned-one}
"""


@pytest.fixture
def namespace(argo_cluster: Cluster) -> Iterator[str]:
    name = f"rc-{uuid.uuid4().hex[:10]}"
    argo_cluster.kubectl_run("create", "namespace", name)
    yield name
    argo_cluster.kubectl_run("delete", "namespace", name, "--wait=false")


def _node_waiting(home: Path, workflow: str, display: str) -> bool:
    if not (home / "state.db").exists():
        return False
    engine = LocalEngine(home=home)
    if engine.store.get_workflow(workflow) is None:
        return False
    for node in engine.get(workflow).nodes.values():
        if node.display_name == display and node.phase == "Running":
            return (home / "runs" / workflow / "resources" / node.id / "acted.json").exists()
    return False


def test_a_resumed_resource_node_waits_on_without_acting_again(
    tmp_path: Path, argo_cluster: Cluster, namespace: str
) -> None:
    wf, home = tmp_path / "wf.yaml", tmp_path / "home"
    wf.write_text(WAITING)
    args = ["run", str(wf), "--kubeconfig", str(argo_cluster.kubeconfig), "--namespace", namespace]
    env = {**os.environ, "CLUSTERFORGE_HOME": str(home)}
    proc = subprocess.Popen(
        [*CLI, *args, "--wait"], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    deadline = time.monotonic() + 90
    while not _node_waiting(home, "resource-crash", "made"):
        assert time.monotonic() < deadline, "the resource node never started waiting"
        time.sleep(0.2)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    uid = argo_cluster.kubectl_run(
        "get", "-n", namespace, "configmap", "crash-made", "-o", "jsonpath={.metadata.uid}"
    )
    engine = LocalEngine(home=home)
    assert engine.orphans() == ["resource-crash"]
    engine.resume(["resource-crash"])
    argo_cluster.kubectl_run("label", "-n", namespace, "configmap", "crash-made", "go=yes")
    engine.join("resource-crash", timeout=90)
    view = engine.get("resource-crash")
    made = next(n for n in view.nodes.values() if n.display_name == "made")
    assert (view.phase, made.phase) == ("Succeeded", "Succeeded"), made.message
    # the same object, created once: a second create would have failed (AlreadyExists)
    assert made.outputs["parameters"] == [{"name": "uid", "value": uid}]


def test_deleting_the_workflow_deletes_what_it_owns(
    tmp_path: Path, argo_cluster: Cluster, namespace: str
) -> None:
    engine = LocalEngine(home=tmp_path / "home")
    view = engine.submit(
        Submission(text=OWNING, kubeconfig=str(argo_cluster.kubeconfig), namespace=namespace)
    )
    engine.join(view.id, timeout=90)
    assert engine.get(view.id).phase == "Succeeded"
    owner = argo_cluster.kubectl_run(
        "get",
        "-n",
        namespace,
        "configmap",
        "owned-one",
        "-o",
        "jsonpath={.metadata.ownerReferences[0].name}",
    )
    assert owner == "clusterforge-workflow-resource-owner"
    engine.delete(view.id)
    deadline = time.monotonic() + 60
    while argo_cluster.kubectl_run(
        "get", "-n", namespace, "configmap", "owned-one", "--ignore-not-found", "-o", "name"
    ).strip():
        assert time.monotonic() < deadline, "the owned ConfigMap outlived its workflow"
        time.sleep(0.5)
    assert not engine.exists(view.id)


def test_a_server_runs_api_workflows_against_its_own_kubeconfig(
    tmp_path: Path, argo_cluster: Cluster, namespace: str
) -> None:
    """``serve --kubeconfig``: the server's operator names the cluster; a workflow
    posted through Argo Server's API runs its resource template there, in the
    namespace of the URL."""
    server = start_server(tmp_path / "home", kubeconfig=str(argo_cluster.kubeconfig))
    try:
        client = server.client()
        workflow = yaml.safe_load(OWNING.replace("resource-owner", "served-owner"))
        posted = client.post(f"/api/v1/workflows/{namespace}", json={"workflow": workflow})
        assert posted.status_code == 200, posted.text
        deadline = time.monotonic() + 90
        while True:
            got = client.get(f"/api/v1/workflows/{namespace}/served-owner")
            phase = got.json().get("status", {}).get("phase")
            if phase in ("Succeeded", "Failed", "Error"):
                break
            assert time.monotonic() < deadline, f"still {phase}"
            time.sleep(0.3)
        assert phase == "Succeeded", got.text
        made = argo_cluster.kubectl_run(
            "get", "-n", namespace, "configmap", "owned-one", "-o", "name"
        )
        assert made.strip() == "configmap/owned-one"
    finally:
        stop_server(server)


LOGGED = """
apiVersion: argoproj.io/v1alpha1
kind: Workflow
metadata: {generateName: resource-log-}
spec:
  entrypoint: main
  archiveLogs: true
  templates:
  - name: main
    steps:
    - - {name: secret, template: secret}
      - {name: waits, template: waits}
      - {name: fails, template: fails}
  - name: secret
    resource:
      action: create
      manifest: |
        apiVersion: v1
        kind: Secret
        metadata: {name: log-secret}
        stringData: {password: hunter2-do-not-log}
  - name: waits
    resource:
      action: create
      successCondition: metadata.labels.ready == yes
      manifest: |
        apiVersion: v1
        kind: ConfigMap
        metadata: {name: log-ready, labels: {ready: "yes"}}
    outputs:
      parameters: [{name: uid, valueFrom: {jsonPath: '{.metadata.uid}'}}]
  - name: fails
    resource:
      action: create
      failureCondition: metadata.labels.broken == yes
      successCondition: metadata.labels.never == yes
      manifest: |
        apiVersion: v1
        kind: ConfigMap
        metadata: {name: log-broken, labels: {broken: "yes"}}
"""


def test_a_resource_nodes_log_tells_what_kubectl_did(
    tmp_path: Path, argo_cluster: Cluster, namespace: str
) -> None:
    home = tmp_path / "home"
    engine = LocalEngine(home=home)
    kubeconfig = str(argo_cluster.kubeconfig)
    view = engine.submit(Submission(text=LOGGED, kubeconfig=kubeconfig, namespace=namespace))
    engine.join(view.id, timeout=120)
    view = engine.get(view.id)
    by_name = {n.display_name: n for n in view.nodes.values()}
    assert (by_name["secret"].phase, by_name["waits"].phase) == ("Succeeded", "Succeeded")
    assert by_name["fails"].phase == "Failed"
    lines: dict[str, list[str]] = {}
    for line in engine.logs(view.id):
        lines.setdefault(line.display_name, []).append(line.text)

    waits = "\n".join(lines["waits"])
    assert f"kubectl --namespace={namespace} create -f " in waits
    assert "-o json" in waits
    assert f"Resource: {namespace}/configmap./log-ready" in waits
    assert "Waiting for conditions: metadata.labels.ready==yes" in waits.replace(" == ", "==")
    assert "success condition 'metadata.labels.ready" in waits
    assert "evaluated true" in waits
    assert "Saved output parameter: uid" in waits
    fails = "\n".join(lines["fails"])
    assert "failure condition 'metadata.labels.broken" in fails
    assert "evaluated true" in fails
    assert 'level=error msg="failure condition' in fails
    everything = "\n".join(line for group in lines.values() for line in group)
    assert "hunter2-do-not-log" not in everything  # kubectl printed it; the log does not
    assert kubeconfig not in everything

    # archiveLogs: each resource node's log is its main-logs artifact
    for display in ("secret", "waits", "fails"):
        artifacts = by_name[display].outputs.get("artifacts") or []
        assert [a["name"] for a in artifacts] == ["main-logs"], display
    archived = [p.read_text() for p in (home / "artifacts").rglob("main.log")]
    assert any(f"{namespace}/configmap./log-ready" in text for text in archived), archived
    assert not any("hunter2" in text for text in archived)


def test_sensitive_flag_values_are_redacted() -> None:
    args = ["create", "--token=abc", "--password", "p", "--from-literal=password=x", "-f", "m"]
    assert redact(args) == [
        "create",
        "--token=<redacted>",
        "--password",
        "<redacted>",
        "--from-literal=<redacted>",
        "-f",
        "m",
    ]
