"""sprig's date, integer math and base64 functions in ``{{=…}}`` tags, with sprig's
Go semantics (cast.ToInt64 conversions, Go layouts, now for a non-integer time)."""

from __future__ import annotations

import base64
import time

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from clusterforge.workflow.expressions import ExpressionError, substitute

VALUES = {"workflow.creationTimestamp": "2001-02-03T04:05:06Z", "inputs.parameters.n": "12"}


def render(expression: str) -> str:
    return substitute("{{=" + expression + "}}", VALUES)


@pytest.mark.parametrize(
    ("expression", "expected"),
    [
        ("sprig.add(1, 2.7, '3')", "6"),
        ("sprig.add(inputs.parameters.n, 1)", "13"),
        ("sprig.sub(1, 5)", "-4"),
        ("sprig.mul(2, 3, 4)", "24"),
        ("sprig.div(-7, 2)", "-3"),
        ("sprig.max(3, 9, 2)", "9"),
        ("sprig.min(3, 9, 2)", "2"),
        ("sprig.add('x', 1)", "1"),
        ("sprig.b64enc('héllo')", base64.b64encode("héllo".encode()).decode()),
        ("sprig.b64dec('aGVsbG8=')", "hello"),
        ("sprig.b64dec('!!')", "illegal base64 data: Only base64 data is allowed"),
    ],
)
def test_sprig_values(expression: str, expected: str) -> None:
    assert render(expression) == expected


def test_date_of_a_string_is_now_as_in_sprig() -> None:
    before = time.localtime().tm_year
    year = int(render("sprig.date('2006', workflow.creationTimestamp)"))
    assert year in (before, time.localtime().tm_year)


def test_date_of_unix_seconds_uses_go_layout(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TZ", "UTC")
    time.tzset()
    try:
        got = render("sprig.date('2006-01-02T15:04:05Z07:00 Mon Jan _2 3PM', 981173106)")
    finally:
        monkeypatch.undo()
        time.tzset()
    assert got == "2001-02-03T04:05:06Z Sat Feb  3 4AM"


def test_argo_snippet_reuse_example() -> None:
    # examples/expression-reusing-verbose-snippets.yaml, one map over a decoded list
    weather = base64.b64encode(b'{"temps": [34, 27, 15, 57, 46]}').decode()
    values = {"w": weather}
    text = (
        "{{=toJson(map([jsonpath(sprig.b64dec(w), '$.temps')], "
        "{ {avg: sprig.add(#[0], #[1], #[2], #[3], #[4]) / 5, max: sprig.max(#[0], #[4])} })[0])}}"
    )
    assert substitute(text, values) == '{"avg":35.8,"max":46}'


@pytest.mark.parametrize(
    ("expression", "reason"),
    [
        ("sprig.div(1, 0)", "sprig.div: integer divide by zero"),
        ("sprig.date(1, 2)", "sprig.date: the layout (argument 1) must be a string"),
        ("sprig.sub(1)", "sprig.sub() takes 2 argument(s), got 1"),
        ("sprig.nope(1)", "unsupported sprig function 'sprig.nope'"),
    ],
)
def test_refusals_name_the_function(expression: str, reason: str) -> None:
    with pytest.raises(ExpressionError) as caught:
        render(expression)
    assert reason in caught.value.reason


@settings(max_examples=60, deadline=None)
@given(st.lists(st.integers(min_value=-(10**9), max_value=10**9), min_size=1, max_size=8))
def test_math_agrees_with_python(numbers: list[int]) -> None:
    args = ", ".join(str(n) for n in numbers)
    assert render(f"sprig.add({args})") == str(sum(numbers))
    assert render(f"sprig.max({args})") == str(max(numbers))
    assert render(f"sprig.min({args})") == str(min(numbers))


@settings(max_examples=60, deadline=None)
@given(st.text(alphabet=st.characters(blacklist_characters="'\\{}", codec="utf-8"), max_size=40))
def test_base64_round_trips(text: str) -> None:
    assert render(f"sprig.b64dec(sprig.b64enc('{text}'))") == text
