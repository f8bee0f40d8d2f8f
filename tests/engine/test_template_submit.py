"""A (Cluster)WorkflowTemplate submitted on its own runs as ``argo submit --from``
makes its Workflow: ``generateName`` is the template's name and a dash (Argo's
``NewWorkflowFromWorkflowTemplate``), whatever generateName the template has."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from clusterforge.engine import LocalEngine, Submission

TEMPLATE = """\
apiVersion: argoproj.io/v1alpha1
kind: KIND
metadata: METADATA
spec:
  entrypoint: main
  templates:
  - name: main
    container: {image: alpine, command: [echo, hello]}
"""
_K8S = "[bcdfghjklmnpqrstvwxz2456789]"


@pytest.mark.parametrize("kind", ["WorkflowTemplate", "ClusterWorkflowTemplate"])
def test_a_template_named_only_by_generate_name_gets_a_name_then_its_workflow_one(
    kind: str, tmp_path: Path
) -> None:
    text = TEMPLATE.replace("KIND", kind).replace("METADATA", "{generateName: tmpl-}")
    record = LocalEngine(home=tmp_path / "home").prepare(Submission(text=text))
    assert re.fullmatch(rf"tmpl-{_K8S}{{5}}-[a-z0-9]{{5}}", record.name), record.name


def test_a_named_template_runs_as_its_name_and_a_dash_not_its_generate_name(
    tmp_path: Path,
) -> None:
    text = TEMPLATE.replace("KIND", "WorkflowTemplate").replace(
        "METADATA", "{name: named, generateName: other-}"
    )
    record = LocalEngine(home=tmp_path / "home").prepare(Submission(text=text))
    assert re.fullmatch(r"named-[a-z0-9]{5}", record.name), record.name
