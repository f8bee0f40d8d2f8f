"""POSIX ERE translation, checked against the real ``grep -E`` DETIK uses."""

from __future__ import annotations

import os
import shutil
import subprocess

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from clusterforge.checks.detik import EreError, compile_ere

GREP = shutil.which("grep")
pytestmark = pytest.mark.skipif(GREP is None, reason="grep is not installed")


def grep(pattern: str, subjects: list[str]) -> tuple[int, set[int], str]:
    """grep -E's exit code, the indexes of matching subjects, and its stderr."""
    assert GREP is not None
    done = subprocess.run(
        [GREP, "-nE", "--", pattern],
        input="".join(f"{s}\n" for s in subjects),
        capture_output=True,
        text=True,
        env={**os.environ, "LC_ALL": "C"},
        check=False,
    )
    lines = {int(line.split(":", 1)[0]) - 1 for line in done.stdout.splitlines()}
    return done.returncode, lines, done.stderr


def python(pattern: str, subjects: list[str]) -> set[int]:
    compiled = compile_ere(pattern)
    return {i for i, subject in enumerate(subjects) if compiled.search(subject)}


SUBJECTS = [
    "",
    "a",
    "ab",
    "abab",
    "8484",
    "Running",
    "running",
    "nginx-75675f5897-6dg9r",
    "metrics-server",
    "a]b",
    "x{2}",
    "a)b",
    "a.b",
    "a\\b",
    "foo bar",
    "a-b",
    "tab\there",
    "word",
    "sword",
]


@pytest.mark.parametrize(
    "pattern",
    [
        "[[:digit:]]+",
        "^[[:digit:]]+$",
        "[[:alpha:]]",
        "[[:upper:]][[:lower:]]+",
        "[[:space:]]",
        "[[:punct:]]",
        "[^[:alnum:]]",
        "[[:xdigit:]]{4}",
        "^nginx-[a-z0-9]{9,10}-[a-z0-9]{5}$",
        "^(Running|Pending)$",
        "[]a]",
        "[^]a]",
        "[a-]",
        "[\\]",
        "[.]",
        "[[=a=]]b",
        "[[.-.]]",
        "a{,1}b",
        "a{,}b",
        "a^*b",
        "a$?",
        "{}",
        "a|{}",
        "^{}",
        "x{2}",
        "x\\{2\\}",
        "a{x",
        "a)",
        "a+*",
        "(ab)*?$",
        "(a|b)\\1",
        "\\<word\\>",
        "\\bword",
        "\\Bword",
        "\\w+\\s\\w+",
        "\\.",
        "a|",
        "()",
        "R.n+i?n*g",
    ],
)
def test_same_matches_as_grep(pattern: str) -> None:
    code, expected, _ = grep(pattern, SUBJECTS)
    assert code in (0, 1)
    assert python(pattern, SUBJECTS) == expected


@pytest.mark.parametrize(
    ("pattern", "message"),
    [
        ("[z-a]", "invalid range"),
        ("(a", "unmatched '('"),
        ("[a", "unmatched '['"),
        ("a\\", "trailing backslash"),
        ("*a", "nothing to repeat"),
        ("{2}a", "nothing to repeat"),
        ("(?i)a", "repeats nothing"),
        ("a|*b", "nothing to repeat"),
        ("^*", "nothing to repeat"),
        ("\\d+", "use [0-9] or [[:digit:]]"),
        ("\\n", "write 'n' alone"),
        ("[[:word:]]", "unknown character class"),
        ("[[:digit:]", "unmatched '['"),
        ("a{3,2}", "min > max"),
        ("a{}", "invalid interval"),
        ("(a){1,2,3}", "invalid interval"),
        ("a|^*", "nothing to repeat"),
        ("[[.ab.]]", "only one character"),
        ("(a)\\2", "invalid regular expression"),
    ],
)
def test_refused_patterns(pattern: str, message: str) -> None:
    with pytest.raises(EreError, match=message.replace("[", r"\[").replace("(", r"\(")):
        compile_ere(pattern)


# A small ERE grammar, including the corners where ERE and Python differ.
_ATOMS = st.sampled_from(
    [
        "a",
        "b",
        ".",
        "\\.",
        "[ab]",
        "[^a]",
        "[]a]",
        "[[:digit:]]",
        "[[:alpha:]-]",
        "[a-]",
        "(a|b)",
        "(ab)",
        "()",
        "{",
        "}",
        ")",
        "\\<",
        "\\>",
        "\\w",
        "|",
        "^",
        "$",
        "*",
    ]
)
_QUANTIFIERS = st.sampled_from(["", "", "*", "+", "?", "{1}", "{0,2}", "{,1}", "*+", "+?", "??"])
_PATTERNS = st.lists(st.tuples(_ATOMS, _QUANTIFIERS).map("".join), min_size=1, max_size=5).map(
    "".join
)
_SUBJECTS = st.lists(st.text("ab.1-{})", max_size=6), min_size=1, max_size=8)


@settings(max_examples=300, deadline=None)
@given(_PATTERNS, _SUBJECTS)
def test_translation_agrees_with_grep(pattern: str, subjects: list[str]) -> None:
    code, expected, stderr = grep(pattern, subjects)
    try:
        got = python(pattern, subjects)
    except EreError:
        # We only refuse what grep rejects or merely warns about and ignores.
        assert code == 2 or stderr, (pattern, code, stderr)
        return
    assert code in (0, 1), (pattern, stderr)
    assert got == expected, pattern
