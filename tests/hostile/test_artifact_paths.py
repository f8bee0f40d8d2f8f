"""A step's paths — output parameters' ``valueFrom.path``, artifacts' ``path`` —
stay inside the step's private /tmp or working directory when they are given
as such: ``..`` or a symlink the step left cannot make the engine read a host
file into a workflow's outputs, or write an input artifact outside the attempt.
"""

from __future__ import annotations

import functools
import os
from pathlib import Path

import pytest

from clusterforge.engine import LocalEngine, Submission
from clusterforge.engine.artifacts import (
    ArtifactFailure,
    LocalRepository,
    collect_outputs,
    stage_inputs,
)
from clusterforge.engine.local import process
from clusterforge.engine.local.values import host_path
from clusterforge.errors import InvalidInput


@pytest.fixture
def attempt(tmp_path: Path) -> tuple[Path, Path]:
    tmp, work = tmp_path / "attempt" / "tmp", tmp_path / "attempt" / "work"
    tmp.mkdir(parents=True)
    work.mkdir()
    (tmp_path / "secret").write_text("host secret\n")
    os.symlink(tmp_path / "secret", tmp / "link")  # what a step could leave behind
    return tmp, work


def test_paths_inside_map_and_escapes_are_refused(attempt: tuple[Path, Path]) -> None:
    tmp, work = attempt
    assert host_path("/tmp/out/x", tmp, work) == tmp / "out" / "x"
    assert host_path("/tmp", tmp, work) == tmp
    assert host_path("rel/x", tmp, work) == work / "rel" / "x"
    for escape in ("/tmp/../secret", "/tmp/a/../../../secret", "../secret", "/tmp/link"):
        with pytest.raises(InvalidInput, match="outside"):
            host_path(escape, tmp, work)


def test_artifacts_that_would_leave_the_attempt_fail_naming_the_field(
    attempt: tuple[Path, Path], tmp_path: Path
) -> None:
    tmp, work = attempt
    repo = LocalRepository("local", tmp_path / "repo")
    mapped = functools.partial(host_path, tmp=tmp, cwd=work)
    with pytest.raises(ArtifactFailure, match=r"outputs\.artifacts\.leak\.path: .*outside"):
        collect_outputs(
            repo, [{"name": "leak", "path": "/tmp/link"}], prefix="p", host_path=mapped, values={}
        )
    with pytest.raises(ArtifactFailure, match=r"inputs\.artifacts\.drop\.path: .*outside"):
        stage_inputs(
            repo,
            [{"name": "drop", "path": "/tmp/../../planted", "raw": {"data": "x"}}],
            host_path=mapped,
            produced={},
            values={},
        )
    assert not (tmp_path / "planted").exists()
    assert not any(p.is_file() for p in (tmp_path / "repo").rglob("*"))  # nothing uploaded


LEAK = """
apiVersion: argoproj.io/v1alpha1
kind: Workflow
metadata: {name: leak}
spec:
  entrypoint: leak
  templates:
  - name: leak
    container:
      image: alpine
      command: [sh, -c, 'ln -s "$0" /tmp/out', "SECRET"]
    outputs:
      parameters:
      - {name: stolen, valueFrom: {path: /tmp/out}}
"""


def test_an_output_parameter_through_a_symlink_ends_the_node_in_error(tmp_path: Path) -> None:
    secret = tmp_path / "secret"
    secret.write_text("host secret\n")
    engine = LocalEngine(home=tmp_path / "home")
    view = engine.submit(Submission(text=LEAK.replace("SECRET", str(secret))))
    engine.join(view.id, timeout=60)
    view = engine.get(view.id)
    node = next(n for n in view.nodes.values() if n.type == "Pod")
    assert node.phase == "Error"
    assert "outputs.parameters.stolen.valueFrom.path" in node.message
    assert "host secret" not in str(node.outputs)


PLANTED = """
apiVersion: argoproj.io/v1alpha1
kind: Workflow
metadata: {name: planted}
spec:
  entrypoint: leak
  templates:
  - name: leak
    container:
      image: alpine
      command: [sh, -c, 'mkdir /cf-art-leak && ln -s "$0" /cf-art-leak/out', "SECRET"]
    outputs:
      artifacts: [{name: stolen, path: /cf-art-leak/out, archive: {none: {}}}]
"""


@pytest.mark.skipif(not process.isolation().private_tmp, reason="no mount namespace here")
def test_a_symlink_in_a_private_root_cannot_read_a_host_file(tmp_path: Path) -> None:
    secret = tmp_path / "secret"
    secret.write_text("host secret\n")
    engine = LocalEngine(home=tmp_path / "home")
    view = engine.submit(Submission(text=PLANTED.replace("SECRET", str(secret))))
    engine.join(view.id, timeout=60)
    node = next(n for n in engine.get(view.id).nodes.values() if n.type == "Pod")
    assert node.phase == "Error"
    assert "outputs.artifacts.stolen.path" in node.message
    assert "outside" in node.message
    stored = [p for p in (tmp_path / "home").rglob("*") if p.is_file()]
    assert not any(p.read_bytes() == b"host secret\n" for p in stored)
