"""The JSONPath that ``jsonpath(json, path)`` in a ``{{=…}}`` tag accepts, as Argo reads it.

Argo's ``jsonpath`` is ``github.com/evilmonkeyinc/jsonpath`` (v0.8.1 in Argo
v3.7; util/expr/env/env.go). Its results have shapes a workflow depends on, so
they are kept here exactly:

* a path of keys and indexes (``$.a[0]['b']``) selects one value; a missing key
  or an index out of range is an error;
* a wildcard (``.*``, ``[*]``), a slice (``[start:end:step]``), a union
  (``[0,2]``, ``['a','b']``), a filter (``[?(…)]``) or recursive descent
  (``..name``) selects a list — and the segments after it apply to each item,
  silently dropping the items where they fail or give null (``$.a[*].name``
  skips items without a name), except an index right after it, which indexes the
  list itself (``$.a[?(@.x>1)][0]``);
* objects are walked in sorted key order (Go's library sorts map keys);
* ``.length`` is the length of a list, object or string (an object's own
  ``length`` key wins); ``[(@.length-1)]`` computes the index or key.

Filters and scripts are :mod:`._jsonpath_filter`. What Argo's library accepts
but this one refuses, by name: ``in`` / ``not in``, ``**`` and list literals
in a filter. The work is bounded: a path is at most :data:`MAX_PATH` characters
and one query visits at most :data:`MAX_STEPS` values (about a quarter of a
second), so no path — however many ``..`` it chains — costs more than that;
:data:`MAX_SEGMENTS` and :data:`MAX_BRACKETS` keep the walk's recursion shallow.
"""

from __future__ import annotations

import functools
from collections.abc import Mapping
from dataclasses import dataclass

from ._jsonpath_filter import (
    MAX_BRACKETS,
    Budget,
    BudgetExceeded,
    Filter,
    JsonPathError,
    Operand,
    compile_filter,
    scan_to,
    truthy,
)

__all__ = ["MAX_BRACKETS", "MAX_PATH", "MAX_SEGMENTS", "MAX_STEPS", "JsonPathError", "query"]

MAX_PATH = 4096
MAX_STEPS = 250_000
MAX_SEGMENTS = 128
_NAME_END = ".[ "


@dataclass(frozen=True)
class _Key:
    name: str


@dataclass(frozen=True)
class _Index:
    index: int


@dataclass(frozen=True)
class _Length:
    pass


@dataclass(frozen=True)
class _Wildcard:
    pass


@dataclass(frozen=True)
class _Recursive:
    then: _Segment


@dataclass(frozen=True)
class _Union:
    members: tuple[int | str, ...]


@dataclass(frozen=True)
class _Slice:
    start: int | None
    end: int | None
    step: int


@dataclass(frozen=True)
class _FilterSeg:
    test: Filter


@dataclass(frozen=True)
class _Script:
    expression: Filter


_Segment = _Key | _Index | _Length | _Wildcard | _Recursive | _Union | _Slice | _FilterSeg | _Script
_COLLECTING = (_Wildcard, _Recursive, _Union, _Slice, _FilterSeg)


def query(data: object, path: str) -> object:
    """The value (or list of values) ``path`` selects in decoded JSON ``data``."""
    if not path.startswith("$"):
        raise JsonPathError("a path must start with '$'")
    segments = compile_path(path)
    budget = Budget(MAX_STEPS)
    return apply_path(segments, data, data, budget)


@functools.lru_cache(maxsize=256)
def compile_path(path: str) -> tuple[_Segment, ...]:
    """The segments of ``path``; ``JsonPathError`` names what cannot be read, and where."""
    if len(path) > MAX_PATH:
        raise JsonPathError(f"the path is longer than {MAX_PATH} characters")
    if not path.startswith(("$", "@")):
        raise JsonPathError("a path must start with '$'")
    return _Reader(path, 1).segments()


def _operand(path: str) -> Operand:
    """A path inside a filter: ``@…`` reads the item, ``$…`` the whole document."""
    segments = compile_path(path)
    if path.startswith("@"):
        return lambda root, current, budget: apply_path(segments, root, current, budget)
    return lambda root, current, budget: apply_path(segments, root, root, budget)


