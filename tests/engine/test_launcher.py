"""How a step is started: both launchers (the C extension and unshare + sh)
give the same process — private /tmp, own session, stdin from /dev/null,
default signal handling, no inherited descriptors, argv and env passed as
data — and a failed start says what failed. Then where an attempt's files
live: scratch while it runs, logs kept on disk after.
"""

from __future__ import annotations

import asyncio
import os
import shutil
import signal
import tempfile
import time
from pathlib import Path

import pytest
from tests.engine.launchers import run_step

from clusterforge import paths
from clusterforge.engine import LocalEngine, Submission
from clusterforge.engine.local import process, reachable, shim


def _step(tmp_path: Path, argv: list[str], **changes: object) -> process.StepProcess:
    scratch = tmp_path / "attempt"
    fields: dict[str, object] = {
        "argv": argv,
        "env": {"PATH": os.environ["PATH"]},
        "cwd": str(scratch / "work"),
        "tmp_dir": str(scratch / "tmp"),
        "stdout": str(scratch / "stdout.log"),
        "stderr": str(scratch / "stderr.log"),
        "make_dirs": (str(scratch), str(scratch / "work"), str(scratch / "tmp")),
    }
    fields.update(changes)
    return process.StepProcess(**fields)  # type: ignore[arg-type]


def test_the_c_launcher_is_built_and_isolates() -> None:
    # `make setup` compiles it; without it every step costs three extra execs.
    assert process._SPAWN is not None, "clusterforge.engine.local._spawn was not built"
    assert process.isolation().private_tmp, process.isolation().reason


def test_private_tmp_is_the_attempts_directory(tmp_path: Path, launcher: str) -> None:
    marker = f"clusterforge-test-{os.getpid()}-{launcher}"
    step = _step(tmp_path, ["sh", "-c", f"echo inside > /tmp/{marker}; ls -A /tmp; pwd"])
    code, out, err = run_step(step)
    assert code == 0, err
    *listed, cwd = out.split()
    assert cwd == str(tmp_path / "attempt" / "work")
    # Nothing of the host's /tmp shows but what the step needs from there: the
    # engine's own installation when the checkout lives under /tmp (none otherwise).
    sh = shutil.which("sh", path=step.env["PATH"])
    assert sh is not None
    kept = reachable.keep_roots(sh, step.env["PATH"])
    assert set(listed) == {marker, *(Path(root).relative_to("/tmp").parts[0] for root in kept)}
    assert (tmp_path / "attempt" / "tmp" / marker).read_text() == "inside\n"
    assert not Path("/tmp", marker).exists()


def test_the_process_starts_clean(tmp_path: Path, launcher: str) -> None:
    leaked = os.open(os.devnull, os.O_RDONLY)
    os.set_inheritable(leaked, True)  # an fd a careless launcher would pass on
    try:
        # Each probe is exec'd as the step itself (no shell forking in between,
        # which would block signals for a moment and blur what we inherited).
        code, signals, err = run_step(
            _step(tmp_path / "a", ["grep", "-E", "^Sig(Ign|Blk)", "/proc/self/status"])
        )
        assert code == 0, err
        code, fds, err = run_step(_step(tmp_path / "b", ["ls", "/proc/self/fd"]))
        assert code == 0, err
        code, session, err = run_step(
            _step(
                tmp_path / "c",
                ["sh", "-c", 'echo "$(cut -d" " -f6 /proc/$$/stat) $$ $(readlink /proc/$$/fd/0)"'],
            )
        )
        assert code == 0, err
    finally:
        os.close(leaked)
    masks = dict(line.split(":\t") for line in signals.splitlines())
    # Python ignores SIGPIPE and SIGXFSZ for itself: the step gets them back at
    # their defaults. Whatever else the engine inherited as ignored (e.g. from a
    # test runner) stays ignored, as with subprocess.
    ours = dict(line.split(":\t") for line in Path("/proc/self/status").read_text().splitlines())
    python_only = (1 << (signal.SIGPIPE - 1)) | (1 << (signal.SIGXFSZ - 1))
    assert int(masks["SigIgn"], 16) == int(ours["SigIgn"], 16) & ~python_only
    assert int(masks["SigBlk"], 16) == 0
    assert fds.split() == ["0", "1", "2", "3"]  # 3: ls reading the directory; nothing inherited
    sid, pid, stdin = session.split()
    assert sid == pid  # its own session: the whole group can be signalled
    assert stdin == "/dev/null"


