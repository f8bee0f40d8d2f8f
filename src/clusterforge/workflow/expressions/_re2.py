"""Go regular expressions, checked for Go's syntax and run by RE2.

``=~`` and ``!~`` in a ``when`` and ``matches`` in a ``{{=…}}`` tag take a Go
regular expression (govaluate and expr both call Go's ``regexp``) and match it
anywhere in the subject. Go's ``regexp`` is an RE2 engine, so the pattern is
compiled by RE2 itself (:func:`clusterforge.safety.compile_re2`): linear-time
matching — a pattern from a workflow can never stall the engine — and the same
dialect as Argo: ``\\z``, ``\\Q…\\E``, ``[[:alpha:]]``, ``(?<name>…)``, ``$``
only at the very end.

The few places where C++ RE2 accepts what Go's ``regexp`` refuses (or where a
Python habit would be silently misread) are refused here first with a message
that says what Go supports, so a pattern that works locally also compiles on
Argo: backreferences, lookaround, atomic groups, ``\\Z``, comments.
"""

from __future__ import annotations

import functools

from clusterforge.safety import Pattern, RegexError, compile_re2

__all__ = ["RegexError", "compile_go_regex"]

_REFUSED_GROUPS = ("=", "!", "<=", "<!", ">", "#", "P=", "P>")


@functools.lru_cache(maxsize=256)
def compile_go_regex(pattern: str) -> Pattern:
    """Compile a Go (RE2) pattern for ``search``; ``RegexError`` says why one is refused."""
    _refuse_non_go(pattern)
    return compile_re2(pattern)


def _refuse_non_go(pattern: str) -> None:
    i, n, in_class = 0, len(pattern), False
    while i < n:
        ch = pattern[i]
        if ch == "\\":
            nxt = pattern[i + 1 : i + 2]
            if nxt == "Q":  # a quoted literal runs to \E: nothing inside is syntax
                end = pattern.find("\\E", i + 2)
                i = n if end < 0 else end + 2
                continue
            if nxt.isdigit() and nxt != "0" and not in_class:
                raise _refused(pattern, "Go's regexp has no backreferences")
            if nxt == "Z":
                raise _refused(pattern, "Go's regexp has no \\Z (use \\z or $)")
            i += 2
            continue
        if in_class:
            if pattern.startswith("[:", i):
                end = pattern.find(":]", i + 2)
                i = end + 2 if end > 0 else i + 1
                continue
            in_class = not (ch == "]" and not _class_opened_at(pattern, i))
        elif ch == "[":
            in_class = True
        elif pattern.startswith("(?", i):
            rest = pattern[i + 2 :]
            for refused in _REFUSED_GROUPS:
                if rest.startswith(refused):
                    raise _refused(pattern, f"Go's regexp does not support '(?{refused}'")
        i += 1


def _class_opened_at(pattern: str, i: int) -> bool:
    """Whether the ']' at ``i`` directly follows a class's '[' or '[^' (a literal then)."""
    return pattern[i - 1 : i] == "[" or (pattern[i - 2 : i] == "[^")


def _refused(pattern: str, reason: str) -> RegexError:
    return RegexError(pattern, reason)
