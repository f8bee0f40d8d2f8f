"""Errors are typed: a caller tells them apart by class, never by message text."""

from __future__ import annotations

from pathlib import Path

import pytest

from clusterforge.engine import LocalEngine, Submission
from clusterforge.errors import AlreadyExists, InvalidInput

WORKFLOW = """\
apiVersion: argoproj.io/v1alpha1
kind: Workflow
metadata: {name: taken}
spec:
  entrypoint: main
  templates:
  - name: main
    container: {image: alpine, command: ["true"]}
"""


def test_a_taken_name_is_already_exists_and_still_invalid_input(tmp_path: Path) -> None:
    engine = LocalEngine(home=tmp_path / "home")
    engine.store.create_workflow(engine.prepare(Submission(text=WORKFLOW)))
    with pytest.raises(AlreadyExists) as caught:
        engine.prepare(Submission(text=WORKFLOW))
    assert isinstance(caught.value, InvalidInput)  # the CLI's exit code 2 and the API's 4xx
    assert caught.value.exit_code == 2
    assert "metadata.name" in str(caught.value)
