"""Go regular expressions (RE2 syntax) run on Python's ``re``.

``=~`` and ``!~`` in a ``when`` and ``matches`` in a ``{{=…}}`` tag take a Go
regular expression (govaluate and expr both call Go's ``regexp``) and match it
anywhere in the subject, like ``re.search``. The two dialects agree on the
common ground — literals, classes, ``\\d \\w \\s \\b``, anchors, repetition,
groups, ``(?i)`` — and this module closes the gaps that would otherwise make a
pattern mean something else locally than on Argo:

* Go-only syntax is translated: ``\\z`` (end of text), ``\\Q…\\E`` (quoted
  literal), ``[[:alpha:]]`` POSIX classes, ``(?<name>…)`` groups;
* Python-only syntax that Go rejects is rejected here too, so a pattern that
  works locally also compiles on Argo: backreferences, lookaround, atomic
  groups, ``\\Z``.
"""

from __future__ import annotations

import functools
import re

__all__ = ["RegexError", "compile_go_regex"]

_POSIX_CLASSES = {
    "alnum": "0-9A-Za-z",
    "alpha": "A-Za-z",
    "ascii": "\\x00-\\x7f",
    "blank": "\\t ",
    "cntrl": "\\x00-\\x1f\\x7f",
    "digit": "0-9",
    "graph": "!-~",
    "lower": "a-z",
    "print": " -~",
    "punct": "!-/:-@\\[-`{-~",
    "space": "\\t\\n\\v\\f\\r ",
    "upper": "A-Z",
    "word": "0-9A-Za-z_",
    "xdigit": "0-9A-Fa-f",
}


class RegexError(ValueError):
    """A pattern Go's regexp would not compile (or that means something else in Python)."""


@functools.lru_cache(maxsize=256)
def compile_go_regex(pattern: str) -> re.Pattern[str]:
    """Compile a Go (RE2) pattern for ``search``; ``RegexError`` says why one is refused."""
    translated = _translate(pattern)
    try:
        return re.compile(translated)
    except re.error as exc:
        raise RegexError(f"invalid regular expression {pattern!r}: {exc.msg}") from None
    except (RecursionError, OverflowError):
        raise RegexError(f"regular expression {pattern!r} is too complex") from None


def _translate(pattern: str) -> str:
    out: list[str] = []
    i = 0
    in_class = False
    n = len(pattern)
    while i < n:
        ch = pattern[i]
        if ch == "\\":
            if i + 1 >= n:
                raise RegexError(f"invalid regular expression {pattern!r}: trailing backslash")
            nxt = pattern[i + 1]
            if nxt == "Q":
                end = pattern.find("\\E", i + 2)
                literal = pattern[i + 2 :] if end < 0 else pattern[i + 2 : end]
                out.append(re.escape(literal))
                i = n if end < 0 else end + 2
                continue
            if nxt.isdigit() and nxt != "0" and not in_class:
                raise RegexError(
                    f"invalid regular expression {pattern!r}: Go's regexp has no backreferences"
                )
            if nxt == "Z":
                raise RegexError(
                    f"invalid regular expression {pattern!r}: Go's regexp has no \\Z (use \\z or $)"
                )
            out.append("\\Z" if nxt == "z" else ch + nxt)
            i += 2
            continue
        if in_class:
            if pattern.startswith("[:", i):
                end = pattern.find(":]", i + 2)
                name = pattern[i + 2 : end] if end > 0 else ""
                if name in _POSIX_CLASSES:
                    out.append(_POSIX_CLASSES[name])
                    i = end + 2
                    continue
                if name.startswith("^") and name[1:] in _POSIX_CLASSES:
                    raise RegexError(
                        f"negated POSIX class [:{name}:] in {pattern!r} is not supported here"
                    )
            if ch == "[" or ch in "&~|" or (ch == "-" and out and out[-1] == "-"):
                # Literals in Go; Python reads '[' as a nested set and '--', '&&', '~~',
                # '||' as (future) set operations, so escape them.
                out.append("\\" + ch)
                i += 1
                continue
            if ch == "]" and not _class_just_opened(out):
                in_class = False
            out.append(ch)
            i += 1
            continue
        if ch == "[":
            in_class = True
            out.append(ch)
            i += 1
            if i < n and pattern[i] == "^":
                out.append("^")
                i += 1
            if i < n and pattern[i] == "]":  # a leading ']' is a literal in both dialects
                out.append("\\]")
                i += 1
            continue
        if ch == "(" and pattern.startswith("(?", i):
            i = _group_opening(pattern, i, out)
            continue
        out.append(ch)
        i += 1
    return "".join(out)


def _class_just_opened(out: list[str]) -> bool:
    return bool(out) and (out[-1] == "[" or (out[-1] == "^" and len(out) > 1 and out[-2] == "["))


def _group_opening(pattern: str, i: int, out: list[str]) -> int:
    """Translate or refuse the ``(?…`` construct at ``i``; return the index after its opening."""
    rest = pattern[i + 2 :]
    for refused in ("=", "!", "<=", "<!", ">", "#"):
        if rest.startswith(refused):
            raise RegexError(
                f"invalid regular expression {pattern!r}: "
                f"Go's regexp does not support '(?{refused}'"
            )
    if rest.startswith("P<"):
        out.append("(?")
        return i + 2
    if rest.startswith("<"):
        out.append("(?P<")
        return i + 3
    if rest.startswith("P"):
        raise RegexError(
            f"invalid regular expression {pattern!r}: Go's regexp has no '(?P{rest[1:2]}'"
        )
    flags = re.match(r"[a-zA-Z]*", rest)
    letters = flags.group(0) if flags else ""
    if "U" in letters or any(letter not in "imsU" for letter in letters.replace("-", "")):
        raise RegexError(
            f"invalid regular expression {pattern!r}: unsupported flag group '(?{letters}'"
        )
    out.append("(?")
    return i + 2