def test_argv_and_env_are_data(tmp_path: Path, launcher: str) -> None:
    hostile = "fluent bit; touch HACKED $(touch HACKED) `touch HACKED`"
    code, out, err = run_step(
        _step(
            tmp_path,
            ["sh", "-c", 'printf "%s|%s" "$1" "$VALUE"', "step", hostile],
            env={"PATH": os.environ["PATH"], "VALUE": hostile},
        )
    )
    assert code == 0, err
    assert out == f"{hostile}|{hostile}"
    assert not (tmp_path / "attempt" / "work" / "HACKED").exists()


def test_a_working_dir_under_tmp_stays_the_hosts(tmp_path: Path, launcher: str) -> None:
    with tempfile.TemporaryDirectory(prefix="clusterforge-cwd-", dir="/tmp") as host:
        step = _step(tmp_path, ["sh", "-c", "echo written > here; pwd"], cwd=host)
        code, out, err = run_step(step)
        assert code == 0, err
        assert out.strip() == host
        assert Path(host, "here").read_text() == "written\n"


def test_a_failed_start_says_what_failed(tmp_path: Path, launcher: str) -> None:
    with pytest.raises(process.StartError, match="executable file not found"):
        process.launch_sync(_step(tmp_path, ["no-such-command-anywhere"]))
    if launcher == "c-extension":  # the sh wrapper reports it as exit 126 instead
        missing = tmp_path / "gone"
        with pytest.raises(OSError, match="working directory"):
            process.launch_sync(_step(tmp_path, ["true"], cwd=str(missing), make_dirs=()))


def test_a_cancelled_launch_leaves_no_process(tmp_path: Path) -> None:
    pidfile = tmp_path / "pid"
    step = _step(tmp_path, ["sh", "-c", f'echo $$ > "{pidfile}"; exec sleep 60'])

    async def cancel_it() -> None:
        task = asyncio.ensure_future(process.launch(step))
        await asyncio.sleep(0)  # the launch is under way in its thread
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task

    asyncio.run(cancel_it())
    if pidfile.exists():  # it started: it must have been stopped again
        pid = int(pidfile.read_text())
        deadline = time.monotonic() + 10
        while Path(f"/proc/{pid}").exists() and time.monotonic() < deadline:
            time.sleep(0.05)
        assert not Path(f"/proc/{pid}").exists()


# -- scratch and logs -----------------------------------------------------------------

LOGS = """
apiVersion: argoproj.io/v1alpha1
kind: Workflow
metadata: {name: logs-kept}
spec:
  entrypoint: main
  templates:
  - name: main
    dag:
      tasks:
      - {name: talk, template: talk}
      - {name: quiet, template: quiet}
  - name: talk
    container: {image: alpine, command: [sh, -c, 'echo to-out; echo to-err >&2; echo x > /tmp/f']}
  - name: quiet
    container: {image: alpine, command: ['true']}
"""


