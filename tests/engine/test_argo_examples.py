"""Argo's own examples run on the local engine with the phase Argo gives them.

The examples are read from the argo-workflows Go module in the Go module cache
(``make setup`` downloads it; they are not copied into this repository).
``tests/conformance/argo-examples.yaml`` lists the examples to run with their
expected phase, and every other single-Workflow example with the reason it is
left out; a new Argo version's examples must be sorted into one list or the
other. Without the module in the cache the tests skip, saying how to get it.

Examples listed under ``cluster`` (resource templates) run with ``--kubeconfig``
against the session's kwok management cluster (``argo_cluster``), each in a
fresh namespace unless it names one, with the files of its ``apply`` applied first.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import subprocess
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from clusterforge.engine import LocalEngine, Submission
from clusterforge.engine.suspension import resume_node

DATA = Path(__file__).parent.parent / "conformance" / "argo-examples.yaml"
REPOSITORY = Path(__file__).parent.parent.parent
MODULE = "github.com/argoproj/argo-workflows/v3"


def _data() -> dict[str, Any]:
    data: dict[str, Any] = yaml.safe_load(DATA.read_text())
    return data


def _module_cache() -> Path:
    if shutil.which("go"):
        found = subprocess.run(
            ["go", "env", "GOMODCACHE"], capture_output=True, text=True, check=False, timeout=60
        ).stdout.strip()
        if found:
            return Path(found)
    return Path(os.environ.get("GOMODCACHE") or Path.home() / "go" / "pkg" / "mod")


VERSION: str = _data()["version"]
EXAMPLES = _module_cache() / f"{MODULE}@{VERSION}" / "examples"
needs_examples = pytest.mark.skipif(
    not EXAMPLES.is_dir(),
    reason=f"Argo's examples are not in the Go module cache ({EXAMPLES}); "
    f"run `go mod download {MODULE}@{VERSION}` (make setup does)",
)


def _single_workflows() -> set[str]:
    found = set()
    for path in EXAMPLES.rglob("*.yaml"):
        try:
            docs = [d for d in yaml.safe_load_all(path.read_text()) if d]
        except yaml.YAMLError:
            continue  # not an example we could run either
        if len(docs) == 1 and isinstance(docs[0], dict) and docs[0].get("kind") == "Workflow":
            found.add(path.relative_to(EXAMPLES).as_posix())
    return found


@needs_examples
def test_every_example_is_run_or_left_out_with_a_reason() -> None:
    data = _data()
    run, left_out = set(data["run"]), data["left_out"]
    assert not run & set(left_out), "an example is both run and left out"
    assert all(isinstance(r, str) and r for r in left_out.values()), "a left-out needs a reason"
    examples = _single_workflows()
    assert sorted(examples - run - set(left_out)) == [], "examples not yet sorted into a list"
    assert sorted((run | set(left_out)) - examples) == [], "listed examples that do not exist"


def _resume_when_waiting(
    engine: LocalEngine, workflow_id: str, node: str, supplied: dict[str, str]
) -> None:
    """Resume the suspended ``node`` once it waits, as `clusterforge resume-node` would."""
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        found = engine.get(workflow_id).node(node)
        if found is not None and found.phase == "Running":
            resume_node(engine, workflow_id, node, {k: str(v) for k, v in supplied.items()})
            return
        time.sleep(0.1)
    raise AssertionError(f"{node} never waited to be resumed")


@needs_examples
@pytest.mark.slow
@pytest.mark.parametrize("example", sorted(_data()["run"]))
def test_example_ends_in_argos_phase(
    example: str, tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    data = _data()
    expected = data["run"][example]
    library = tuple(EXAMPLES / d for d in data.get("template_dirs", []))
    engine = LocalEngine(home=tmp_path / "home")
    objects = tuple(str(DATA.parent / o) for o in (data.get("objects") or {}).get(example, []))
    with _cluster_for(data.get("cluster", {}).get(example), request) as (kubeconfig, namespace):
        submission = Submission(
            files=(EXAMPLES / example,),
            template_dirs=library,
            kubeconfig=kubeconfig,
            namespace=namespace,
            objects=objects,
        )
        workflow_id = _run_example(engine, submission, data, example, expected)
        if kubeconfig is not None:  # its owner ConfigMap too (setOwnerReference)
            engine.delete(workflow_id)


@contextlib.contextmanager
def _cluster_for(
    setup: dict[str, Any] | None, request: pytest.FixtureRequest
) -> Iterator[tuple[str | None, str | None]]:
    """The kubeconfig and namespace an example with resource templates runs with."""
    if setup is None:
        yield None, None
        return
    cluster = request.getfixturevalue("argo_cluster")
    namespace = setup.get("namespace") or f"ex-{uuid.uuid4().hex[:10]}"
    if namespace == "default":
        cluster.clean()
    else:
        cluster.kubectl_run("create", "namespace", namespace)
    for item in setup.get("apply") or []:
        path = EXAMPLES / item.removeprefix("examples/") if item.startswith("examples/") else None
        path = path or REPOSITORY / item
        cluster.kubectl_run("apply", "-n", namespace, "-f", str(path))
    try:
        yield str(cluster.kubeconfig), namespace
    finally:
        if namespace == "default":
            cluster.clean()  # the Workflows it made, the templates it needed
        else:
            cluster.kubectl_run("delete", "namespace", namespace, "--wait=false")


def _run_example(
    engine: LocalEngine, submission: Submission, data: dict[str, Any], example: str, expected: str
) -> str:
    view = engine.submit(submission)
    for node, supplied in (data.get("resume") or {}).get(example, {}).items():
        _resume_when_waiting(engine, view.id, node, supplied)
    engine.join(view.id, timeout=180)
    view = engine.get(view.id)
    failures = {
        n.display_name: n.message for n in view.nodes.values() if n.phase in ("Failed", "Error")
    }
    assert view.phase == expected, failures
    assert not any("Traceback" in m for m in failures.values()), failures
    return view.id
