"""Hostile files and workflows: every one ends in one message naming the limit.

Alias bombs, deep nesting, ``/dev/zero``, huge loops, runaway recursion and
deep JSON in a parameter used to hang the CLI, eat gigabytes or end in a
traceback. Through the real console script, each must now exit 2 (or end the
workflow with the node's error) quickly, with the limit named, and never print
a traceback.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from clusterforge.engine.local.limits import MAX_LOOP_ITEMS, MAX_TEMPLATE_DEPTH
from clusterforge.safety import (
    MAX_DEPTH,
    LimitExceeded,
    check_yaml,
    loads_json,
    read_text,
)

from .conftest import Sandbox

BOMB = "\n".join(
    [
        "apiVersion: argoproj.io/v1alpha1",
        "kind: Workflow",
        "metadata: {name: bomb}",
        "a0: &a0 [x, x, x, x, x, x, x, x, x, x]",
        *[f"a{i}: &a{i} [{', '.join([f'*a{i - 1}'] * 10)}]" for i in range(1, 8)],
        "spec: {entrypoint: main, templates: [{name: main, container: {image: a}}]}",
    ]
)
DEEP = "apiVersion: v1\nkind: Workflow\nx: " + "[" * 500 + "]" * 500 + "\n"


def test_check_yaml_names_each_limit() -> None:
    with pytest.raises(LimitExceeded, match="aliases are expanded"):
        check_yaml(BOMB, "bomb.yaml")
    with pytest.raises(LimitExceeded, match=f"nested more than {MAX_DEPTH} levels"):
        check_yaml(DEEP, "deep.yaml")
    many = "a: &a 1\nb: [" + ", ".join(["*a"] * 1_001) + "]\n"
    with pytest.raises(LimitExceeded, match="more than 1,000 aliases"):
        check_yaml(many, "many.yaml")
    check_yaml("a: &a {b: 1}\nc: *a\nd: {<<: *a}\n", "fine.yaml")  # ordinary anchors pass


def test_loads_json_names_the_field() -> None:
    with pytest.raises(LimitExceeded, match=r"^withParam: .*nested"):
        loads_json("[" * 100_000 + "]" * 100_000, "withParam")
    with pytest.raises(LimitExceeded, match=r"^p: .*nested"):
        loads_json("[" * 150 + "]" * 150, "p")
    assert loads_json('{"a": [1, 2]}', "p") == {"a": [1, 2]}


def test_read_text_stops_at_the_limit() -> None:
    with pytest.raises(LimitExceeded, match="larger than"):
        read_text(Path("/dev/zero"), limit=1 << 20)


@pytest.mark.parametrize("command", [["spec", "validate"], ["plan"], ["lint"], ["run"]])
@pytest.mark.parametrize(
    ("content", "limit"),
    [(BOMB, "aliases are expanded"), (DEEP, "levels deep"), (None, "larger than")],
    ids=["alias-bomb", "deep-nesting", "dev-zero"],
)
def test_cli_refuses_hostile_files(
    sandbox: Sandbox, command: list[str], content: str | None, limit: str
) -> None:
    if content is None:
        target = "/dev/zero"
    else:
        target = str(sandbox.home / "hostile.yaml")
        Path(target).write_text(content)
    done = sandbox.cli(*command, target, timeout=60)
    assert done.returncode == 2, (done.stdout, done.stderr)
    assert limit in done.stderr
    assert "Traceback" not in done.stderr


def test_spec_validate_does_not_echo_a_secret_file(sandbox: Sandbox) -> None:
    secret = sandbox.home / "shadow"
    secret.write_text("root:$6$saltsalt$hash:19000:0:99999:7:::\ndaemon:*:19000:0:99999:7:::\n")
    done = sandbox.cli("spec", "validate", str(secret))
    assert done.returncode == 2
    assert "is not a cluster spec" in done.stderr
    assert "saltsalt" not in done.stderr + done.stdout
    assert "daemon" not in done.stderr + done.stdout


def test_deep_json_spec_is_refused(sandbox: Sandbox) -> None:
    spec = sandbox.home / "spec.json"
    spec.write_text('{"apiVersion": ' + "[" * 5_000 + "]" * 5_000 + "}")
    done = sandbox.cli("spec", "validate", str(spec))
    assert done.returncode == 2
    assert "nested more than" in done.stderr
    assert "Traceback" not in done.stderr


def test_more_than_64_addons_says_how_many(sandbox: Sandbox) -> None:
    spec = sandbox.home / "spec.yaml"
    addons = "".join(f"    a{i}: none\n" for i in range(70))
    spec.write_text(
        "apiVersion: clusterforge.dev/v1alpha1\nkind: Cluster\nmetadata: {name: dev}\n"
        "spec:\n  provider: {type: kwok}\n  kubernetesVersion: '1.34'\n"
        "  nodeGroups: [{name: g, instanceType: m5.large, desired: 1}]\n"
        f"  addons:\n{addons}"
    )
    done = sandbox.cli("spec", "validate", str(spec))
    assert done.returncode == 2
    assert "spec.addons: allows at most 64 entries; has 70" in done.stderr
    assert "None" not in done.stderr


LOOP = """
apiVersion: argoproj.io/v1alpha1
kind: Workflow
metadata: {{name: {name}}}
spec:
  entrypoint: main
  arguments:
    parameters: [{{name: items, value: '{param}'}}]
  templates:
  - name: main
    dag:
      tasks:
      - name: loop
        template: echo
        arguments: {{parameters: [{{name: x, value: '{{{{item}}}}'}}]}}
        {loop}
  - name: echo
    inputs: {{parameters: [{{name: x}}]}}
    container: {{image: alpine, command: ['true']}}