@pytest.fixture
def scratch_root(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    root = tmp_path / "scratch"
    monkeypatch.setenv("CLUSTERFORGE_SCRATCH", str(root))
    return root


def test_logs_move_to_disk_and_scratch_goes(tmp_path: Path, scratch_root: Path) -> None:
    engine = LocalEngine(home=tmp_path / "home")
    assert engine.scratch == scratch_root
    view = engine.submit(Submission(text=LOGS))
    engine.join(view.id, timeout=60)
    view = engine.get(view.id)
    assert view.phase == "Succeeded"
    runs = tmp_path / "home" / "runs" / view.id
    talk = next(n for n in view.nodes.values() if n.display_name == "talk")
    quiet = next(n for n in view.nodes.values() if n.display_name == "quiet")
    assert Path(talk.log_dir or "").parent == runs
    assert Path(talk.log_dir or "", "stdout.log").read_text() == "to-out\n"
    assert Path(talk.log_dir or "", "stderr.log").read_text() == "to-err\n"
    assert Path(quiet.log_dir or "").parent == runs
    assert not Path(quiet.log_dir or "").exists()  # a silent step leaves no files
    lines = [(line.display_name, line.stream, line.text) for line in engine.logs(view.id)]
    assert sorted(lines) == [("talk", "stderr", "to-err"), ("talk", "stdout", "to-out")]
    assert list(scratch_root.iterdir()) == []  # the workflow's scratch is gone


def test_scratch_runs_keeps_everything_in_the_run_directory(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("CLUSTERFORGE_SCRATCH", "runs")
    assert paths.scratch_home() is None
    engine = LocalEngine(home=tmp_path / "home")
    view = engine.submit(Submission(text=LOGS))
    engine.join(view.id, timeout=60)
    view = engine.get(view.id)
    talk = next(n for n in view.nodes.values() if n.display_name == "talk")
    attempt = Path(talk.log_dir or "")
    assert attempt.parent == tmp_path / "home" / "runs" / view.id
    assert (attempt / "tmp" / "f").read_text() == "x\n"  # kept, next to the logs


def test_the_default_scratch_is_private_and_ours(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("CLUSTERFORGE_SCRATCH", raising=False)
    root = paths.scratch_home()
    if root is None:
        pytest.skip("/dev/shm is not usable here")
    info = root.lstat()
    assert info.st_uid == os.getuid()
    assert info.st_mode & 0o077 == 0


def test_steps_of_a_stopped_workflow_are_signalled_as_a_group(tmp_path: Path) -> None:
    # The session the launcher creates is what `stop` relies on: a step's own
    # children die with it. (The pid file appears whole, by rename.)
    child_pid = tmp_path / "child"
    step = _step(
        tmp_path,
        [
            "sh",
            "-c",
            f'sleep 60 & echo $! > "{child_pid}.new"; mv "{child_pid}.new" "{child_pid}"; wait',
        ],
    )
    handle = process.launch_sync(step)
    deadline = time.monotonic() + 10
    while not child_pid.exists() and time.monotonic() < deadline:
        time.sleep(0.02)
    grandchild = int(child_pid.read_text())
    assert process.kill_group(handle.pid, signal.SIGKILL)
    os.waitpid(handle.pid, 0)
    handle.close()
    while Path(f"/proc/{grandchild}").exists() and time.monotonic() < deadline:
        time.sleep(0.02)
    assert not Path(f"/proc/{grandchild}").exists()


def test_a_restarted_engine_finds_a_step_by_its_marker_not_its_pid(tmp_path: Path) -> None:
    marker = f"wf-{os.getpid()}/attempt-{time.monotonic_ns()}"
    env = {"PATH": os.environ["PATH"], process.ATTEMPT_ENV: marker}
    # the step and a child it started (the child keeps the environment)
    ours = process.launch_sync(
        _step(tmp_path / "ours", ["sh", "-c", "sleep 60 & exec sleep 60"], env=env)
    )
    stranger = process.launch_sync(_step(tmp_path / "other", ["sleep", "60"]))
    try:
        deadline = time.monotonic() + 10
        while len(process.attempt_processes(marker)) < 2 and time.monotonic() < deadline:
            time.sleep(0.02)
        found = process.attempt_processes(marker)
        assert ours.pid in found
        assert len(found) == 2
        assert stranger.pid not in found
        assert process.kill_attempt(marker) == 1  # one process group: the step's
        os.waitpid(ours.pid, 0)
        while process.attempt_processes(marker) and time.monotonic() < deadline:
            time.sleep(0.02)
        assert process.attempt_processes(marker) == []
        assert stranger.poll() is None  # untouched
    finally:
        process.kill_group(stranger.pid, signal.SIGKILL)
        os.waitpid(stranger.pid, 0)
        ours.close()
        stranger.close()


# -- the per-step supervisor (_shim) ----------------------------------------------------


def _supervised(tmp_path: Path, argv: list[str]) -> tuple[process.StepHandle, process.StepProcess]:
    if shim.program() is None:
        pytest.skip("_shim was not built")
    step = _step(tmp_path, argv, state_dir=str(tmp_path / "attempt"))
    return process.launch_sync(step), step


def test_a_supervised_step_starts_clean_in_its_shims_session(tmp_path: Path, launcher: str) -> None:
    handle, step = _supervised(
        tmp_path,
        [
            "sh",
            "-c",
            'echo "$(cut -d" " -f6 /proc/$$/stat)"; ls /proc/$$/fd; '
            "grep -E '^SigIgn' /proc/$$/status",
        ],
    )
    code = asyncio.run(handle.wait())
    handle.close()
    assert code == 0, Path(step.stderr).read_text()
    session, *rest = Path(step.stdout).read_text().split("\n")
    assert int(session) == handle.pid  # the group stop/terminate signal is the shim's
    fds = [line for line in rest if line.isdigit()]
    assert fds == ["0", "1", "2"]  # not the attempt directory the shim holds
    ignored = next(line for line in rest if line.startswith("SigIgn"))
    assert int(ignored.split()[1], 16) & (1 << (signal.SIGTERM - 1)) == 0
    assert shim.read_exit(str(tmp_path / "attempt")) == shim.ExitRecord(0)


def test_the_shim_records_codes_signals_and_start_errors(tmp_path: Path, launcher: str) -> None:
    failing, _ = _supervised(tmp_path / "a", ["sh", "-c", "exit 7"])
    assert asyncio.run(failing.wait()) == 7
    failing.close()
    killed, _ = _supervised(tmp_path / "b", ["sh", "-c", "kill -TERM $$; sleep 5"])
    assert asyncio.run(killed.wait()) == -signal.SIGTERM
    killed.close()
    if launcher != "c-extension":  # there sh reports it, as exit 126
        return
    script = tmp_path / "no-shebang"
    script.write_bytes(b"\x00\x01 not a program")
    script.chmod(0o755)
    broken, step = _supervised(tmp_path / "c", [str(script)])
    asyncio.run(broken.wait())
    broken.close()
    assert isinstance(broken.start_error, process.ProgramError)
    assert str(broken.start_error) == f"cannot execute {script}: Exec format error"
    assert f"cannot execute {script}: Exec format error" in Path(step.stderr).read_text()


def test_terminate_reaches_the_step_and_the_shim_records_it(tmp_path: Path) -> None:
    handle, _ = _supervised(tmp_path, ["sleep", "60"])

    async def stop() -> None:
        await asyncio.sleep(0.2)
        await process.terminate(handle)

    asyncio.run(stop())
    handle.close()
    assert handle.returncode == -signal.SIGTERM  # the step's answer, not the shim's


def test_a_fenced_attempt_never_starts_its_step(tmp_path: Path) -> None:
    # A restarted engine that found no shim fences the attempt; a shim still on
    # its way (its engine died mid-launch) must then not start the step.
    (tmp_path / "attempt").mkdir()
    assert shim.fence(str(tmp_path / "attempt"))
    assert not shim.fence(str(tmp_path / "attempt"))  # once
    handle, step = _supervised(tmp_path, ["sh", "-c", "echo ran"])
    assert asyncio.run(handle.wait()) == 125
    handle.close()
    assert Path(step.stdout).read_text() == ""
    assert shim.live_shim(str(tmp_path / "attempt")) is None


def test_a_step_that_ends_while_a_restarted_engine_looks_is_adopted_not_abandoned(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The restarted engine reads the attempt's exit record (none: the step still
    # runs), then looks for the live shim (gone: the step ended in between). The
    # exit record written meanwhile must win; it was abandoned as Error (seen in
    # test_crash_many under load).
    from clusterforge.engine.local._operator.journal import Journal
    from clusterforge.engine.local._operator.pods import HostPods
    from clusterforge.store import NodeRecord, Store, WorkflowRecord

    handle, _step = _supervised(tmp_path, ["sh", "-c", "echo done"])
    assert asyncio.run(handle.wait()) == 0
    handle.close()
    attempt = str(tmp_path / "attempt")
    assert shim.live_shim(attempt) is None
    looks: list[str] = []
    real_read_exit = shim.read_exit

    def read_exit(directory: str) -> shim.ExitRecord | None:
        looks.append(directory)
        return None if len(looks) == 1 else real_read_exit(directory)  # the first look: running

    monkeypatch.setattr(shim, "read_exit", read_exit)
    record = WorkflowRecord(id="wf-1", name="wf", namespace="default", uid="u", manifest={})
    pods = HostPods(Journal(Store(tmp_path / "state.db"), record), tmp_path, tmp_path)
    node = NodeRecord("wf-1", "wf-1-a", "wf.a", "a", "Pod", log_dir=attempt, pid=handle.pid)
    assert pods.adopt(node)
    assert node.log_dir == attempt  # its own attempt, with its record: not started anew
    assert len(looks) == 2
