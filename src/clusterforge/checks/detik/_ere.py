"""POSIX extended regular expressions, translated to Python's ``re``.

DETIK filters resource names with ``grep -E`` and checks ``matches`` values
with ``grep -E`` too, so sentence authors write POSIX EREs: DETIK's own README
shows ``matches '[[:digit:]]+'``. Python's ``re`` reads that pattern as a
character set ``[[:digt]`` followed by a literal ``]`` — it compiles (with only
a FutureWarning) and silently matches the wrong strings. Running ``grep`` once
per check would be exact but costs a process per item; instead this module
parses the ERE and emits the equivalent Python pattern.

What is translated: bracket expressions with POSIX classes (``[:alpha:]`` …,
ASCII ranges as in the C locale), equivalence classes and collating symbols
of one character, a backslash being literal inside brackets, ``]`` first in
a bracket being literal; GNU's ``\\<`` ``\\>`` ``\\b`` ``\\B`` ``\\w`` ``\\W``
``\\s`` ``\\S`` ``\\``` ``\\'``; stacked quantifiers (``a+*`` is ``(a+)*`` in
an ERE, an error or a lazy/possessive quantifier in Python) and quantified
anchors (``a^*``); back-references; a ``{`` that does not start an interval
is a literal, as is a ``)`` that closes nothing. tests/checks/test_detik_ere.py
checks all of this against GNU grep itself, with generated patterns.

Where GNU grep only warns and then ignores something (a quantifier with
nothing to repeat: ``*a``, ``(?x)``, ``{2}``) or treats a letter escape as the
letter (``\\d`` means ``d`` to grep, a digit to Python), this module refuses
the pattern with a message saying how to write it, because either reading
would surprise the author of a validation sentence.
"""

from __future__ import annotations

import functools
import re
import string
from dataclasses import dataclass

from clusterforge.safety import Pattern, RegexError, compile_re2

__all__ = ["EreError", "compile_ere"]


class EreError(ValueError):
    """The text is not a POSIX extended regular expression we can translate."""

    def __init__(self, message: str, position: int) -> None:
        super().__init__(message)
        self.position = position


# POSIX character classes, as Python set contents (C-locale, ASCII meaning).
_CLASSES: dict[str, str] = {
    "alpha": "A-Za-z",
    "digit": "0-9",
    "alnum": "0-9A-Za-z",
    "upper": "A-Z",
    "lower": "a-z",
    "xdigit": "0-9A-Fa-f",
    "space": r" \t\n\r\f\v",
    "blank": r" \t",
    "punct": "".join(re.escape(c) for c in string.punctuation),
    "cntrl": r"\x00-\x1f\x7f",
    "print": r"\x20-\x7e",
    "graph": r"\x21-\x7e",
}

# GNU escapes outside brackets: (python text, is it an atom that can repeat).
_GNU_ESCAPES: dict[str, tuple[str, bool]] = {
    "<": (r"\b(?=\w)", False),
    ">": (r"\b(?<=\w)", False),
    "b": (r"\b", False),
    "B": (r"\B", False),
    "`": (r"\A", False),
    "'": (r"\Z", False),
    "w": (r"\w", True),
    "W": (r"\W", True),
    "s": (r"\s", True),
    "S": (r"\S", True),
}

_INTERVAL = re.compile(r"\{(\d*)(,(\d*))?\}")
_BRACE_JUNK = re.compile(r"\{[0-9,]*\}")


@dataclass
class _Piece:
    """One emitted unit: an atom, an anchor (both may take a quantifier) or a ``|``."""

    text: str
    atom: bool  # False for anchors and "|"
    quantified: bool = False
    bar: bool = False


