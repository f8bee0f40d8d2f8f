"""ConfigMap and Secret manifests a local run reads (``run --objects FILE``).

Bad manifests are refused at submission with one error naming the file, the
document and the field — never quoting a value — and nothing is stored; the
files are recorded by path (a posted document cannot name its own); the
data directory's ``objects.yaml`` is the default.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from clusterforge.engine import LocalEngine, Submission
from clusterforge.engine.objects import OBJECTS_ANNOTATION, objects_of
from clusterforge.engine.objects._manifests import load_files
from clusterforge.errors import InvalidInput

CLI = [sys.executable, "-m", "clusterforge.cli"]
SECRET = "s3cr3t-value-never-shown"
HELLO = """
apiVersion: argoproj.io/v1alpha1
kind: Workflow
metadata:
  name: hello-objects
  annotations: {workflows.clusterforge.io/objects: '["/etc/shadow"]'}
spec:
  entrypoint: main
  arguments:
    parameters:
    - name: message
      valueFrom: {configMapKeyRef: {name: params, key: msg}}
  templates:
  - name: main
    container: {image: alpine, command: [echo, "{{workflow.parameters.message}}"]}
"""
PARAMS = """
apiVersion: v1
kind: ConfigMap
metadata:
  name: params
  labels: {workflows.argoproj.io/configmap-type: Parameter}
data: {msg: from the file}
"""

BAD = {
    "kind": ("apiVersion: v1\nkind: Pod\nmetadata: {name: x}\n", "document 1: kind is 'Pod'"),
    "name": ("kind: ConfigMap\nmetadata: {name: Bad_Name}\n", "metadata.name 'Bad_Name'"),
    "key": ("kind: ConfigMap\nmetadata: {name: a}\ndata: {'a/b': x}\n", "data: key 'a/b'"),
    "value": ("kind: ConfigMap\nmetadata: {name: a}\ndata: {n: 1}\n", "data.n must be a string"),
    "base64": (
        f"kind: Secret\nmetadata: {{name: a}}\ndata: {{pw: '{SECRET}!'}}\n",
        "data.pw: not base64",
    ),
    "yaml": (f"kind: Secret\nstringData: {{pw: {SECRET}\n", "not valid YAML at line"),
    "duplicate": (PARAMS + "---" + PARAMS, "is also defined in"),
}


@pytest.mark.parametrize("case", sorted(BAD))
def test_a_bad_manifest_is_one_error_naming_file_and_field(case: str, tmp_path: Path) -> None:
    text, expected = BAD[case]
    path = tmp_path / "objects.yaml"
    path.write_text(text)
    engine = LocalEngine(home=tmp_path / "home")
    workflow = tmp_path / "wf.yaml"
    workflow.write_text(HELLO)
    with pytest.raises(InvalidInput) as caught:
        engine.submit(Submission(files=(workflow,), objects=(str(path),)))
    message = str(caught.value)
    assert str(path) in message, message
    assert expected in message, message
    assert SECRET not in message
    assert engine.list() == []


def _run(tmp_path: Path, objects: Path, *extra: str) -> subprocess.CompletedProcess[str]:
    """``clusterforge run HELLO --objects OBJECTS --wait`` with its own data directory."""
    workflow = tmp_path / "wf.yaml"
    workflow.write_text(HELLO)
    env = {"CLUSTERFORGE_HOME": str(tmp_path / "home"), "PATH": "/usr/bin:/bin"}
    return subprocess.run(
        [*CLI, "run", str(workflow), "--objects", str(objects), "--wait", *extra],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
        check=False,
    )


def test_a_missing_objects_file_is_refused_by_the_cli(tmp_path: Path) -> None:
    done = _run(tmp_path, tmp_path / "nope.yaml")
    assert done.returncode == 2, done.stderr
    assert "--objects" in done.stderr
    assert "nope.yaml: does not exist" in done.stderr
    assert "Traceback" not in done.stderr


def test_the_cli_reads_objects_and_stores_only_their_path(tmp_path: Path) -> None:
    objects = tmp_path / "cm.yaml"
    objects.write_text(PARAMS)
    done = _run(tmp_path, objects, "-o", "json")
    assert done.returncode == 0, done.stderr
    view = LocalEngine(home=tmp_path / "home").get("hello-objects")
    assert view.phase == "Succeeded"
    # the document's own annotation is dropped: only the submission names files
    assert objects_of(view.record.manifest) == (str(objects),)
    logs = LocalEngine(home=tmp_path / "home").logs("hello-objects")
    assert [line.text for line in logs] == ["from the file"]


def test_the_data_directory_objects_file_is_the_default(tmp_path: Path) -> None:
    home = tmp_path / "home"
    home.mkdir()
    (home / "objects.yaml").write_text(PARAMS)
    workflow = tmp_path / "wf.yaml"
    workflow.write_text(HELLO)
    engine = LocalEngine(home=home)
    view = engine.submit(Submission(files=(workflow,)))
    engine.join(view.id, timeout=60)
    view = engine.get(view.id)
    assert view.phase == "Succeeded", view.record.message
    annotations = view.record.manifest["metadata"]["annotations"]
    assert annotations[OBJECTS_ANNOTATION] == f'["{home / "objects.yaml"}"]'


def test_a_directory_of_manifests_and_secret_encodings(tmp_path: Path) -> None:
    (tmp_path / "a.yaml").write_text(PARAMS)
    (tmp_path / "b.yml").write_text(
        "kind: Secret\nmetadata: {name: s}\ndata: {pw: aGk=}\nstringData: {user: me}\n"
    )
    (tmp_path / "notes.txt").write_text("not read")
    found = {o.name: o for o in load_files([tmp_path], "--objects")}
    assert sorted(found) == ["params", "s"]
    assert dict(found["s"].data) == {"pw": b"hi", "user": b"me"}
