"""Conformance: each workflow in tests/conformance/workflows runs on the local
engine and must end with the node phases, messages and outputs its
``*.expect.yaml`` lists — the behaviour Argo documents for the same manifest.

Expectation keys: ``phase``, ``workflow_message``, ``nodes`` (display name →
phase), ``absent`` (nodes that must never be created), ``messages`` (display
name → substring), ``results`` (display name → outputs.result; ``{wf}`` in
it is the workflow's name, as in keys),
``parameters_out`` (display name → {output parameter: value}), ``exit_codes``,
``gaps`` (attempt → minimum seconds since the previous attempt ended: backoff),
``artifacts_out`` (display name → the names in its outputs.artifacts),
``global_artifacts`` (the workflow's status.outputs.artifacts names),
``repository_keys`` (``present``/``absent`` globs in the local artifact
repository once the workflow ended),
``max_concurrency`` (a trace file of start/end lines → the limit that must be
reached and never exceeded), ``max_holders`` (template name → the limit its
nodes' stored start-to-finish intervals must reach and never exceed: the holders of
a template-level lock), ``holders_exclusive`` (template names whose nodes never
overlap one another: one lock held in turn), ``parameters`` (``-p`` values; ``{tmp}`` is the
test's directory, ``{http}`` the base URL of a loopback HTTP server started for
the case when ``http_server: true``, ``{port}``/``{port2}`` free loopback ports;
see tests/conformance/http_server.py),
``template_dirs``, ``objects`` (ConfigMap/Secret manifest files the run reads,
relative to tests/conformance), ``cluster: true`` (run against the session's
kwok cluster with ``--kubeconfig``, in a namespace of its own; see
tests/conformance/cluster.py), ``cluster_apply`` (manifests, relative to
tests/conformance, applied in that namespace before the run),
``cluster_objects`` (``present``/``absent`` ``kind/name`` in that namespace
once the workflow ended), ``refused`` (the submission is refused with this text and
nothing is stored).
"""

from __future__ import annotations

import contextlib
import dataclasses
from pathlib import Path
from typing import Any

import pytest
import yaml
from tests.conformance.cluster import case_cluster, objects_present
from tests.conformance.http_server import case_parameters, http_server

from clusterforge.engine import LocalEngine, Submission, WorkflowView
from clusterforge.errors import InvalidInput
from clusterforge.store import NodeRecord

HERE = Path(__file__).parent.parent / "conformance"
CASES = sorted(
    p for p in (HERE / "workflows").glob("*.yaml") if not p.name.endswith(".expect.yaml")
)


def _expectations(path: Path) -> dict[str, Any]:
    data: dict[str, Any] = yaml.safe_load(path.with_name(path.stem + ".expect.yaml").read_text())
    return data


def _by_display(view: WorkflowView) -> dict[str, NodeRecord]:
    # Pod attempts under a Retry node share a display name with nothing else; for a
    # non-retried step the Pod node carries the task name.
    return {n.display_name: n for n in view.nodes.values()}


def _max_overlap(trace: Path) -> int:
    events = []
    for line in trace.read_text().splitlines():
        kind, _ident, stamp = line.split()
        events.append((int(stamp), 1 if kind == "start" else -1))
    running = peak = 0
    for _stamp, delta in sorted(events, key=lambda e: (e[0], e[1])):
        running += delta
        peak = max(peak, running)
    return peak


def _holders(view: WorkflowView, templates: set[str]) -> list[NodeRecord]:
    """The nodes of ``templates`` that hold their lock: not a loop's group node nor a
    retried node's attempts (Argo's lock holder is the Retry node)."""
    nodes = view.nodes

    def holds(node: NodeRecord) -> bool:
        parent = nodes.get(node.parent_id or "")
        retried = parent is not None and parent.type == "Retry"
        return node.template_name in templates and node.type not in _GROUPS and not retried

    return [n for n in nodes.values() if holds(n)]


_GROUPS = ("StepGroup", "TaskGroup")


def _peak_holders(holders: list[NodeRecord]) -> int:
    """How many of ``holders`` ran at once, from their stored start and finish times
    (an ordering of the store's own timestamps, no wall-clock bound)."""
    events = []
    for node in holders:
        assert node.started_at is not None, node.name
        assert node.finished_at is not None, node.name
        events += [(node.started_at, 1), (node.finished_at, -1)]
    running = peak = 0
    for _stamp, delta in sorted(events):  # at a tie the release comes first
        running += delta
        peak = max(peak, running)
    return peak


