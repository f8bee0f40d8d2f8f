"""Errors in a DETIK sentence itself, with DETIK's exit codes.

DETIK returns 1 for an empty sentence and 2 for one that does not follow the
grammar. Both are user mistakes, so both are :class:`~clusterforge.errors.UserError`
subclasses carrying those exit codes; the CLI exits with them unchanged.

A syntax error points at the word that broke the grammar::

    syntax error in sentence: "there are two pods named 'x'"
      there are two pods named 'x'
                ^ expected a number
"""

from __future__ import annotations

from clusterforge.errors import InvalidInput

__all__ = ["DetikSyntaxError", "EmptySentence", "SentenceError"]


class SentenceError(InvalidInput):
    """A DETIK sentence that cannot be evaluated (empty, or not in the grammar)."""


class EmptySentence(SentenceError):
    """The sentence is empty or blank — DETIK's exit code 1."""

    exit_code = 1

    def __init__(self) -> None:
        super().__init__("an empty sentence was not expected: write a DETIK sentence")


class DetikSyntaxError(SentenceError):
    """The sentence does not follow DETIK's grammar — DETIK's exit code 2.

    ``column`` is the 0-based offset into ``sentence`` of the offending word
    (``len(sentence)`` when the sentence ended too early) and ``reason`` says
    what was expected there.
    """

    exit_code = 2

    def __init__(self, sentence: str, column: int, reason: str) -> None:
        self.sentence = sentence
        self.column = column
        self.reason = reason
        # Tabs and newlines are shown as spaces so the caret stays under its word.
        shown = "".join(" " if ch.isspace() else ch for ch in sentence)
        super().__init__(
            f'syntax error in sentence: "{shown}"\n  {shown}\n  {" " * column}^ {reason}'
        )
