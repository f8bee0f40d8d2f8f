"""User-supplied regular expressions, matched in linear time by RE2.

Python's ``re`` backtracks: ``^([a-z0-9]+-?)*$`` against 28 characters that
almost match takes seconds, doubling with every character, and holds the GIL
while it does — one webhook payload froze a whole API server. Argo (and Argo
Events, and expr) match with Go's ``regexp``, an RE2-family engine whose time
is linear in the subject. So every pattern a user hands in — sensor data
filters, ``when`` ``=~``/``!~``, expr ``matches``, DETIK values — is compiled
here with Google's RE2 (the ``google-re2`` binding), never with ``re``.

RE2 also bounds a pattern's own size (``max_mem``): ``a{1000}{1000}`` is
refused when compiled instead of eating memory. Parse errors are returned as
:class:`RegexError` (RE2's own stderr logging is switched off, so nothing
reaches a CLI user's terminal but our one message).
"""

from __future__ import annotations

import functools
from typing import Any, Protocol

import re2

__all__ = ["Match", "Pattern", "RegexError", "compile_re2"]

# What one compiled program may use: enough for any real pattern (a 1,000-
# character alternation of words compiles in well under this), too little for
# repetition bombs.
MAX_PROGRAM_BYTES = 8 << 20


class RegexError(ValueError):
    """A pattern RE2 would not compile; ``str()`` says which and why, ``reason`` only why."""

    def __init__(self, pattern: str, reason: str) -> None:
        super().__init__(f"invalid regular expression {pattern!r}: {reason}")
        self.reason = reason


class Match(Protocol):
    def group(self, index: int = ..., /) -> str | Any: ...
    def start(self, index: int = ..., /) -> int: ...


class Pattern(Protocol):
    """The part of a compiled RE2 program the project uses."""

    def search(self, text: str, /) -> Match | None: ...
    def fullmatch(self, text: str, /) -> Match | None: ...


def _options() -> object:
    options = re2.Options()
    options.log_errors = False
    options.max_mem = MAX_PROGRAM_BYTES
    return options


_OPTIONS = _options()


class _Program:
    """An RE2 program that also takes subjects with lone surrogates (from JSON
    ``\\udXXX`` escapes): RE2 reads UTF-8, so those become U+FFFD first."""

    __slots__ = ("_compiled",)

    def __init__(self, compiled: Pattern) -> None:
        self._compiled = compiled

    def search(self, text: str) -> Match | None:
        try:
            return self._compiled.search(text)
        except UnicodeEncodeError:
            return self._compiled.search(_scrub(text))

    def fullmatch(self, text: str) -> Match | None:
        try:
            return self._compiled.fullmatch(text)
        except UnicodeEncodeError:
            return self._compiled.fullmatch(_scrub(text))


def _scrub(text: str) -> str:
    return text.encode("utf-8", "surrogatepass").decode("utf-8", "replace")


@functools.lru_cache(maxsize=512)
def compile_re2(pattern: str) -> Pattern:
    """``pattern`` compiled by RE2 (leftmost-first, like Go); :class:`RegexError` if refused."""
    try:
        compiled: Pattern = re2.compile(pattern, _OPTIONS)
    except re2.error as err:
        reason = err.args[0] if err.args else err
        if isinstance(reason, bytes):
            reason = reason.decode("utf-8", "replace")
        raise RegexError(pattern, str(reason)) from None
    except UnicodeEncodeError:  # a lone surrogate in the pattern itself
        raise RegexError(pattern, "it is not valid Unicode") from None
    except TypeError as err:
        raise RegexError(pattern, str(err)) from None
    return _Program(compiled)
