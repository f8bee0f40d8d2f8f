"""One error for all three expression languages, pointing at the bad token.

A ``when``, a ``depends`` or a ``{{=…}}`` tag is a one-line program the user
wrote inside YAML. When it is wrong, the useful answer is the expression, what
is wrong, and *where*: the message quotes the expression, names the reason and
the 0-based offset, and draws a caret under the offending token::

    invalid when expression 'a == (b': missing ')' at position 7
      a == (b
             ^

Long texts (a script with a ``{{…}}`` tag in it) are shown as the single line
that holds the position, cut to a window around it, so the caret stays
readable.

``MAX_DEPTH`` bounds how deeply any of the parsers nests; a pathological input
fails with this error instead of exhausting Python's stack.
"""

from __future__ import annotations

from clusterforge.errors import InvalidInput

__all__ = ["MAX_DEPTH", "ExpressionError"]

# Deeper than any expression a person writes, far below Python's recursion limit
# (each level costs the parsers and the evaluators a handful of frames).
MAX_DEPTH = 120

_SUMMARY_WIDTH = 72  # characters of the expression quoted in the first line
_WINDOW = 60  # characters either side of the caret in the pointer line


class ExpressionError(InvalidInput):
    """An expression that cannot be parsed or evaluated.

    ``expression`` is the whole text that was given (the ``when`` string, the
    ``depends`` string, or the text holding the ``{{…}}`` tags), ``position`` the
    0-based character offset of the bad token in it (``len(expression)`` when
    the text ended too early), and ``reason`` says what is wrong there.
    ``language`` names what was being read, e.g. ``"when expression"``.
    """

    def __init__(
        self,
        expression: str,
        position: int,
        reason: str,
        *,
        language: str = "when expression",
    ) -> None:
        self.expression = expression
        self.position = max(0, min(position, len(expression)))
        self.reason = reason
        self.language = language
        super().__init__(_render(expression, self.position, reason, language))


def _render(expression: str, position: int, reason: str, language: str) -> str:
    summary = _one_line(expression)
    if len(summary) > _SUMMARY_WIDTH:
        summary = summary[: _SUMMARY_WIDTH - 1] + "…"
    line, column = _pointer(expression, position)
    caret = " " * column + "^"
    return f"invalid {language} '{summary}': {reason} at position {position}\n  {line}\n  {caret}"


def _one_line(text: str) -> str:
    return " ".join(text.split("\n")) if "\n" in text else text


def _pointer(text: str, position: int) -> tuple[str, int]:
    """The line of ``text`` holding ``position`` (windowed), and the caret column in it."""
    start = text.rfind("\n", 0, position) + 1
    end = text.find("\n", position)
    if end < 0:
        end = len(text)
    line = text[start:end]
    column = position - start
    prefix = ""
    if column > _WINDOW:
        cut = column - _WINDOW
        line = line[cut:]
        column -= cut
        prefix = "…"
    if len(line) > column + _WINDOW:
        line = line[: column + _WINDOW] + "…"
    # Tabs and other whitespace become spaces so the caret stays under its token.
    shown = "".join(" " if ch.isspace() else ch for ch in line)
    return prefix + shown, column + len(prefix)
