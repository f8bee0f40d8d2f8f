"""Suspend templates without a duration wait until `clusterforge resume-node`
(here through its engine function and the CLI), as `argo resume`: the
Suspend node is Running until then, supplied output parameters come with the
resume, and a resume of anything but a waiting suspend node is refused."""

from __future__ import annotations

import time
from pathlib import Path

import pytest
from typer.testing import CliRunner

from clusterforge.cli import app
from clusterforge.engine import LocalEngine, Submission
from clusterforge.engine.suspension import resume_node
from clusterforge.errors import InvalidInput, NotFound

WORKFLOW = """
apiVersion: argoproj.io/v1alpha1
kind: Workflow
metadata: {name: approval}
spec:
  entrypoint: main
  templates:
  - name: main
    steps:
    - - {name: approve, template: approve}
    - - name: release
        template: echo
        arguments: {parameters: [{name: m, value: "{{steps.approve.outputs.parameters.message}}"}]}
  - name: approve
    suspend: {}
    outputs: {parameters: [{name: message, valueFrom: {supplied: {}}}]}
  - name: echo
    inputs: {parameters: [{name: m}]}
    container: {image: alpine, command: [echo, "{{inputs.parameters.m}}"]}
"""


def _waiting(engine: LocalEngine, workflow_id: str, node: str) -> None:
    for _ in range(200):
        found = engine.get(workflow_id).node(node)
        if found is not None and found.phase == "Running":
            return
        time.sleep(0.05)
    raise AssertionError(f"{node} never started waiting")


def _submit(tmp_path: Path) -> tuple[LocalEngine, str]:
    path = tmp_path / "approval.yaml"
    path.write_text(WORKFLOW)
    engine = LocalEngine(home=tmp_path / "home")
    view = engine.submit(Submission(files=(path,)))
    _waiting(engine, view.id, "approve")
    return engine, view.id


def test_resume_with_a_supplied_parameter(tmp_path: Path) -> None:
    engine, wid = _submit(tmp_path)
    time.sleep(0.6)  # a few polls: it keeps waiting without a resume
    view = engine.get(wid)
    approve = view.node("approve")
    assert approve is not None
    assert (approve.type, approve.phase) == ("Suspend", "Running")
    assert view.node("release") is None
    with pytest.raises(InvalidInput, match="not a suspend node"):
        resume_node(engine, wid, "approval")  # the Steps node at the root
    with pytest.raises(NotFound, match="no node 'nope'"):
        resume_node(engine, wid, "nope")
    resume_node(engine, wid, "approve", {"message": "ship it"})
    engine.join(wid, timeout=60)
    view = engine.get(wid)
    assert view.phase == "Succeeded"
    release = view.node("release")
    assert release is not None
    assert release.outputs.get("result") == "ship it"
    approve = view.node("approve")
    assert approve is not None
    assert approve.outputs["parameters"] == [{"name": "message", "value": "ship it"}]
    with pytest.raises(InvalidInput, match="is Succeeded, not waiting"):
        resume_node(engine, wid, "approve")


def test_resume_without_the_supplied_value_ends_in_error_naming_the_fix(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    engine, wid = _submit(tmp_path)
    monkeypatch.setenv("CLUSTERFORGE_HOME", str(tmp_path / "home"))
    result = CliRunner().invoke(app, ["resume-node", "approval", "approve"])
    assert result.exit_code == 0, result.output
    engine.join(wid, timeout=60)
    view = engine.get(wid)
    approve = view.node("approve")
    assert view.phase == "Error"
    assert approve is not None
    assert approve.phase == "Error"
    assert "resume-node WORKFLOW NODE -p message=VALUE" in approve.message
