"""kill -9 the engine at random points while it runs many workflows, resume,
and every workflow ends as it would have without the crash: its expected
phase, 0 succeeded steps run again, 0 lost logs, 0 processes left behind.

Each trial starts an engine process running ``CLUSTERFORGE_CRASH_WORKFLOWS``
workflows at once (default 20), SIGKILLs it after a random delay, and resumes
them in this process. ``CLUSTERFORGE_CRASH_TRIALS`` trials run (default 2, for
CI); the full figure of issue 14 is one command::

    CLUSTERFORGE_CRASH_TRIALS=20 .venv/bin/pytest -p no:xdist -q -s tests/engine/test_crash_many.py

The seed of each trial is printed, so a failure can be replayed
(``CLUSTERFORGE_CRASH_SEED``).
"""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

import pytest
from tests.engine.test_crash import _alive

from clusterforge.engine import LocalEngine
from clusterforge.engine.local import process, shim

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(shim.program() is None, reason="_shim was not built"),
]

TRIALS = int(os.environ.get("CLUSTERFORGE_CRASH_TRIALS", "2"))
WORKFLOWS = int(os.environ.get("CLUSTERFORGE_CRASH_WORKFLOWS", "20"))

# A diamond with a fan-out, steps of random length; `bad` fails in some workflows
# (so Failed is an outcome the crash must not change either). Every step logs
# its start and end and appends its name to the runs file once it is done. The
# file's directory is an argument of its own: a step's /tmp is private, and a
# host path under /tmp (a checkout there) is kept in sight when an argument names it.
WORKFLOW = """
apiVersion: argoproj.io/v1alpha1
kind: Workflow
metadata: {{name: {name}}}
spec:
  entrypoint: main
  templates:
  - name: main
    dag:
      tasks:
{tasks}
  - name: step
    inputs: {{parameters: [{{name: id}}, {{name: s}}, {{name: code}}]}}
    container:
      image: alpine
      command: [sh, -c]
      args:
      - |
        echo "start $0"; sleep "$1"; echo "{name} $0" >> "$3/runs.txt"; echo "done $0"; exit "$2"
      - "{{{{inputs.parameters.id}}}}"
      - "{{{{inputs.parameters.s}}}}"
      - "{{{{inputs.parameters.code}}}}"
      - "{runs}"
"""

ENGINE = """
import sys
from pathlib import Path
from clusterforge.engine import LocalEngine, Submission
engine = LocalEngine(home=Path(sys.argv[1]))
ids = [engine.submit(Submission(files=(Path(f),))).id for f in sys.argv[2:]]
print("submitted", flush=True)
for wid in ids:
    engine.join(wid, timeout=300)
"""


DEPENDS = {"a": "", "b": "a", "c": "a", "d": "a", "e": "b && c && d"}


def _tasks(sleeps: list[str], bad: int) -> str:
    lines = []
    for (task, depends), sleep in zip(DEPENDS.items(), sleeps, strict=True):
        code = bad if task == "c" else 0
        params = [("id", task), ("s", sleep), ("code", str(code))]
        args = ", ".join(f'{{name: {k}, value: "{v}"}}' for k, v in params)
        after = f", depends: {depends}" if depends else ""
        lines.append(
            f"      - {{name: {task}, template: step{after}, arguments: {{parameters: [{args}]}}}}"
        )
    return "\n".join(lines)


def _workflows(tmp: Path, rng: random.Random) -> dict[str, tuple[Path, str]]:
    """name → (file, expected phase)."""
    out = {}
    for k in range(WORKFLOWS):
        name = f"crash-{k}"
        bad = 1 if k % 4 == 3 else 0
        sleeps = [f"{rng.uniform(0.0, 1.2):.2f}" for _ in range(5)]
        path = tmp / f"{name}.yaml"
        path.write_text(WORKFLOW.format(name=name, tasks=_tasks(sleeps, bad), runs=tmp))
        out[name] = (path, "Failed" if bad else "Succeeded")
    return out


def _trial(tmp: Path, seed: int) -> dict[str, int]:
    rng = random.Random(seed)
    tmp.mkdir()
    home = tmp / "home"
    workflows = _workflows(tmp, rng)
    env = {**os.environ, "CLUSTERFORGE_HOME": str(home)}
    engine_proc = subprocess.Popen(
        [sys.executable, "-c", ENGINE, str(home), *(str(f) for f, _ in workflows.values())],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
    )
    assert engine_proc.stdout is not None
    assert engine_proc.stdout.readline() == b"submitted\n"  # and started
    time.sleep(rng.uniform(0.0, 3.0))
    engine_proc.send_signal(signal.SIGKILL)
    engine_proc.wait()

    engine = LocalEngine(home=home)
    resumed = engine.resume(engine.orphans())
    for wid in resumed:
        engine.join(wid, timeout=300)
    figures = Counter(resumed=len(resumed))
    runs = Counter((tmp / "runs.txt").read_text().splitlines())
    for name, (_, expected) in workflows.items():
        view = engine.get(name)
        nodes = {n.display_name: (n.phase, n.message) for n in view.nodes.values()}
        assert view.phase == expected, (seed, name, view.phase, nodes)
        for node in view.nodes.values():
            if node.type != "Pod":
                continue
            step = node.display_name
            if node.phase == "Succeeded":
                assert runs[f"{name} {step}"] == 1, (seed, name, step)  # ran exactly once
                figures["succeeded steps"] += 1
            log = Path(node.log_dir or "", "stdout.log")
            assert log.read_text() == f"start {step}\ndone {step}\n", (seed, name, step)
            marker = f"{view.id}/{Path(node.log_dir or '').name}"
            assert [p for p in process.attempt_processes(marker) if _alive(p)] == []
            figures["logs checked"] += 1
    figures["reruns"] = sum(n - 1 for n in runs.values() if n > 1)
    return dict(figures)


def test_kill_minus_nine_at_random_points_changes_no_outcome(tmp_path: Path) -> None:
    base = int(os.environ.get("CLUSTERFORGE_CRASH_SEED", str(random.randrange(1 << 30))))
    total: Counter[str] = Counter()
    for trial in range(TRIALS):
        seed = base + trial
        print(f"trial {trial} seed {seed}")
        total.update(_trial(tmp_path / f"trial-{trial}", seed))
    print(f"{TRIALS} trials x {WORKFLOWS} workflows: {dict(total)}")
    assert total["reruns"] == 0
    assert total["logs checked"] >= TRIALS * WORKFLOWS * 4
