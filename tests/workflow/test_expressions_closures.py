"""Closures (``map``, ``filter``, ``all``, ``any``, ``none``, ``one``, ``count``),
ranges and slices of the ``{{=…}}`` language: Argo's examples, expr-lang's
rules, and properties against Python's own list operations."""

from __future__ import annotations

import json

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from clusterforge.workflow.expressions import ExpressionError, expression_references, substitute

FAST = settings(max_examples=80, deadline=None)
VALUES = {
    "workflow.parameters.items": '[{"name": "a", "size": 3}, {"name": "b", "size": 12}]',
    "inputs.parameters.limit": "10",
}


def render(expression: str) -> str:
    return substitute("{{=" + expression + "}}", VALUES)


@pytest.mark.parametrize(
    ("expression", "expected"),
    [
        # Argo's examples/expression-tag-template-workflow.yaml
        ("toJson(filter([1, 3], {# > 1}))", "[3]"),
        ("toJson(map([1, 2, 3], {# * 2}))", "[2,4,6]"),
        ("toJson(map([[1, 2], [3, 4]], {#[0] + #[1]}))", "[3,7]"),
        ("toJson(map([{a: 1}, {a: 2}], {.a}))", "[1,2]"),
        ("toJson(filter(['x/main.log', 'y'], {# endsWith 'main.log'}))", '["x/main.log"]'),
        ("all([1, 2], {# > 0})", "true"),
        ("all([], {# > 0})", "true"),
        ("any([1, 2], {# > 1})", "true"),
        ("none([1, 2], {# > 1})", "false"),
        ("one([1, 2, 3], {# > 1})", "false"),
        ("count(1..10, {# % 3 == 0})", "3"),
        (
            "toJson(map(filter(jsonpath(workflow.parameters.items, '$'), "
            "{.size > asInt(inputs.parameters.limit)}), {.name}))",
            '["b"]',
        ),
        ("toJson(map(1..3, {map(1..#, {#})}))", "[[1],[1,2],[1,2,3]]"),
        ("toJson(1..3)", "[1,2,3]"),
        ("toJson(3..1)", "[]"),
        ("toJson([1, 2, 3, 4][1:3])", "[2,3]"),
        ("toJson([1, 2, 3, 4][:-1])", "[1,2,3]"),
        ("toJson([1, 2, 3, 4][2:])", "[3,4]"),
        ("'hello'[1:3]", "el"),
        ("true ? 'a' : 'b'", "a"),
        ("nothing.here ?? 'fallback'", "fallback"),
    ],
)
def test_evaluates(expression: str, expected: str) -> None:
    assert render(expression) == expected


@pytest.mark.parametrize(
    ("expression", "position", "reason"),
    [
        ("map(1, {#})", 0, "map() wants a list as its first argument, not int"),
        ("filter([1], {#})", 0, "the closure of filter() must give a bool, not int"),
        ("filter([1], 2)", 12, "takes a closure as its second argument"),
        ("1..'a'", 1, "a range '..' takes two integers"),
        ("0..1000000", 1, "at most"),
        ("5[1:2]", 0, "cannot slice int"),
        ("[1][1.5:]", 0, "a slice bound must be an integer"),
        ("sortBy([1], {#})", 0, "function 'sortBy' takes a closure, which is not supported"),
    ],
)
def test_refuses_with_position(expression: str, position: int, reason: str) -> None:
    with pytest.raises(ExpressionError) as caught:
        render(expression)
    assert caught.value.position == 3 + position
    assert reason in caught.value.reason


def test_closure_element_is_not_a_variable() -> None:
    text = "{{=map(filter(1..3, {# > asInt(inputs.parameters.limit)}), {.name})}}"
    assert expression_references(text) == ["inputs.parameters.limit"]


small_ints = st.lists(st.integers(min_value=-50, max_value=50), max_size=12)


@FAST
@given(small_ints, st.integers(min_value=-50, max_value=50))
def test_filter_count_and_quantifiers_agree_with_python(items: list[int], pivot: int) -> None:
    listed = json.dumps(items)
    kept = json.loads(render(f"toJson(filter({listed}, {{# > {pivot}}}))"))
    assert kept == [i for i in items if i > pivot]
    assert render(f"count({listed}, {{# > {pivot}}})") == str(len(kept))
    assert render(f"any({listed}, {{# > {pivot}}})") == str(bool(kept)).lower()
    assert render(f"all({listed}, {{# > {pivot}}})") == str(len(kept) == len(items)).lower()
    assert render(f"none({listed}, {{# > {pivot}}})") == str(not kept).lower()
    assert render(f"one({listed}, {{# > {pivot}}})") == str(len(kept) == 1).lower()


@FAST
@given(
    small_ints, st.integers(min_value=-15, max_value=15), st.integers(min_value=-15, max_value=15)
)
def test_slices_agree_with_python(items: list[int], low: int, high: int) -> None:
    listed = json.dumps(items)
    assert json.loads(render(f"toJson({listed}[{low}:{high}])")) == items[low:high]
    assert json.loads(render(f"toJson({listed}[{low}:])")) == items[low:]


@FAST
@given(st.integers(min_value=-100, max_value=100), st.integers(min_value=-100, max_value=100))
def test_ranges_are_inclusive(low: int, high: int) -> None:
    assert json.loads(render(f"toJson(({low})..({high}))")) == list(range(low, high + 1))
