"""The workflow commands through the real console script: run/get/list/logs,
retry keeping succeeded nodes, stop running the exit handler, bad input exiting
2 with the file and field, and the loud warning when steps cannot get a
private /tmp."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

CLI = [sys.executable, "-m", "clusterforge.cli"]

FLAKY = """
apiVersion: argoproj.io/v1alpha1
kind: Workflow
metadata: {{name: {name}}}
spec:
  entrypoint: main
  templates:
  - name: main
    dag:
      tasks:
      - {{name: prepare, template: mark}}
      - {{name: flaky, template: flaky, depends: prepare}}
      - {{name: finish, template: mark, depends: flaky}}
  - name: mark
    container:
      image: alpine
      command: [sh, -c, 'echo run >> {runs}; echo "marked"']
  - name: flaky
    container:
      image: alpine
      command: [sh, -c, 'test -e {gate} || {{ echo "gate closed" >&2; exit 4; }}']
"""


@pytest.fixture
def env(tmp_path: Path) -> dict[str, str]:
    return {**os.environ, "CLUSTERFORGE_HOME": str(tmp_path / "home")}


def cf(env: dict[str, str], *args: str, timeout: float = 120) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*CLI, *args], env=env, capture_output=True, text=True, timeout=timeout, check=False
    )


def test_run_wait_json_then_retry_keeps_succeeded_nodes(
    tmp_path: Path, env: dict[str, str]
) -> None:
    runs, gate = tmp_path / "runs", tmp_path / "gate"
    wf = tmp_path / "wf.yaml"
    wf.write_text(FLAKY.format(name="flaky-one", runs=runs, gate=gate))

    failed = cf(env, "run", str(wf), "--wait", "-o", "json")
    assert failed.returncode == 1
    status = json.loads(failed.stdout)["status"]
    phases = {n["displayName"]: n["phase"] for n in status["nodes"].values()}
    assert status["phase"] == "Failed"
    assert phases == {
        "flaky-one": "Failed",
        "prepare": "Succeeded",
        "flaky": "Failed",
        "finish": "Omitted",
    }

    logs = cf(env, "logs", "flaky-one", "flaky")
    assert "gate closed" in logs.stdout

    gate.write_text("open")
    retried = cf(env, "retry", "flaky-one", "--wait", "-o", "json")
    assert retried.returncode == 0, retried.stderr
    after = json.loads(retried.stdout)["status"]
    assert after["phase"] == "Succeeded"
    assert {n["displayName"]: n["phase"] for n in after["nodes"].values()}["finish"] == "Succeeded"
    assert runs.read_text().split() == ["run", "run"]  # prepare once, finish once

    listed = cf(env, "list", "-o", "name")
    assert listed.stdout.split() == ["flaky-one"]
    tree = cf(env, "get", "flaky-one")
    assert "finish" in tree.stdout
    assert "Succeeded" in tree.stdout


def test_stop_terminates_steps_and_runs_the_exit_handler(
    tmp_path: Path, env: dict[str, str]
) -> None:
    wf = tmp_path / "long.yaml"
    wf.write_text(
        """
apiVersion: argoproj.io/v1alpha1
kind: Workflow
metadata: {name: long-one}
spec:
  entrypoint: main
  onExit: bye
  templates:
  - name: main
    container: {image: alpine, command: [sleep, "60"]}
  - name: bye
    container: {image: alpine, command: [echo, "status={{workflow.status}}"]}
"""
    )
    started = cf(env, "run", str(wf))  # detached: returns the name at once
    assert started.returncode == 0, started.stderr
    assert started.stdout.strip() == "long-one"
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        got = json.loads(cf(env, "get", "long-one", "-o", "json").stdout)
        if any(n["phase"] == "Running" for n in got["status"]["nodes"].values()):
            break
        time.sleep(0.2)
    assert cf(env, "stop", "long-one").returncode == 0
    while time.monotonic() < deadline + 30:
        got = json.loads(cf(env, "get", "long-one", "-o", "json").stdout)
        if got["status"]["phase"] in ("Failed", "Succeeded", "Error"):
            break
        time.sleep(0.2)
    assert got["status"]["phase"] == "Failed"
    assert "Stopped with strategy 'Stop'" in got["status"]["message"]
    nodes = {n["displayName"]: n for n in got["status"]["nodes"].values()}
    assert nodes["long-one.onExit"]["outputs"]["result"] == "status=Failed"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("spec: [unclosed\n", "bad.yaml"),
        (
            "apiVersion: argoproj.io/v1alpha1\nkind: Workflow\nmetadata: {name: x}\n"
            "spec: {entrypoint: main, templates: [{name: main, retryStrategy: {limit: [1]},"
            " container: {image: a, command: ['true']}}]}\n",
            "retryStrategy.limit",
        ),
        (
            "apiVersion: argoproj.io/v1alpha1\nkind: Workflow\nmetadata: {name: x}\n"
            "spec: {entrypoint: main, templates: [{name: main, dag: {tasks: "
            "[{name: a, template: nope}]}}]}\n",
            "nope",
        ),
        (
            "apiVersion: argoproj.io/v1alpha1\nkind: Workflow\nmetadata: {name: x}\n"
            "spec: {entrypoint: main, templates: [{name: main, dag: {tasks: "
            "[{name: a, template: t, depends: b}, {name: b, template: t, depends: a}]}},"
            " {name: t, container: {image: a, command: ['true']}}]}\n",
            "cycle",
        ),
    ],
    ids=["malformed-yaml", "wrong-type", "unknown-template", "cycle"],
)
def test_bad_input_exits_2_naming_file_and_field(
    tmp_path: Path, env: dict[str, str], text: str, expected: str
) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text(text)
    result = cf(env, "run", str(bad), "--wait")
    assert result.returncode == 2
    assert "bad.yaml" in result.stderr
    assert expected in result.stderr
    assert "Traceback" not in result.stderr
    assert cf(env, "list", "-o", "name").stdout.strip() == ""  # nothing stored


def test_without_namespaces_the_engine_warns_and_isolates_tmpdir(
    tmp_path: Path, env: dict[str, str]
) -> None:
    wf = tmp_path / "tmpdir.yaml"
    wf.write_text(
        """
apiVersion: argoproj.io/v1alpha1
kind: Workflow
metadata: {name: tmpdir-one}
spec:
  entrypoint: main
  templates:
  - name: main
    container: {image: alpine, command: [sh, -c, 'echo "$TMPDIR"']}
"""
    )
    scratch = tmp_path / "scratch"
    result = cf(
        {**env, "CLUSTERFORGE_ISOLATION": "none", "CLUSTERFORGE_SCRATCH": str(scratch)},
        *("run", str(wf), "--wait", "-o", "json"),
    )
    assert result.returncode == 0, result.stderr
    assert "will NOT get a private /tmp" in result.stderr
    out = json.loads(result.stdout)["status"]["nodes"]
    tmpdir = next(iter(out.values()))["outputs"]["result"]
    assert tmpdir.startswith(f"{scratch}/tmpdir-one-"), tmpdir
    assert tmpdir.endswith("/tmp")
