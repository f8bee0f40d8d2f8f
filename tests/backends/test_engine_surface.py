"""The Engine interface, backend by backend: submit, observe, control, forget.

Workflows here are small Argo documents whose steps leave marks in files
the test owns, so what ran (and how often) is checked from outside the engine.
"""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from clusterforge.engine import Engine, Submission, WorkflowView
from clusterforge.errors import InvalidInput, NotFound
from tests.backends.conftest import Backend

GATED = """
apiVersion: argoproj.io/v1alpha1
kind: Workflow
metadata: {{name: {name}, labels: {{team: blue}}}}
spec:
  entrypoint: main
  templates:
  - name: main
    dag:
      tasks:
      - {{name: prepare, template: mark}}
      - {{name: gated, template: gated, depends: prepare}}
      - {{name: finish, template: mark, depends: gated}}
  - name: mark
    container:
      image: alpine
      command: [sh, -c, 'echo run >> {runs}; echo "marked {{{{workflow.name}}}}"']
  - name: gated
    container:
      image: alpine
      command: [sh, -c, 'test -e {gate} || {{ echo "gate closed" >&2; exit 3; }}']
"""

SLEEPER = """
apiVersion: argoproj.io/v1alpha1
kind: Workflow
metadata: {name: sleeper}
spec:
  entrypoint: main
  templates:
  - name: main
    container: {image: alpine, command: [sleep, "60"]}
"""


def _phases(view: WorkflowView) -> dict[str, str]:
    return {n.display_name: n.phase for n in view.nodes.values()}


def _running(engine: Engine, workflow_id: str, timeout: float = 120) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if any(n.phase == "Running" for n in engine.get(workflow_id).nodes.values()):
            return
        time.sleep(0.1)
    raise AssertionError(
        f"{workflow_id} never had a running node: {_phases(engine.get(workflow_id))}"
    )


def test_submit_observe_retry_delete(backend: Backend, tmp_path: Path) -> None:
    engine = backend.engine
    runs, gate = tmp_path / "runs", tmp_path / "gate"
    text = GATED.format(name="gated-one", runs=runs, gate=gate)

    planned = engine.plan(Submission(text=text))
    assert [i.display_name for _d, i in planned.walk()][1:] == ["prepare", "gated", "finish"]
    assert not engine.exists("gated-one"), "plan stored something"

    view = engine.submit(Submission(text=text))
    assert view.id == "gated-one"
    final = engine.wait(view.id, timeout=60)
    assert final.phase == "Failed"
    assert _phases(final) == {
        "gated-one": "Failed",
        "prepare": "Succeeded",
        "gated": "Failed",
        "finish": "Omitted",
    }
    lines = [(line.display_name, line.text) for line in engine.logs(view.id, "gated")]
    assert ("gated", "gate closed") in lines
    assert ("prepare", "marked gated-one") in [
        (x.display_name, x.text) for x in engine.logs(view.id)
    ]
    assert next(e.display_name for e in engine.events(view.id) if e.phase == "Failed") == "gated"
    assert engine.summary(view.id).phase == "Failed"
    assert engine.summary(view.id).nodes == {}

    assert [v.id for v in engine.list(labels={"team": "blue"})] == ["gated-one"]
    assert engine.list(labels={"team": "red"}) == []
    assert [v.id for v in engine.list(phase="Failed")] == ["gated-one"]

    gate.write_text("open")
    engine.retry(view.id)
    again = engine.wait(view.id, timeout=60)
    assert again.phase == "Succeeded"
    assert runs.read_text().split() == ["run", "run"]  # prepare kept, finish ran once

    with pytest.raises(InvalidInput, match="succeeded; nothing to retry"):
        engine.retry(view.id)
    engine.delete(view.id)
    assert not engine.exists(view.id)
    with pytest.raises(NotFound):
        engine.get(view.id)
    assert engine.list() == []


def test_stop_and_terminate(backend: Backend) -> None:
    engine = backend.engine
    first = engine.submit(Submission(text=SLEEPER, name="stopped"))
    _running(engine, first.id)
    engine.stop(first.id)
    assert engine.wait(first.id, timeout=30).phase == "Failed"
    assert "Stopped with strategy 'Stop'" in engine.get(first.id).record.message

    second = engine.submit(Submission(text=SLEEPER, name="terminated"))
    _running(engine, second.id)
    engine.stop(second.id, strategy="Terminate")
    ended = engine.wait(second.id, timeout=30)
    assert ended.phase == "Failed"
    assert "Terminate" in ended.record.message
    with pytest.raises(InvalidInput, match="already finished"):
        engine.stop(second.id)


def test_delete_of_a_running_workflow_ends_it_first(backend: Backend) -> None:
    engine = backend.engine
    view = engine.submit(Submission(text=SLEEPER, name="doomed"))
    _running(engine, view.id)
    engine.delete(view.id)
    assert not engine.exists(view.id)
    assert engine.events(view.id) == []


def test_bad_submissions_store_nothing(backend: Backend) -> None:
    engine = backend.engine
    with pytest.raises(InvalidInput, match="no Workflow, WorkflowTemplate"):
        engine.submit(Submission(text="apiVersion: v1\nkind: ConfigMap\nmetadata: {name: x}\n"))
    with pytest.raises(NotFound):
        engine.retry("no-such-workflow")
    assert engine.list() == []


def test_records_are_kept_next_to_the_workflows(backend: Backend) -> None:
    records = backend.engine.records
    records.kv_put("scope", "a", {"n": 1})
    assert records.kv_create("scope", "a", {"n": 2}) is False
    assert records.kv_create("scope", "b", {"n": 3}) is True
    assert dict(records.kv_items("scope")) == {"a": {"n": 1}, "b": {"n": 3}}
    records.kv_delete("scope", "a")
    assert records.kv_get("scope", "a") is None
