"""A resource template's ``successCondition``/``failureCondition``, as Argo reads them.

Argo parses each condition with Kubernetes' label-selector parser
(``labels.Parse`` in k8s.io/apimachinery, selector.go) and matches every
requirement against the object's JSON, a requirement's key being a gjson path
(workflow/executor/resource.go, ``gjsonLabels``). So ``status.succeeded > 2``,
``status.phase in (Failed, Error)``, ``!status.failed``,
``metadata.labels.app == web`` — comma-separated requirements that must all
hold — and nothing else: no ``&&``, no quotes, integers only for ``>``/``<``,
keys and values with the characters labels allow.

This module is that grammar and that matching, pure: :func:`parse_condition` gives the
requirements or raises :class:`ConditionError` with the parser's reason, and
:func:`Requirement.matches` reads a decoded object. Keys may contain only
``[-A-Za-z0-9_./]`` (a label key's characters), so of gjson's path language only
``.`` (a member, or an index into an array) can occur.
"""

from __future__ import annotations

import decimal
import json
import string
from dataclasses import dataclass
from typing import Any

__all__ = ["ConditionError", "Requirement", "lookup", "parse_condition"]

_SPECIAL = frozenset("=!(),><")
_WHITESPACE = frozenset(" \t\r\n")
_OPERATOR_TOKENS = ("!=", "==", "=", ">", "<", "!", "(", ")", ",")
_KEYWORDS = frozenset({"in", "notin"})
_BINARY = ("in", "notin", "=", "==", "!=", "gt", "lt")
_ALNUM = frozenset(string.ascii_letters + string.digits)
_NAME_CHARS = _ALNUM | frozenset("-_.")
_DNS_CHARS = frozenset(string.ascii_lowercase + string.digits + "-.")


class ConditionError(ValueError):
    """A condition Kubernetes' selector parser would refuse; the text is its reason."""


@dataclass(frozen=True)
class Requirement:
    """One requirement: ``key``, an operator, and its values (sorted, as Go's set)."""

    key: str
    operator: str
    values: tuple[str, ...] = ()

    def matches(self, document: Any) -> bool:
        """Does the object (decoded JSON) meet this requirement? (Go's ``Matches``.)"""
        found, text = lookup(document, self.key)
        op = self.operator
        if op in ("in", "=", "=="):
            return found and text in self.values
        if op in ("notin", "!="):
            return not found or text not in self.values
        if op == "exists":
            return found
        if op == "!":
            return not found
        if not found:
            return False
        try:
            have, want = int(text, 10), int(self.values[0], 10)
        except ValueError:
            return False
        return have > want if op == ">" else have < want

    def __str__(self) -> str:
        """As Go prints it (``status.phase in (Error,Failed)``), for Argo's messages."""
        if self.operator == "!":
            return "!" + self.key
        if self.operator == "exists":
            return self.key
        joined = ",".join(self.values)
        if self.operator in ("in", "notin"):
            return f"{self.key} {self.operator} ({joined})"
        return f"{self.key}{self.operator}{joined}"


def lookup(document: Any, key: str) -> tuple[bool, str]:
    """``(exists, text)`` of a gjson path made of label-key characters: members split on
    ``.``, a number indexes an array; the text as gjson's ``String()`` gives it."""
    value = document
    for part in key.split("."):
        if isinstance(value, dict) and part in value:
            value = value[part]
        elif isinstance(value, list) and part.isdigit() and int(part) < len(value):
            value = value[int(part)]
        else:
            return False, ""
    return True, _text(value)


def _text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):  # Go's FormatFloat(f, 'f', -1, 64): no exponent
        return format(decimal.Decimal(repr(value)).normalize(), "f")
    if isinstance(value, str):
        return value
    return json.dumps(value, separators=(",", ":"))


def _lex(text: str) -> list[tuple[str, str]]:
    """Tokens ``(kind, literal)``: kind is an operator symbol, ``id``, ``in``, ``notin``
    or ``end`` — the longest symbol wins (``!=`` before ``!``), as the Go lexer."""
    tokens: list[tuple[str, str]] = []
    i = 0
    while True:
        while i < len(text) and text[i] in _WHITESPACE:
            i += 1
        if i >= len(text):
            tokens.append(("end", ""))
            return tokens
        if text[i] in _SPECIAL:
            symbol = next((t for t in _OPERATOR_TOKENS if text.startswith(t, i)), None)
            if symbol is None:
                raise ConditionError(f"error expected: keyword found '{text[i]}'")
            tokens.append((symbol, symbol))
            i += len(symbol)
            continue
        start = i
        while i < len(text) and text[i] not in _SPECIAL and text[i] not in _WHITESPACE:
            i += 1
        word = text[start:i]
        tokens.append((word if word in _KEYWORDS else "id", word))


