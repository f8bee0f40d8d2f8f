"""Durability: SIGKILL the engine mid-run, start it again, and the workflow
completes — no Succeeded node runs twice, the interrupted attempt is retried
under its retryStrategy (or ends in Error with a clear message), and every
attempt's log is kept."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from clusterforge.engine import LocalEngine

CLI = [sys.executable, "-m", "clusterforge.cli"]

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
    {retry}
    script:
      image: alpine
      command: [sh]
      source: |
        echo "slow starting"
        # The first attempt waits until the engine is killed (and must itself be
        # killed by the restarted engine); later attempts finish at once.
        if [ "{retry_wait}" = "no" ] || [ "{{{{retries}}}}" = "0" ]; then sleep 300; fi
        echo slow >> {runs}
"""


def _start(tmp: Path, variant: str, retry: str) -> tuple[subprocess.Popen[bytes], Path, Path]:
    runs = tmp / "runs.txt"
    wf = tmp / "wf.yaml"
    wf.write_text(
        WORKFLOW.format(
            variant=variant, runs=runs, retry=retry, retry_wait="yes" if retry else "no"
        )
    )
    home = tmp / "home"
    env = {**os.environ, "CLUSTERFORGE_HOME": str(home)}
    proc = subprocess.Popen(
        [*CLI, "run", str(wf), "--wait", "-o", "json"],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    return proc, home, runs


def _wait_running(home: Path, workflow: str, display: str) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if (home / "state.db").exists():
            view = LocalEngine(home=home).get(workflow) if _exists(home, workflow) else None
            if view is not None:
                for node in view.nodes.values():
                    if node.display_name == display and node.phase == "Running" and node.pid:
                        time.sleep(0.5)  # let it write its first log line
                        return
        time.sleep(0.1)
    raise AssertionError(f"{display} never started running")


def _alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"


def _exists(home: Path, workflow: str) -> bool:
    return LocalEngine(home=home).store.get_workflow(workflow) is not None


def test_sigkill_then_resume_completes_without_rerunning(tmp_path: Path) -> None:
    retry = "retryStrategy: {limit: 2, retryPolicy: OnTransientError}"
    proc, home, runs = _start(tmp_path, "retry", retry)
    _wait_running(home, "crash-retry", "slow(0)")
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    engine = LocalEngine(home=home)
    orphan = next(
        n.pid for n in engine.get("crash-retry").nodes.values() if n.display_name == "slow(0)"
    )
    assert orphan is not None
    assert _alive(orphan)  # the step outlived its engine
    assert engine.get("crash-retry").phase == "Running"
    assert engine.orphans() == ["crash-retry"]

    env = {**os.environ, "CLUSTERFORGE_HOME": str(home)}
    resumed = subprocess.run(
        [*CLI, "resume", "crash-retry"],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert resumed.returncode == 0, resumed.stderr

    view = engine.get("crash-retry")
    assert not _alive(orphan)  # the restarted engine killed the abandoned attempt
    assert view.phase == "Succeeded"
    nodes = {n.display_name: n for n in view.nodes.values()}
    assert nodes["slow(0)"].phase == "Error"
    assert "engine restarted" in nodes["slow(0)"].message
    assert nodes["slow(1)"].phase == "Succeeded"
    # first ran exactly once (never re-run), slow completed once, after once.
    assert runs.read_text().split() == ["first", "slow", "after"]
    # The interrupted attempt's log is kept next to the new one's.
    first_log = Path(nodes["slow(0)"].log_dir or "") / "stdout.log"
    assert first_log.read_text().startswith("slow starting")
    assert (
        Path(nodes["slow(1)"].log_dir or "", "stdout.log").read_text().startswith("slow starting")
    )


def test_interrupted_step_without_retry_ends_in_error(tmp_path: Path) -> None:
    proc, home, runs = _start(tmp_path, "noretry", "")
    _wait_running(home, "crash-noretry", "slow")
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    engine = LocalEngine(home=home)
    engine.resume(["crash-noretry"])
    engine.join("crash-noretry", timeout=60)
    view = engine.get("crash-noretry")
    assert view.phase == "Error"
    nodes = {n.display_name: n for n in view.nodes.values()}
    assert nodes["slow"].phase == "Error"
    assert "engine restarted while this attempt was running" in nodes["slow"].message
    assert nodes["after"].phase == "Omitted"
    assert runs.read_text().split() == ["first"]
