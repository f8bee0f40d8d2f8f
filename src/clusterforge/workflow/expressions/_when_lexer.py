"""Tokens of a ``when`` expression, read exactly as govaluate reads them.

Argo evaluates ``when`` with Knetic/govaluate (pinned at 9aa4983), so its
tokenizer decides what a ``when`` means, quirks included (parsing.go,
lexerState.go):

* a bare word (a letter, then letters, digits, ``_`` or ``.``) is a variable —
  and Argo turns every variable into a *string* (operator.go
  ``shouldExecute``), which is why ``heads == heads`` works unquoted;
  ``true``/``false`` are booleans, ``in``/``IN`` the membership operator;
  a bare word with a ``.`` is a parameter *accessor*, which Argo cannot use;
* a number is digits and dots (``1.2.3`` is an error, ``-`` is an operator);
* a string opens with ``'`` or ``"`` and ends at the next quote of *either*
  kind; a backslash escapes the next character; ``[any text]`` is a variable
  too;
* operators are maximal runs of symbol characters up to a space, a letter, a
  digit, a quote or a bracket — so ``a==-1`` is the single invalid token
  ``==-``;
* which token may follow which is a state machine; ``check_sequence`` applies
  it with variables already turned into strings, as Argo's second parse does
  (``!word`` is therefore invalid).

For ``check_when`` the tokenizer can also take unsubstituted ``{{…}}`` tags
as opaque operands (``OPAQUE``), together with any letters, digits, ``_`` and
``.`` glued to them (``v{{x}}`` is one operand).
"""

from __future__ import annotations

import enum
import re
from collections.abc import Callable
from dataclasses import dataclass

from ._gotime import unix_seconds

__all__ = [
    "Kind",
    "LexError",
    "Token",
    "check_sequence",
    "tokenize",
]


class Kind(enum.Enum):
    PREFIX = "prefix operator"
    NUMERIC = "number"
    BOOLEAN = "boolean"
    STRING = "string"
    TIME = "date string"
    VARIABLE = "word"
    ACCESSOR = "dotted word"
    SEPARATOR = "','"
    COMPARATOR = "comparator"
    LOGICALOP = "logical operator"
    MODIFIER = "arithmetic operator"
    CLAUSE = "'('"
    CLAUSE_CLOSE = "')'"
    TERNARY = "ternary operator"
    OPAQUE = "{{…}} tag"
    UNKNOWN = "start"


class LexError(Exception):
    """A token that cannot be read; ``position`` is its offset."""

    def __init__(self, position: int, reason: str) -> None:
        super().__init__(reason)
        self.position = position
        self.reason = reason


@dataclass(frozen=True, slots=True)
class Token:
    kind: Kind
    value: object  # float, str, bool, or the operator symbol
    position: int
    text: str  # the source text of the token


_PREFIX = frozenset({"-", "!", "~"})
_MODIFIER = frozenset({"+", "-", "*", "/", "%", "**", "&", "|", "^", ">>", "<<"})
_LOGICAL = frozenset({"&&", "||"})
_COMPARATOR = frozenset({"==", "!=", ">", ">=", "<", "<=", "=~", "!~", "in"})
_TERNARY = frozenset({"?", ":", "??"})
_NUMBER = re.compile(r"[0-9]+\.?[0-9]*|\.[0-9]+")

_OPERAND_KINDS = frozenset({Kind.NUMERIC, Kind.BOOLEAN, Kind.STRING, Kind.VARIABLE})