@pytest.mark.parametrize("workflow", CASES, ids=[p.stem for p in CASES])
def test_conformance(workflow: Path, tmp_path: Path, request: pytest.FixtureRequest) -> None:
    expect = _expectations(workflow)
    if "refused" in expect:
        engine = LocalEngine(home=tmp_path / "home")
        with pytest.raises(InvalidInput) as refused:
            engine.submit(Submission(files=(workflow,)))
        assert expect["refused"] in str(refused.value)
        assert engine.list() == []
        return
    with contextlib.ExitStack() as stack:
        url = stack.enter_context(http_server()) if expect.get("http_server") else ""
        kubeconfig, namespace, cluster = stack.enter_context(case_cluster(expect, request))
        submission = Submission(files=(workflow,), kubeconfig=kubeconfig, namespace=namespace)
        _check_case(submission, expect, tmp_path, url)
        if cluster is not None and namespace is not None:
            objects = expect.get("cluster_objects") or {}
            found = objects_present(cluster, namespace, objects.get("present", []))
            assert all(found.values()), found
            found = objects_present(cluster, namespace, objects.get("absent", []))
            assert not any(found.values()), found


def _check_case(submission: Submission, expect: dict[str, Any], tmp_path: Path, url: str) -> None:
    params = case_parameters(expect.get("parameters") or {}, tmp_path, url)
    dirs = tuple(HERE / d for d in expect.get("template_dirs", []))
    engine = LocalEngine(home=tmp_path / "home")
    objects = tuple(str(HERE / o) for o in expect.get("objects") or [])
    submission = dataclasses.replace(
        submission, template_dirs=dirs, arguments=params, objects=objects
    )
    view = engine.submit(submission)
    engine.join(view.id, timeout=120)
    view = engine.get(view.id)
    from rich.console import Console

    from clusterforge.cli.tree import render

    console = Console(width=200, record=True)
    console.print(render(view))
    tree = console.export_text()
    assert view.phase == expect["phase"], tree
    if "workflow_message" in expect:
        assert expect["workflow_message"] in view.record.message, tree
    nodes = _by_display(view)

    def name(key: str) -> str:
        return key.replace("{wf}", view.record.name)

    for key, phase in (expect.get("nodes") or {}).items():
        assert name(key) in nodes, f"node {key!r} missing\n{tree}"
        assert nodes[name(key)].phase == phase, f"{key}\n{tree}"
    for key in expect.get("absent") or []:
        assert name(key) not in nodes, f"node {key!r} must not exist\n{tree}"
    for key, text in (expect.get("messages") or {}).items():
        assert text in nodes[name(key)].message, tree
    for key, result in (expect.get("results") or {}).items():
        wanted = name(result) if isinstance(result, str) else result
        assert nodes[name(key)].outputs.get("result") == wanted, tree
    for key, params_out in (expect.get("parameters_out") or {}).items():
        got = {p["name"]: p["value"] for p in nodes[name(key)].outputs.get("parameters", [])}
        for pname, value in params_out.items():
            assert got.get(pname) == value, tree
    for key, code in (expect.get("exit_codes") or {}).items():
        assert nodes[name(key)].exit_code == code, tree
    for key, gap in (expect.get("gaps") or {}).items():
        attempt = nodes[name(key)]
        base, index = name(key).rsplit("(", 1)
        previous = nodes[f"{base}({int(index.rstrip(')')) - 1})"]
        assert attempt.started_at is not None
        assert previous.finished_at is not None
        assert attempt.started_at - previous.finished_at >= gap, tree
    for key, names in (expect.get("artifacts_out") or {}).items():
        got_names = [a["name"] for a in nodes[name(key)].outputs.get("artifacts", [])]
        assert got_names == names, tree
    if "global_artifacts" in expect:
        outputs = view.record.outputs or {}
        assert [a["name"] for a in outputs.get("artifacts", [])] == expect["global_artifacts"]
    repo = tmp_path / "home" / "artifacts"
    for pattern in (expect.get("repository_keys") or {}).get("present", []):
        assert list(repo.glob(name(pattern))), f"no object {pattern} in {sorted(repo.rglob('*'))}"
    for pattern in (expect.get("repository_keys") or {}).get("absent", []):
        assert not list(repo.glob(name(pattern))), f"{pattern} should have been deleted"
    if "max_concurrency" in expect:
        spec = expect["max_concurrency"]
        peak = _max_overlap(tmp_path / spec["file"])
        assert peak == spec["limit"], f"observed {peak} concurrent steps, limit {spec['limit']}"
    for template, limit in (expect.get("max_holders") or {}).items():
        holders = _holders(view, {template})
        assert len(holders) > limit, f"{template}: too few nodes to show a limit\n{tree}"
        peak = _peak_holders(holders)
        assert peak == limit, f"{template}: {peak} holders at once, limit {limit}\n{tree}"
    if "holders_exclusive" in expect:
        holders = _holders(view, set(expect["holders_exclusive"]))
        assert _peak_holders(holders) == 1, tree
