"""``when`` conditions: govaluate's dialect, as Argo evaluates it after substitution."""

from __future__ import annotations

import pytest

from clusterforge.workflow.expressions import ExpressionError, check_when, evaluate_when, substitute


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        # Argo's documented examples (docs/walk-through/conditionals.md and the design brief).
        ("none == none", True),
        ("'fluent bit' != none", True),
        ("foo == 'foo'", True),
        ('foo == "foo"', True),
        ("5 > 3", True),
        ("heads =~ 'h.*'", True),
        ("heads =~ hea", True),
        ("tails =~ hea", False),
        ("( tails == tails && tails == tails ) || ( tails == heads )", True),
        ("( heads == tails && tails == tails ) || ( tails == heads )", False),
        # equality is type-sensitive: a bare word is a string, 5 a number
        ("5 == 5", True),
        ("5 == 5.0", True),
        ("'5' == 5", False),
        ("5 != '5'", True),
        ("true == true", True),
        ("true == 'true'", False),
        ("abc != abd", True),
        # ordering: two numbers, or two strings (byte order)
        ("10 > 9", True),
        ("'10' > '9'", False),
        ("3 >= 3", True),
        ("2 < 3", True),
        ("3 <= 2", False),
        ("apple < banana", True),
        ("1.5 < 2", True),
        (".5 == 0.5", True),
        ("0x1f == 31", True),
        # regular expressions, searched anywhere in the string, Go syntax
        ("heads !~ '^t'", True),
        ("'v1.2.3' =~ '^v[0-9]+\\.[0-9]+'", True),
        ("'v1.2.3' =~ '^v[[:digit:]]+'", True),
        ("'abc' =~ 'C'", False),
        ("'abc' =~ '(?i)C'", True),
        # govaluate strings eat one backslash: '(a)\1' is the regex (a)1
        ("'a1' =~ '(a)\\1'", True),
        # logic, negation, precedence (&& binds tighter than ||)
        ("true && false", False),
        ("true || false", True),
        ("false || true && false", False),
        ("(false || true) && false", False),
        ("true || false && false", True),
        ("!false", True),
        ("!(1 > 2)", True),
        ("!true == false", True),
        ("false && 5", False),
        ("true || 5", True),
        # arithmetic, string concatenation, prefix minus
        ("1 + 2 * 3 == 7", True),
        ("(1 + 2) * 3 == 9", True),
        ("10 - 2 - 3 == 5", True),
        ("7 % 4 == 3", True),
        ("2 ** 3 ** 2 == 64", True),
        ("-2 ** 2 == 4", True),
        ("3 > -2", True),
        ("'a' + 1 == 'a1'", True),
        ("a + b == ab", True),
        ("1 / 4 == 0.25", True),
        ("6 & 3 == 2", True),
        ("6 | 3 == 7", True),
        ("1 << 4 == 16", True),
        # membership in a parenthesised list
        ("'metrics-server' in ('metrics-server', 'autoscaler')", True),
        ("x in (a, b)", False),
        ("3 in (1, 2, 3)", True),
        ("'3' in (1, 2, 3)", False),
        ("2 IN (1, 2)", True),
        # ternary and coalescing
        ("true ? true : false", True),
        ("false ? true : false", False),
        ("(1 > 2 ? 'yes' : 'no') == no", True),
        # bracketed names are strings too
        ("[my var] == 'my var'", True),
        # quoted strings that look like dates compare as times, as in govaluate
        ("'2024-01-01' < '2024-06-01'", True),
        ("'2024-01-01' == '2024-01-01T00:00:00Z'", True),
        ("'2024-01-01T01:00:00+01:00' == '2024-01-01 00:00'", True),
        # an empty condition means "no condition"
        ("", True),
    ],
)
def test_evaluate(text: str, expected: bool) -> None:
    assert evaluate_when(text) is expected


def test_substituted_parameter_compared_with_none() -> None:
    when = "{{inputs.parameters.x}} == none"
    check_when(when)
    assert evaluate_when(substitute(when, {"inputs.parameters.x": "none"})) is True
    assert evaluate_when(substitute(when, {"inputs.parameters.x": "metrics"})) is False


def test_quoted_value_with_spaces_after_substitution() -> None:
    when = "'{{workflow.parameters.LOGGING}}' != none"
    assert evaluate_when(substitute(when, {"workflow.parameters.LOGGING": "fluent bit"})) is True


def test_unquoted_value_with_spaces_is_an_error_with_a_hint() -> None:
    when = substitute("{{x}} != none", {"x": "fluent bit"})
    with pytest.raises(ExpressionError, match="quote a value that contains spaces") as caught:
        evaluate_when(when)
    assert caught.value.position == when.index("bit")


