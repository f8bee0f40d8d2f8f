"""A project checked out under /tmp still runs its steps (issue 13).

Each step gets a private /tmp; before, that hid a checkout, a virtualenv or
tools living under the host's /tmp, and every step failed with "No such file
or directory". The launcher now binds back the paths a step needs
(:mod:`clusterforge.engine.local.reachable`) — and only those: another
directory under /tmp stays out of sight. A start that still fails names the
program and the reason.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from tests.engine.launchers import run_step

import clusterforge
from clusterforge.engine import LocalEngine, Submission
from clusterforge.engine.local import process, reachable, scratch

LAUNCHERS = ["c-extension", "unshare-sh"]

pytestmark = pytest.mark.skipif(
    not process.isolation().private_tmp, reason="steps get no private /tmp on this host"
)


@pytest.fixture
def checkout() -> Iterator[Path]:
    """A venv-like tree directly under the host's /tmp (pytest's tmp_path is
    deeper, but this is where CI clones): ``tools/bin/greet`` runs through an
    interpreter in ``interp/bin`` (its ``#!`` line) and reads ``tools/share``."""
    with tempfile.TemporaryDirectory(prefix="cf-checkout-", dir=reachable.TMP) as root:
        base = Path(root)
        (base / "interp" / "bin").mkdir(parents=True)
        (base / "interp" / "bin" / "mysh").symlink_to(shutil.which("sh") or "/bin/sh")
        (base / "tools" / "bin").mkdir(parents=True)
        (base / "tools" / "share").mkdir()
        (base / "tools" / "share" / "greeting").write_text("hello from the checkout\n")
        greet = base / "tools" / "bin" / "greet"
        greet.write_text(f'#!{base}/interp/bin/mysh\ncat "$(dirname "$0")/../share/greeting"\n')
        greet.chmod(0o755)
        yield base


def _step(attempt: Path, argv: list[str], path: str) -> process.StepProcess:
    return process.StepProcess(
        argv=argv,
        env={"PATH": path},
        cwd=str(attempt / "work"),
        tmp_dir=str(attempt / "tmp"),
        stdout=str(attempt / "stdout.log"),
        stderr=str(attempt / "stderr.log"),
        make_dirs=(str(attempt), str(attempt / "work"), str(attempt / "tmp")),
    )


def test_a_program_on_path_under_tmp_runs_with_its_data(
    tmp_path: Path, checkout: Path, launcher: str
) -> None:
    path = f"{checkout}/tools/bin{os.pathsep}{os.environ['PATH']}"
    code, out, err = run_step(_step(tmp_path / "a", ["greet"], path))
    assert (code, out) == (0, "hello from the checkout\n"), err


def test_only_what_the_step_needs_is_kept(tmp_path: Path, checkout: Path, launcher: str) -> None:
    with tempfile.TemporaryDirectory(prefix="cf-other-", dir=reachable.TMP) as other:
        Path(other, "secret").write_text("another step's file\n")
        program = str(checkout / "tools" / "bin" / "greet")
        # A path under /tmp given as an argument is kept; one written inside the
        # shell text is not (nothing parses it), so `other` stays out of sight.
        script = (
            f'"$1"; test -e "{other}/secret" && echo visible; echo private > /tmp/mine; echo done'
        )
        step = _step(tmp_path / "b", ["sh", "-c", script, "step", program], os.environ["PATH"])
        code, out, err = run_step(step)
        assert code == 0, err
        assert out == "hello from the checkout\ndone\n"  # the program ran, `other` was hidden
        assert (tmp_path / "b" / "tmp" / "mine").read_text() == "private\n"
        assert not Path("/tmp/mine").exists()


def test_the_program_given_by_path_is_kept(tmp_path: Path, checkout: Path, launcher: str) -> None:
    program = str(checkout / "tools" / "bin" / "greet")
    code, out, err = run_step(_step(tmp_path / "c", [program], os.environ["PATH"]))
    assert (code, out) == (0, "hello from the checkout\n"), err


def test_a_missing_interpreter_is_named(tmp_path: Path, checkout: Path) -> None:
    broken = checkout / "tools" / "bin" / "broken"
    broken.write_text(f"#!{checkout}/no-such-venv/bin/python\nprint('x')\n")
    broken.chmod(0o755)
    with pytest.raises(process.StartError) as caught:
        process.launch_sync(_step(tmp_path / "d", [str(broken)], os.environ["PATH"]))
    text = str(caught.value)
    assert str(broken) in text
    assert f"{checkout}/no-such-venv/bin/python" in text
    assert "No such file or directory" in text


def test_keep_roots_are_minimal_and_never_tmp_itself(checkout: Path) -> None:
    program = str(checkout / "tools" / "bin" / "greet")
    roots = reachable.keep_roots(program, f"{checkout}/tools/bin:/usr/bin")
    ours = [r for r in roots if r.startswith(str(checkout))]
    assert ours == [f"{checkout}/interp", f"{checkout}/tools"]  # bin dirs widen to prefixes
    assert reachable.TMP not in roots
    assert reachable.minimal_roots([str(checkout), f"{checkout}/tools"]) == (str(checkout),)


WORKFLOW = """
apiVersion: argoproj.io/v1alpha1
kind: Workflow
metadata: {{name: tmp-checkout}}
spec:
  entrypoint: main
  templates:
  - name: main
    script:
      image: alpine
      command: [{program}]
      source: |
        echo from the script
"""


def test_clusterforge_run_with_home_and_program_under_tmp(checkout: Path) -> None:
    # The interpreter named on the program's #! line runs the script file (the
    # attempt's, under the home in /tmp: scratch is the run directory here).
    wrapper = checkout / "tools" / "bin" / "run-script"
    wrapper.write_text(f'#!{checkout}/interp/bin/mysh\n. "$1"; greet\n')
    wrapper.chmod(0o755)
    flow = checkout / "wf.yaml"
    flow.write_text(WORKFLOW.format(program=wrapper))
    env = {
        **os.environ,
        "CLUSTERFORGE_HOME": str(checkout / "home"),
        "CLUSTERFORGE_SCRATCH": "runs",
        "PATH": f"{checkout}/tools/bin{os.pathsep}{os.environ['PATH']}",
    }
    done = subprocess.run(
        [sys.executable, "-m", "clusterforge.cli", "run", str(flow), "--wait"],
        env=env,
        capture_output=True,
        text=True,
        timeout=180,
        check=False,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    logs = subprocess.run(
        [sys.executable, "-m", "clusterforge.cli", "logs", "tmp-checkout"],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert "from the script" in logs.stdout, logs.stdout + logs.stderr
    assert "hello from the checkout" in logs.stdout


CALLS_CLUSTERFORGE = """
apiVersion: argoproj.io/v1alpha1
kind: Workflow
metadata: {name: tmp-install}
spec:
  entrypoint: main
  templates:
  - name: main
    container: {image: alpine, command: [clusterforge, version]}
"""


@pytest.fixture
def editable_install() -> Iterator[Path]:
    """clusterforge installed under the host's /tmp as ``make venv`` installs it
    in a checkout cloned there: a virtualenv whose ``.pth`` file names the
    checkout's ``src/`` (an editable install), and its ``clusterforge`` script."""
    with tempfile.TemporaryDirectory(prefix="cf-install-", dir=reachable.TMP) as root:
        base = Path(root)
        source = Path(clusterforge.__file__).parent
        ignore = shutil.ignore_patterns("__pycache__")
        shutil.copytree(source, base / "src" / "clusterforge", ignore=ignore)
        venv = base / "venv"
        subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True)
        version = f"python{sys.version_info.major}.{sys.version_info.minor}"
        site_packages = venv / "lib" / version / "site-packages"
        # The checkout's src first, then this environment's dependencies (their
        # own .pth files are not read from there, so clusterforge comes from src).
        dependencies = [p for p in sys.path if p.endswith("site-packages")]
        (site_packages / "clusterforge.pth").write_text(
            "\n".join([str(base / "src"), *dependencies]) + "\n"
        )
        script = venv / "bin" / "clusterforge"
        body = "import sys\nfrom clusterforge.cli import main\nsys.exit(main())\n"
        script.write_text(f"#!{venv}/bin/python\n{body}")
        script.chmod(0o755)
        yield base


def test_an_editable_install_under_tmp_runs_clusterforge_in_its_steps(
    editable_install: Path,
) -> None:
    # A step calling `clusterforge` runs the installation's script, whose
    # interpreter finds the package through the .pth: the checkout's src/ must
    # stay in sight ("No module named 'clusterforge.cli'" before).
    base = editable_install
    flow = base / "wf.yaml"
    flow.write_text(CALLS_CLUSTERFORGE)
    env = {
        **{k: v for k, v in os.environ.items() if k not in ("VIRTUAL_ENV", "PYTHONPATH")},
        "CLUSTERFORGE_HOME": str(base / "home"),
        "CLUSTERFORGE_CACHE": str(base / "cache"),
    }
    cli = str(base / "venv" / "bin" / "clusterforge")
    done = subprocess.run(
        [cli, "run", str(flow), "--wait"],
        env=env,
        capture_output=True,
        text=True,
        timeout=180,
        check=False,
    )
    logs = subprocess.run(
        [cli, "logs", "tmp-install"],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stdout + done.stderr + logs.stdout + logs.stderr
    assert f"tmp-install: {clusterforge.__version__}" in logs.stdout.splitlines(), logs.stdout


LEAVES_A_DAEMON = """
apiVersion: argoproj.io/v1alpha1
kind: Workflow
metadata: {{name: {name}}}
spec:
  entrypoint: main
  templates:
  - name: main
    container:
      image: alpine
      command: [sh, -c]
      args:
      - |
        {script}
      - "{shared}"
"""

# Detached from the step as kwokctl detaches a cluster's etcd and apiserver: it
# outlives the step and the workflow, and keeps writing under the host path the
# step was given (a directory under /tmp, bound into its private /tmp). Its pid
# is $$, written $$$$ here: the kubelet's expansion makes $$ one $.
DAEMON = (
    'setsid sh -c \'while :; do echo $$$$ > "$0/beat.new" && mv "$0/beat.new" "$0/beat"; '
    'sleep 0.1; done\' "$0" </dev/null >/dev/null 2>&1 &'
)


def _wait_for(condition: Callable[[], bool], what: str) -> None:
    deadline = time.monotonic() + 30
    while not condition():
        assert time.monotonic() < deadline, what
        time.sleep(0.05)


def test_a_daemon_a_step_leaves_keeps_its_tmp_after_the_workflow(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The cluster a build's control-plane step starts must survive the build:
    # removing the workflow's scratch used to detach the host paths bound into
    # the daemon's /tmp (a checkout or home under /tmp), and the cluster broke.
    scratch_root = tmp_path / "scratch"
    scratch_root.mkdir()
    monkeypatch.setenv("CLUSTERFORGE_SCRATCH", str(scratch_root))
    engine = LocalEngine(home=tmp_path / "home")
    with tempfile.TemporaryDirectory(prefix="cf-daemon-", dir=reachable.TMP) as shared:
        beat = Path(shared, "beat")
        flow = tmp_path / "daemon.yaml"
        flow.write_text(LEAVES_A_DAEMON.format(name="leaves-daemon", script=DAEMON, shared=shared))
        run = engine.submit(Submission(files=(flow,)))
        engine.join(run.id, timeout=120)
        assert engine.get(run.id).phase == "Succeeded"
        _wait_for(beat.exists, "the daemon never wrote through its /tmp")
        daemon = int(beat.read_text())
        try:
            beat.unlink()  # written again only if the daemon still sees the host path
            _wait_for(beat.exists, "the daemon lost its /tmp when the workflow ended")
            lingering = scratch_root / scratch.LINGERING
            assert [p.name.startswith(run.id) for p in lingering.iterdir()] == [True]
        finally:
            os.killpg(daemon, signal.SIGKILL)  # setsid made it its group's leader
        _wait_for(lambda: not _group_alive(daemon), "the daemon did not end")
        # The next workflow's end sweeps the scratch nobody uses any more.
        flow.write_text(LEAVES_A_DAEMON.format(name="plain", script="true", shared=shared))
        second = engine.submit(Submission(files=(flow,)))
        engine.join(second.id, timeout=120)
        assert engine.get(second.id).phase == "Succeeded"
        assert list(lingering.iterdir()) == []
        assert list(scratch_root.iterdir()) == [lingering]


def _group_alive(group: int) -> bool:
    """Whether a process of ``group`` still runs (a zombie waiting for whoever
    adopted it does not count)."""
    for entry in Path("/proc").iterdir():
        try:
            fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
        except (OSError, IndexError):
            continue
        if fields[0] != "Z" and int(fields[2]) == group:
            return True
    return False


def test_a_program_whose_interpreter_is_gone_fails_naming_both(
    tmp_path: Path, checkout: Path
) -> None:
    # The step's supervisor (the shim) execs the program, so the kernel's bare
    # "No such file or directory" came back from it unnamed; the node is Failed
    # with the executor's exit code 64, as Argo's emissary reports it.
    broken = checkout / "tools" / "bin" / "broken"
    broken.write_text(f"#!{checkout}/gone/bin/python\nprint('x')\n")
    broken.chmod(0o755)
    flow = tmp_path / "wf.yaml"
    flow.write_text(WORKFLOW.format(program=broken))
    engine = LocalEngine(home=tmp_path / "home")
    run = engine.submit(Submission(files=(flow,)))
    engine.join(run.id, timeout=120)
    view = engine.get(run.id)
    (node,) = (n for n in view.nodes.values() if n.type == "Pod")
    assert (view.phase, node.phase, node.exit_code) == ("Failed", "Failed", 64), node.message
    assert node.message.startswith("Error (exit code 64): failed to start: "), node.message
    assert f"cannot execute {broken}: No such file or directory" in node.message
    assert f"its #! interpreter {checkout}/gone/bin/python does not exist" in node.message
