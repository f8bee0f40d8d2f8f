"""Paths into an event, in the dialect of gjson (the library Argo Events uses).

A sensor names event fields with gjson paths: ``body.repository.name``,
``body.commits.0.id``, ``header.X-Token.0``. We read the part of gjson that
sensors use — dotted keys, ``\\`` escapes, ``*``/``?`` wildcards in a key,
array indexes, ``#`` (an array's length) and ``#.key`` (that key of every
element) — and refuse the rest (queries ``#(…)``, modifiers ``@…``,
multipaths, pipes) when the sensor is loaded, so a path never silently means
something else here than on Argo.

Values come back as Python JSON values; :func:`gjson_string` writes one the
way gjson's ``Result.String()`` does, which is what a filter compares and a
trigger parameter receives.
"""

from __future__ import annotations

import fnmatch
import json
import math
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

__all__ = ["MISSING", "Path", "PathError", "gjson_string", "parse_path"]


class PathError(ValueError):
    """A path this implementation cannot follow the way gjson would."""


class _Missing:
    def __repr__(self) -> str:
        return "MISSING"


#: What :meth:`Path.get` returns where gjson's ``Exists()`` is false.
MISSING: Any = _Missing()


@dataclass(frozen=True)
class _Key:
    text: str
    wildcard: bool


@dataclass(frozen=True)
class Path:
    """A parsed gjson path; :meth:`get` follows it through decoded JSON."""

    text: str
    keys: tuple[_Key, ...]

    def get(self, data: Any) -> Any:
        """The value at this path, or :data:`MISSING`."""
        return _follow(data, self.keys)


def _refuse(text: str, what: str) -> PathError:
    return PathError(
        f"path {text!r} uses gjson {what}, which clusterforge does not support; "
        "use dotted keys, array indexes, '#' and '*'/'?' wildcards"
    )


def parse_path(text: str) -> Path:
    """Parse a gjson path; :class:`PathError` says which syntax is not supported."""
    if text == "":
        raise PathError("the path is empty")
    if text[0] in "[{":
        raise _refuse(text, "multipaths ([…] or {…})")
    if text[0] == "!":
        raise _refuse(text, "literals (!…)")
    keys: list[_Key] = []
    current: list[str] = []
    wildcard = False
    i = 0
    while i < len(text):
        ch = text[i]
        if ch == "\\":
            if i + 1 >= len(text):
                raise PathError(f"path {text!r} ends with a lone backslash")
            current.append(text[i + 1])
            i += 2
            continue
        if ch == ".":
            keys.append(_Key("".join(current), wildcard))
            current, wildcard = [], False
        elif ch == "|":
            raise _refuse(text, "pipes (|)")
        elif ch == ",":
            raise _refuse(text, "multipaths (a,b)")
        elif ch == "@" and not current:
            raise _refuse(text, "modifiers (@…)")
        elif ch == "(" and current == ["#"]:
            raise _refuse(text, "queries (#(…))")
        else:
            wildcard = wildcard or ch in "*?"
            current.append(ch)
        i += 1
    keys.append(_Key("".join(current), wildcard))
    return Path(text, tuple(keys))


def _follow(data: Any, keys: tuple[_Key, ...]) -> Any:
    value = data
    for index, key in enumerate(keys):
        if isinstance(value, list):
            if key.text == "#" and not key.wildcard:
                rest = keys[index + 1 :]
                if not rest:
                    return len(value)
                collected = [_follow(item, rest) for item in value]
                return [item for item in collected if item is not MISSING]
            if key.text.isdigit():
                position = int(key.text)
                if position >= len(value):
                    return MISSING
                value = value[position]
                continue
            return MISSING
        if isinstance(value, dict):
            if key.wildcard:
                pattern = key.text.replace("[", "[[]")
                found = next(
                    (k for k in value if fnmatch.fnmatchcase(k, pattern)),
                    None,
                )
                if found is None:
                    return MISSING
                value = value[found]
                continue
            if key.text not in value:
                return MISSING
            value = value[key.text]
            continue
        return MISSING
    return value


def _number(value: float | int) -> str:
    if isinstance(value, int):
        return str(value)
    if math.isnan(value) or math.isinf(value):
        return "NaN" if math.isnan(value) else ("+Inf" if value > 0 else "-Inf")
    if value.is_integer() and abs(value) < 1e21:
        return str(int(value))
    return format(Decimal(repr(value)), "f")


def gjson_string(value: Any) -> str:
    """``Result.String()``: strings as they are, numbers without exponents,
    ``true``/``false``, ``""`` for null, compact JSON for objects and arrays."""
    if value is MISSING or value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return _number(value)
    if isinstance(value, str):
        return value
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False)
