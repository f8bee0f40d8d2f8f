"""The public surface of clusterforge.checks.detik, pinned."""

from __future__ import annotations

import clusterforge.checks
from clusterforge.checks import detik


def test_public_names() -> None:
    assert sorted(detik.__all__) == [
        "Attempt",
        "Comparison",
        "CountSentence",
        "DetikResult",
        "DetikSyntaxError",
        "EmptySentence",
        "EreError",
        "ExitCode",
        "FindSentence",
        "Keyword",
        "PropertySentence",
        "Relation",
        "Retry",
        "Selector",
        "Sentence",
        "SentenceError",
        "TryPropertySentence",
        "assert_sentence",
        "column_for",
        "compile_ere",
        "library_path",
        "parse",
        "verify",
    ]
    for name in detik.__all__:
        assert hasattr(detik, name), name
    assert clusterforge.checks.__all__ == ["detik"]


def test_exit_codes_are_detiks() -> None:
    assert [int(code) for code in detik.ExitCode] == [0, 1, 2, 3]
    assert detik.EmptySentence().exit_code == 1
    assert detik.DetikSyntaxError("x", 0, "why").exit_code == 2