"""


def _run(sandbox: Sandbox, text: str) -> dict[str, Any]:
    wf = sandbox.home / "wf.yaml"
    wf.write_text(text)
    done = sandbox.cli("run", str(wf), "--wait", "-o", "json", timeout=120)
    assert "Traceback" not in done.stderr, done.stderr
    assert done.returncode == 1, (done.stdout, done.stderr)
    status: dict[str, Any] = json.loads(done.stdout)["status"]
    return status


@pytest.mark.parametrize(
    ("loop", "param", "message"),
    [
        ("withSequence: {count: '1000000000'}", "[]", "a loop has at most"),
        ("withSequence: {count: '-5'}", "[]", "is negative"),
        ("withSequence: {start: '0', end: '99999999999999999999999'}", "[]", "64-bit"),
        ("withSequence: {count: '" + "9" * 5_000 + "'}", "[]", "is not an integer"),
        ("withParam: '{{workflow.parameters.items}}'", "[" * 2_000 + "]" * 2_000, "nested"),
        (
            "withParam: '{{workflow.parameters.items}}'",
            json.dumps(list(range(MAX_LOOP_ITEMS + 1))),
            "a loop has at most",
        ),
    ],
    ids=["count-1e9", "count-negative", "end-huge", "count-5000-digits", "deep-json", "too-many"],
)
def test_loop_limits_are_the_nodes_error(
    sandbox: Sandbox, loop: str, param: str, message: str
) -> None:
    status = _run(sandbox, LOOP.format(name="loop", param=param, loop=loop))
    assert status["phase"] in ("Failed", "Error")
    messages = [n.get("message", "") for n in status["nodes"].values()]
    assert any(message in m for m in messages), messages


RECURSE = """
apiVersion: argoproj.io/v1alpha1
kind: Workflow
metadata: {name: forever}
spec:
  entrypoint: main
  templates:
  - name: main
    dag:
      tasks:
      - {name: again, template: main}
"""


def test_runaway_recursion_stops_at_the_depth_limit(sandbox: Sandbox) -> None:
    status = _run(sandbox, RECURSE)
    assert status["phase"] in ("Failed", "Error")
    messages = [n.get("message", "") for n in status["nodes"].values()]
    assert any(f"more than {MAX_TEMPLATE_DEPTH} levels" in m for m in messages)
    assert len(status["nodes"]) < 3 * MAX_TEMPLATE_DEPTH


def test_lone_surrogate_in_a_payload_is_a_400(api_sandbox: tuple[Any, Sandbox]) -> None:
    server, _box = api_sandbox
    body = b'{"ref": "refs/heads/main", "repository": {"name": "\\ud800x"}}'
    with server.client() as client:
        got = client.post(
            "/api/v1/events/github/push",
            content=body,
            headers={"Content-Type": "application/json"},
        )
    assert got.status_code == 400, got.text
    assert "surrogate" in got.text
