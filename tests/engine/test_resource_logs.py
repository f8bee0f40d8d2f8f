"""A resource node has a log, as Argo's pod for it has: the kubectl commands run,
the object acted on, each condition evaluation, the outputs saved — shown by
``logs`` and archived as ``main-logs`` with ``archiveLogs``. Against the
session's kwok cluster. Nothing secret reaches the log: not a Secret's data
kubectl printed, nor the kubeconfig."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from tests.management import Cluster

from clusterforge.engine import LocalEngine, Submission
from clusterforge.engine.local._operator.resource_log import redact

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


@pytest.fixture
def namespace(argo_cluster: Cluster) -> Iterator[str]:
    name = f"rl-{uuid.uuid4().hex[:10]}"
    argo_cluster.kubectl_run("create", "namespace", name)
    yield name
    argo_cluster.kubectl_run("delete", "namespace", name, "--wait=false")


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
