"""Properties of the expression languages, checked on generated input."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from clusterforge.workflow.expressions import (
    ExpressionError,
    check_when,
    depends_from_dependencies,
    evaluate_when,
    expression_references,
    parse_depends,
    references,
    substitute,
)
from tests.strategies import (
    DependsCase,
    arbitrary_expression_text,
    depends_cases,
    expr_cases,
    plain_text,
    tag_free_value,
    task_names,
    templates,
    variable_names,
    when_cases,
)

FAST = settings(max_examples=60, deadline=None)


@dataclass
class States:
    phases: Mapping[str, str]
    children: Mapping[str, Sequence[str]]

    def phase(self, task: str) -> str:
        return self.phases.get(task, "Succeeded")

    def child_phases(self, task: str) -> Sequence[str]:
        return self.children.get(task, ())


@FAST
@given(plain_text(), st.dictionaries(variable_names(), tag_free_value(), max_size=4))
def test_text_without_tags_is_never_altered(text: str, values: dict[str, str]) -> None:
    assert substitute(text, values) == text
    assert substitute(text, values, missing="error") == text
    assert references(text) == []
    assert expression_references(text) == []


@FAST
@given(templates(), st.data())
def test_values_for_every_reference_leave_no_tag(
    template: tuple[str, list[str]], data: st.DataObject
) -> None:
    text, names = template
    assert references(text) == list(dict.fromkeys(names))
    values = {name: data.draw(tag_free_value(), label=name) for name in references(text)}
    result = substitute(text, values, missing="error")
    assert "{{" not in result
    assert references(result) == []
    assert substitute(result, values) == result


@FAST
@given(templates(min_tags=1), st.data())
def test_a_missing_value_is_kept_or_reported(
    template: tuple[str, list[str]], data: st.DataObject
) -> None:
    text, names = template
    absent = data.draw(st.sampled_from(names), label="absent")
    values = {name: "v" for name in names if name != absent}
    kept = substitute(text, values)
    assert references(kept) == [absent]
    with pytest.raises(ExpressionError) as caught:
        substitute(text, values, missing="error")
    assert caught.value.reason == f"no value for '{absent}'"
    assert text[caught.value.position : caught.value.position + 2] == "{{"


@FAST
@given(when_cases())
def test_generated_when_expressions_evaluate_like_their_tree(case: tuple[str, bool]) -> None:
    text, expected = case
    check_when(text)
    assert evaluate_when(text) is expected


@FAST
@given(when_cases(), st.sampled_from(["none", "heads", "fluent bit"]))
def test_a_substituted_tag_behaves_like_its_value(case: tuple[str, bool], value: str) -> None:
    text, expected = case
    when = f"('{{{{x}}}}' == '{value}') && ({text})"
    check_when(when)
    assert evaluate_when(substitute(when, {"x": value})) is expected


@FAST
@given(expr_cases())
def test_generated_integer_expressions_render_like_their_tree(case: tuple[str, str]) -> None:
    text, expected = case
    assert substitute(text, {}) == expected


@FAST
@given(depends_cases())
def test_generated_depends_evaluate_like_their_tree(case: DependsCase) -> None:
    expression = parse_depends(case.text)
    assert expression.tasks() <= set(case.phases)
    assert expression.evaluate(States(case.phases, case.children)) is case.expected


@FAST
@given(st.lists(task_names(), max_size=6), st.data())
def test_dependencies_list_holds_exactly_when_every_task_did(
    names: list[str], data: st.DataObject
) -> None:
    phases = {
        name: data.draw(st.sampled_from(["Succeeded", "Skipped", "Failed"])) for name in names
    }
    expression = depends_from_dependencies(names)
    expected = all(phase != "Failed" for phase in phases.values())
    assert expression.evaluate(States(phases, {})) is expected


def _only_expression_errors(call: object, text: str) -> None:
    """Run ``call(text)``: it may succeed or raise ExpressionError, and nothing else."""
    assert callable(call)
    error: ExpressionError | None = None
    try:
        call(text)
    except ExpressionError as caught:
        error = caught
    if error is not None:
        assert 0 <= error.position <= len(error.expression)
        assert str(error).startswith("invalid ")


@settings(max_examples=300, deadline=None)
@given(arbitrary_expression_text())
def test_arbitrary_text_only_ever_raises_expression_error(text: str) -> None:
    _only_expression_errors(evaluate_when, text)
    _only_expression_errors(check_when, text)
    _only_expression_errors(lambda t: parse_depends(t).evaluate(States({}, {})), text)
    _only_expression_errors(references, text)
    _only_expression_errors(expression_references, text)
    _only_expression_errors(lambda t: substitute(t, {"a": "1", "b.a": "x"}), text)
    _only_expression_errors(lambda t: substitute("{{=" + t + "}}", {"a": "1"}), text)
    _only_expression_errors(lambda t: evaluate_when(f"'{{{{x}}}}' == {t}"), text)


@pytest.mark.parametrize(
    ("call", "text"),
    [
        (evaluate_when, "(" * 5000 + "true" + ")" * 5000),
        (check_when, "(" * 5000 + "{{x}}" + ")" * 5000),
        (evaluate_when, " && ".join(["true"] * 3000)),
        (parse_depends, "(" * 5000 + "A" + ")" * 5000),
        (parse_depends, "!" * 5000 + "A"),
        (lambda t: substitute(t, {}), "{{=" + "(" * 5000 + "1" + ")" * 5000 + "}}"),
        (lambda t: substitute(t, {}), "{{=" + "-" * 5000 + "1}}"),
        (lambda t: substitute(t, {}), "{{=" + "[" * 5000 + "]" * 5000 + "}}"),
        (lambda t: substitute(t, {}), "{{=" + " + ".join(["1"] * 3000) + "}}"),
    ],
)
def test_deep_nesting_is_an_expression_error_not_a_crash(call: object, text: str) -> None:
    assert callable(call)
    with pytest.raises(ExpressionError, match="nested too deeply"):
        call(text)
