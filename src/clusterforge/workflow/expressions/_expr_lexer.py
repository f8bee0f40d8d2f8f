"""Tokens of the ``{{=…}}`` expression language (Argo's expr-lang dialect).

Argo evaluates ``{{=…}}`` tags with expr-lang/expr. This lexer follows its
token rules (parser/lexer/state.go) for the part of the language clusterforge
supports: numbers (decimal with ``_`` separators, ``0x``/``0o``/``0b``
integers, floats with exponents), strings in single or double quotes with Go
escapes and raw strings in backquotes, identifiers, the word operators
(``and or not in matches contains startsWith endsWith``), symbol operators, and
``//`` and ``/* */`` comments. Anything else is an error at its offset.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

__all__ = ["LexError", "Token", "tokenize"]

Kind = Literal["int", "float", "string", "ident", "op", "eof"]

WORD_OPERATORS = frozenset(
    {"and", "or", "not", "in", "matches", "contains", "startsWith", "endsWith"}
)
# Longest first, so '**' wins over '*' and '??' over '?'.
_SYMBOLS = (
    "**",
    "==",
    "!=",
    "<=",
    ">=",
    "&&",
    "||",
    "??",
    "?.",
    "..",
    "+",
    "-",
    "*",
    "/",
    "%",
    "^",
    "<",
    ">",
    "!",
    "?",
    ":",
    ".",
    ",",
    "(",
    ")",
    "[",
    "]",
    "{",
    "}",
    "|",
    "#",
    ";",
    "=",
)
_SIMPLE_ESCAPES = {
    "a": "\a",
    "b": "\b",
    "f": "\f",
    "n": "\n",
    "r": "\r",
    "t": "\t",
    "v": "\v",
    "\\": "\\",
    "'": "'",
    '"': '"',
    "`": "`",
}
_MAX_INT = 2**63 - 1
_DIGITS = "0123456789"


class LexError(Exception):
    """A character sequence that is no token; ``position`` is its offset."""

    def __init__(self, position: int, reason: str) -> None:
        super().__init__(reason)
        self.position = position
        self.reason = reason


@dataclass(frozen=True, slots=True)
class Token:
    kind: Kind
    text: str  # the source text, or the operator
    position: int
    value: object = None  # the literal's value for int, float and string tokens


def _is_ident_start(ch: str) -> bool:
    return ch.isalpha() or ch in "_$"


def _is_ident_part(ch: str) -> bool:
    return ch.isalnum() or ch in "_$"


def tokenize(source: str) -> list[Token]:
    """All tokens of ``source``, ending with an ``eof`` token at ``len(source)``."""
    tokens: list[Token] = []
    i = 0
    n = len(source)
    while i < n:
        ch = source[i]
        if ch.isspace():
            i += 1
        elif source.startswith("//", i):
            end = source.find("\n", i)
            i = n if end < 0 else end
        elif source.startswith("/*", i):
            end = source.find("*/", i + 2)
            if end < 0:
                raise LexError(i, "unclosed comment")
            i = end + 2
        elif ch in _DIGITS or (ch == "." and i + 1 < n and source[i + 1] in _DIGITS):
            token = _number(source, i)
            tokens.append(token)
            i += len(token.text)
        elif ch in "'\"":
            token = _quoted(source, i)
            tokens.append(token)
            i += len(token.text)
        elif ch == "`":
            end = source.find("`", i + 1)
            if end < 0:
                raise LexError(i, "literal not terminated")
            tokens.append(Token("string", source[i : end + 1], i, source[i + 1 : end]))
            i = end + 1
        elif _is_ident_start(ch):
            j = i + 1
            while j < n and _is_ident_part(source[j]):
                j += 1
            word = source[i:j]
            tokens.append(Token("op" if word in WORD_OPERATORS else "ident", word, i))
            i = j
        else:
            for symbol in _SYMBOLS:
                if source.startswith(symbol, i):
                    tokens.append(Token("op", symbol, i))
                    i += len(symbol)
                    break
            else:
                raise LexError(i, f"unrecognized character {ch!r}")
    tokens.append(Token("eof", "", n))
    return tokens


def _number(source: str, start: int) -> Token:
    n = len(source)
    i = start
    digits = "0123456789_"
    based = False
    if source.startswith(("0x", "0X"), i):
        digits, based, i = "0123456789abcdefABCDEF_", True, i + 2
    elif source.startswith(("0o", "0O"), i):
        digits, based, i = "01234567_", True, i + 2
    elif source.startswith(("0b", "0B"), i):
        digits, based, i = "01_", True, i + 2
    while i < n and source[i] in digits:
        i += 1
    is_float = False
    if not based and i < n and source[i] == "." and not source.startswith("..", i):
        is_float = True
        i += 1
        while i < n and source[i] in digits:
            i += 1
    if not based and i < n and source[i] in "eE":
        is_float = True
        i += 1
        if i < n and source[i] in "+-":
            i += 1
        while i < n and source[i] in digits:
            i += 1
    if i < n and _is_ident_part(source[i]):
        raise LexError(start, f"bad number syntax: {source[start : i + 1]!r}")
    text = source[start:i]
    clean = text.replace("_", "")
    try:
        if is_float:
            return Token("float", text, start, float(clean))
        value = int(clean, 0) if based else int(clean, 10)
    except ValueError:
        raise LexError(start, f"bad number syntax: {text!r}") from None
    if value > _MAX_INT:
        raise LexError(start, f"integer literal {text} is too large")
    return Token("int", text, start, value)


def _quoted(source: str, start: int) -> Token:
    quote = source[start]
    out: list[str] = []
    i = start + 1
    n = len(source)
    while i < n:
        ch = source[i]
        if ch == quote:
            return Token("string", source[start : i + 1], start, "".join(out))
        if ch != "\\":
            out.append(ch)
            i += 1
            continue
        if i + 1 >= n:
            break
        esc = source[i + 1]
        if esc in _SIMPLE_ESCAPES:
            out.append(_SIMPLE_ESCAPES[esc])
            i += 2
        elif esc in "xuU":
            width = {"x": 2, "u": 4, "U": 8}[esc]
            hex_digits = source[i + 2 : i + 2 + width]
            if len(hex_digits) != width or any(
                c not in "0123456789abcdefABCDEF" for c in hex_digits
            ):
                raise LexError(i, f"invalid escape \\{esc}{hex_digits}")
            code = int(hex_digits, 16)
            if code > 0x10FFFF or 0xD800 <= code <= 0xDFFF:
                raise LexError(i, f"invalid escape \\{esc}{hex_digits}: not a Unicode character")
            out.append(chr(code))
            i += 2 + width
        elif esc in "01234567":
            octal = source[i + 1 : i + 4]
            if len(octal) != 3 or any(c not in "01234567" for c in octal) or int(octal, 8) > 255:
                raise LexError(i, f"invalid escape \\{octal}")
            out.append(chr(int(octal, 8)))
            i += 4
        else:
            raise LexError(i, f"invalid escape \\{esc}")
    raise LexError(start, "literal not terminated")