def apply_path(
    segments: tuple[_Segment, ...], root: object, value: object, budget: Budget
) -> object:
    """Apply ``segments`` to ``value``; ``root`` is what ``$`` means inside filters."""
    for position, segment in enumerate(segments):
        budget.spend(1)
        if isinstance(segment, _COLLECTING):
            items = _collect(segment, root, value, budget)
            return _then(segments[position + 1 :], root, items, budget)
        value = _single(segment, root, value, budget)
    return value


def _then(rest: tuple[_Segment, ...], root: object, items: list[object], budget: Budget) -> object:
    """After a list-selecting segment: an index picks from the list, others map over it."""
    if not rest:
        return items
    if isinstance(rest[0], _Index):
        return apply_path(rest[1:], root, _index(items, rest[0].index), budget)
    results = []
    for item in items:
        try:
            found = apply_path(rest, root, item, budget)
        except BudgetExceeded:
            raise
        except JsonPathError:
            continue
        if found is not None:
            results.append(found)
    return results


def _single(segment: _Segment, root: object, value: object, budget: Budget) -> object:
    if isinstance(segment, _Key):
        return _key(value, segment.name)
    if isinstance(segment, _Index):
        return _index(value, segment.index)
    if isinstance(segment, _Length):
        return _length(value)
    assert isinstance(segment, _Script)
    picked = segment.expression.evaluate(root, value, budget)
    if isinstance(picked, float) and picked.is_integer():
        return _index(value, int(picked))
    if isinstance(picked, int) and not isinstance(picked, bool):
        return _index(value, picked)
    if isinstance(picked, str):
        return _key(value, picked)
    raise JsonPathError("a script [(…)] must give an index or a key")


def _collect(segment: _Segment, root: object, value: object, budget: Budget) -> list[object]:
    if isinstance(segment, _Wildcard):
        return _children(value, "wildcard")
    if isinstance(segment, _Union):
        return [_key(value, m) if isinstance(m, str) else _index(value, m) for m in segment.members]
    if isinstance(segment, _Slice):
        return _slice(value, segment)
    if isinstance(segment, _FilterSeg):
        return [
            item
            for item in _children(value, "filter")
            if truthy(segment.test.test(root, item, budget))
        ]
    assert isinstance(segment, _Recursive)
    return _descend(segment.then, root, value, budget)


def _descend(then: _Segment, root: object, value: object, budget: Budget) -> list[object]:
    """``..then``: ``then`` applied to ``value`` and every value below it, in document order."""
    found: list[object] = []
    stack = [value]
    while stack:
        node = stack.pop()
        budget.spend(1)
        try:
            picked = apply_path((then,), root, node, budget)
        except BudgetExceeded:
            raise
        except JsonPathError:
            pass
        else:
            if isinstance(then, _COLLECTING):
                found.extend(picked if isinstance(picked, list) else [picked])
            elif picked is not None:
                found.append(picked)
        if isinstance(node, list | Mapping):
            stack.extend(reversed(_children(node, "recursive descent")))
    return found


def _children(value: object, what: str) -> list[object]:
    if isinstance(value, list):
        return list(value)
    if isinstance(value, Mapping):
        return [value[k] for k in sorted(value)]
    raise JsonPathError(f"{what}: expected an array or object, got {_kind(value)}")


def _key(value: object, name: str) -> object:
    if not isinstance(value, Mapping):
        raise JsonPathError(f"cannot read key {name!r}: expected an object, got {_kind(value)}")
    if name not in value:
        raise JsonPathError(f"key {name!r} not found")
    return value[name]


def _index(value: object, index: int) -> object:
    if not isinstance(value, list):
        raise JsonPathError(f"cannot read index {index}: expected an array, got {_kind(value)}")
    if not -len(value) <= index < len(value):
        raise JsonPathError(f"index {index} is out of range (length {len(value)})")
    return value[index]


def _length(value: object) -> object:
    if isinstance(value, Mapping) and "length" in value:
        return value["length"]
    if isinstance(value, str):
        return len(value.encode())
    if isinstance(value, list | Mapping):
        return len(value)
    raise JsonPathError(f"length: expected an array, object or string, got {_kind(value)}")


def _slice(value: object, part: _Slice) -> list[object]:
    if not isinstance(value, list):
        raise JsonPathError(f"a slice needs an array, got {_kind(value)}")
    if part.step == 0:
        raise JsonPathError("a slice's step cannot be 0")
    # The range is taken in order, then reversed for a negative step (Argo's library).
    chosen = value[slice(part.start, part.end, abs(part.step))]
    return chosen[::-1] if part.step < 0 else chosen


