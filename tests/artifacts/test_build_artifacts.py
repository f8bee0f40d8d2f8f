"""A build's reports, logs and spec in the repository; served by the API and the CLI.

The build here is a real workflow run by the real engine, recorded by the
pipeline's store exactly as ``Pipeline.start`` records one, with the report
files the validation stage writes — no cluster needed to test where they go.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from dataclasses import asdict
from pathlib import Path

import pytest

from clusterforge.engine import LocalEngine, Submission
from clusterforge.stages import BuildArtifacts, BuildRecord, Pipeline
from tests.api.conftest import TOKEN, start_server, stop_server

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
        done = subprocess.run(
            [
                sys.executable,
                "-m",
                "clusterforge.cli",
                "artifacts",
                "get",
                build,
                "validation",
                "--server",
                server.url,
                "-o",
                str(out),
            ],
            env=env,
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )
        assert done.returncode == 0, done.stderr
        assert (
            out / build / node / "main.log"
        ).read_text() == "validating the cluster\na warning\n"
        local = subprocess.run(
            [sys.executable, "-m", "clusterforge.cli", "artifacts", "ls", build],
            env={**os.environ},
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )
        assert local.returncode == 0, local.stderr
        assert "reports/junit.xml" in local.stdout
    finally:
        stop_server(server)
