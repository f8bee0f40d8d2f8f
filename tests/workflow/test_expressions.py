"""The public surface of clusterforge.workflow.expressions and its error messages."""

from __future__ import annotations

import pytest

import clusterforge.workflow.expressions as expressions
from clusterforge.errors import InvalidInput, UserError
from clusterforge.workflow.expressions import (
    ExpressionError,
    check_when,
    evaluate_when,
    parse_depends,
    substitute,
)


def test_public_names_are_exactly_all() -> None:
    public = {name for name in dir(expressions) if not name.startswith("_")}
    assert public - {"annotations"} == set(expressions.__all__)


def test_api_named_in_the_contract_is_exported() -> None:
    for name in (
        "ExpressionError",
        "references",
        "expression_references",
        "substitute",
        "check_when",
        "evaluate_when",
        "TaskStates",
        "DependsExpression",
        "parse_depends",
        "depends_from_dependencies",
    ):
        assert name in expressions.__all__


def test_error_is_an_invalid_input_with_exit_code_2() -> None:
    with pytest.raises(ExpressionError) as caught:
        evaluate_when("a == (b")
    assert isinstance(caught.value, InvalidInput)
    assert isinstance(caught.value, UserError)
    assert caught.value.exit_code == 2


def test_error_message_quotes_reason_position_and_draws_a_caret() -> None:
    with pytest.raises(ExpressionError) as caught:
        evaluate_when("a == (b")
    err = caught.value
    assert err.expression == "a == (b"
    assert err.position == 7
    assert err.reason == "missing ')'"
    assert str(err) == (
        "invalid when expression 'a == (b': missing ')' at position 7\n  a == (b\n         ^"
    )


def test_caret_sits_under_the_bad_token() -> None:
    with pytest.raises(ExpressionError) as caught:
        evaluate_when("heads == tails && x ~= y")
    line, caret = str(caught.value).splitlines()[1:]
    assert caret.index("^") == line.index("~=")


def test_caret_points_into_the_right_line_of_a_multiline_expression() -> None:
    text = "( tails == tails &&\n  heads == )"
    with pytest.raises(ExpressionError) as caught:
        evaluate_when(text)
    err = caught.value
    assert err.position == text.index(")")
    line, caret = str(err).splitlines()[1:]
    assert line.strip() == "heads == )"
    assert caret.index("^") == line.index(")")
    assert "\n" not in str(err).splitlines()[0]


def test_long_text_is_windowed_around_the_caret() -> None:
    text = "x" * 500 + " {{=1 +}} " + "y" * 500
    with pytest.raises(ExpressionError) as caught:
        substitute(text, {})
    first, line, caret = str(caught.value).splitlines()
    assert len(first) < 200
    assert len(line) < 200
    assert line[caret.index("^")] == "}"
    assert caught.value.position == text.index("}}")


def test_languages_name_themselves_in_the_message() -> None:
    with pytest.raises(ExpressionError, match=r"^invalid depends expression 'A &&'"):
        parse_depends("A &&")
    with pytest.raises(ExpressionError, match=r"^invalid template '\{\{=1 \+\}\}'"):
        substitute("{{=1 +}}", {})
    with pytest.raises(ExpressionError, match=r"^invalid when expression"):
        check_when("{{x}} ==")


def test_tabs_are_shown_as_spaces_so_the_caret_lines_up() -> None:
    with pytest.raises(ExpressionError) as caught:
        evaluate_when("a\t==\t(b")
    line, caret = str(caught.value).splitlines()[1:]
    assert "\t" not in line
    assert len(caret) - 1 == len(line)
