"""A build's reports, logs and spec in the repository; served by the API and the CLI.

The build here is a real workflow run by the real engine, recorded by the
pipeline's store exactly as ``Pipeline.start`` records one, with the report
files the validation stage writes — no cluster needed to test where they go.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
from dataclasses import asdict
from pathlib import Path

import pytest

from clusterforge.engine import LocalEngine, Submission
from clusterforge.engine.artifacts import RepositoryError
from clusterforge.stages import BuildArtifacts, BuildRecord, Pipeline
from tests.api.conftest import TOKEN, start_server, stop_server
from tests.artifacts.seaweed import ACCESS_KEY, SECRET_KEY, S3Server

WORKFLOW = """
apiVersion: argoproj.io/v1alpha1
kind: Workflow
metadata: {name: demo-build-abcde}
spec:
  entrypoint: main
  templates:
  - name: main
    steps:
    - - {name: validation, template: say}
  - name: say
    container:
      image: alpine
      command: [sh, -c, "echo validating the cluster; echo a warning >&2"]
"""


def _make_build(home: Path) -> tuple[Pipeline, str, str]:
    engine = LocalEngine(home)
    view = engine.submit(Submission(text=WORKFLOW, labels={"clusterforge.dev/cluster": "demo"}))
    engine.join(view.id)
    artifacts = home / "builds" / view.id / "artifacts"
    reports = artifacts / "validation"
    (reports / "checks").mkdir(parents=True)
    (reports / "summary.json").write_text(json.dumps({"passed": 1, "failed": 0}))
    (reports / "junit.xml").write_text("<testsuite tests='1'/>")
    (reports / "results.tap").write_text("1..1\nok 1 nodes\n")
    (reports / "checks" / "nodes.json").write_text("{}")
    (reports / "kubeconfig.json").write_text("{'token': 'do-not-upload'}")
    (reports / "admin.key").write_text("PRIVATE")
    record = BuildRecord(
        id=view.id,
        cluster="demo",
        stage="build",
        phase="Succeeded",
        created_at=0.0,
        parameters={"cluster-name": "demo"},
        spec={"metadata": {"name": "demo"}, "spec": {"aws": {"secretAccessKey": "hidden"}}},
        artifacts_dir=str(artifacts),
    )
    engine.store.kv_put("builds", view.id, asdict(record))
    node = next(n for n in engine.get(view.id).nodes.values() if n.type == "Pod")
    return Pipeline(engine), view.id, node.id


def _cli(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    """``clusterforge ARGS`` in a new process (this one's environment unless ``env``)."""
    return subprocess.run(
        [sys.executable, "-m", "clusterforge.cli", *args],
        env=env if env is not None else {**os.environ},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


@pytest.fixture
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("CLUSTERFORGE_HOME", str(tmp_path / "home"))
    monkeypatch.delenv("CLUSTERFORGE_ARTIFACT_REPOSITORIES", raising=False)
    return tmp_path / "home"


def test_publish_puts_reports_logs_and_spec_under_the_build(home: Path) -> None:
    pipeline, build, node = _make_build(home)
    artifacts = BuildArtifacts(pipeline)
    keys = artifacts.publish(build)
    assert sorted(keys) == sorted(
        [
            f"{build}/spec.yaml",
            f"{build}/parameters.json",
            f"{build}/reports/checks/nodes.json",
            f"{build}/reports/junit.xml",
            f"{build}/reports/results.tap",
            f"{build}/reports/summary.json",
            f"{build}/{node}/main.log",
            f"{build}/artifacts.json",
        ]
    )
    root = home / "artifacts"
    assert (root / build / node / "main.log").read_text() == ("validating the cluster\na warning\n")
    assert "hidden" not in (root / build / "spec.yaml").read_text()
    everything = " ".join(p.read_text() for p in root.rglob("*") if p.is_file())
    assert "do-not-upload" not in everything
    assert "PRIVATE" not in everything
    assert [o.key for o in artifacts.list(build, "validation")] == [f"{build}/{node}/main.log"]


def test_api_lists_and_streams_with_auth_and_the_cli_downloads(home: Path, tmp_path: Path) -> None:
    _pipeline, build, node = _make_build(home)
    server = start_server(home)
    try:
        with server.client() as client:
            listing = client.get(f"/api/v1/builds/{build}/artifacts")
            assert listing.status_code == 200
            paths = {a["path"] for a in listing.json()["artifacts"]}
            assert {"reports/summary.json", f"{node}/main.log", "spec.yaml"} <= paths
            body = client.get(f"/api/v1/builds/{build}/artifacts/reports/results.tap")
            assert body.text == "1..1\nok 1 nodes\n"
            missing = client.get(f"/api/v1/builds/{build}/artifacts/reports/nope.json")
            assert missing.status_code == 404
            escape = client.get(f"/api/v1/builds/{build}/artifacts/..%2F..%2Fstate.db")
            assert escape.status_code in (404, 422)
        with server.client(token=None) as anonymous:
            denied = anonymous.get(f"/api/v1/builds/{build}/artifacts/reports/results.tap")
            assert denied.status_code == 401
        env = {**os.environ, "CLUSTERFORGE_TOKEN": TOKEN}
        out = tmp_path / "download"
        done = _cli(
            "artifacts", "get", build, "validation", "--server", server.url, "-o", str(out), env=env
        )
        assert done.returncode == 0, done.stderr
        assert (
            out / build / node / "main.log"
        ).read_text() == "validating the cluster\na warning\n"
        local = _cli("artifacts", "ls", build)
        assert local.returncode == 0, local.stderr
        assert "reports/junit.xml" in local.stdout
    finally:
        stop_server(server)


def _configure_s3(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, endpoint: str, bucket: str, secret: str
) -> None:
    """An ``s3`` default entry, its keys in secret files."""
    secrets = tmp_path / "secrets" / "s3-cred"
    secrets.mkdir(parents=True)
    (secrets / "accesskey").write_text(ACCESS_KEY)
    (secrets / "secretkey").write_text(secret)
    config = tmp_path / "artifact-repositories.yaml"
    config.write_text(
        "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: artifact-repositories\n"
        "  annotations:\n    workflows.argoproj.io/default-artifact-repository: s3\n"
        "data:\n  s3: |\n    s3:\n"
        f"      bucket: {bucket}\n      endpoint: {endpoint}\n"
        "      insecure: true\n"
        "      accessKeySecret: {name: s3-cred, key: accesskey}\n"
        "      secretKeySecret: {name: s3-cred, key: secretkey}\n"
    )
    monkeypatch.setenv("CLUSTERFORGE_ARTIFACT_REPOSITORIES", str(config))
    monkeypatch.setenv("CLUSTERFORGE_SECRETS_DIR", str(tmp_path / "secrets"))


def test_with_s3_configured_the_build_lands_in_the_bucket(
    home: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, s3_server: S3Server
) -> None:
    _configure_s3(tmp_path, monkeypatch, s3_server.endpoint, s3_server.bucket, SECRET_KEY)
    pipeline, build, node = _make_build(home)
    artifacts = BuildArtifacts(pipeline)
    assert artifacts.repo.describe() == f"s3 http://{s3_server.endpoint}/{s3_server.bucket}"
    artifacts.publish(build)
    client = s3_server.client()
    listed = client.list_objects_v2(Bucket=s3_server.bucket, Prefix=f"{build}/")
    keys = {item["Key"] for item in listed.get("Contents", [])}
    assert {f"{build}/reports/junit.xml", f"{build}/{node}/main.log", f"{build}/spec.yaml"} <= keys
    body = client.get_object(Bucket=s3_server.bucket, Key=f"{build}/{node}/main.log")["Body"]
    assert body.read() == b"validating the cluster\na warning\n"
    assert not (home / "artifacts").exists()


def test_refused_credentials_publish_nothing_and_name_the_repository(
    home: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    s3_server: S3Server,
) -> None:
    _configure_s3(tmp_path, monkeypatch, s3_server.endpoint, s3_server.bucket, "wrong-0123456789")
    pipeline, build, _node = _make_build(home)
    before = _stored(s3_server, build)  # the bucket is shared: another test may have published
    with pytest.raises(RepositoryError) as caught:
        BuildArtifacts(pipeline).publish(build)
    message = str(caught.value)
    assert message.startswith(
        f"artifact repository 'artifact-repositories/s3' (s3 {s3_server.url}/{s3_server.bucket}): "
        f"cannot write {build}/"
    )
    assert "refused the credentials" in message
    assert "wrong-0123456789" not in message
    assert _stored(s3_server, build) == before
    # `clusterforge build` says the same as one warning; the build's own result stands.
    from clusterforge.cli.build import _publish

    capsys.readouterr()
    _publish(pipeline, build)
    warning = capsys.readouterr().err
    assert warning == f"warning: artifacts not published: {message}\n"


def _stored(s3: S3Server, build: str) -> list[tuple[str, str, object]]:
    listed = s3.client().list_objects_v2(Bucket=s3.bucket, Prefix=f"{build}/")
    return [(o["Key"], o["ETag"], o["LastModified"]) for o in listed.get("Contents", [])]


def test_an_unreachable_repository_is_one_error_in_the_cli_and_the_api(
    home: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        closed = f"127.0.0.1:{sock.getsockname()[1]}"
    _configure_s3(tmp_path, monkeypatch, closed, "builds", SECRET_KEY)
    _pipeline, build, _node = _make_build(home)
    where = f"artifact repository 'artifact-repositories/s3' (s3 http://{closed}/builds)"
    cli = _cli("artifacts", "ls", build)
    assert cli.returncode == 1
    assert where in cli.stderr
    assert "cannot connect to the endpoint" in cli.stderr
    assert "Traceback" not in cli.stderr
    server = start_server(home)
    try:
        with server.client() as client:
            answer = client.get(f"/api/v1/builds/{build}/artifacts")
        # docs/api.md: an upstream that cannot be reached is a 502, naming it
        assert answer.status_code == 502
        error = answer.json()["error"]
        assert error["code"] == "bad_gateway"
        assert error["message"].startswith(where)
        assert "cannot connect to the endpoint" in error["message"]
        assert SECRET_KEY not in answer.text
    finally:
        stop_server(server)
