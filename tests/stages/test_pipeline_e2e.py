"""The main job end to end, on real kwok clusters: ``clusterforge build`` from
nothing to a validated cluster, a second build that converges without
recreating anything, each stage run alone, ``plan`` agreeing with what the build
did, preflight retries and a preflight that stops the build, hostile values that
stay data, and teardown.

The first build runs with an S3 artifact repository configured (the real
SeaweedFS server the artifact tests share, credentials from a file): its
reports, logs and spec must be in the bucket under the documented keys — read
with boto3 directly — and the CLI and the API must serve the same bytes; the
second build runs with no configuration and lands in the local repository."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from clusterforge.engine import LocalEngine, WorkflowView
from tests.api.conftest import start_server, stop_server
from tests.artifacts.seaweed import S3Server

pytestmark = [pytest.mark.cluster, pytest.mark.slow]

CLI = [sys.executable, "-m", "clusterforge.cli"]
ROOT = Path(__file__).resolve().parents[2]


def _spec(name: str, marker: Path, counter: Path, **extra: Any) -> dict[str, Any]:
    doc = yaml.safe_load((ROOT / "examples" / "dev-cluster.yaml").read_text())
    doc["metadata"]["name"] = name
    body = doc["spec"]
    body["nodeGroups"] = [
        {"name": "general", "instanceType": "m5.large", "desired": 2},
        {
            "name": "system",
            "instanceType": "c5.large",
            "desired": 1,
            "labels": {"tier": "system"},
            "taints": [{"key": "node-role.kubernetes.io/system", "effect": "NoSchedule"}],
        },
    ]
    # Fails twice, then passes: the template must retry it and the build succeed.
    flaky = (
        f'n=$(cat "{counter}" 2>/dev/null || echo 0); echo $((n + 1)) > "{counter}"; [ "$n" -ge 2 ]'
    )
    body["preflight"] = {
        "checks": [{"name": "flaky", "command": ["sh", "-c", flaky], "retries": {"limit": 3}}]
    }
    # Hostile strings that must stay data: if any reached a shell, the marker would exist.
    body["validation"] = {
        "checks": [f"there are 0 pods named 'x; touch {marker}; $(touch {marker})'"],
        "retries": {"limit": 2, "interval": "1s"},
    }
    body["addons"]["metrics-server"] = {
        "version": "0.7.2",
        "values": {"note": f"fluent bit; rm -rf / ; $(touch {marker}) `touch {marker}`"},
    }
    body.update(extra)
    return doc


def _cli(env: dict[str, str], *args: str, timeout: float = 600) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*CLI, *args], env=env, capture_output=True, text=True, timeout=timeout, check=False
    )


def _kubectl(kubeconfig: Path, *args: str) -> dict[str, Any]:
    from clusterforge.tools import resolve

    out = subprocess.run(
        [str(resolve("kubectl")), "--kubeconfig", str(kubeconfig), *args, "-o", "json"],
        capture_output=True,
        text=True,
        check=True,
    )
    data: dict[str, Any] = json.loads(out.stdout)
    return data


def _last_build(home: Path, cluster: str) -> WorkflowView:
    engine = LocalEngine(home=home)
    views = [v for v in engine.list() if v.record.labels.get("clusterforge.dev/cluster") == cluster]
    return engine.get(views[0].id)


def _by_display(view: WorkflowView) -> dict[str, str]:
    phases: dict[str, str] = {}
    for node in view.nodes.values():
        if node.type in ("Pod", "Retry", "Skipped", "TaskGroup", "DAG", "Steps"):
            phases.setdefault(node.display_name, node.phase)
    return phases


BUCKET = "e2e-builds"
"""The e2e build's own bucket on the shared server: every object in it is this module's."""

REPOSITORIES = """\
apiVersion: v1
kind: ConfigMap
metadata:
  name: artifact-repositories
  annotations:
    workflows.argoproj.io/default-artifact-repository: e2e-s3
data:
  e2e-s3: |
    s3:
      endpoint: {endpoint}
      bucket: {bucket}
      insecure: true
      credentialsFile: {credentials}
      profile: e2e
