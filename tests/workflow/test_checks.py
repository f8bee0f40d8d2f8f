"""Whole-workflow checks: every rule has a failing fixture and a fixed counterpart.

Each ``tests/conformance/invalid/<name>.yaml`` says in header comments what
the checks must report (``# expect: severity | location | field | message
part``), which template directory it needs (``# template-dir:``, relative to
``tests/conformance``) and which ``-p`` values (``# parameter: NAME=VALUE``).
``tests/workflow/fixed/<name>.yaml`` is the same workflow with the mistake
fixed, and must check clean. The DAG cycle rule is also tested against a
reference depth-first search on random graphs.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from pathlib import Path

import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from clusterforge.errors import InvalidInput
from clusterforge.templates import TEMPLATE_DIR
from clusterforge.workflow import (
    Problem,
    TemplateLibrary,
    WorkflowInvalid,
    check,
    check_or_raise,
    effective_spec,
    lint,
    load_text,
)
from clusterforge.workflow._graph import find_cycles

CONFORMANCE = Path(__file__).parent.parent / "conformance"
INVALID = sorted((CONFORMANCE / "invalid").glob("*.yaml"))
FIXED = Path(__file__).parent / "fixed"


@dataclass(frozen=True)
class Expectation:
    severity: str
    location: str
    field: str
    message: str

    def matches(self, problem: Problem) -> bool:
        return (
            problem.severity == self.severity
            and problem.location == self.location
            and problem.field == self.field
            and self.message in problem.message
        )


@dataclass(frozen=True)
class Fixture:
    expectations: list[Expectation]
    template_dirs: list[Path]
    parameters: dict[str, str]


def _fixture(path: Path) -> Fixture:
    expectations: list[Expectation] = []
    dirs: list[Path] = []
    params: dict[str, str] = {}
    for line in path.read_text().splitlines():
        if not line.startswith("#"):
            continue
        key, _, value = line.lstrip("# ").partition(":")
        if key == "expect":
            severity, location, field, message = (part.strip() for part in value.split("|"))
            expectations.append(Expectation(severity, location, field, message))
        elif key == "template-dir":
            dirs.append(CONFORMANCE / value.strip())
        elif key == "parameter":
            name, _, val = value.strip().partition("=")
            params[name] = val
    return Fixture(expectations, dirs, params)


def _report(path: Path, fixture: Fixture) -> list[Problem]:
    result = lint([path], template_dirs=fixture.template_dirs, arguments=fixture.parameters)
    return list(result.problems)


def test_every_invalid_fixture_says_what_it_expects_and_has_a_fixed_twin() -> None:
    assert len(INVALID) >= 30
    for path in INVALID:
        assert _fixture(path).expectations, f"{path.name} has no '# expect:' line"
        assert (FIXED / path.name).is_file(), f"{path.name} has no fixed counterpart"


@pytest.mark.parametrize("path", INVALID, ids=[p.stem for p in INVALID])
def test_invalid_fixture_reports_what_it_expects(path: Path) -> None:
    fixture = _fixture(path)
    problems = _report(path, fixture)
    shown = "\n".join(f"{p.severity}: {p}" for p in problems)
    for expected in fixture.expectations:
        found = [p for p in problems if expected.matches(p)]
        assert found, f"expected {expected}\ngot:\n{shown}"
        for problem in found:
            assert problem.source == str(path)
            assert problem.line is not None, problem
            assert problem.line > 1, problem
            assert problem.hint or problem.severity == "warning", problem
    if any(e.severity == "error" for e in fixture.expectations):
        assert any(p.is_error for p in problems)


@pytest.mark.parametrize("path", INVALID, ids=[p.stem for p in INVALID])
def test_fixed_counterpart_checks_clean(path: Path) -> None:
    fixture = _fixture(path)
    fixed = FIXED / path.name
    problems = _report(fixed, _fixture(fixed))
    assert not [p for p in problems if p.is_error], "\n".join(map(str, problems))
    for expected in fixture.expectations:
        assert not [p for p in problems if expected.matches(p)]


def test_the_shipped_stage_library_lints_clean() -> None:
    report = lint([TEMPLATE_DIR])
    assert len(report.documents) >= 5
    assert report.ok, "\n".join(map(str, report.problems))


def test_conformance_workflows_check_clean_with_their_parameters() -> None:
    library = TemplateLibrary.from_paths([CONFORMANCE / "templates"])
    for path in sorted((CONFORMANCE / "workflows").glob("*.yaml")):
        if path.name.endswith(".expect.yaml"):
            continue
        expect = yaml.safe_load(path.with_name(path.stem + ".expect.yaml").read_text())
        params = {k: str(v) for k, v in (expect.get("parameters") or {}).items()}
        (doc,) = load_text(path.read_text(), source=str(path))
        problems = check(doc, library, params)
        # a case may expect warnings (``check_warnings``: their fields), never errors
        expected = set(expect.get("check_warnings") or [])
        unexpected = [p for p in problems if p.is_error or p.field not in expected]
        assert unexpected == [], "\n".join(map(str, unexpected))
        assert {p.field for p in problems} == expected


# -- the error object and its text ----------------------------------------------------

_BROKEN = """\
apiVersion: argoproj.io/v1alpha1
kind: Workflow
metadata: {generateName: broken-}
spec:
  entrypoint: main
  nodeSelector: {kubernetes.io/os: linux}
  templates:
  - name: main
    dag:
      tasks:
      - {name: a, template: ok}
      - {name: b, template: ok, depends: "a && c"}
  - name: ok
    container: {image: alpine, command: ["true"]}