# lexerState.go: which kinds may follow each kind (FUNCTION and PATTERN omitted:
# Argo registers no functions, and patterns only appear after this check).
_NEXT: dict[Kind, frozenset[Kind]] = {
    Kind.UNKNOWN: frozenset(
        {
            Kind.PREFIX,
            Kind.NUMERIC,
            Kind.BOOLEAN,
            Kind.VARIABLE,
            Kind.ACCESSOR,
            Kind.STRING,
            Kind.TIME,
            Kind.CLAUSE,
        }
    ),
    Kind.CLAUSE: frozenset(
        {
            Kind.PREFIX,
            Kind.NUMERIC,
            Kind.BOOLEAN,
            Kind.VARIABLE,
            Kind.ACCESSOR,
            Kind.STRING,
            Kind.TIME,
            Kind.CLAUSE,
            Kind.CLAUSE_CLOSE,
        }
    ),
    Kind.CLAUSE_CLOSE: frozenset(
        {
            Kind.COMPARATOR,
            Kind.MODIFIER,
            Kind.NUMERIC,
            Kind.BOOLEAN,
            Kind.VARIABLE,
            Kind.STRING,
            Kind.TIME,
            Kind.CLAUSE,
            Kind.CLAUSE_CLOSE,
            Kind.LOGICALOP,
            Kind.TERNARY,
            Kind.SEPARATOR,
        }
    ),
    Kind.NUMERIC: frozenset(
        {
            Kind.MODIFIER,
            Kind.COMPARATOR,
            Kind.LOGICALOP,
            Kind.CLAUSE_CLOSE,
            Kind.TERNARY,
            Kind.SEPARATOR,
        }
    ),
    Kind.BOOLEAN: frozenset(
        {
            Kind.MODIFIER,
            Kind.COMPARATOR,
            Kind.LOGICALOP,
            Kind.CLAUSE_CLOSE,
            Kind.TERNARY,
            Kind.SEPARATOR,
        }
    ),
    Kind.STRING: frozenset(
        {
            Kind.MODIFIER,
            Kind.COMPARATOR,
            Kind.LOGICALOP,
            Kind.CLAUSE_CLOSE,
            Kind.TERNARY,
            Kind.SEPARATOR,
        }
    ),
    Kind.TIME: frozenset(
        {Kind.MODIFIER, Kind.COMPARATOR, Kind.LOGICALOP, Kind.CLAUSE_CLOSE, Kind.SEPARATOR}
    ),
    Kind.VARIABLE: frozenset(
        {
            Kind.MODIFIER,
            Kind.COMPARATOR,
            Kind.LOGICALOP,
            Kind.CLAUSE_CLOSE,
            Kind.TERNARY,
            Kind.SEPARATOR,
        }
    ),
    Kind.MODIFIER: frozenset(
        {
            Kind.PREFIX,
            Kind.NUMERIC,
            Kind.VARIABLE,
            Kind.ACCESSOR,
            Kind.STRING,
            Kind.BOOLEAN,
            Kind.CLAUSE,
            Kind.CLAUSE_CLOSE,
        }
    ),
    Kind.COMPARATOR: frozenset(
        {
            Kind.PREFIX,
            Kind.NUMERIC,
            Kind.BOOLEAN,
            Kind.VARIABLE,
            Kind.ACCESSOR,
            Kind.STRING,
            Kind.TIME,
            Kind.CLAUSE,
            Kind.CLAUSE_CLOSE,
        }
    ),
    Kind.LOGICALOP: frozenset(
        {
            Kind.PREFIX,
            Kind.NUMERIC,
            Kind.BOOLEAN,
            Kind.VARIABLE,
            Kind.ACCESSOR,
            Kind.STRING,
            Kind.TIME,
            Kind.CLAUSE,
            Kind.CLAUSE_CLOSE,
        }
    ),
    Kind.PREFIX: frozenset(
        {Kind.NUMERIC, Kind.BOOLEAN, Kind.VARIABLE, Kind.ACCESSOR, Kind.CLAUSE, Kind.CLAUSE_CLOSE}
    ),
    Kind.TERNARY: frozenset(
        {
            Kind.PREFIX,
            Kind.NUMERIC,
            Kind.BOOLEAN,
            Kind.STRING,
            Kind.TIME,
            Kind.VARIABLE,
            Kind.ACCESSOR,
            Kind.CLAUSE,
            Kind.SEPARATOR,
        }
    ),
    Kind.ACCESSOR: frozenset(
        {
            Kind.CLAUSE,
            Kind.MODIFIER,
            Kind.COMPARATOR,
            Kind.LOGICALOP,
            Kind.CLAUSE_CLOSE,
            Kind.TERNARY,
            Kind.SEPARATOR,
        }
    ),
    Kind.SEPARATOR: frozenset(
        {
            Kind.PREFIX,
            Kind.NUMERIC,
            Kind.BOOLEAN,
            Kind.STRING,
            Kind.TIME,
            Kind.VARIABLE,
            Kind.ACCESSOR,
            Kind.CLAUSE,
        }
    ),
}
# A tag may stand wherever some operand may, and be followed by what follows one.
_NEXT[Kind.OPAQUE] = _NEXT[Kind.STRING]
_EOF_KINDS = frozenset(
    {
        Kind.NUMERIC,
        Kind.BOOLEAN,
        Kind.STRING,
        Kind.TIME,
        Kind.VARIABLE,
        Kind.ACCESSOR,
        Kind.CLAUSE_CLOSE,
        Kind.OPAQUE,
    }
)


