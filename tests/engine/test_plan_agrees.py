"""``plan`` and ``run`` agree, node by node, on every conformance workflow.

The planner shares the operator's template resolution, loop expansion and
parameter text; this test is what keeps them from drifting apart again. Both
trees are keyed by the path of display names from the root (retry attempts
folded into their Retry node, as the plan has no attempts):

- a node the plan decides to skip is Skipped in the run, one it decides to
  run is not skipped by its ``when``;
- every node the run made is in the plan, unless the plan said its items or
  condition are known only at run time (an ancestor decided ``runtime``);
- a workflow that succeeded ran every node the plan has (one that failed may
  have stopped scheduling before some).
"""

from __future__ import annotations

import contextlib
from pathlib import Path
from typing import Any

import pytest
import yaml
from tests.conformance.cluster import case_cluster
from tests.conformance.http_server import case_parameters, http_server

from clusterforge.engine import LocalEngine, PlannedNode, Submission
from clusterforge.engine.local.planner import plan
from clusterforge.errors import InvalidInput
from clusterforge.store import NodeRecord

HERE = Path(__file__).parent.parent / "conformance"
CASES = sorted(
    p for p in (HERE / "workflows").glob("*.yaml") if not p.name.endswith(".expect.yaml")
)

Path_ = tuple[str, ...]


def planned_paths(root: PlannedNode) -> dict[Path_, PlannedNode]:
    out: dict[Path_, PlannedNode] = {}

    def visit(node: PlannedNode, prefix: Path_) -> None:
        path = (*prefix, node.display_name)
        out[path] = node
        for child in node.children:
            visit(child, path)

    visit(root, ())
    return out


def run_paths(nodes: dict[str, NodeRecord], root_id: str) -> dict[Path_, NodeRecord]:
    out: dict[Path_, NodeRecord] = {}

    def visit(node: NodeRecord, prefix: Path_) -> None:
        path = (*prefix, node.display_name)
        out[path] = node
        for child_id in node.children:
            child = nodes[child_id]
            if node.type == "Retry":  # an attempt: its children belong to the Retry node
                for grandchild in child.children:
                    visit(nodes[grandchild], path)
            else:
                visit(child, path)

    visit(nodes[root_id], ())
    return out


def decided_at_runtime(path: Path_, planned: dict[Path_, PlannedNode]) -> bool:
    return any(
        path[:i] in planned and planned[path[:i]].decision == "runtime" for i in range(1, len(path))
    )


def _arguments(workflow: Path, tmp_path: Path, url: str) -> dict[str, str]:
    expect: dict[str, Any] = yaml.safe_load(
        workflow.with_name(workflow.stem + ".expect.yaml").read_text()
    )
    return case_parameters(expect.get("parameters") or {}, tmp_path, url)


@pytest.mark.parametrize("workflow", CASES, ids=[p.stem for p in CASES])
def test_plan_and_run_agree(workflow: Path, tmp_path: Path, request: pytest.FixtureRequest) -> None:
    expect = yaml.safe_load(workflow.with_name(workflow.stem + ".expect.yaml").read_text())
    if "refused" in expect:  # neither plans nor runs
        with pytest.raises(InvalidInput, match="--kubeconfig"):
            LocalEngine(home=tmp_path / "home").plan(Submission(files=(workflow,)))
        return
    with contextlib.ExitStack() as stack:
        url = stack.enter_context(http_server()) if expect.get("http_server") else ""
        kubeconfig, namespace, _ = stack.enter_context(case_cluster(expect, request))
        submission = Submission(
            files=(workflow,),
            template_dirs=tuple(HERE / d for d in expect.get("template_dirs", [])),
            arguments=_arguments(workflow, tmp_path, url),
            kubeconfig=kubeconfig,
            namespace=namespace,
            objects=tuple(str(HERE / o) for o in expect.get("objects") or []),
        )
        _agree(workflow, submission, tmp_path)


def _agree(workflow: Path, submission: Submission, tmp_path: Path) -> None:
    engine = LocalEngine(home=tmp_path / "home")
    record = engine.prepare(submission)
    planned = planned_paths(plan(record))
    engine.store.create_workflow(record)
    engine.start(record.id)
    engine.join(record.id, timeout=120)
    view = engine.get(record.id)
    assert view.done, f"{workflow.name} did not finish"
    if record.name not in view.nodes:
        # ended before its first node (a global parameter's ConfigMap missing: Error;
        # a workflow-level semaphore's: Failed)
        assert view.phase in ("Error", "Failed"), view.record.message
        return
    ran = run_paths(view.nodes, record.name)

    for path, node in ran.items():
        if path in planned:
            decision = planned[path].decision
            if decision == "skip":
                assert node.phase == "Skipped", f"{path}: planned skip, ran {node.phase}"
            if decision == "run":
                assert node.phase != "Skipped", f"{path}: planned to run, skipped by its when"
        else:
            assert decided_at_runtime(path, planned), f"{path} ran but is not in the plan"
    if view.phase == "Succeeded":
        # a node decided at run time (a lifecycle hook whose expression never held) may be absent
        missing = [
            p
            for p in planned
            if p not in ran
            and planned[p].decision != "runtime"
            and not decided_at_runtime(p, planned)
        ]
        assert not missing, f"planned but never run: {missing}"
    root = (record.name,)
    assert root in ran
    assert root in planned
    assert planned[root].template == ran[root].template_name