class _Translator:
    def __init__(self, pattern: str) -> None:
        self.src = pattern
        self.pos = 0

    def fail(self, message: str, position: int | None = None) -> EreError:
        return EreError(message, self.pos if position is None else position)

    def translate(self) -> str:
        return self.sequence(depth=0)

    # A sequence of alternatives, up to an unmatched ')' (inside a group) or the end.
    def sequence(self, depth: int) -> str:
        pieces: list[_Piece] = []
        src = self.src
        while self.pos < len(src):
            char = src[self.pos]
            if char == ")" and depth > 0:
                break
            start = self.pos
            self.pos += 1
            if char == "|":
                pieces.append(_Piece("|", atom=False, bar=True))
            elif char == "(":
                if self.pos < len(src) and src[self.pos] in "*+?{":
                    raise self.fail(
                        f"{src[self.pos]!r} right after '(' repeats nothing (grep ignores it); "
                        "escape it to match it literally",
                        self.pos,
                    )
                inner = self.sequence(depth + 1)
                if self.pos >= len(src):
                    raise self.fail("unmatched '(': close the group with ')'", start)
                self.pos += 1
                pieces.append(_Piece(f"({inner})", atom=True))
            elif char == ")":
                pieces.append(_Piece(re.escape(char), atom=True))
            elif char == "[":
                pieces.append(_Piece(self.bracket(start), atom=True))
            elif char == "\\":
                pieces.append(self.escape(start))
            elif char == ".":
                pieces.append(_Piece(".", atom=True))
            elif char in "^$":
                pieces.append(_Piece(char, atom=False))
            elif char in "*+?":
                self.quantify(pieces, char, start)
            elif char == "{":
                self.brace(pieces, start)
            else:
                pieces.append(_Piece(re.escape(char), atom=True))
        return "".join(piece.text for piece in pieces)

    def brace(self, pieces: list[_Piece], start: int) -> None:
        """A ``{`` starts an interval (``{2}``, ``{1,3}``, ``{2,}``, ``{,3}``) or is literal."""
        interval = _INTERVAL.match(self.src, start)
        if interval is not None and (interval.group(1) or interval.group(2)):
            low, high = interval.group(1), interval.group(3)
            if low and high and int(low) > int(high):
                raise self.fail(f"invalid interval {interval.group(0)}: min > max", start)
            self.pos = interval.end()
            # {,3} is {0,3}: RE2 (and Go) read a missing minimum as a literal brace
            written = f"{{{low or 0}{interval.group(2) or ''}}}"
            self.quantify(pieces, written, start)
            return
        # After an atom, grep rejects brace contents like {} or {1,2,3}
        # ("Invalid content of \{\}"); elsewhere a { is an ordinary character.
        junk = _BRACE_JUNK.match(self.src, start)
        if junk is not None and pieces and pieces[-1].atom:
            raise self.fail(f"invalid interval {junk.group(0)}: write {{N}}, {{N,}} or {{N,M}}")
        pieces.append(_Piece(re.escape("{"), atom=True))

    def quantify(self, pieces: list[_Piece], quantifier: str, start: int) -> None:
        last = pieces[-1] if pieces else None
        # GNU warns "* at start of expression" and ignores a quantifier that
        # follows nothing, or only an anchor, in its branch.
        at_start = last is None or last.bar
        if last is not None and not last.atom and not last.bar and not last.quantified:
            at_start = len(pieces) == 1 or pieces[-2].bar
        if last is None or at_start:
            raise self.fail(
                f"{quantifier!r} has nothing to repeat here (grep ignores it); escape it to "
                "match it literally",
                start,
            )
        if last.quantified or not last.atom:
            # ERE: a+* is (a+)*, and an anchor may repeat (a^* is a); Python
            # rejects both or reads a lazy/possessive form, unless grouped.
            last.text = f"(?:{last.text})"
        last.text += quantifier
        last.quantified = True

    def escape(self, start: int) -> _Piece:
        if self.pos >= len(self.src):
            raise self.fail("trailing backslash: escape it as '\\\\' to match a backslash", start)
        char = self.src[self.pos]
        self.pos += 1
        if char in _GNU_ESCAPES:
            text, atom = _GNU_ESCAPES[char]
            return _Piece(text, atom=atom)
        if char in "123456789":
            return _Piece(f"\\{char}", atom=True)
        if char.isalnum():
            fix = "use [0-9] or [[:digit:]]" if char in "dD" else f"write {char!r} alone"
            raise self.fail(
                f"'\\{char}' is not part of POSIX extended regular expressions; {fix}", start
            )
        return _Piece(re.escape(char), atom=True)

    def bracket(self, start: int) -> str:
        src = self.src
        negate = False
        if self.pos < len(src) and src[self.pos] == "^":
            negate = True
            self.pos += 1
        items: list[str] = []
        first = True
        while True:
            if self.pos >= len(src):
                raise self.fail("unmatched '[': close the bracket expression with ']'", start)
            char = src[self.pos]
            if char == "]" and not first:
                self.pos += 1
                break
            first = False
            if src.startswith("[:", self.pos):
                end = src.find(":]", self.pos + 2)
                if end < 0:
                    raise self.fail("unterminated character class: write it like [[:digit:]]")
                name = src[self.pos + 2 : end]
                if name not in _CLASSES:
                    known = ", ".join(sorted(_CLASSES))
                    raise self.fail(f"unknown character class [:{name}:]; known: {known}")
                items.append(_CLASSES[name])
                self.pos = end + 2
                continue
            low = self.bracket_char()
            if self.pos + 1 < len(src) and src[self.pos] == "-" and src[self.pos + 1] != "]":
                range_at = self.pos
                self.pos += 1
                high = self.bracket_char()
                if ord(high) < ord(low):
                    raise self.fail(
                        f"invalid range {low}-{high}: the end sorts before the start", range_at
                    )
                items.append(f"{re.escape(low)}-{re.escape(high)}")
            else:
                items.append(re.escape(low))
        return "[" + ("^" if negate else "") + "".join(items) + "]"

    def bracket_char(self) -> str:
        """One character inside brackets: a plain one, ``[=c=]`` or ``[.c.]``."""
        src = self.src
        for opener, closer in (("[=", "=]"), ("[.", ".]")):
            if src.startswith(opener, self.pos):
                end = src.find(closer, self.pos + 2)
                if end < 0:
                    raise self.fail(f"unterminated {opener}…{closer} in a bracket expression")
                inner = src[self.pos + 2 : end]
                if len(inner) != 1:
                    raise self.fail(f"{opener}{inner}{closer}: only one character is supported")
                self.pos = end + 2
                return inner
        char = src[self.pos]
        self.pos += 1
        return char


@functools.lru_cache(maxsize=512)
def compile_ere(pattern: str) -> Pattern | re.Pattern[str]:
    """Compile a POSIX ERE (GNU dialect) to a pattern with the same matches.

    The translation runs on RE2 (linear time) whenever RE2 can express it;
    only back-references and GNU's word edges ``\\<`` ``\\>`` (lookaround in
    the translation) need Python's backtracking ``re``, and then the subject
    is a resource name or field value, not a request body.

    Raises :class:`EreError` with a position into ``pattern`` when it is not a
    valid ERE or uses something we refuse (see the module docstring).
    """
    translated = _Translator(pattern).translate()
    try:
        return compile_re2(translated)
    except RegexError:
        pass
    try:
        return re.compile(translated)
    except re.error as err:
        raise EreError(f"invalid regular expression: {err.msg}", 0) from None