def _kind(value: object) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, int | float):
        return "a number"
    if isinstance(value, str):
        return "a string"
    return "an array" if isinstance(value, list) else "an object"


class _Reader:
    """Reads the segments of a path, left to right, naming the position of what it refuses."""

    def __init__(self, path: str, position: int) -> None:
        self.path = path
        self.at = position

    def fail(self, reason: str) -> JsonPathError:
        return JsonPathError(f"{reason} at position {self.at}")

    def segments(self) -> tuple[_Segment, ...]:
        found: list[_Segment] = []
        while self.at < len(self.path):
            if len(found) == MAX_SEGMENTS:
                raise self.fail(f"the path has more than {MAX_SEGMENTS} segments")
            found.append(self._segment())
        return tuple(found)

    def _segment(self) -> _Segment:
        path = self.path
        if path.startswith("..", self.at):
            self.at += 2
            if path.startswith("[", self.at):
                return _Recursive(self._bracket())
            return _Recursive(self._dotted())
        if path.startswith(".", self.at):
            self.at += 1
            return self._dotted()
        if path.startswith("[", self.at):
            return self._bracket()
        raise self.fail(f"cannot read the path from {path[self.at :]!r}")

    def _dotted(self) -> _Segment:
        start = self.at
        while self.at < len(self.path) and self.path[self.at] not in _NAME_END:
            self.at += 1
        name = self.path[start : self.at]
        if not name:
            raise self.fail("a name must follow '.'")
        if name == "*":
            return _Wildcard()
        return _Length() if name == "length" else _Key(name)

    def _bracket(self) -> _Segment:
        opened = self.at
        end = _closing(self.path, opened)
        if end < 0:
            raise self.fail("'[' is never closed")
        inner = self.path[opened + 1 : end].strip()
        self.at = end + 1
        try:
            return _subscript(inner)
        except JsonPathError as exc:
            raise JsonPathError(f"{exc} in {self.path[opened : end + 1]!r}") from None


def _subscript(inner: str) -> _Segment:
    if inner == "*":
        return _Wildcard()
    if inner.startswith("?(") and inner.endswith(")"):
        return _FilterSeg(compile_filter(inner[2:-1], _operand))
    if inner.startswith("(") and inner.endswith(")"):
        return _Script(compile_filter(inner[1:-1], _operand))
    parts = _split_top(inner, ",")
    if len(parts) > 1:
        return _Union(tuple(_member(p) for p in parts))
    pieces = _split_top(inner, ":")
    if len(pieces) > 1:
        return _slice_of(pieces)
    member = _member(inner)
    return _Key(member) if isinstance(member, str) else _Index(member)


def _slice_of(pieces: list[str]) -> _Slice:
    if len(pieces) > 3:
        raise JsonPathError("a slice has at most start:end:step")
    numbers = [_integer(p) if p.strip() else None for p in pieces]
    step = numbers[2] if len(numbers) == 3 and numbers[2] is not None else 1
    return _Slice(numbers[0], numbers[1], step)


def _member(text: str) -> int | str:
    text = text.strip()
    if len(text) >= 2 and text[0] == text[-1] and text[0] in "'\"":
        return text[1:-1].replace("\\" + text[0], text[0])
    return _integer(text)


def _integer(text: str) -> int:
    text = text.strip()
    digits = text[1:] if text.startswith("-") else text
    if not digits.isascii() or not digits.isdigit() or len(digits) > 18:
        raise JsonPathError(f"{text!r} is not an index, a quoted key or a slice")
    return int(text)


def _closing(text: str, opened: int) -> int:
    """The index of the ``]`` that closes the ``[`` at ``opened`` (quotes respected), or -1."""
    end = scan_to(text, opened + 1, "")
    return end if end < len(text) and text[end] == "]" else -1


def _split_top(text: str, separator: str) -> list[str]:
    """``text`` split on ``separator`` outside quotes and brackets."""
    parts, depth, quote, start = [], 0, "", 0
    for i, ch in enumerate(text):
        if quote:
            quote = "" if ch == quote and text[i - 1] != "\\" else quote
        elif ch in "'\"":
            quote = ch
        elif ch in "[(":
            depth += 1
        elif ch in "])":
            depth -= 1
        elif ch == separator and depth == 0:
            parts.append(text[start:i])
            start = i + 1
    parts.append(text[start:])
    return parts