def _can_follow(previous: Kind, kind: Kind) -> bool:
    allowed = _NEXT[previous]
    if kind is Kind.OPAQUE:
        return not allowed.isdisjoint(_OPERAND_KINDS)
    return kind in allowed


def _is_letter(ch: str) -> bool:
    return ch.isalpha()


def _is_digit(ch: str) -> bool:
    return ch.isdecimal()


def _is_variable_part(ch: str) -> bool:
    return ch.isalpha() or ch.isdecimal() or ch in "_."


def _is_symbol(ch: str) -> bool:
    return not (ch.isdecimal() or ch.isalpha() or ch in "()[]'\"")


def _read_until(
    text: str, start: int, accept: Callable[[str], bool], *, include_space: bool, break_space: bool
) -> tuple[str, int, bool]:
    """govaluate's readUntilFalse: read from ``start`` while ``accept(ch)``; backslash escapes.

    Returns the text read, the index after it, and whether the read stopped on a
    character (as opposed to running out of input).
    """
    out: list[str] = []
    i = start
    n = len(text)
    while i < n:
        ch = text[i]
        if ch == "\\":
            if i + 1 < n:
                out.append(text[i + 1])
            i += 2
            continue
        if ch.isspace():
            if break_space and out:
                return "".join(out), i, True
            if not include_space:
                i += 1
                continue
        if accept(ch):
            out.append(ch)
            i += 1
        else:
            return "".join(out), i, True
    return "".join(out), n, False


def _opaque_end(text: str, start: int) -> int | None:
    """End of a run of ``{{…}}`` tags and word characters at ``start`` holding a tag, else None."""
    i = start
    saw_tag = False
    n = len(text)
    while i < n:
        if text.startswith("{{", i):
            close = text.find("}}", i + 2)
            if close < 0:
                raise LexError(i, "'{{' is never closed with '}}'")
            i = close + 2
            saw_tag = True
        elif _is_variable_part(text[i]):
            i += 1
        else:
            break
    return i if saw_tag else None


def tokenize(text: str, *, tags: bool = False) -> list[Token]:
    """govaluate's tokens for ``text``; with ``tags``, ``{{…}}`` tags are ``OPAQUE`` operands."""
    tokens: list[Token] = []
    state = Kind.UNKNOWN
    i = 0
    n = len(text)
    while i < n:
        ch = text[i]
        if ch.isspace():
            i += 1
            continue
        start = i
        if tags:
            end = _opaque_end(text, i)
            if end is not None:
                token = Token(Kind.OPAQUE, text[start:end], start, text[start:end])
                tokens.append(token)
                state = token.kind
                i = end
                continue
        elif text.startswith("{{", i):
            close = text.find("}}", i)
            shown = text[i : close + 2] if close >= 0 else "{{"
            raise LexError(i, f"unsubstituted tag {shown}: substitute variables before evaluating")
        token, i = _read_token(text, i, state)
        tokens.append(token)
        state = token.kind
    return tokens


