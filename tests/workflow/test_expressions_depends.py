"""Enhanced ``depends`` logic and the legacy ``dependencies`` list."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import pytest

from clusterforge.workflow.expressions import (
    TASK_RESULTS,
    ContinueOn,
    DependsExpression,
    ExpressionError,
    depends_from_dependencies,
    parse_depends,
)

PHASES = ("Pending", "Running", "Succeeded", "Failed", "Error", "Skipped", "Omitted")


@dataclass
class States:
    """A real TaskStates: phases of tasks and of looped tasks' children."""

    phases: Mapping[str, str]
    children: Mapping[str, Sequence[str]] = field(default_factory=dict)

    def phase(self, task: str) -> str:
        return self.phases[task]

    def child_phases(self, task: str) -> Sequence[str]:
        return self.children.get(task, ())


@pytest.mark.parametrize(
    ("phase", "expected"),
    [
        ("Succeeded", True),
        ("Skipped", True),
        ("Failed", False),
        ("Error", False),
        ("Omitted", False),
        ("Running", False),
        ("Pending", False),
    ],
)
def test_bare_name_means_succeeded_skipped_or_daemoned(phase: str, expected: bool) -> None:
    assert parse_depends("A").evaluate(States({"A": phase})) is expected


@pytest.mark.parametrize(
    ("result", "phase"),
    [
        ("Succeeded", "Succeeded"),
        ("Failed", "Failed"),
        ("Errored", "Error"),
        ("Skipped", "Skipped"),
        ("Omitted", "Omitted"),
    ],
)
def test_each_result_is_true_exactly_for_its_phase(result: str, phase: str) -> None:
    expression = parse_depends(f"A.{result}")
    for candidate in PHASES:
        assert expression.evaluate(States({"A": candidate})) is (candidate == phase)


def test_daemoned_is_never_true_without_daemon_steps() -> None:
    for phase in PHASES:
        assert parse_depends("A.Daemoned").evaluate(States({"A": phase})) is False


@pytest.mark.parametrize(
    ("text", "phases", "expected"),
    [
        ("A.Failed || B", {"A": "Failed", "B": "Failed"}, True),
        ("A.Failed || B", {"A": "Succeeded", "B": "Skipped"}, True),
        ("A.Failed || B", {"A": "Succeeded", "B": "Error"}, False),
        ("!A.Succeeded", {"A": "Error"}, True),
        ("!A.Succeeded", {"A": "Succeeded"}, False),
        ("!A", {"A": "Failed"}, True),
        ("(A || B) && C.Skipped", {"A": "Failed", "B": "Succeeded", "C": "Skipped"}, True),
        ("(A || B) && C.Skipped", {"A": "Failed", "B": "Failed", "C": "Skipped"}, False),
        ("(A || B) && C.Skipped", {"A": "Succeeded", "B": "Failed", "C": "Succeeded"}, False),
        ("A || B && C", {"A": "Succeeded", "B": "Failed", "C": "Failed"}, True),
        ("(A || B) && C", {"A": "Succeeded", "B": "Failed", "C": "Failed"}, False),
        ("!A.Failed && !B.Failed", {"A": "Succeeded", "B": "Error"}, True),
        ("!!A", {"A": "Succeeded"}, True),
        ("A.Succeeded || A.Failed", {"A": "Error"}, False),
        ("my-task-1.Succeeded&&task_2", {"my-task-1": "Succeeded", "task_2": "Skipped"}, True),
    ],
)
def test_combinations(text: str, phases: dict[str, str], expected: bool) -> None:
    assert parse_depends(text).evaluate(States(phases)) is expected


@pytest.mark.parametrize(
    ("children", "any_succeeded", "all_failed"),
    [
        ([], False, False),
        (["Succeeded"], True, False),
        (["Failed", "Succeeded"], True, False),
        (["Failed", "Failed"], False, True),
        (["Failed", "Error"], False, False),
        (["Error"], False, False),
        (["Skipped", "Omitted"], False, False),
    ],
)
def test_looped_task_results(children: list[str], any_succeeded: bool, all_failed: bool) -> None:
    states = States({"A": "Failed"}, {"A": children})
    assert parse_depends("A.AnySucceeded").evaluate(states) is any_succeeded
    assert parse_depends("A.AllFailed").evaluate(states) is all_failed


