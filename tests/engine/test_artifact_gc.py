"""artifactGC OnWorkflowDeletion: a workflow's artifacts stay while it exists
and go when it is deleted; other strategies' artifacts stay."""

from __future__ import annotations

from pathlib import Path

from clusterforge.engine import LocalEngine, Submission

WORKFLOW = """\
apiVersion: argoproj.io/v1alpha1
kind: Workflow
metadata: {name: gc-on-deletion}
spec:
  entrypoint: gen
  artifactGC: {strategy: OnWorkflowDeletion}
  templates:
  - name: gen
    container: {image: alpine, command: [sh, -c, "echo a > /tmp/a; echo b > /tmp/b"]}
    outputs:
      artifacts:
      - {name: a, path: /tmp/a}
      - {name: b, path: /tmp/b, artifactGC: {strategy: Never}}
"""


def test_deleting_the_workflow_deletes_its_on_deletion_artifacts(tmp_path: Path) -> None:
    source = tmp_path / "wf.yaml"
    source.write_text(WORKFLOW)
    engine = LocalEngine(home=tmp_path / "home")
    view = engine.submit(Submission(files=(source,)))
    engine.join(view.id, timeout=60)
    view = engine.get(view.id)
    assert view.phase == "Succeeded"
    repo = tmp_path / "home" / "artifacts" / "gc-on-deletion"
    assert sorted(p.name for p in repo.rglob("*.tgz")) == ["a.tgz", "b.tgz"]
    engine.delete(view.id)
    assert sorted(p.name for p in repo.rglob("*.tgz")) == ["b.tgz"]
    assert not engine.exists(view.id)
