"""The DETIK grammar: every form parses, every mistake points at its word."""

from __future__ import annotations

import pytest
from detik_strategies import sentences, spelled, word_soup
from hypothesis import example, given
from hypothesis import strategies as st

from clusterforge.checks.detik import (
    Comparison,
    CountSentence,
    DetikSyntaxError,
    EmptySentence,
    FindSentence,
    PropertySentence,
    Relation,
    Retry,
    Selector,
    Sentence,
    SentenceError,
    TryPropertySentence,
    parse,
)

PODS_X = Selector("pods", "x")

# --- every form ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("there is 0 pod named 'x'", CountSentence(Selector("pod", "x"), Relation.EXACTLY, 0)),
        ("there is 1 pod named 'x'", CountSentence(Selector("pod", "x"), Relation.EXACTLY, 1)),
        ("there are 12 pods named 'x'", CountSentence(PODS_X, Relation.EXACTLY, 12)),
        ("there are less than 3 pods named 'x'", CountSentence(PODS_X, Relation.LESS_THAN, 3)),
        ("there are more than 3 pods named 'x'", CountSentence(PODS_X, Relation.MORE_THAN, 3)),
        (
            "'status' is 'running' for pods named 'x'",
            PropertySentence(PODS_X, "status", Comparison.IS, "running"),
        ),
        (
            "'.spec.ports[*].port' matches '^8[0-9]+$' for svc named 'x'",
            PropertySentence(
                Selector("svc", "x"), ".spec.ports[*].port", Comparison.MATCHES, "^8[0-9]+$"
            ),
        ),
        (
            "at most 5 times every 30s to get pods named 'x' and verify that 'status' is 'running'",
            TryPropertySentence(Retry(5, 30), PODS_X, "status", Comparison.IS, "running"),
        ),
        (
            "at most 5 times every 30s to get pods named 'x' and verify that 'status' matches 'R'",
            TryPropertySentence(Retry(5, 30), PODS_X, "status", Comparison.MATCHES, "R"),
        ),
        (
            "at most 1 times every 0s to get deploy named 'x' and verify that "
            "'status.replicas' is more than '2'",
            TryPropertySentence(
                Retry(1, 0),
                Selector("deploy", "x"),
                "status.replicas",
                Comparison.IS_MORE_THAN,
                "2",
            ),
        ),
        (
            "at most 2 times every 1s to get deploy named 'x' and verify that "
            "'status.replicas' is less than '-4'",
            TryPropertySentence(
                Retry(2, 1),
                Selector("deploy", "x"),
                "status.replicas",
                Comparison.IS_LESS_THAN,
                "-4",
            ),
        ),
        (
            "at most 5 times every 30s to find 2 pods named 'x' with 'status' being 'running'",
            FindSentence(Retry(5, 30), 2, PODS_X, "status", Comparison.IS, "running"),
        ),
        (
            "at most 5 times every 30s to find 0 pods named 'x' with 'status' matching 'Run'",
            FindSentence(Retry(5, 30), 0, PODS_X, "status", Comparison.MATCHES, "Run"),
        ),
    ],
)
def test_every_form_parses(text: str, expected: Sentence) -> None:
    parsed = parse(text)
    assert parsed == expected
    assert parsed.text == text
    assert parse(parsed.render()) == parsed


def test_keywords_and_types_ignore_case_but_quoted_text_does_not() -> None:
    parsed = parse("AT Most 5 TIMES every 30S TO find 2 PODS Named 'Web' WITH 'Status' BEING 'Up'")
    assert parsed == FindSentence(
        Retry(5, 30), 2, Selector("pods", "Web"), "Status", Comparison.IS, "Up"
    )


def test_whitespace_between_words_is_free_inside_quotes_kept() -> None:
    parsed = parse("  there\tare\n 2   pods named '  a  b '  ")
    assert parsed == CountSentence(Selector("pods", "  a  b "), Relation.EXACTLY, 2)


def test_types_with_dots_and_digits() -> None:
    parsed = parse("there is 1 settings.management.cattle.io named 'x'")
    assert isinstance(parsed, CountSentence)
    assert parsed.selector.type == "settings.management.cattle.io"
    parsed = parse("there is 1 EC2NodeClass named 'x'")
    assert isinstance(parsed, CountSentence)
    assert parsed.selector.type == "ec2nodeclass"


def test_keyword_restriction() -> None:
    try_text = "at most 1 times every 1s to find 1 pod named 'x' with 'status' being 'ok'"
    assert parse(try_text, keyword="try").keyword == "try"
    assert parse("there is 1 pod named 'x'", keyword="verify").keyword == "verify"
    with pytest.raises(DetikSyntaxError, match="belong to try, not verify"):
        parse(try_text, keyword="verify")
    with pytest.raises(DetikSyntaxError, match="try sentences start with 'at most"):
        parse("there is 1 pod named 'x'", keyword="try")


@pytest.mark.parametrize("text", ["", " ", "\t\n"])
def test_empty_sentence(text: str) -> None:
    with pytest.raises(EmptySentence) as caught:
        parse(text)
    assert caught.value.exit_code == 1


# --- syntax errors point at the word -----------------------------------------


