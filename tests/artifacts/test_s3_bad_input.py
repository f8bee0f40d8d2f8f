"""Bad S3 input in real workflows, against the real SeaweedFS server.

Each workflow runs on the local engine with an ``artifact-repositories``
document whose entries are broken one way each — refused credentials, an
endpoint nobody listens on, a bucket that does not exist, a key format that
leaves the workflow's prefix. What must hold: the step ends in Error with one
message naming the repository entry, its endpoint and bucket (never the
secret); it is retried as its ``retryStrategy`` says (Argo's default policy,
OnFailure, does not retry an Error); and nothing is left in the bucket — no
object, no multipart upload still open.
"""

from __future__ import annotations

import socket
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from clusterforge.engine import LocalEngine, Submission, WorkflowView
from tests.artifacts.seaweed import S3Server

WRONG_SECRET = "not-the-secret-0123456789"
ENTRY = """\
  {key}: |
    archiveLogs: {logs}
    s3:
      endpoint: {endpoint}
      bucket: {bucket}
      insecure: true
      accessKeySecret: {{name: {secret}, key: accesskey}}
      secretKeySecret: {{name: {secret}, key: secretkey}}
      keyFormat: "{key_format}"
"""


@dataclass(frozen=True)
class Setup:
    engine: LocalEngine
    s3: S3Server
    closed: str  # host:port where nothing listens


def _closed_port() -> str:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return f"127.0.0.1:{sock.getsockname()[1]}"


def _entries(s3: S3Server, closed: str) -> str:
    good = {"endpoint": s3.endpoint, "bucket": s3.bucket, "secret": "good", "logs": "false"}
    good["key_format"] = "{{workflow.name}}/{{pod.name}}"
    entries = {
        "good": good,
        "wrong-creds": {**good, "secret": "wrong"},
        "wrong-creds-logs": {**good, "secret": "wrong", "logs": "true"},
        "unreachable": {**good, "endpoint": closed},
        "no-bucket": {**good, "bucket": "no-such-bucket-e2e"},
        "escape": {**good, "key_format": "{{workflow.name}}/../{{pod.name}}"},
        "escape-logs": {**good, "key_format": "../{{pod.name}}", "logs": "true"},
        "no-secret": {**good, "secret": "absent"},
    }
    return "".join(ENTRY.format(key=key, **fields) for key, fields in entries.items())


@pytest.fixture
def setup(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, s3_server: S3Server) -> Setup:
    secrets = tmp_path / "secrets"
    for name, secret in (("good", s3_server.secret_key), ("wrong", WRONG_SECRET)):
        (secrets / name).mkdir(parents=True)
        (secrets / name / "accesskey").write_text(s3_server.access_key)
        (secrets / name / "secretkey").write_text(secret)
    closed = _closed_port()
    config = tmp_path / "artifact-repositories.yaml"
    config.write_text(
        "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: artifact-repositories\n"
        "  annotations:\n    workflows.argoproj.io/default-artifact-repository: good\n"
        "data:\n" + _entries(s3_server, closed)
    )
    monkeypatch.setenv("CLUSTERFORGE_HOME", str(tmp_path / "home"))
    monkeypatch.setenv("CLUSTERFORGE_ARTIFACT_REPOSITORIES", str(config))
    monkeypatch.setenv("CLUSTERFORGE_SECRETS_DIR", str(secrets))
    return Setup(LocalEngine(tmp_path / "home"), s3_server, closed)


def _workflow(name: str, repository: str, retry: dict[str, Any] | None, **main: Any) -> str:
    """One step writing 9 MiB (past the multipart threshold) as an output artifact."""
    import yaml

    template: dict[str, Any] = {
        "name": "main",
        "container": {
            "image": "alpine",
            "command": ["sh", "-c", "head -c 9437184 /dev/urandom > /tmp/out.bin; echo wrote"],
        },
        "outputs": {"artifacts": [{"name": "out", "path": "/tmp/out.bin"}]},
        **main,
    }
    if retry is not None:
        template["retryStrategy"] = retry
    doc = {
        "apiVersion": "argoproj.io/v1alpha1",
        "kind": "Workflow",
        "metadata": {"name": name},
        "spec": {
            "entrypoint": "main",
            "artifactRepositoryRef": {"key": repository},
            "templates": [template],
        },
    }
    return yaml.safe_dump(doc)


def _run(setup: Setup, text: str) -> WorkflowView:
    view = setup.engine.submit(Submission(text=text))
    setup.engine.join(view.id)
    return setup.engine.get(view.id)


def _attempts(view: WorkflowView) -> list[tuple[str, str]]:
    pods = sorted((n for n in view.nodes.values() if n.type == "Pod"), key=lambda n: n.name)
    return [(n.phase, n.message) for n in pods]