"""


def test_workflow_invalid_is_invalid_input_with_one_line_per_error() -> None:
    (doc,) = load_text(_BROKEN, source="wf.yaml")
    with pytest.raises(WorkflowInvalid) as caught:
        check_or_raise(doc, TemplateLibrary())
    err = caught.value
    assert isinstance(err, InvalidInput)
    assert err.exit_code == 2
    assert str(err) == (
        "wf.yaml:12: template 'main' › task 'b': depends: unknown task 'c' "
        "(tasks in this DAG: a) — fix the name or add the task"
    )
    assert [p.severity for p in err.problems] == ["error", "warning"]


def test_check_or_raise_returns_the_warnings() -> None:
    (doc,) = load_text(_BROKEN.replace("a && c", "a"), source="wf.yaml")
    warnings = check_or_raise(doc, TemplateLibrary())
    assert [(p.field, p.severity) for p in warnings] == [("spec.nodeSelector", "warning")]
    assert warnings[0].message.startswith("ignored")


def test_an_expression_error_keeps_its_caret_under_the_bad_token() -> None:
    (doc,) = load_text(_BROKEN.replace('"a && c"', '"a &&"'), source="wf.yaml")
    (problem,) = [p for p in check(doc, TemplateLibrary()) if p.is_error]
    first, *drawing = str(problem).splitlines()
    assert first.startswith("wf.yaml:12: template 'main' › task 'b': depends: invalid depends")
    assert first.endswith("— fix the depends expression")
    assert drawing[-1].strip() == "^"
    assert drawing[-2].strip() == "a &&"


# -- modes, libraries and workflowTemplateRef -------------------------------------------

_TEMPLATE = """\
apiVersion: argoproj.io/v1alpha1
kind: WorkflowTemplate
metadata: {name: greeter}
spec:
  arguments:
    parameters:
    - {name: who}
    - {name: style, value: plain, enum: [plain, loud]}
  templates:
  - name: hello
    container:
      image: alpine
      command: [echo, "{{workflow.parameters.who}} {{workflow.parameters.greeting}}"]
