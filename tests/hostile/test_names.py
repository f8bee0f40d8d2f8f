"""Workflow names that would escape the data directory, or break ``mkdir``.

Every case goes in through a real entry point — the console script's
``run --name``, ``metadata.name``, ``metadata.generateName``, and a webhook
sensor that appends a payload field to ``generateName`` — and must be refused
with the field named (exit 2 / HTTP 4xx), promptly, with no file outside the
data directory created, changed or truncated.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from clusterforge.errors import InvalidInput
from clusterforge.safety import WORKFLOW_NAME_MAX, check_workflow_name, inside

from .conftest import Sandbox

HOSTILE_NAMES = [
    "../../x",
    "../x",
    "/abs/path",
    str(Path("/tmp/abs")),
    ".",
    "..",
    "a/../../x",
    "a\x00b",
    "x" * 256,
    "x" * (WORKFLOW_NAME_MAX + 1),
    "UPPER",
    "-lead",
    "trail-",
    "a..b",
    "",
]

WORKFLOW = """
apiVersion: argoproj.io/v1alpha1
kind: Workflow
metadata: {meta}
spec:
  entrypoint: main
  templates:
  - name: main
    container: {{image: alpine, command: [sh, -c, 'echo out; echo err >&2']}}
"""


def _yaml_string(text: str) -> str:
    # a JSON string is a YAML flow scalar; NUL escaped as \u0000 still reaches the name
    import json

    return json.dumps(text)


@pytest.mark.parametrize("name", HOSTILE_NAMES, ids=repr)
def test_check_refuses_with_the_field_named(name: str) -> None:
    with pytest.raises(InvalidInput, match=r"^metadata\.name: "):
        check_workflow_name(name)


@pytest.mark.parametrize("name", ["a", "build-dev-1", "a.b-c.d", "x" * WORKFLOW_NAME_MAX])
def test_check_accepts_kubernetes_names(name: str) -> None:
    assert check_workflow_name(name) == name


@pytest.mark.parametrize("part", ["..", "../x", "/etc", "a\x00"])
def test_inside_refuses_escaping_parts(tmp_path: Path, part: str) -> None:
    with pytest.raises(InvalidInput):
        inside(tmp_path, part)
    assert inside(tmp_path, "ok") == tmp_path / "ok"


def test_inside_refuses_a_symlink_out(tmp_path: Path) -> None:
    (tmp_path / "link").symlink_to("/")
    with pytest.raises(InvalidInput, match="outside"):
        inside(tmp_path, "link", "etc")


@pytest.mark.parametrize("name", ["../../x", "/abs/path", "..", "a\x00b", "x" * 300], ids=repr)
def test_cli_run_name_is_refused(sandbox: Sandbox, name: str) -> None:
    wf = sandbox.root / "wf.yaml"
    wf.write_text(WORKFLOW.format(meta="{generateName: ok-}"))
    sandbox.arm()
    if "\x00" in name:  # argv cannot carry NUL: the kernel refuses it before we see it
        pytest.skip("NUL cannot pass through argv; covered through metadata.name")
    done = sandbox.cli("run", str(wf), "--name", name, "--wait", timeout=60)
    assert done.returncode == 2, done.stderr
    assert "name: " in done.stderr
    assert "Traceback" not in done.stderr
    assert sandbox.changes() == []


@pytest.mark.parametrize(
    ("meta", "field"),
    [
        ("{{name: {}}}", "metadata.name"),
        ("{{generateName: {}}}", "metadata.generateName"),
    ],
)
@pytest.mark.parametrize("name", ["../../x", "/abs/path", "..", "a\x00b", "x" * 300], ids=repr)
def test_cli_metadata_names_are_refused(sandbox: Sandbox, meta: str, field: str, name: str) -> None:
    wf = sandbox.root / "wf.yaml"
    wf.write_text(WORKFLOW.format(meta=meta.format(_yaml_string(name))))
    sandbox.arm()
    done = sandbox.cli("run", str(wf), "--wait", timeout=60)
    assert done.returncode == 2, (done.stdout, done.stderr)
    assert f"{field}: " in done.stderr
    assert "Traceback" not in done.stderr
    assert sandbox.changes() == []


def test_cli_good_name_still_runs(sandbox: Sandbox) -> None:
    wf = sandbox.root / "wf.yaml"
    wf.write_text(WORKFLOW.format(meta="{name: fine.name-1}"))
    sandbox.arm()
    done = sandbox.cli("run", str(wf), "--wait", timeout=120)
    assert done.returncode == 0, done.stderr
    assert (sandbox.home / "runs" / "fine.name-1").is_dir()
    assert sandbox.changes() == []


PUSH = {
    "ref": "refs/heads/main",
    "head_commit": {"id": "abc123"},
    "commits": [],
    "repository": {"name": "web", "size": 42, "stars": 7, "owner": {"login": "acme"}},
}


@pytest.mark.parametrize("name", ["../../x", "/abs", "a\x00b", "y" * 300, "..", "Web"], ids=repr)
def test_sensor_rendered_name_is_refused(api_sandbox: tuple[object, Sandbox], name: str) -> None:
    server, box = api_sandbox
    payload = {**PUSH, "repository": {**PUSH["repository"], "name": name}}  # type: ignore[dict-item]
    with server.client() as client:  # type: ignore[attr-defined]
        answer = client.post("/api/v1/events/github/push", json=payload)
        assert 400 <= answer.status_code < 500, answer.text
        assert "metadata.generateName" in answer.text
        # the server still works: a good push is accepted and runs
        good = client.post("/api/v1/events/github/push", json=PUSH)
        assert good.status_code == 202, good.text
    assert box.changes() == []
