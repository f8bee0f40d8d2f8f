"""Template-level locks on steps/DAG templates, as Argo's executeTemplate takes them.

A node holds its template's lock over its whole subtree; a child whose template
takes the same mutex waits for it — for ever, as in Argo, whose controller
neither refuses such a workflow nor lets a node's descendants share its lock
(the holder key is the node). The waiting child is Pending with Argo's message;
stopping the workflow ends it and releases the lock for the next workflow of the
same engine home.
"""

from __future__ import annotations

import time
from pathlib import Path

from clusterforge.engine import LocalEngine, Submission

NESTED = """
apiVersion: argoproj.io/v1alpha1
kind: Workflow
metadata: {name: nested-lock}
spec:
  entrypoint: outer
  templates:
  - name: outer
    synchronization: {mutexes: [{name: shared}]}
    steps:
    - - {name: inner, template: inner}
  - name: inner
    synchronization: {mutex: {name: shared}}
    dag:
      tasks:
      - {name: work, template: work}
  - name: work
    container: {image: alpine, command: ["true"]}
"""

LATER = """
apiVersion: argoproj.io/v1alpha1
kind: Workflow
metadata: {name: later}
spec:
  entrypoint: main
  templates:
  - name: main
    synchronization: {mutexes: [{name: shared}]}
    steps:
    - - {name: work, template: work}
  - name: work
    container: {image: alpine, command: ["true"]}
"""


def _submit(engine: LocalEngine, tmp_path: Path, name: str, text: str) -> str:
    path = tmp_path / f"{name}.yaml"
    path.write_text(text)
    return engine.submit(Submission(files=(path,))).id


def _pending_on_lock(engine: LocalEngine, workflow_id: str, node: str) -> str:
    for _ in range(600):
        found = engine.get(workflow_id).node(node)
        if found is not None and found.phase == "Pending" and "Waiting for" in found.message:
            return found.message
        time.sleep(0.05)
    raise AssertionError(f"{node} never waited for its lock")


def test_a_child_taking_its_ancestors_mutex_waits_until_stopped(tmp_path: Path) -> None:
    engine = LocalEngine(home=tmp_path / "home")
    wid = _submit(engine, tmp_path, "nested", NESTED)
    message = _pending_on_lock(engine, wid, "inner")
    assert message.startswith("Waiting for ")
    assert message.endswith("/Mutex/shared lock")
    view = engine.get(wid)
    outer = view.node("nested-lock")
    assert outer is not None
    assert (outer.type, outer.phase) == ("Steps", "Running")
    assert view.node("work") is None  # the DAG never ran: its node still waits
    engine.stop(wid)
    engine.join(wid, timeout=60)
    stopped = engine.get(wid)
    assert stopped.phase == "Failed"
    inner = stopped.node("inner")
    assert inner is not None
    assert inner.phase == "Failed"
    # The stopped workflow's lock is free: the next holder of the home takes it.
    later = _submit(engine, tmp_path, "later", LATER)
    engine.join(later, timeout=60)
    assert engine.get(later).phase == "Succeeded"
