"""``{{=…}}`` expressions: Argo's expr-lang subset, its functions and Go rendering."""

from __future__ import annotations

import pytest

from clusterforge.workflow.expressions import ExpressionError, substitute

VALUES = {
    "inputs.parameters.n": "5",
    "inputs.parameters.f": "2.5",
    "inputs.parameters.name": "  Metrics-Server ",
    "inputs.parameters.my-param": "dashed",
    "inputs.parameters.empty": "",
    "inputs.parameters.json": '{"items": [{"name": "a", "size": 3}, {"name": "b"}], "ok": true}',
    "workflow.parameters.region": "eu-west-1",
    "tasks.flip-coin.outputs.result": "heads",
    "retries": "2",
}


def render(expression: str) -> str:
    return substitute("{{=" + expression + "}}", VALUES, missing="error")


@pytest.mark.parametrize(
    ("expression", "expected"),
    [
        # literals, rendered as Go's %v renders them
        ("42", "42"),
        ("0x1F", "31"),
        ("1_000", "1000"),
        ("2.50", "2.5"),
        ("1e3", "1000"),
        ("1e6", "1e+06"),
        ("0.00001", "1e-05"),
        ("'single'", "single"),
        ('"double\\t\\u00e9"', "double\té"),
        ("`raw \\n`", "raw \\n"),
        ("true", "true"),
        ("[1, 'a', [true, 2.0]]", "[1 a [true 2]]"),
        # (a space keeps the map's '}' from joining the tag's closing '}}')
        ("{b: 1, 'a': 'x'} ", "map[a:x b:1]"),
        ("[1, 2,]", "[1 2]"),
        # variables: dotted, indexed, dashed names
        ("inputs.parameters.n", "5"),
        ("inputs.parameters['my-param']", "dashed"),
        ('inputs["parameters"].n', "5"),
        ("tasks['flip-coin'].outputs.result", "heads"),
        ("retries", "2"),
        # arithmetic: int stays int, / gives a float, % is Go's remainder
        ("asInt(inputs.parameters.n) + 1", "6"),
        ("asInt(inputs.parameters.n) - 10", "-5"),
        ("asInt(inputs.parameters.n) * 3", "15"),
        ("asInt(inputs.parameters.n) / 2", "2.5"),
        ("10 / 2", "5"),
        ("-7 % 3", "-1"),
        ("7 % -3", "1"),
        ("2 ** 10", "1024"),
        ("2 ^ 3 ^ 2", "512"),
        ("asFloat(inputs.parameters.f) * 2", "5"),
        ("1 + 2 * 3", "7"),
        ("(1 + 2) * 3", "9"),
        ("-(2 + 3)", "-5"),
        ("9223372036854775807 + 1", "-9223372036854775808"),
        ("1 / 0", "+Inf"),
        ("'ab' + 'cd'", "abcd"),
        # comparisons and logic
        ("inputs.parameters.n == '5'", "true"),
        ("asInt(inputs.parameters.n) == 5.0", "true"),
        ("asInt(inputs.parameters.n) > 3", "true"),
        ("'abc' < 'abd'", "true"),
        ("1 < 2 < 3", "true"),
        ("3 > 2 > 2", "false"),
        ("true && !false", "true"),
        ("true and not false", "true"),
        ("false or 1 >= 1", "true"),
        ("false && asInt('x') > 0", "false"),
        ("true || asInt('x') > 0", "true"),
        ("nil == nil", "true"),
        ("inputs.parameters.n != nil", "true"),
        # ternary, membership, string operators
        ("asInt(inputs.parameters.n) > 3 ? 'big' : 'small'", "big"),
        ("false ? 1 : true ? 2 : 3", "2"),
        ("'a' in ['a', 'b']", "true"),
        ("3 in [1, 2.0, 3]", "true"),
        ("'c' not in ['a', 'b']", "true"),
        ("'n' in inputs.parameters", "true"),
        ("workflow.parameters.region contains 'west'", "true"),
        ("workflow.parameters.region startsWith 'eu-'", "true"),
        ("workflow.parameters.region endsWith '-1'", "true"),
        ("workflow.parameters.region matches '^[a-z]+-[a-z]+-[0-9]$'", "true"),
        ("workflow.parameters.region not matches 'us'", "true"),
        ("inputs.parameters.missing ?? 'fallback'", "fallback"),
        ("inputs.parameters.n ?? 'fallback'", "5"),
        # functions
        ("asInt('-12')", "-12"),
        ("int(3.9)", "3"),
        ("asFloat('1e3')", "1000"),
        ("float(2)", "2"),
        ("string(1.5)", "1.5"),
        ("string(true) + '!'", "true!"),
        ("toJson([1, 'a', nil, {'k': 2.5}])", '[1,"a",null,{"k":2.5}]'),
        ("toJson('<a & b>')", '"\\u003ca \\u0026 b\\u003e"'),
        ("toJson(inputs.parameters.n)", '"5"'),
        ("len('héllo')", "6"),
        ("len([1, 2, 3])", "3"),
        ("len(inputs.parameters)", "6"),
        ("jsonpath(inputs.parameters.json, '$.items[0].name')", "a"),
        ("jsonpath(inputs.parameters.json, '$.items[-1].name')", "b"),
        ("jsonpath(inputs.parameters.json, \"$['items'][0]['size']\")", "3"),
        ("jsonpath(inputs.parameters.json, '$.ok')", "true"),
        ("asInt(jsonpath(inputs.parameters.json, '$.items[0].size')) + 1", "4"),
        ("jsonpath(inputs.parameters.json, '$.items[*].name')", "[a b]"),
        ("jsonpath(inputs.parameters.json, '$..name')", "[a b]"),
        ("jsonpath(inputs.parameters.json, '$.items[?(@.size > 2)].name')", "[a]"),
        ("len(jsonpath(inputs.parameters.json, '$.items[0:1]'))", "1"),
        ("sprig.upper('straße')", "STRAßE"),
        ("sprig.lower(workflow.parameters.region)", "eu-west-1"),
        ("sprig.trim(inputs.parameters.name)", "Metrics-Server"),
        ("sprig.default('none', inputs.parameters.empty)", "none"),
        ("sprig.default('none', inputs.parameters.n)", "5"),
        ("sprig.default('none', 0)", "none"),
        ("sprig.contains('west', workflow.parameters.region)", "true"),
        ("sprig.hasPrefix('eu', workflow.parameters.region)", "true"),
        ("sprig.trimSuffix('-1', workflow.parameters.region)", "eu-west"),
        ("sprig.replace('-', '_', workflow.parameters.region)", "eu_west_1"),
    ],
)
def test_evaluate(expression: str, expected: str) -> None:
    assert render(expression) == expected