def _read_token(text: str, i: int, state: Kind) -> tuple[Token, int]:
    ch = text[i]
    start = i
    n = len(text)
    if _is_digit(ch) or ch == ".":
        if ch == "0" and i + 2 < n and text[i + 1] == "x":
            digits, end, _ = _read_until(
                text,
                i + 2,
                lambda c: c in "0123456789abcdefABCDEF",
                include_space=False,
                break_space=True,
            )
            if not digits or any(not c.isascii() for c in digits):
                raise LexError(start, f"cannot read the hex number {text[start:end]!r}")
            return Token(Kind.NUMERIC, float(int(digits, 16)), start, text[start:end]), end
        digits, end, _ = _read_until(
            text, i, lambda c: _is_digit(c) or c == ".", include_space=False, break_space=True
        )
        if _NUMBER.fullmatch(digits) is None:
            raise LexError(
                start,
                f"cannot read the number {digits!r} (quote it if it is a version or an address)",
            )
        return Token(Kind.NUMERIC, float(digits), start, text[start:end]), end
    if ch == ",":
        return Token(Kind.SEPARATOR, ",", start, ","), i + 1
    if ch == "[":
        name, end, closed = _read_until(
            text, i + 1, lambda c: c != "]", include_space=True, break_space=False
        )
        if not closed:
            raise LexError(start, "unclosed '[' (a bracketed name needs its ']')")
        return Token(Kind.VARIABLE, name, start, text[start : end + 1]), end + 1
    if _is_letter(ch):
        word, end, _ = _read_until(
            text, i, _is_variable_part, include_space=False, break_space=True
        )
        source = text[start:end]
        if word in ("true", "false"):
            return Token(Kind.BOOLEAN, word == "true", start, source), end
        if word in ("in", "IN"):
            return Token(Kind.COMPARATOR, "in", start, source), end
        if "." in word:
            return Token(Kind.ACCESSOR, word, start, source), end
        return Token(Kind.VARIABLE, word, start, source), end
    if ch in "'\"":
        value, end, closed = _read_until(
            text, i + 1, lambda c: c not in "'\"", include_space=True, break_space=False
        )
        if not closed:
            raise LexError(start, "string is never closed with a quote")
        seconds = unix_seconds(value)
        if seconds is not None:
            return Token(Kind.TIME, float(seconds), start, text[start : end + 1]), end + 1
        return Token(Kind.STRING, value, start, text[start : end + 1]), end + 1
    if ch == "(":
        return Token(Kind.CLAUSE, "(", start, "("), i + 1
    if ch == ")":
        return Token(Kind.CLAUSE_CLOSE, ")", start, ")"), i + 1
    symbol, end, _ = _read_until(text, i, _is_symbol, include_space=False, break_space=True)
    if "{{" in text[start + 1 : end]:
        # An operator glued to a tag ('!{{x}}') ends where the tag begins.
        end = text.index("{{", start + 1)
        symbol, _, _ = _read_until(text[:end], i, _is_symbol, include_space=False, break_space=True)
    source = text[start:end]
    if not symbol:
        raise LexError(start, f"unexpected '{ch}'")
    if symbol in _PREFIX and Kind.PREFIX in _NEXT[state]:
        return Token(Kind.PREFIX, symbol, start, source), end
    for kind, symbols in (
        (Kind.MODIFIER, _MODIFIER),
        (Kind.LOGICALOP, _LOGICAL),
        (Kind.COMPARATOR, _COMPARATOR),
        (Kind.TERNARY, _TERNARY),
    ):
        if symbol in symbols:
            return Token(kind, symbol, start, source), end
    raise LexError(
        start,
        f"invalid token '{symbol}' (hint: put spaces around operators, and quote values: '…')",
    )


def check_sequence(tokens: list[Token], length: int) -> None:
    """Apply govaluate's token-order rules, with variables read as strings as Argo does.

    ``length`` is the text's length, the position reported for a premature end.
    """
    depth = 0
    for token in tokens:
        if token.kind is Kind.CLAUSE:
            depth += 1
        elif token.kind is Kind.CLAUSE_CLOSE:
            depth -= 1
            if depth < 0:
                raise LexError(token.position, "')' without a matching '('")
    previous: Token | None = None
    state = Kind.UNKNOWN
    for token in tokens:
        kind = Kind.STRING if token.kind is Kind.VARIABLE else token.kind
        if not _can_follow(state, kind):
            raise LexError(token.position, _transition_reason(previous, token))
        state = kind
        previous = token
    if depth > 0:
        raise LexError(length, "missing ')'")
    if state not in _EOF_KINDS:
        after = f" after '{previous.text}'" if previous is not None else ""
        raise LexError(length, f"unexpected end of expression{after}")


_OPERANDS = frozenset(
    {
        Kind.NUMERIC,
        Kind.BOOLEAN,
        Kind.STRING,
        Kind.TIME,
        Kind.VARIABLE,
        Kind.ACCESSOR,
        Kind.OPAQUE,
        Kind.CLAUSE_CLOSE,
    }
)


def _transition_reason(previous: Token | None, token: Token) -> str:
    if previous is None:
        return f"an expression cannot start with {token.kind.value} '{token.text}'"
    if previous.kind is Kind.VARIABLE and token.kind is Kind.CLAUSE:
        return f"undefined function '{previous.value}' (a word followed by '(' reads as a call)"
    if previous.kind is Kind.PREFIX and token.kind in (Kind.VARIABLE, Kind.STRING, Kind.TIME):
        return (
            f"'{previous.text}' cannot apply to the string '{token.text}' "
            "(Argo reads bare words as strings)"
        )
    if previous.kind in _OPERANDS and token.kind in _OPERANDS:
        return (
            f"'{token.text}' cannot follow '{previous.text}' without an operator "
            "(hint: quote a value that contains spaces: 'fluent bit')"
        )
    return (
        f"{token.kind.value} '{token.text}' cannot follow {previous.kind.value} '{previous.text}'"
    )