"""


class Built:
    def __init__(
        self, home: Path, env: dict[str, str], spec: Path, marker: Path, s3: S3Server
    ) -> None:
        self.home, self.env, self.spec, self.marker, self.s3 = home, env, spec, marker, s3
        self.kubeconfig = home / "clusters" / "e2e-dev" / "kubeconfig.yaml"
        self.build_id = _last_build(home, "e2e-dev").id

    def bucket(self) -> dict[str, bytes]:
        """Every object of the build bucket, read with boto3 (not through our code)."""
        client = self.s3.client()
        objects: dict[str, bytes] = {}
        for page in client.get_paginator("list_objects_v2").paginate(Bucket=BUCKET):
            for item in page.get("Contents", []):
                body = client.get_object(Bucket=BUCKET, Key=item["Key"])["Body"]
                objects[item["Key"]] = body.read()
        return objects


def _s3_env(base: Path, s3: S3Server) -> dict[str, str]:
    """The environment of a build that publishes to the bucket; credentials in a file."""
    client = s3.client()
    if BUCKET not in {b["Name"] for b in client.list_buckets().get("Buckets", [])}:
        client.create_bucket(Bucket=BUCKET)
    credentials = base / "aws-credentials"
    credentials.write_text(
        f"[e2e]\naws_access_key_id = {s3.access_key}\naws_secret_access_key = {s3.secret_key}\n"
    )
    credentials.chmod(0o600)
    config = base / "artifact-repositories.yaml"
    config.write_text(
        REPOSITORIES.format(endpoint=s3.endpoint, bucket=BUCKET, credentials=credentials)
    )
    return {"CLUSTERFORGE_ARTIFACT_REPOSITORIES": str(config)}


@pytest.fixture(scope="module")
def built(
    tmp_path_factory: pytest.TempPathFactory, tool_path: Path, s3_server: S3Server
) -> Iterator[Built]:
    base = tmp_path_factory.mktemp("pipeline")
    home = base / "home"
    marker = base / "PWNED"
    spec = base / "cluster.yaml"
    spec.write_text(yaml.safe_dump(_spec("e2e-dev", marker, base / "counter")))
    env = {**os.environ, "CLUSTERFORGE_HOME": str(home), "COLUMNS": "200"}
    env.pop("CLUSTERFORGE_ARTIFACT_REPOSITORIES", None)
    env.update(_s3_env(base, s3_server))
    result = _cli(env, "build", str(spec))
    assert result.returncode == 0, result.stdout[-4000:] + result.stderr[-4000:]
    assert "kubeconfig:" in result.stdout
    assert f"artifacts: s3 http://{s3_server.endpoint}/{BUCKET}" in result.stderr
    yield Built(home, env, spec, marker, s3_server)
    _cli(env, "destroy", str(spec))


def test_build_from_nothing_gives_a_validated_cluster(built: Built) -> None:
    view = _last_build(built.home, "e2e-dev")
    assert view.phase == "Succeeded"
    phases = _by_display(view)
    # Disabled add-ons are skipped, in the add-on stage and in validation.
    for name in ("cert-manager", "fluent-bit", "ingress-nginx", "cluster-autoscaler"):
        skipped = [
            n for n in view.nodes.values() if n.display_name == name and n.phase == "Skipped"
        ]
        assert len(skipped) == 2, name  # its install and its checks
    assert phases["coredns"] == "Succeeded"
    # The flaky preflight check failed twice and passed on its third attempt.
    attempts = sorted(
        (n.display_name, n.phase)
        for n in view.nodes.values()
        if n.display_name.startswith("extra(0:flaky)(")
    )
    assert attempts == [
        ("extra(0:flaky)(0)", "Failed"),
        ("extra(0:flaky)(1)", "Failed"),
        ("extra(0:flaky)(2)", "Succeeded"),
    ]
    nodes = _kubectl(built.kubeconfig, "get", "nodes")["items"]
    groups = sorted(n["metadata"]["labels"]["clusterforge.dev/nodegroup"] for n in nodes)
    assert groups == ["general", "general", "system"]
    summary = json.loads(
        next(
            (built.home / "builds").glob("e2e-dev-build-*/artifacts/validation/summary.json")
        ).read_text()
    )
    assert summary["failed"] == 0
    assert summary["passed"] >= 5
    assert not built.marker.exists(), "a hostile value reached a shell"


def test_plan_matches_what_the_build_did(built: Built) -> None:
    from clusterforge.spec import load_spec
    from clusterforge.stages import Pipeline

    cli = _cli(built.env, "plan", str(built.spec))
    assert cli.returncode == 0, cli.stderr
    engine = LocalEngine(home=built.home)
    planned = Pipeline(engine).plan(load_spec(built.spec))
    view = _last_build(built.home, "e2e-dev")
    phase_of: dict[str, set[str]] = {}
    for node in view.nodes.values():
        phase_of.setdefault(node.display_name, set()).add(node.phase)
    decisions = [(item.display_name, item.decision) for _depth, item in planned.walk()][1:]
    assert any(d == "skip" for _n, d in decisions)
    for name, decision in decisions:
        assert name in phase_of, f"planned {name!r} but the build has no such node"
        if decision == "skip":
            assert phase_of[name] == {"Skipped"}, name
            assert f"skip {name}" in cli.stdout
        else:
            assert "Skipped" not in phase_of[name], name


REPORTS = ("summary.json", "junit.xml", "results.tap")


def _logged_nodes(home: Path, build: str) -> dict[str, str]:
    """Each Pod node of the build that logged something → its log as published."""
    engine = LocalEngine(home=home)
    logs = {}
    for node in engine.get(build).nodes.values():
        if node.type == "Pod":
            text = "".join(line.text + "\n" for line in engine.logs(build, node.id))
            if text:
                logs[node.id] = text
    return logs


def test_the_build_reports_logs_and_spec_are_in_the_bucket(built: Built) -> None:
    build = built.build_id
    objects = {k: v for k, v in built.bucket().items() if k.startswith(f"{build}/")}
    logs = _logged_nodes(built.home, build)
    assert len(logs) >= 10  # preflight, control plane, node groups, add-ons, checks
    checks = {k for k in objects if k.startswith(f"{build}/reports/checks/")}
    assert checks, "each check's own report"
    expected = {
        f"{build}/spec.yaml",
        f"{build}/parameters.json",
        f"{build}/artifacts.json",
        *(f"{build}/reports/{name}" for name in REPORTS),
        *(f"{build}/{node}/main.log" for node in logs),
    }
    assert set(objects) - checks == expected
    local = next((built.home / "builds").glob(f"{build}/artifacts/validation"))
    for key in checks | {f"{build}/reports/{name}" for name in REPORTS}:
        relative = key.removeprefix(f"{build}/reports/")
        assert objects[key] == (local / relative).read_bytes(), key
    assert json.loads(objects[f"{build}/reports/summary.json"])["failed"] == 0
    assert objects[f"{build}/reports/results.tap"].startswith(b"TAP version 13\n1..")
    assert b"<testsuite" in objects[f"{build}/reports/junit.xml"]
    for node, text in logs.items():
        assert objects[f"{build}/{node}/main.log"].decode() == text, node
    assert yaml.safe_load(objects[f"{build}/spec.yaml"])["metadata"]["name"] == "e2e-dev"
    index = json.loads(objects[f"{build}/artifacts.json"])
    assert sorted(index["keys"]) == sorted(set(objects) - {f"{build}/artifacts.json"})


def _cli_listing(stdout: str) -> set[str]:
    rows = [line.split() for line in stdout.splitlines()]
    return {row[0] for row in rows if len(row) == 2 and row[0] != "PATH"}


def _tree(root: Path) -> dict[str, bytes]:
    return {p.relative_to(root).as_posix(): p.read_bytes() for p in root.rglob("*") if p.is_file()}


def test_cli_and_api_serve_the_bytes_in_the_bucket(
    built: Built, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    build = built.build_id
    prefix = f"{build}/"
    objects = {k.removeprefix(prefix): v for k, v in built.bucket().items() if k.startswith(prefix)}
    listed = _cli(built.env, "artifacts", "ls", build)
    assert listed.returncode == 0, listed.stderr
    assert _cli_listing(listed.stdout) == set(objects)
    got = _cli(built.env, "artifacts", "get", build, "-o", str(tmp_path / "all"))
    assert got.returncode == 0, got.stderr
    assert _tree(tmp_path / "all" / build) == objects
    node = next(iter(_logged_nodes(built.home, build)))
    one = _cli(built.env, "artifacts", "get", build, node, "-o", str(tmp_path / "one"))
    assert one.returncode == 0, one.stderr
    assert _tree(tmp_path / "one" / build) == {f"{node}/main.log": objects[f"{node}/main.log"]}
    for name in ("CLUSTERFORGE_HOME", "CLUSTERFORGE_ARTIFACT_REPOSITORIES"):
        monkeypatch.setenv(name, built.env[name])
    server = start_server(built.home)
    try:
        with server.client() as client:
            listing = client.get(f"/api/v1/builds/{build}/artifacts")
            assert listing.status_code == 200, listing.text
            assert listing.json()["repository"] == "artifact-repositories/e2e-s3"
            assert {a["path"] for a in listing.json()["artifacts"]} == set(objects)
            for path, data in objects.items():
                answer = client.get(f"/api/v1/builds/{build}/artifacts/{path}")
                assert answer.status_code == 200, path
                assert answer.content == data, path
        with server.client(token=None) as anonymous:
            denied = anonymous.get(f"/api/v1/builds/{build}/artifacts/reports/summary.json")
            assert denied.status_code == 401
    finally:
        stop_server(server)


def _secrets(built: Built) -> set[bytes]:
    """What must never be uploaded: the S3 keys, and every credential of the kubeconfig."""
    found = {built.s3.secret_key.encode(), built.s3.access_key.encode()}
    config = yaml.safe_load(built.kubeconfig.read_text())
    for user in config.get("users") or []:
        for field, value in (user.get("user") or {}).items():
            if field in ("client-key", "client-certificate", "tokenFile"):
                value = (built.kubeconfig.parent / value).read_text()  # content, not path
            if isinstance(value, str):
                found |= {
                    line.encode()
                    for line in value.splitlines()
                    if len(line) >= 16 and not line.startswith("-----")  # PEM armour is public
                }
    return found


def test_no_kubeconfig_token_or_key_is_uploaded(built: Built) -> None:
    objects = built.bucket()
    secrets = _secrets(built)
    assert len(secrets) > 2  # the kubeconfig has credentials, or this checks nothing
    for key, data in objects.items():
        assert b"PRIVATE KEY" not in data, key
        leaked = [s for s in secrets if s in data]
        assert not leaked, f"{key} holds a credential"
        assert "kubeconfig" not in key.lower(), key


def test_second_build_converges_without_recreating(built: Built) -> None:
    before_nodes = {
        n["metadata"]["name"]: n["metadata"]["uid"]
        for n in _kubectl(built.kubeconfig, "get", "nodes")["items"]
    }
    before_dns = _kubectl(built.kubeconfig, "get", "deployment", "coredns", "-n", "kube-system")
    # With no repository configured, the same build lands in the local repository.
    plain = {k: v for k, v in built.env.items() if k != "CLUSTERFORGE_ARTIFACT_REPOSITORIES"}
    result = _cli(plain, "build", str(built.spec))
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    second = _last_build(built.home, "e2e-dev").id
    assert second != built.build_id
    local = built.home / "artifacts" / second
    assert f"artifacts: local {built.home / 'artifacts'}" in result.stderr
    for name in REPORTS:
        assert (local / "reports" / name).is_file(), name
    assert {p.parent.name for p in local.glob("*/main.log")} == set(
        _logged_nodes(built.home, second)
    )
    assert not any(key.startswith(f"{second}/") for key in built.bucket())
    assert not (built.home / "artifacts" / built.build_id).exists()
    after_nodes = {
        n["metadata"]["name"]: n["metadata"]["uid"]
        for n in _kubectl(built.kubeconfig, "get", "nodes")["items"]
    }
    after_dns = _kubectl(built.kubeconfig, "get", "deployment", "coredns", "-n", "kube-system")
    assert after_nodes == before_nodes
    assert after_dns["metadata"]["uid"] == before_dns["metadata"]["uid"]
    assert after_dns["metadata"]["generation"] == before_dns["metadata"]["generation"]


@pytest.mark.parametrize("stage", ["preflight", "core", "addons", "validate"])
def test_each_stage_runs_alone(built: Built, stage: str) -> None:
    result = _cli(built.env, "stage", stage, str(built.spec))
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]


def test_fleet_lists_the_cluster(built: Built) -> None:
    result = _cli(built.env, "clusters")
    assert result.returncode == 0, result.stderr
    line = next(line for line in result.stdout.splitlines() if "e2e-dev" in line)
    assert "kwok" in line
    assert "Succeeded" in line


def test_unsatisfiable_preflight_stops_before_the_control_plane(
    tmp_path: Path, tool_path: Path
) -> None:
    home = tmp_path / "home"
    doc = _spec("e2e-blocked", tmp_path / "m", tmp_path / "c")
    doc["spec"]["preflight"] = {
        "checks": [
            {"name": "never", "command": ["false"], "retries": {"limit": 1, "interval": "1s"}}
        ]
    }
    spec = tmp_path / "blocked.yaml"
    spec.write_text(yaml.safe_dump(doc))
    env = {**os.environ, "CLUSTERFORGE_HOME": str(home)}
    result = _cli(env, "build", str(spec))
    assert result.returncode == 1
    view = _last_build(home, "e2e-blocked")
    assert view.phase == "Failed"
    displays = {n.display_name for n in view.nodes.values()}
    assert "preflight" in displays
    assert "core" not in displays
    assert "control-plane" not in displays
    assert not (home / "clusters" / "e2e-blocked").exists()


def test_invalid_cluster_name_is_rejected_before_anything_runs(tmp_path: Path) -> None:
    home = tmp_path / "home"
    doc = _spec("ok", tmp_path / "m", tmp_path / "c")
    doc["metadata"]["name"] = "bad name; rm -rf /"
    spec = tmp_path / "bad.yaml"
    spec.write_text(yaml.safe_dump(doc))
    env = {**os.environ, "CLUSTERFORGE_HOME": str(home)}
    result = _cli(env, "build", str(spec))
    assert result.returncode == 2
    assert "metadata.name" in result.stderr
    assert "Traceback" not in result.stderr
    assert not (home / "state.db").exists() or not LocalEngine(home=home).list()
