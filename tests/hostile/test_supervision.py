"""Crashes around the engine: a supervisor killed with -9, Ctrl-C on ``run --wait``.

* the shared directory (``<scratch>/serve-*``) a killed supervisor leaves is
  removed by the next server to start, and its children do not outlive it;
* Ctrl-C on ``run --wait`` says what happens — the workflow is stopped, its
  exit handler runs — and leaves no step running without an engine.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from clusterforge.api.runtime_dir import RuntimeDir, remove_stale
from tests.api.test_processes import _start, _stop
from tests.engine.test_crash import _alive

from .conftest import Sandbox


def test_remove_stale_keeps_live_and_young_directories(tmp_path: Path) -> None:
    live = RuntimeDir(tmp_path)
    dead = tmp_path / "serve-dead"
    dead.mkdir()
    (dead / "lock").touch()  # nobody holds it: its supervisor is gone
    young = tmp_path / "serve-young"
    young.mkdir()  # no lock yet: a supervisor may be starting
    old = tmp_path / "serve-old"
    old.mkdir()
    os.utime(old, (time.time() - 3600, time.time() - 3600))
    try:
        assert sorted(p.name for p in remove_stale(tmp_path)) == ["serve-dead", "serve-old"]
        assert live.path.is_dir()
        assert young.is_dir()
    finally:
        live.remove()
    assert not live.path.exists()


def test_killed_supervisor_leaves_nothing_the_next_start_keeps(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    scratch = tmp_path / "scratch"
    monkeypatch.setenv("CLUSTERFORGE_SCRATCH", str(scratch))
    first = _start(tmp_path / "home")
    children = first.children()
    leftover = list(scratch.glob("serve-*"))
    assert len(leftover) == 1
    first.process.send_signal(signal.SIGKILL)
    first.process.wait(10)
    deadline = time.monotonic() + 30
    while any(_alive(pid) for pid in children.values()):
        assert time.monotonic() < deadline, "a child outlived its supervisor"
        time.sleep(0.1)
    assert leftover[0].is_dir()  # a -9 cannot clean up after itself
    second = _start(tmp_path / "home")
    try:
        assert not leftover[0].exists()
        assert len(list(scratch.glob("serve-*"))) == 1
    finally:
        _stop(second)
    assert list(scratch.glob("serve-*")) == []


SLOW = """
apiVersion: argoproj.io/v1alpha1
kind: Workflow
metadata: {name: interrupted}
spec:
  entrypoint: main
  onExit: goodbye
  templates:
  - name: main
    container: {image: alpine, command: [sh, -c, 'echo started; sleep 300']}
  - name: goodbye
    container: {image: alpine, command: [sh, -c, 'echo exit handler ran']}
"""


# The CLI as a terminal's foreground job starts it: Ctrl-C at its default. A run
# started in the background (`make test &`, nohup, a CI runner) passes SIGINT on
# ignored, and a process that inherits an ignored SIGINT rightly never sees one.
CTRL_C_ABLE_CLI = [
    sys.executable,
    "-c",
    "import os, signal, sys; signal.signal(signal.SIGINT, signal.SIG_DFL); "
    "os.execv(sys.executable, [sys.executable, '-m', 'clusterforge.cli', *sys.argv[1:]])",
]


def test_ctrl_c_on_run_wait_stops_the_workflow_and_says_so(sandbox: Sandbox) -> None:
    wf = sandbox.home / "wf.yaml"
    wf.write_text(SLOW)
    running = subprocess.Popen(
        [*CTRL_C_ABLE_CLI, "run", str(wf), "--wait", "-o", "json"],
        env=sandbox.env(),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    deadline = time.monotonic() + 60
    while "started" not in sandbox.cli("logs", "interrupted").stdout:
        assert time.monotonic() < deadline, "the step did not start"
        time.sleep(0.2)
    running.send_signal(signal.SIGINT)
    try:
        out, err = running.communicate(timeout=60)
    except subprocess.TimeoutExpired:
        state = _signal_state(running.pid)
        running.kill()
        out, err = running.communicate()
        raise AssertionError(f"no exit after SIGINT ({state}): {err}") from None
    assert running.returncode == 1, (out, err)
    assert "interrupted: stopping workflow interrupted" in err
    assert "exit handlers run" in err
    assert "Traceback" not in err
    status = json.loads(sandbox.cli("get", "interrupted", "-o", "json").stdout)["status"]
    assert status["phase"] in ("Failed", "Error")
    assert "exit handler ran" in sandbox.cli("logs", "interrupted").stdout
    leftover = subprocess.run(
        ["pgrep", "-f", "sleep 300"], capture_output=True, text=True, check=False
    ).stdout.split()
    mine = [pid for pid in leftover if sandbox.home.name in _environ(pid)]
    assert mine == []


def _signal_state(pid: int) -> str:
    """The process's signal lines and each thread's state (why a signal went unseen)."""
    proc = Path(f"/proc/{pid}")
    try:
        lines = [ln for ln in (proc / "status").read_text().splitlines() if ln.startswith("Sig")]
        for task in sorted((proc / "task").iterdir()):
            status = (task / "status").read_text().splitlines()
            picked = [ln for ln in status if ln.startswith(("Name", "State", "SigBlk"))]
            wchan = (task / "wchan").read_text()
            lines.append(f"task {task.name}: {' '.join(picked)} wchan={wchan}")
    except OSError as err:
        return f"unreadable: {err}"
    return "; ".join(lines)


def _environ(pid: str) -> str:
    try:
        return Path(f"/proc/{pid}/environ").read_bytes().decode("utf-8", "replace")
    except OSError:
        return ""
