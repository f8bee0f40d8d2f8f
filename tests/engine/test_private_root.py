"""Artifact paths outside /tmp and the working directory (private_root.py): the
host's filesystem is never written, a step without a mount namespace ends in
Error naming the artifact and the reason, and the plan mirrors exactly the host
directories on the way to a private path."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from clusterforge.engine import LocalEngine, Submission
from clusterforge.engine.local import process
from clusterforge.engine.local.private_root import RootError, plan

needs_namespace = pytest.mark.skipif(
    not process.isolation().private_tmp, reason="steps get no mount namespace here"
)

PRIVATE = """
apiVersion: argoproj.io/v1alpha1
kind: Workflow
metadata: {name: private-root}
spec:
  entrypoint: main
  templates:
  - name: main
    inputs:
      artifacts: [{name: in, path: /mnt/cf-art-probe/in, raw: {data: placed}}]
    container:
      image: alpine
      command: [sh, -c, 'mkdir -p /cf-art-probe && cat /mnt/cf-art-probe/in > /cf-art-probe/out']
    outputs:
      artifacts: [{name: out, path: /cf-art-probe/out, archive: {none: {}}}]
"""


def _run(tmp_path: Path) -> tuple[str, str, list[Path]]:
    engine = LocalEngine(home=tmp_path / "home")
    view = engine.submit(Submission(text=PRIVATE))
    engine.join(view.id, timeout=60)
    view = engine.get(view.id)
    node = next(n for n in view.nodes.values() if n.type == "Pod")
    stored = [p for p in (tmp_path / "home" / "artifacts").rglob("out") if p.is_file()]
    return node.phase, node.message, stored


@needs_namespace
def test_the_host_is_never_written(tmp_path: Path) -> None:
    phase, message, stored = _run(tmp_path)
    assert phase == "Succeeded", message
    assert [p.read_text() for p in stored] == ["placed"]  # the output, in the repository
    assert not os.path.lexists("/cf-art-probe")
    assert not os.path.lexists("/mnt/cf-art-probe")


def test_without_a_mount_namespace_the_artifact_is_named(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    off = process.Isolation(False, "CLUSTERFORGE_ISOLATION=none")
    monkeypatch.setattr(process, "isolation", lambda: off)
    phase, message, stored = _run(tmp_path)
    assert phase == "Error"
    assert message.startswith("inputs.artifacts.in.path /mnt/cf-art-probe/in: ")
    assert "needs a private mount namespace" in message
    assert "CLUSTERFORGE_ISOLATION=none" in message
    assert stored == []
    assert not os.path.lexists("/mnt/cf-art-probe")


def test_the_plan_mirrors_the_host_directories_on_the_way(tmp_path: Path) -> None:
    root = plan(str(tmp_path / "root"), {"in": "/mnt/cf-art-x/in"}, {"out": "/etc/hostname"})
    assert root is not None
    assert set(root.mirrored) == {"/", "/mnt"}
    top = {e.name for e in root.mirrored["/"]}
    assert "usr" in top
    assert "mnt" not in top  # mirrored itself
    assert "tmp" not in top  # the private /tmp
    assert root.host("/mnt/cf-art-x/in") == tmp_path / "root" / "mnt" / "cf-art-x" / "in"
    assert root.host("/etc/hostname") == Path("/etc/hostname")  # the host's (image's) own
    assert plan(str(tmp_path), {}, {"out": "/etc/hostname"}) is None  # nothing private


def test_symlinks_on_the_host_path_are_refused(tmp_path: Path) -> None:
    if not os.path.islink("/bin"):
        pytest.skip("/bin is not a symlink here")
    with pytest.raises(RootError, match="passes through the host's symlink /bin"):
        plan(str(tmp_path), {"inputs.artifacts.k.path": "/bin/cf-tool"}, {})


PARAMETERS = """
apiVersion: argoproj.io/v1alpha1
kind: Workflow
metadata: {name: private-parameters}
spec:
  entrypoint: main
  templates:
  - name: main
    steps:
    - - {name: one, template: write, arguments: {parameters: [{name: word, value: alpha}]}}
      - {name: two, template: write, arguments: {parameters: [{name: word, value: beta}]}}
  - name: write
    inputs: {parameters: [{name: word}]}
    container:
      image: alpine
      command: [sh, -c, 'sleep 0.2; echo "$0" > /cf-param-probe; cat /cf-param-probe']
      args: ["{{inputs.parameters.word}}"]
    outputs:
      parameters: [{name: said, valueFrom: {path: /cf-param-probe}}]
"""


@needs_namespace
def test_an_output_parameter_outside_tmp_is_the_steps_own_file(tmp_path: Path) -> None:
    # As in a container: each step writes /cf-param-probe in its own root, so two
    # at once never see each other's file, and the host's / is not written.
    engine = LocalEngine(home=tmp_path / "home")
    view = engine.submit(Submission(text=PARAMETERS))
    engine.join(view.id, timeout=60)
    view = engine.get(view.id)
    said = {
        n.display_name: {p["name"]: p["value"] for p in n.outputs.get("parameters", [])}
        for n in view.nodes.values()
        if n.type == "Pod"
    }
    assert view.phase == "Succeeded", said
    assert said == {"one": {"said": "alpha"}, "two": {"said": "beta"}}
    assert not os.path.lexists("/cf-param-probe")