@pytest.mark.parametrize(
    ("text", "at", "reason"),
    [
        ("there are two pods named 'x'", "two", "expected a number"),
        ("there is 2 pods named 'x'", "2", "expected 0 or 1 after 'there is'"),
        ("there is less than 2 pods named 'x'", "less", "expected 0 or 1"),
        ("there are 2 pods called 'x'", "called", "expected 'named'"),
        ("there are 2 pods named x", "x", "expected a name pattern in single quotes"),
        ("there are 2 pods named ''", "''", "not an empty value"),
        ("there are 2 pods named 'x' please", "please", "unexpected text after the end"),
        ("there are 2 named 'x'", "named", "expected a resource type (like pods or svc)"),
        ("there are 2 p named 'x'", "p named", "expected a resource type"),
        ("there are 2 pod_s named 'x'", "pod_s", "expected a resource type"),
        ("there were 2 pods named 'x'", "were", "expected 'is' or 'are'"),
        ("there are less 2 pods named 'x'", "2", "expected 'than'"),
        ("there are 2 pods named 'x", "'x", "this quote is never closed"),
        ("there are 2 pods named'x'", "'x'", "expected a space before the opening quote"),
        ("there are 2 pods named 'x'y", "y", "expected a space after the closing quote"),
        ("there are 2 pods named '[x'", "[x", "unmatched '['"),
        ("there are 2 pods named 'a\\d'", "\\d", "not part of POSIX extended"),
        ("there are 2 pods named '*x'", "*x", "nothing to repeat"),
        ("hello there", "hello", "expected 'there', 'at' or a quoted property name"),
        ("'status' was 'x' for pods named 'x'", "was", "expected 'is' or 'matches'"),
        ("'status' is running for pods named 'x'", "running", "expected the expected value"),
        ("'status' is more than '2' for pods named 'x'", "more", "only exist in try sentences"),
        ("'status' is 'x' in pods named 'x'", "in pods", "expected 'for'"),
        ("'status' matches '(a' for pods named 'x'", "(a", "unmatched '('"),
        ("at least 5 times every 30s", "least", "expected 'most'"),
        ("at most five times", "five", "expected a number of attempts"),
        ("at most 0 times every 1s", "0 times", "expected at least 1 attempt"),
        ("at most 5 tries every 30s", "tries", "expected 'times'"),
        ("at most 5 times every 30", "30", "expected an interval in seconds, like 30s"),
        ("at most 5 times every 30 s to get", "30 s", "like 30s (no space before the s)"),
        ("at most 5 times every 30m to get", "30m", "expected an interval"),
        ("at most 5 times every 30s to see", "see", "expected 'get' or 'find'"),
        ("at most 5 times every 30s to find pods named 'x'", "pods", "expected a number"),
        (
            "at most 5 times every 30s to get pods named 'x' and check that 'a' is 'b'",
            "check",
            "expected 'verify'",
        ),
        (
            "at most 5 times every 30s to get pods named 'x' and verify that 'a' is more than 'b'",
            "'b'",
            "expected a whole number like '2' after 'is more than'",
        ),
        (
            "at most 5 times every 30s to get pods named 'x' and verify that 'a' equals 'b'",
            "equals",
            "expected 'is' or 'matches'",
        ),
        (
            "at most 5 times every 30s to find 1 pods named 'x' with 'a' is 'b'",
            "is",
            "expected 'being' or 'matching'",
        ),
        (
            "at most 5 times every 30s to find 1 pods named 'x' with 'a' matching '[[:nope:]]'",
            "[:nope:]",
            "unknown character class",
        ),
    ],
)
def test_syntax_error_points_at_the_bad_word(text: str, at: str, reason: str) -> None:
    with pytest.raises(DetikSyntaxError) as caught:
        parse(text)
    err = caught.value
    assert err.exit_code == 2
    assert text[err.column :].startswith(at), (text[err.column :], err.reason)
    assert reason in err.reason
    assert str(err).splitlines() == [
        f'syntax error in sentence: "{text}"',
        f"  {text}",
        "  " + " " * err.column + "^ " + err.reason,
    ]


@pytest.mark.parametrize(
    "text",
    ["there are 2 pods named", "there are 2 pods", "at most 5 times every 30s to get pods"],
)
def test_syntax_error_at_the_end(text: str) -> None:
    with pytest.raises(DetikSyntaxError) as caught:
        parse(text)
    assert caught.value.column == len(text)
    assert caught.value.reason.endswith("found the end")


def test_the_example_from_the_issue() -> None:
    with pytest.raises(DetikSyntaxError) as caught:
        parse("there are two pods named 'x'")
    assert str(caught.value) == (
        "syntax error in sentence: \"there are two pods named 'x'\"\n"
        "  there are two pods named 'x'\n"
        "            ^ expected a number"
    )


# --- properties -------------------------------------------------------------


@given(st.data(), sentences())
def test_round_trip_through_any_spelling(data: st.DataObject, sentence: Sentence) -> None:
    text = data.draw(spelled(sentence))
    parsed = parse(text)
    assert parsed == sentence
    assert parsed.text == text.strip()


@given(st.one_of(st.text(), word_soup))
@example("at most 1 times every 1s to find 1 pod named 'x' with 'status' being")
@example("'")
@example("there are 2 pods named '\\'")
def test_arbitrary_text_parses_or_raises_a_sentence_error(text: str) -> None:
    error: SentenceError | None = None
    try:
        parsed = parse(text)
    except SentenceError as err:  # anything else escapes and fails the test
        error = err
    if error is None:
        assert parse(parsed.render()) == parsed
    elif isinstance(error, EmptySentence):
        assert not text.strip()
    else:
        assert isinstance(error, DetikSyntaxError)
        assert 0 <= error.column <= len(text.strip())
        assert str(error).splitlines()[-1].index("^") == 2 + error.column