def test_continue_on_widens_a_bare_name() -> None:
    expression = parse_depends("A && B")
    states = States({"A": "Failed", "B": "Error"})
    assert expression.evaluate(states) is False
    assert expression.evaluate(states, continue_on={"A": ContinueOn(failed=True)}) is False
    both = {"A": ContinueOn(failed=True), "B": ContinueOn(error=True)}
    assert expression.evaluate(states, continue_on=both) is True
    # an explicit result is never widened
    assert parse_depends("B.Succeeded").evaluate(states, continue_on=both) is False


def test_expanded_spells_out_bare_names_as_argo_does() -> None:
    expression = parse_depends("A.Failed || (B && !C)")
    assert expression.expanded() == (
        "A.Failed || ((B.Succeeded || B.Skipped || B.Daemoned) && "
        "!(C.Succeeded || C.Skipped || C.Daemoned))"
    )
    assert parse_depends("A").expanded(continue_on={"A": ContinueOn(failed=True, error=True)}) == (
        "(A.Succeeded || A.Skipped || A.Daemoned || A.Errored || A.Failed)"
    )


def test_tasks_lists_every_name_once() -> None:
    expression = parse_depends("(a.Succeeded || b) && !a.Failed && c-1.AnySucceeded")
    assert expression.tasks() == frozenset({"a", "b", "c-1"})


def test_empty_depends_has_no_tasks_and_holds() -> None:
    for text in ("", "   "):
        expression = parse_depends(text)
        assert expression.tasks() == frozenset()
        assert expression.evaluate(States({})) is True


def test_dependencies_list_is_a_conjunction() -> None:
    expression = depends_from_dependencies(["A", "B-2"])
    assert expression == DependsExpression("A && B-2")
    assert expression.text == "A && B-2"
    assert expression.tasks() == frozenset({"A", "B-2"})
    assert expression.evaluate(States({"A": "Succeeded", "B-2": "Skipped"})) is True
    assert expression.evaluate(States({"A": "Succeeded", "B-2": "Failed"})) is False
    assert depends_from_dependencies([]).evaluate(States({})) is True


def test_a_wide_fan_in_does_not_nest() -> None:
    names = [f"check-{i}" for i in range(1000)]
    expression = depends_from_dependencies(names)
    assert expression.evaluate(States(dict.fromkeys(names, "Succeeded"))) is True
    assert len(expression.tasks()) == 1000


def test_dependencies_list_rejects_a_bad_name() -> None:
    with pytest.raises(ExpressionError) as caught:
        depends_from_dependencies(["a", "b c"])
    assert caught.value.position == 3
    assert "'b c' is not a task name" in caught.value.reason


@pytest.mark.parametrize(
    ("text", "position", "reason"),
    [
        ("A.Bogus", 2, "unknown task result 'Bogus'"),
        ("A.succeeded", 2, "case-sensitive: 'Succeeded'"),
        ("A.", 2, "expected a task result after '.'"),
        ("A &&", 4, "expected a task name after '&&'"),
        ("&& A", 0, "expected a task name"),
        ("(A", 2, "missing ')'"),
        ("(A || B", 7, "missing ')'"),
        ("A)", 1, "unexpected ')'"),
        ("()", 1, "expected a task name"),
        ("A B", 2, "unexpected 'B'"),
        ("A & B", 2, "use '&&'"),
        ("A | B", 2, "use '||'"),
        ("A and B", 2, "unexpected 'and'"),
        ("A == B", 2, "unexpected '='"),
        ("!", 1, "expected a task name after '!'"),
        ("A.Succeeded.Failed", 11, "unexpected '.'"),
    ],
)
def test_invalid_depends_point_at_the_bad_token(text: str, position: int, reason: str) -> None:
    with pytest.raises(ExpressionError) as caught:
        parse_depends(text)
    assert caught.value.position == position
    assert reason in caught.value.reason
    assert caught.value.language == "depends expression"


def test_every_documented_result_parses() -> None:
    for result in TASK_RESULTS:
        assert parse_depends(f"task.{result}").tasks() == frozenset({"task"})


def test_expressions_compare_by_text() -> None:
    assert parse_depends("A && B") == parse_depends("A && B")
    assert parse_depends("A && B") != parse_depends("B && A")
    assert len({parse_depends("A"), parse_depends("A")}) == 1
