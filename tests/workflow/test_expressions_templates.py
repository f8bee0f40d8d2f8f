"""``{{…}}`` tags: references, substitution, nesting and missing values."""

from __future__ import annotations

import pytest

from clusterforge.workflow.expressions import (
    ExpressionError,
    expression_references,
    references,
    substitute,
)

VALUES = {
    "inputs.parameters.x": "5",
    "inputs.parameters.message": "hello world",
    "inputs.parameters.my-param": "dashed",
    "workflow.parameters.region": "eu-west-1",
    "tasks.a.outputs.result": "heads",
    "item": "i1",
    "shard": "a",
    "steps.a.outputs.result": "from a",
}


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Hello {{ inputs.parameters.x }}", ["inputs.parameters.x"]),
        ("{{a}}{{b}} {{a}}", ["a", "b"]),
        ("{{=inputs.parameters.x}} and {{ item }}", ["item"]),
        ("no tags { here } }}", []),
        ("{{\tspaced.name  }}", ["spaced.name"]),
        ("{{steps.{{inputs.parameters.s}}.outputs.result}}", ["inputs.parameters.s"]),
        ("{{ =not.an.expression }}", ["=not.an.expression"]),
        ("{{}}", [""]),
    ],
)
def test_references(text: str, expected: list[str]) -> None:
    assert references(text) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("{{=inputs.parameters.x}}", ["inputs.parameters.x"]),
        (
            "{{=asInt(inputs.parameters.x) + len(inputs.parameters['my-param'])}}",
            ["inputs.parameters.x", "inputs.parameters.my-param"],
        ),
        ("{{=tasks['my-task'].outputs.result}}", ["tasks.my-task.outputs.result"]),
        ("{{=sprig.upper(workflow.parameters.region)}}", ["workflow.parameters.region"]),
        ("{{=items[shard]}}", ["items", "shard"]),
        ("{{=a ? b : c}} {{=b}} {{plain}}", ["a", "b", "c"]),
        ("{{=jsonpath(tasks.a.outputs.result, '$.x')}}", ["tasks.a.outputs.result"]),
        ("{{=1 + 2}}", []),
        ("{{=[x, {k: y}]}}", ["x", "y"]),
    ],
)
def test_expression_references(text: str, expected: list[str]) -> None:
    assert expression_references(text) == expected


def test_expression_references_rejects_an_unparsable_tag() -> None:
    text = "ok {{=a}} then {{=asInt(}}"
    with pytest.raises(ExpressionError) as caught:
        expression_references(text)
    assert caught.value.position == len("ok {{=a}} then {{=asInt(")
    assert caught.value.reason == "missing ')'"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Hello {{ inputs.parameters.message }}!", "Hello hello world!"),
        ("{{inputs.parameters.x}}{{inputs.parameters.x}}", "55"),
        ("{{  item\t}}", "i1"),
        ("region={{workflow.parameters.region}}", "region=eu-west-1"),
        ("keep {{unknown}} as is", "keep {{unknown}} as is"),
        ("single { braces } and }} stay", "single { braces } and }} stay"),
        ("{{steps.{{shard}}.outputs.result}}", "{{steps.a.outputs.result}}"),
        ("{{=inputs.parameters.x}}", "5"),
        ("{{=asInt(inputs.parameters.x) + 1}}", "6"),
        ("{{=unknown.thing}} stays", "{{=unknown.thing}} stays"),
        ("{{=nil}}", "{{=nil}}"),
    ],
)
def test_substitute(text: str, expected: str) -> None:
    assert substitute(text, VALUES) == expected


def test_nested_tag_resolves_in_two_passes() -> None:
    once = substitute("{{steps.{{shard}}.outputs.result}}", VALUES)
    assert substitute(once, VALUES) == "from a"


def test_missing_error_names_the_tag() -> None:
    text = "echo {{inputs.parameters.x}} {{ inputs.parameters.y }}"
    with pytest.raises(ExpressionError) as caught:
        substitute(text, VALUES, missing="error")
    assert caught.value.position == text.index("{{ inputs")
    assert caught.value.reason == "no value for 'inputs.parameters.y'"
    assert "{{ inputs.parameters.y }}" in str(caught.value)


def test_missing_error_names_an_expression_variable() -> None:
    text = "{{=asInt(inputs.parameters.x) + asInt(inputs.parameters.count)}}"
    with pytest.raises(ExpressionError) as caught:
        substitute(text, VALUES, missing="error")
    assert caught.value.reason == "unknown variable 'inputs.parameters.count'"
    assert caught.value.position == text.index("inputs.parameters.count")


def test_missing_error_for_an_expression_evaluating_to_nil() -> None:
    with pytest.raises(ExpressionError, match="evaluates to nil"):
        substitute("{{=nil}}", {}, missing="error")


def test_unclosed_tag_is_an_error_in_every_mode() -> None:
    for mode in ("keep", "error"):
        with pytest.raises(ExpressionError) as caught:
            substitute("a {{b", VALUES, missing=mode)
        assert caught.value.position == 2
    with pytest.raises(ExpressionError):
        references("x }} {{ y")


def test_syntax_errors_raise_even_when_keeping_missing_values() -> None:
    with pytest.raises(ExpressionError) as caught:
        substitute("x {{=1 +}}", {})
    assert caught.value.position == len("x {{=1 +")


def test_evaluation_errors_raise_even_when_keeping_missing_values() -> None:
    with pytest.raises(ExpressionError, match="mismatched types string and int"):
        substitute("{{=inputs.parameters.x == 5}}", VALUES)


def test_substitution_is_single_pass() -> None:
    # A value that looks like a tag is inserted as-is, not substituted again.
    assert substitute("{{a}}", {"a": "{{b}}", "b": "no"}) == "{{b}}"


def test_values_that_prefix_other_names_lose_to_them_in_expressions() -> None:
    values = {"workflow.parameters": '{"a": "1"}', "workflow.parameters.a": "1"}
    assert substitute("{{=workflow.parameters.a}}", values) == "1"
    assert substitute("{{workflow.parameters}}", values) == '{"a": "1"}'