def _nothing_left(s3: S3Server, prefix: str) -> None:
    """No object and no open multipart upload under ``prefix`` (read with boto3)."""
    client = s3.client()
    listed = client.list_objects_v2(Bucket=s3.bucket, Prefix=prefix)
    assert [o["Key"] for o in listed.get("Contents", [])] == []
    uploads = client.list_multipart_uploads(Bucket=s3.bucket, Prefix=prefix)
    assert [u["Key"] for u in uploads.get("Uploads", [])] == []


@pytest.mark.parametrize(
    ("policy", "attempts"),
    [({"limit": 2, "retryPolicy": "Always"}, 3), ({"limit": 2}, 1), (None, 1)],
    ids=["Always-retried", "OnFailure-not-retried", "no-retryStrategy"],
)
def test_refused_credentials_fail_each_attempt_naming_the_repository(
    setup: Setup, policy: dict[str, Any] | None, attempts: int
) -> None:
    name = f"s3-creds-{attempts}-{'x' if policy is None else len(policy)}"
    view = _run(setup, _workflow(name, "wrong-creds", policy))
    assert view.phase in ("Failed", "Error")
    tried = _attempts(view)
    assert len(tried) == attempts
    where = f"artifact repository 'artifact-repositories/wrong-creds' (s3 {setup.s3.url}/"
    for phase, message in tried:
        assert phase == "Error"
        assert where + f"{setup.s3.bucket})" in message
        assert "outputs.artifacts.out" in message
        assert "refused the credentials" in message
        assert WRONG_SECRET not in message
        assert setup.s3.secret_key not in message
    _nothing_left(setup.s3, f"{name}/")


def test_an_unreachable_endpoint_is_retried_then_one_clear_error(setup: Setup) -> None:
    view = _run(setup, _workflow("s3-gone", "unreachable", {"limit": 1, "retryPolicy": "OnError"}))
    tried = _attempts(view)
    assert [phase for phase, _ in tried] == ["Error", "Error"]
    for _phase, message in tried:
        assert f"'artifact-repositories/unreachable' (s3 http://{setup.closed}/" in message
        assert "cannot connect to the endpoint" in message
    _nothing_left(setup.s3, "s3-gone/")


def test_a_missing_bucket_says_which(setup: Setup) -> None:
    view = _run(setup, _workflow("s3-nobucket", "no-bucket", None))
    [(phase, message)] = _attempts(view)
    assert phase == "Error"
    assert f"(s3 {setup.s3.url}/no-such-bucket-e2e)" in message
    assert "the bucket does not exist" in message


def test_archived_logs_to_a_refusing_repository_end_the_step_in_error(setup: Setup) -> None:
    view = _run(setup, _workflow("s3-logs", "wrong-creds-logs", None, outputs={}))
    [(phase, message)] = _attempts(view)
    assert phase == "Error"
    assert "'artifact-repositories/wrong-creds-logs'" in message
    assert "refused the credentials" in message
    _nothing_left(setup.s3, "s3-logs/")


@pytest.mark.parametrize("repository", ["escape", "escape-logs"])
def test_a_key_format_leaving_the_workflow_prefix_is_refused(setup: Setup, repository: str) -> None:
    view = _run(setup, _workflow(f"s3-{repository}", repository, None))
    [(phase, message)] = _attempts(view)
    assert phase == "Error"
    assert "keyFormat" in message
    assert "would leave the workflow's prefix" in message
    listed = setup.s3.client().list_objects_v2(Bucket=setup.s3.bucket, Prefix="s3-escape")
    assert listed.get("Contents", []) == []  # nor where the escaped key would have pointed


def test_an_unreadable_secret_fails_the_input_naming_the_file_not_the_value(
    setup: Setup,
) -> None:
    main = {
        "outputs": {},
        "inputs": {"artifacts": [{"name": "in", "path": "/tmp/in.txt", "s3": {"key": "k/in"}}]},
    }
    view = _run(
        setup, _workflow("s3-nosecret", "no-secret", {"limit": 1, "retryPolicy": "Always"}, **main)
    )
    tried = _attempts(view)
    assert [phase for phase, _ in tried] == ["Error", "Error"]
    for _phase, message in tried:
        assert "'artifact-repositories/no-secret'" in message
        assert "secret absent/accesskey is not readable" in message


@pytest.mark.parametrize(
    "key", ["{{workflow.name}}/../../outside.bin", "/absolute/outside.bin", "../outside.bin"]
)
def test_an_artifact_key_leaving_the_prefix_is_refused(setup: Setup, key: str) -> None:
    outputs = {"artifacts": [{"name": "out", "path": "/tmp/out.bin", "s3": {"key": key}}]}
    view = _run(setup, _workflow("s3-keyout", "good", None, outputs=outputs))
    [(phase, message)] = _attempts(view)
    assert phase == "Error"
    assert "outputs.artifacts.out" in message
    assert "key" in message
    _nothing_left(setup.s3, "outside.bin")
    _nothing_left(setup.s3, "absolute/")
    _nothing_left(setup.s3, "s3-keyout/")