@pytest.mark.parametrize(
    ("text", "position", "reason"),
    [
        ("a == (b", 7, "missing ')'"),
        ("(a == b", 7, "missing ')'"),
        ("a == b)", 6, "')' without a matching '('"),
        ("a ==", 4, "unexpected end of expression"),
        ("a &&", 4, "unexpected end of expression"),
        ("&& a", 0, "cannot start with"),
        ("a == == b", 5, "cannot follow"),
        ("fluent bit != none", 7, "without an operator"),
        ("a==-1", 1, "invalid token '==-'"),
        ("a ~= b", 2, "invalid token '~='"),
        ("a = b", 2, "invalid token '='"),
        ("a == 'b", 5, "string is never closed"),
        ("[a == b", 0, "unclosed '['"),
        ("1.2.3 == x", 0, "cannot read the number '1.2.3'"),
        ("v1.2 == x", 0, "contains '.'"),
        ("x == a.b", 5, "quote it: 'a.b'"),
        ("!none", 1, "'!' cannot apply to the string 'none'"),
        ("foo(1) == 1", 3, "undefined function 'foo'"),
        ("(a) b", 4, "after a complete expression"),
        ("() == ()", 0, "empty parentheses"),
        ("heads =~ '['", 9, "invalid regular expression"),
        # govaluate strings eat one backslash: '\\1' in the when is the regex \1
        ("heads =~ '(a)\\\\1'", 9, "no backreferences"),
        ("{{x}} == 1", 0, "unsubstituted tag {{x}}"),
        ("   ", 3, "unexpected end of expression"),
    ],
)
def test_syntax_errors_point_at_the_bad_token(text: str, position: int, reason: str) -> None:
    with pytest.raises(ExpressionError) as caught:
        evaluate_when(text)
    assert caught.value.position == position
    assert reason in caught.value.reason
    assert caught.value.language == "when expression"


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("5", "the result is the number 5, not a boolean"),
        ("heads", "the result is the string 'heads', not a boolean"),
        ("1 + 1", "not a boolean"),
        ("(a, b)", "not a boolean"),
        ("a > 1", "compares two numbers or two strings"),
        ("my-addon == my-addon", "quote values that contain '-'"),
        ("1 && true", "'&&' needs booleans"),
        ("x in (y)", "'in' needs a list"),
        ("'2024-01-01' =~ '2024'", "needs a string on each side"),
        ("5 ? true : false", "condition before '?' must be a boolean"),
    ],
)
def test_evaluation_errors(text: str, reason: str) -> None:
    with pytest.raises(ExpressionError) as caught:
        evaluate_when(text)
    assert reason in caught.value.reason


@pytest.mark.parametrize(
    "text",
    [
        "{{inputs.parameters.x}} == none",
        "'{{workflow.parameters.METRICS_SERVER}}' != none",
        "{{steps.flip-coin.outputs.result}} == heads",
        "( {{steps.a.outputs.result}} == tails && {{steps.b.outputs.result}} == tails ) || x == y",
        "{{tasks.a.outputs.result}} =~ 'h.*'",
        "!{{inputs.parameters.enabled}}",
        "v{{inputs.parameters.major}}.{{inputs.parameters.minor}} == '1.2'",
        "{{=asInt(inputs.parameters.n) > 3}}",
        "{{inputs.parameters.n}} > 3 && {{=inputs.parameters.m}} == x",
        "",
    ],
)
def test_check_accepts_tags_as_opaque_operands(text: str) -> None:
    check_when(text)


@pytest.mark.parametrize(
    ("text", "position", "reason"),
    [
        ("{{inputs.parameters.x}} == (b", 29, "missing ')'"),
        ("{{x}} ==", 8, "unexpected end of expression"),
        ("{{x}} {{y}} == a", 6, "without an operator"),
        ("{{x}} == 'a", 9, "never closed"),
        ("{{x == a", 0, "never closed with '}}'"),
        ("{{x}} =~ '['", 9, "invalid regular expression"),
        ("{{=asInt(x) +}} == 1", 13, "unexpected end of expression"),
        ("{{=nope(x)}} == 1", 3, "unknown function 'nope'"),
        ("{{x}} == v1.2", 9, "contains '.'"),
    ],
)
def test_check_rejects(text: str, position: int, reason: str) -> None:
    with pytest.raises(ExpressionError) as caught:
        check_when(text)
    assert caught.value.position == position
    assert reason in caught.value.reason


def test_check_then_evaluate_agree_on_a_real_addon_condition() -> None:
    when = (
        "'{{workflow.parameters.METRICS_SERVER}}' != none && {{workflow.parameters.REPLICAS}} >= 2"
    )
    check_when(when)
    values = {"workflow.parameters.METRICS_SERVER": "v0.7.1", "workflow.parameters.REPLICAS": "3"}
    assert evaluate_when(substitute(when, values)) is True
    values["workflow.parameters.METRICS_SERVER"] = "none"
    assert evaluate_when(substitute(when, values)) is False


COMPLEX_CONDITION = """( {{steps.flip-coin.outputs.result}} == heads &&
  {{steps.flip-again.outputs.result}} == tails
) ||
( {{steps.flip-coin.outputs.result}} == tails &&
  {{steps.flip-again.outputs.result}} == tails )"""


@pytest.mark.parametrize(
    ("first", "second", "expected"),
    [
        ("heads", "tails", True),
        ("tails", "tails", True),
        ("heads", "heads", False),
        ("tails", "heads", False),
    ],
)
def test_coinflip_walkthrough_condition(first: str, second: str, expected: bool) -> None:
    check_when(COMPLEX_CONDITION)
    values = {"steps.flip-coin.outputs.result": first, "steps.flip-again.outputs.result": second}
    assert evaluate_when(substitute(COMPLEX_CONDITION, values)) is expected


def test_values_with_quotes_go_through_an_expression_tag() -> None:
    # docs/walk-through/conditionals.md: embed an expr expression for such values.
    when = "{{=inputs.parameters['may-contain-quotes'] == 'example'}}"
    check_when(when)
    for value, expected in (('it\'s "quoted"', False), ("example", True)):
        substituted = substitute(when, {"inputs.parameters.may-contain-quotes": value})
        assert evaluate_when(substituted) is expected
    broken = substitute("'{{x}}' == example", {"x": "it's"})
    with pytest.raises(ExpressionError):
        evaluate_when(broken)
