"""A workflow-level lock, as Argo's operate takes it: the workflow waiting for it is
Pending with Argo's "Waiting for … lock" message and has not started — its
``activeDeadlineSeconds`` counts from when it holds the lock (``getWorkflowDeadline``
counts from ``startedAt``, which a Pending workflow lacks), not from its submission —
and held until the workflow has completed, its exit handler included (Argo releases a
workflow's locks once it is Fulfilled)."""

from __future__ import annotations

import time
from pathlib import Path

from clusterforge.engine import LocalEngine, Submission

WORKFLOW = """
apiVersion: argoproj.io/v1alpha1
kind: Workflow
metadata: {{name: {name}}}
spec:
  entrypoint: main
  {deadline}
  synchronization: {{mutexes: [{{name: cf-workflow-lock}}]}}
  templates:
  - name: main
    container: {{image: alpine, command: [sh, -c, 'touch "{mark}"; sleep {seconds}']}}
"""


def _submit(engine: LocalEngine, tmp_path: Path, name: str, seconds: float, deadline: str) -> str:
    path = tmp_path / f"{name}.yaml"
    mark = tmp_path / f"{name}.started"
    path.write_text(WORKFLOW.format(name=name, seconds=seconds, deadline=deadline, mark=mark))
    return engine.submit(Submission(files=(path,))).id


def _wait_for(check: object, what: str) -> None:
    for _ in range(600):
        if callable(check) and check():
            return
        time.sleep(0.05)
    raise AssertionError(what)


def test_a_workflow_waiting_for_its_lock_is_pending_and_its_deadline_waits_too(
    tmp_path: Path,
) -> None:
    engine = LocalEngine(home=tmp_path / "home")
    first = _submit(engine, tmp_path, "first", 4, "")
    _wait_for((tmp_path / "first.started").exists, "the first workflow never ran")
    # 3 s of deadline for a 1 s step, after a wait of about 4 s for the lock.
    second = _submit(engine, tmp_path, "second", 1, "activeDeadlineSeconds: 3")

    def waiting() -> bool:
        record = engine.get(second).record
        return record.phase == "Pending" and record.message.startswith("Waiting for ")

    _wait_for(waiting, "the second workflow never waited for the lock")
    record = engine.get(second).record
    assert record.message.endswith("/Mutex/cf-workflow-lock lock")
    assert record.started_at is None
    assert not (tmp_path / "second.started").exists()
    engine.join(first, timeout=60)
    engine.join(second, timeout=60)
    done = engine.get(second)
    assert done.phase == "Succeeded", done.record.message
    holder = engine.get(first).node("first")
    assert holder is not None
    assert holder.finished_at is not None
    assert done.record.started_at is not None
    assert done.record.started_at >= holder.finished_at  # started once the lock was free


EXIT_WORKFLOW = """
apiVersion: argoproj.io/v1alpha1
kind: Workflow
metadata: {{name: {name}}}
spec:
  entrypoint: main
  onExit: exit
  synchronization: {{mutexes: [{{name: cf-exit-lock}}]}}
  templates:
  - name: main
    script:
      image: alpine
      command: [sh]
      source: |
        touch "{tmp}/{name}.started"
        while [ ! -e "{tmp}/{name}.go" ]; do sleep 0.05; done
        if [ -e "{tmp}/first.exit-done" ]; then echo after-exit; else echo during-exit; fi
  - name: exit
    container:
      image: alpine
      command: [sh, -c, 'sleep 1; touch "{tmp}/{name}.exit-done"']
"""


def test_a_workflow_level_lock_is_held_until_the_exit_handler_has_finished(
    tmp_path: Path,
) -> None:
    """Argo releases a workflow's locks once the workflow is complete (persistUpdates,
    ``ReleaseAll`` when Fulfilled), after its onExit handler: a second workflow waiting
    for the same mutex starts only after the first's exit handler has ended."""
    engine = LocalEngine(home=tmp_path / "home")
    ids = {}
    for name in ("first", "second"):
        path = tmp_path / f"{name}.yaml"
        path.write_text(EXIT_WORKFLOW.format(name=name, tmp=tmp_path))
        ids[name] = engine.submit(Submission(files=(path,))).id
        if name == "first":
            _wait_for((tmp_path / "first.started").exists, "the first workflow never ran")
    (tmp_path / "second.go").touch()  # the second runs through once it has the lock

    def queued() -> bool:
        record = engine.get(ids["second"]).record
        return record.phase == "Pending" and record.message.endswith("/Mutex/cf-exit-lock lock")

    _wait_for(queued, "the second workflow never waited for the first's lock")
    (tmp_path / "first.go").touch()  # the first's entrypoint ends; its exit handler runs
    engine.join(ids["first"], timeout=60)
    engine.join(ids["second"], timeout=60)
    first, second = engine.get(ids["first"]), engine.get(ids["second"])
    assert first.phase == "Succeeded", first.record.message
    assert second.phase == "Succeeded", second.record.message
    # The second's entrypoint saw the first's exit handler done when it started.
    entry = second.node("second")
    assert entry is not None
    assert entry.outputs.get("result") == "after-exit"
    exit_node = first.node("first.onExit")
    assert exit_node is not None
    assert exit_node.phase == "Succeeded"
    assert exit_node.finished_at is not None
    assert second.record.started_at is not None
    assert second.record.started_at >= exit_node.finished_at