class _Parser:
    """Kubernetes' selector parser (``Parser.parse``), token for token."""

    def __init__(self, text: str) -> None:
        self.tokens = _lex(text)
        self.at = 0

    def peek(self, values: bool = True) -> tuple[str, str]:
        kind, literal = self.tokens[self.at]
        return ("id" if values and kind in _KEYWORDS else kind), literal

    def take(self, values: bool = True) -> tuple[str, str]:
        token = self.peek(values)
        self.at += 1
        return token

    def parse(self) -> list[Requirement]:
        found: list[Requirement] = []
        while True:
            kind, literal = self.peek()
            if kind == "end":
                return sorted(found, key=lambda r: r.key)
            if kind not in ("id", "!"):
                raise ConditionError(
                    f"found '{literal}', expected: !, identifier, or 'end of string'"
                )
            try:
                found.append(self.requirement())
            except ConditionError as err:
                raise ConditionError(f"unable to parse requirement: {err}") from None
            kind, literal = self.take()
            if kind == "end":
                return sorted(found, key=lambda r: r.key)
            if kind != ",":
                raise ConditionError(f"found '{literal}', expected: ',' or 'end of string'")
            kind, literal = self.peek()
            if kind not in ("id", "!"):
                raise ConditionError(f"found '{literal}', expected: identifier after ','")

    def requirement(self) -> Requirement:
        negated = self.peek()[0] == "!"
        if negated:
            self.take()
        kind, key = self.take()
        if kind != "id":
            raise ConditionError(f"found '{key}', expected: identifier")
        _check_key(key)
        if negated or self.peek()[0] in ("end", ","):
            return Requirement(key, "!" if negated else "exists")
        kind, literal = self.take(values=False)
        if kind not in ("in", "notin", "=", "==", "!=", ">", "<"):
            raise ConditionError(f"found '{literal}', expected: {', '.join(_BINARY)}")
        values = self.value_set() if kind in ("in", "notin") else self.exact_value()
        for value in values:
            _check_value(key, value)
        if kind in (">", "<") and not _is_int(values[0]):
            raise ConditionError(
                f"values[0]: Invalid value: {values[0]!r}: for 'Gt', 'Lt' operators, "
                "the value must be an integer"
            )
        return Requirement(key, kind, values)

    def value_set(self) -> tuple[str, ...]:
        kind, literal = self.take()
        if kind != "(":
            raise ConditionError(f"found '{literal}' expected: '('")
        kind, literal = self.peek()
        if kind == ")":
            self.take()
            return ("",)
        if kind not in ("id", ","):
            raise ConditionError(f"found '{literal}', expected: ',', ')' or identifier")
        values: set[str] = set()
        while True:
            kind, literal = self.take()
            if kind == "id":
                values.add(literal)
                after, text = self.peek()
                if after == ")":
                    break
                if after != ",":
                    raise ConditionError(f"found '{text}', expected: ',' or ')'")
            elif kind == ",":
                if not values:
                    values.add("")
                after, _ = self.peek()
                if after == ")":
                    values.add("")
                    break
                if after == ",":
                    self.take()
                    values.add("")
            else:
                raise ConditionError(f"found '{literal}', expected: ',', or identifier")
        self.take()  # the ')'
        return tuple(sorted(values))

    def exact_value(self) -> tuple[str, ...]:
        kind, literal = self.peek()
        if kind in ("end", ","):
            return ("",)
        self.take()
        if kind != "id":
            raise ConditionError(f"found '{literal}', expected: identifier")
        return (literal,)


def _is_int(text: str) -> bool:
    body = text[1:] if text[:1] in "+-" else text
    return body.isascii() and body.isdigit()


def _qualified_name_ok(name: str) -> bool:
    return (
        0 < len(name) <= 63
        and name[0] in _ALNUM
        and name[-1] in _ALNUM
        and all(c in _NAME_CHARS for c in name)
    )


def _check_key(key: str) -> None:
    """A label key: ``[prefix/]name``, the prefix a DNS subdomain (Go's IsQualifiedName)."""
    parts = key.split("/")
    prefix_ok = len(parts) == 1 or (
        len(parts) == 2
        and 0 < len(parts[0]) <= 253
        and all(c in _DNS_CHARS for c in parts[0])
        and all(
            label and label[0] not in "-" and label[-1] not in "-" for label in parts[0].split(".")
        )
    )
    if not prefix_ok or not _qualified_name_ok(parts[-1]):
        raise ConditionError(
            f"key: Invalid value: {key!r}: a key is a path of letters, digits, '-', '_' and "
            "'.', at most 63 characters, starting and ending with a letter or digit"
        )


def _check_value(key: str, value: str) -> None:
    if value and not _qualified_name_ok(value):
        raise ConditionError(
            f"values[{key}]: Invalid value: {value!r}: a value is empty or at most 63 "
            "letters, digits, '-', '_' and '.', starting and ending with a letter or digit"
        )


def parse_condition(condition: str) -> list[Requirement]:
    """The requirements of a condition (all must hold); :class:`ConditionError` if Argo's
    parser would refuse it."""
    return _Parser(condition).parse()
