"""An artifact naming its own S3 location (endpoint + bucket) is stored and read
there — with its own credentials, from secret selectors — and never in the
workflow's repository; against a real S3 server (SeaweedFS)."""

from __future__ import annotations

from pathlib import Path

import pytest

from clusterforge.engine import LocalEngine, Submission
from tests.artifacts.seaweed import S3Server

OWN = """
apiVersion: argoproj.io/v1alpha1
kind: Workflow
metadata: {{name: {name}}}
spec:
  entrypoint: main
  artifactGC: {{strategy: {gc}}}
  templates:
  - name: main
    dag:
      tasks:
      - {{name: put, template: put}}
      - name: get
        template: get
        depends: put
        arguments:
          artifacts: [{{name: in, from: "{{{{tasks.put.outputs.artifacts.named}}}}"}}]
      - name: get-keyless
        template: get
        depends: put
        arguments:
          artifacts: [{{name: in, from: "{{{{tasks.put.outputs.artifacts.keyless}}}}"}}]
  - name: put
    container: {{image: alpine, command: [sh, -c, 'echo "own bucket" > /tmp/out']}}
    outputs:
      artifacts:
      - name: named
        path: /tmp/out
        archive: {{none: {{}}}}
        s3: {{{location}, key: "own/{{{{workflow.name}}}}/out.txt"}}
      - name: keyless
        path: /tmp/out
        s3: {{{location}}}
  - name: get
    inputs:
      artifacts: [{{name: in, path: /tmp/in}}]
    container: {{image: alpine, command: [cat, /tmp/in]}}
"""


@pytest.fixture
def secrets(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, s3_server: S3Server) -> Path:
    root = tmp_path / "secrets"
    (root / "own-s3").mkdir(parents=True)
    (root / "own-s3" / "accesskey").write_text(s3_server.access_key)
    (root / "own-s3" / "secretkey").write_text(s3_server.secret_key)
    monkeypatch.setenv("CLUSTERFORGE_SECRETS_DIR", str(root))
    return root / "own-s3"


def _location(server: S3Server) -> str:
    return (
        f"endpoint: '{server.endpoint}', bucket: {server.bucket}, insecure: true, "
        "accessKeySecret: {name: own-s3, key: accesskey}, "
        "secretKeySecret: {name: own-s3, key: secretkey}"
    )


def _run(tmp_path: Path, server: S3Server, name: str, gc: str = "Never") -> tuple[str, dict]:
    engine = LocalEngine(home=tmp_path / "home")
    text = OWN.format(name=name, gc=gc, location=_location(server))
    view = engine.submit(Submission(text=text))
    engine.join(view.id, timeout=120)
    view = engine.get(view.id)
    return view.phase, {n.display_name: n for n in view.nodes.values()}


def _keys(server: S3Server, prefix: str) -> list[str]:
    listed = server.client().list_objects_v2(Bucket=server.bucket, Prefix=prefix)
    return sorted(o["Key"] for o in listed.get("Contents", []))


def test_outputs_go_to_their_own_bucket_and_inputs_come_from_it(
    tmp_path: Path, s3_server: S3Server, secrets: Path
) -> None:
    phase, nodes = _run(tmp_path, s3_server, "own-location")
    assert phase == "Succeeded", {k: n.message for k, n in nodes.items()}
    assert nodes["get"].outputs["result"] == "own bucket"
    assert nodes["get-keyless"].outputs["result"] == "own bucket"
    assert _keys(s3_server, "own/own-location/") == ["own/own-location/out.txt"]
    keyless = _keys(s3_server, "own-location/")  # Argo's key layout, in its own bucket
    assert len(keyless) == 1
    assert keyless[0].endswith("/keyless.tgz")
    entries = {a["name"]: a for a in nodes["put"].outputs["artifacts"]}
    assert entries["named"]["s3"]["bucket"] == s3_server.bucket
    assert entries["named"]["s3"]["accessKeySecret"] == {"name": "own-s3", "key": "accesskey"}
    local = tmp_path / "home" / "artifacts"
    assert not [p for p in local.rglob("*") if p.is_file()]  # nothing in the workflow's repository
    assert s3_server.secret_key not in str(entries)


def test_artifact_gc_deletes_from_the_own_bucket(
    tmp_path: Path, s3_server: S3Server, secrets: Path
) -> None:
    phase, _ = _run(tmp_path, s3_server, "own-location-gc", gc="OnWorkflowCompletion")
    assert phase == "Succeeded"
    assert _keys(s3_server, "own/own-location-gc/") == []
    assert _keys(s3_server, "own-location-gc/") == []


def test_wrong_credentials_end_the_node_in_error_naming_the_artifact(
    tmp_path: Path, s3_server: S3Server, secrets: Path
) -> None:
    (secrets / "secretkey").write_text("not-the-secret-key")
    phase, nodes = _run(tmp_path, s3_server, "own-location-denied")
    assert phase in ("Error", "Failed")
    message = nodes["put"].message
    assert nodes["put"].phase == "Error"
    assert message.startswith("outputs.artifacts.named: artifact repository 'artifacts.named.s3'")
    assert "not-the-secret-key" not in message
    assert s3_server.access_key not in message
    assert _keys(s3_server, "own/own-location-denied/") == []