def test_comments_are_ignored() -> None:
    assert render("1 + /* two */ 2 // three") == "3"


@pytest.mark.parametrize(
    ("expression", "reason"),
    [
        ("inputs.parameters.n == 5", "mismatched types string and int"),
        ("inputs.parameters.n > 3", "every variable is a string"),
        ("inputs.parameters.n + 1", "mismatched types string and int"),
        ("'a' in 'abc'", "for a substring use 'contains'"),
        ("1 && true", "'&&' needs bools"),
        ("!1", "'!' needs a bool"),
        ("-'a'", "needs a number"),
        ("5 ? 1 : 2", "condition before '?' must be a bool"),
        ("1.5 % 1", "% needs integers"),
        ("1 % 0", "integer divide by zero"),
        ("asInt('1.5')", "asInt('1.5')"),
        ("asInt(' 5')", "not an integer"),
        ("asInt(true)", "invalid operation: asInt(bool)"),
        ("asFloat('1_0')", "not a number"),
        ("asFloat('1e999')", "out of range"),
        ("len(5)", "invalid argument for len (type int)"),
        ("toJson(1 / 0)", "toJson: json: unsupported value: +Inf"),
        ("sprig.upper(5)", "must be a string"),
        ("jsonpath('not json', '$.a')", "not JSON"),
        ("jsonpath(inputs.parameters.json, 'items')", "must start with '$'"),
        ("jsonpath(inputs.parameters.json, '$.nope')", "key 'nope' not found"),
        ("jsonpath(inputs.parameters.json, '$.items[5]')", "out of range"),
        ("jsonpath(inputs.parameters.json, '$.items[?(@.size in [3])]')", "'in' / 'not in'"),
        ("jsonpath(inputs.parameters.json, '$.items[?(@.name =~ \"(a\")]')", "missing )"),
        ("[1, 2][2]", "index out of range"),
        ("jsonpath('{\"a\": null}', '$.a').x", "cannot fetch x from nil"),
        ("'abc' matches '(?=a)'", "does not support '(?='"),
        ("inputs.parameters.nope", "unknown variable 'inputs.parameters.nope'"),
        ("nope.deeper.still", "unknown variable 'nope.deeper.still'"),
    ],
)
def test_evaluation_errors(expression: str, reason: str) -> None:
    with pytest.raises(ExpressionError) as caught:
        render(expression)
    assert reason in caught.value.reason


@pytest.mark.parametrize(
    ("expression", "position", "reason"),
    [
        ("1 +", 3, "unexpected end of expression"),
        ("(1 + 2", 6, "missing ')'"),
        ("[1, 2", 5, "missing ']'"),
        ("{a: 1", 5, "missing '}'"),
        ("asInt(1", 7, "missing ')'"),
        ("nope(1)", 0, "unknown function 'nope'"),
        ("reduce([1], {# + 1})", 0, "takes a closure, which is not supported"),
        ("filter([1], 2)", 12, "takes a closure as its second argument"),
        ("# > 1", 0, "only meaningful inside a closure"),
        ("sprig.nope('a')", 6, "unsupported sprig function 'sprig.nope'"),
        ("asInt(1, 2)", 0, "asInt() takes 1 argument(s), got 2"),
        ("sprig.replace('a', 'b')", 6, "sprig.replace() takes 3 argument(s), got 2"),
        ("'abc", 0, "literal not terminated"),
        ("'\\q'", 1, "invalid escape \\q"),
        ("1 2", 2, "unexpected '2'"),
        ("a | upper()", 2, "pipe operator"),
        ("a = 1", 2, "compare with '=='"),
        ("x[1:2", 5, "missing ']'"),
        ("x.upper()", 2, "method calls"),
        ("@", 0, "unrecognized character '@'"),
        ("12abc", 0, "bad number syntax"),
        ("99999999999999999999", 0, "too large"),
        ("a not b", 6, "after 'not'"),
        ("", 0, "empty expression"),
    ],
)
def test_syntax_errors(expression: str, position: int, reason: str) -> None:
    text = "{{=" + expression + "}}"
    with pytest.raises(ExpressionError) as caught:
        substitute(text, VALUES)
    assert caught.value.position == 3 + position
    assert reason in caught.value.reason
    assert caught.value.language == "template"