"""


def test_a_workflow_template_lints_as_a_library_entry_but_runs_only_complete() -> None:
    (doc,) = load_text(_TEMPLATE, source="greeter.yaml")
    library = TemplateLibrary([doc])
    assert check(doc, library, lint=True) == []
    errors = [p for p in check(doc, library) if p.is_error]
    fields = sorted(p.field for p in errors)
    assert fields == ["container.command[1]", "spec.arguments.parameters[0]", "spec.entrypoint"]


def test_workflow_template_ref_takes_the_template_spec_and_overrides_arguments() -> None:
    (template,) = load_text(
        _TEMPLATE.replace(" {{workflow.parameters.greeting}}", "").replace(
            "  arguments:", "  entrypoint: hello\n  arguments:"
        ),
        source="greeter.yaml",
    )
    library = TemplateLibrary([template])
    workflow = """\
apiVersion: argoproj.io/v1alpha1
kind: Workflow
metadata: {generateName: hi-}
spec:
  workflowTemplateRef: {name: greeter}
  arguments:
    parameters: [{name: who, value: world}, {name: style, value: STYLE}]
"""
    (doc,) = load_text(workflow.replace("STYLE", "loud"), source="hi.yaml")
    spec = effective_spec(doc, library)
    assert spec.entrypoint == "hello"
    assert spec.workflow_template_ref is None
    assert [(p.name, p.value) for p in spec.arguments.parameters] == [
        ("who", "world"),
        ("style", "loud"),
    ]
    assert check(doc, library) == []
    (bad,) = load_text(workflow.replace("STYLE", "shouting"), source="hi.yaml")
    (problem,) = check(bad, library)
    assert "'shouting' is not an allowed value of 'style'" in problem.message


def test_problems_in_a_referenced_template_name_its_own_file() -> None:
    (template,) = load_text(_TEMPLATE, source="greeter.yaml")
    workflow = """\
apiVersion: argoproj.io/v1alpha1
kind: Workflow
metadata: {generateName: hi-}
spec:
  entrypoint: main
  arguments: {parameters: [{name: who, value: me}]}
  templates:
  - name: main
    steps:
    - - {name: hi, templateRef: {name: greeter, template: hello}}
