"""Durability: SIGKILL the engine mid-run, start it again, and the workflow
ends as it would have without the crash — the step that was running outlives
the engine under its supervisor (``_shim``) and is adopted, a step that ended
while no engine ran has its exit code and outputs read, no Succeeded node runs
twice, and every attempt's log is kept."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from clusterforge.engine import LocalEngine
from clusterforge.engine.local import process, shim

CLI = [sys.executable, "-m", "clusterforge.cli"]

pytestmark = pytest.mark.skipif(shim.program() is None, reason="_shim was not built")

WORKFLOW = """
apiVersion: argoproj.io/v1alpha1
kind: Workflow
metadata: {{name: crash-{variant}}}
spec:
  entrypoint: main
  templates:
  - name: main
    dag:
      tasks:
      - {{name: first, template: mark, arguments: {{parameters: [{{name: id, value: first}}]}}}}
      - {{name: slow, template: slow, depends: first}}
      - name: after
        template: mark
        depends: slow
        arguments: {{parameters: [{{name: id, value: after}}]}}
  - name: mark
    inputs: {{parameters: [{{name: id}}]}}
    container:
      image: alpine
      command: [sh, -c, 'echo "$0" >> {runs}', "{{{{inputs.parameters.id}}}}"]
  - name: slow
    outputs:
      parameters:
      - {{name: said, valueFrom: {{path: /tmp/said}}}}
    script:
      image: alpine
      command: [sh]
      source: |
        echo "slow starting"
        # Waits until the test lets it go (after the engine was killed).
        while [ ! -e {go} ]; do sleep 0.05; done
        echo slow >> {runs}
        echo "slow done"
        echo hello > /tmp/said
        exit {code}
"""


def _start(tmp: Path, variant: str, code: int = 0) -> tuple[subprocess.Popen[bytes], Path, Path]:
    runs, go = tmp / "runs.txt", tmp / "go"
    wf = tmp / "wf.yaml"
    wf.write_text(WORKFLOW.format(variant=variant, runs=runs, go=go, code=code))
    home = tmp / "home"
    env = {**os.environ, "CLUSTERFORGE_HOME": str(home)}
    proc = subprocess.Popen(
        [*CLI, "run", str(wf), "--wait", "-o", "json"],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    return proc, home, runs


def _wait_running(home: Path, workflow: str, display: str) -> int:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if (home / "state.db").exists() and _exists(home, workflow):
            for node in LocalEngine(home=home).get(workflow).nodes.values():
                running = node.display_name == display and node.phase == "Running"
                # and its first log line written, so the log spans the crash
                if running and node.pid and node.log_dir and _has_output(node.log_dir):
                    return node.pid
        time.sleep(0.1)
    raise AssertionError(f"{display} never started running")


def _has_output(log_dir: str) -> bool:
    try:
        return Path(log_dir, "stdout.log").stat().st_size > 0
    except OSError:
        return False


def _alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"


def _exists(home: Path, workflow: str) -> bool:
    return LocalEngine(home=home).store.get_workflow(workflow) is not None


def _kill_engine(tmp: Path, variant: str, code: int = 0) -> tuple[Path, Path, int]:
    proc, home, runs = _start(tmp, variant, code)
    pid = _wait_running(home, f"crash-{variant}", "slow")
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    assert _alive(pid)  # the step's shim outlived its engine
    return home, runs, pid


def _resume(home: Path, workflow: str) -> LocalEngine:
    engine = LocalEngine(home=home)
    assert engine.orphans() == [workflow]
    engine.resume([workflow])
    return engine


def test_a_running_step_is_adopted_and_ends_as_without_the_crash(tmp_path: Path) -> None:
    home, runs, shim_pid = _kill_engine(tmp_path, "adopt")
    engine = _resume(home, "crash-adopt")
    time.sleep(0.5)
    assert _alive(shim_pid)  # taken over, not killed
    (tmp_path / "go").touch()
    engine.join("crash-adopt", timeout=60)
    view = engine.get("crash-adopt")
    assert view.phase == "Succeeded"
    nodes = {n.display_name: n for n in view.nodes.values()}
    slow = nodes["slow"]
    assert (slow.phase, slow.exit_code) == ("Succeeded", 0)
    assert slow.outputs["parameters"] == [{"name": "said", "value": "hello"}]
    assert runs.read_text().split() == ["first", "slow", "after"]  # each ran once
    # the whole log: written before, during and after the engine's death
    log = Path(slow.log_dir or "", "stdout.log").read_text()
    assert log == "slow starting\nslow done\n"
    assert not _alive(shim_pid)


def test_a_step_that_ends_while_no_engine_runs_keeps_its_exit_code(tmp_path: Path) -> None:
    home, runs, shim_pid = _kill_engine(tmp_path, "ended", code=3)
    (tmp_path / "go").touch()
    deadline = time.monotonic() + 30
    while _alive(shim_pid) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not _alive(shim_pid)
    engine = _resume(home, "crash-ended")
    engine.join("crash-ended", timeout=60)
    view = engine.get("crash-ended")
    assert view.phase == "Failed"
    nodes = {n.display_name: n for n in view.nodes.values()}
    assert (nodes["slow"].phase, nodes["slow"].exit_code) == ("Failed", 3)
    assert nodes["slow"].message == "Error (exit code 3)"
    assert nodes["after"].phase == "Omitted"
    assert runs.read_text().split() == ["first", "slow"]  # not run again
    log = Path(nodes["slow"].log_dir or "", "stdout.log").read_text()
    assert log == "slow starting\nslow done\n"


def test_stop_reaches_an_adopted_step_through_its_shim(tmp_path: Path) -> None:
    home, runs, shim_pid = _kill_engine(tmp_path, "stop")
    engine = _resume(home, "crash-stop")
    time.sleep(0.5)
    engine.stop("crash-stop", strategy="Terminate")
    engine.join("crash-stop", timeout=60)
    view = engine.get("crash-stop")
    assert view.phase == "Failed"
    nodes = {n.display_name: n for n in view.nodes.values()}
    assert nodes["slow"].phase == "Failed"
    assert not _alive(shim_pid)
    marker = f"{view.id}/{Path(nodes['slow'].log_dir or '').name}"
    assert process.attempt_processes(marker) == []
    assert runs.read_text().split() == ["first"]


def test_a_step_whose_shim_was_killed_ends_in_error(tmp_path: Path) -> None:
    home, runs, shim_pid = _kill_engine(tmp_path, "lost")
    os.killpg(shim_pid, signal.SIGKILL)  # the step and its record are gone
    deadline = time.monotonic() + 10
    while _alive(shim_pid) and time.monotonic() < deadline:
        time.sleep(0.05)
    engine = _resume(home, "crash-lost")
    engine.join("crash-lost", timeout=60)
    view = engine.get("crash-lost")
    assert view.phase == "Error"
    nodes = {n.display_name: n for n in view.nodes.values()}
    assert nodes["slow"].phase == "Error"
    assert "engine restarted while this attempt was running" in nodes["slow"].message
    assert nodes["after"].phase == "Omitted"
    assert runs.read_text().split() == ["first"]
    log = Path(nodes["slow"].log_dir or "", "stdout.log").read_text()
    assert log == "slow starting\n"  # kept