"""
    (doc,) = load_text(workflow, source="hi.yaml")
    (problem,) = check(doc, TemplateLibrary([template]))
    assert problem.source == "greeter.yaml"
    assert problem.location == "template 'hello'"
    assert problem.line == 13
    assert "Workflow 'hi-' declares no parameter 'greeting'" in problem.message


def test_parameters_given_at_run_time_fill_missing_values() -> None:
    text = (FIXED.parent.parent / "conformance/invalid/missing-workflow-parameter.yaml").read_text()
    (doc,) = load_text(text)
    assert [p.field for p in check(doc, TemplateLibrary())] == ["spec.arguments.parameters[0]"]
    assert check(doc, TemplateLibrary(), {"cluster-name": "dev"}) == []
    extra = check(doc, TemplateLibrary(), {"cluster-name": "dev", "clustr": "x"})
    assert [p.severity for p in extra] == ["warning"]
    assert "'clustr' is given but not declared" in extra[0].message


# -- cycles against a reference DFS ----------------------------------------------------

NAMES = [f"t{i}" for i in range(8)]


def _has_cycle(graph: dict[str, set[str]]) -> bool:
    """Reference: plain recursive depth-first search with three colours."""
    colour: dict[str, int] = {}

    def visit(node: str) -> bool:
        colour[node] = 1
        for dep in graph.get(node, ()):
            if colour.get(dep) == 1 or (colour.get(dep) is None and visit(dep)):
                return True
        colour[node] = 2
        return False

    return any(colour.get(n) is None and visit(n) for n in graph)


@st.composite
def dags(draw: st.DrawFn) -> dict[str, set[str]]:
    names = draw(st.lists(st.sampled_from(NAMES), min_size=1, max_size=8, unique=True))
    edges = draw(st.lists(st.tuples(st.sampled_from(names), st.sampled_from(names)), max_size=16))
    graph: dict[str, set[str]] = {n: set() for n in names}
    for task, dep in edges:
        graph[task].add(dep)
    return graph


def _workflow(graph: dict[str, set[str]], legacy: bool) -> str:
    tasks = []
    for name, deps in graph.items():
        task: dict[str, object] = {"name": name, "template": "ok"}
        if deps and legacy:
            task["dependencies"] = sorted(deps)
        elif deps:
            task["depends"] = " && ".join(sorted(deps))
        tasks.append(task)
    return yaml.safe_dump(
        {
            "apiVersion": "argoproj.io/v1alpha1",
            "kind": "Workflow",
            "metadata": {"generateName": "random-"},
            "spec": {
                "entrypoint": "main",
                "templates": [
                    {"name": "main", "dag": {"tasks": tasks}},
                    {"name": "ok", "container": {"image": "alpine", "command": ["true"]}},
                ],
            },
        }
    )


@settings(max_examples=150, deadline=None)
@given(dags(), st.booleans())
def test_check_reports_a_cycle_iff_the_dag_has_one(
    graph: dict[str, set[str]], legacy: bool
) -> None:
    (doc,) = load_text(_workflow(graph, legacy))
    problems = check(doc, TemplateLibrary())
    cycles = [p for p in problems if p.message.startswith("dependency cycle")]
    assert bool(cycles) == _has_cycle(graph)
    assert [p for p in problems if p.is_error] == cycles
    for problem in cycles:
        names = problem.message.removeprefix("dependency cycle: ").split(" (")[0].split(" → ")
        assert names[0] == names[-1]
        for task, dep in itertools.pairwise(names):
            assert dep in graph[task], f"{task} does not depend on {dep}: {problem}"


@settings(max_examples=300, deadline=None)
@given(dags())
def test_find_cycles_closes_every_cycle_once_per_circular_group(graph: dict[str, set[str]]) -> None:
    cycles = find_cycles(graph)
    assert bool(cycles) == _has_cycle(graph)
    starts = [c[0] for c in cycles]
    assert len(starts) == len(set(starts))
    for cycle in cycles:
        assert cycle[0] == cycle[-1]
        assert len(set(cycle[:-1])) == len(cycle) - 1
        for task, dep in itertools.pairwise(cycle):
            assert dep in graph[task]


def test_a_long_chain_does_not_exhaust_the_stack() -> None:
    size = 5000
    graph = {f"t{i}": {f"t{i + 1}"} for i in range(size)}
    assert find_cycles(graph) == []
    graph[f"t{size}"] = {"t0"}
    (cycle,) = find_cycles(graph)
    assert len(cycle) == size + 2


_HOOKS = """\
apiVersion: argoproj.io/v1alpha1
kind: Workflow
metadata: {generateName: hooks-}
spec:
  entrypoint: main
  templates:
  - name: main
    steps:
    - - name: one
        template: say
        hooks:
          exit:
            template: say
            arguments: {parameters: [{name: m, value: "{{steps.one.outputs.result}}"}]}
          running:
            expression: steps.one.status == "Running"
            template: say
            arguments: {parameters: [{name: m, value: running}]}
      - name: two
        template: say
        arguments: {parameters: [{name: m, value: "{{steps.one.outputs.result}}"}]}
  - name: say
    inputs: {parameters: [{name: m, default: hi}]}
    container: {image: busybox, command: [echo, "{{inputs.parameters.m}}"]}
"""


def test_a_steps_hooks_read_its_own_outputs_and_all_of_them_run_locally() -> None:
    (doc,) = load_text(_HOOKS, source="wf.yaml")
    problems = check(doc, TemplateLibrary())
    errors = [(p.field, p.message) for p in problems if p.is_error]
    # only the sibling reading 'one' in the same group is refused, not one's own hook
    assert [field for field, _ in errors] == ["arguments.parameters[0].value"]
    assert "runs in the same group" in errors[0][1]
    # named hooks run locally (engine/local/_operator/hooks.py): nothing to warn of
    assert [p for p in problems if not p.is_error] == []
