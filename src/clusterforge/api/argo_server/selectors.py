"""Kubernetes list options as Argo Server reads them: label selectors and ``fields``.

``listOptions.labelSelector`` is Kubernetes' selector grammar — ``k=v``,
``k==v``, ``k!=v``, ``k``, ``!k``, ``k in (a,b)``, ``k notin (a,b)``, joined
by commas — parsed here by hand (no user text becomes a regular expression).
``fields`` is Argo's response filter: comma-separated dotted paths to keep
(``items.metadata.name,items.status.phase``), or to drop when the list
starts with ``-`` (``-items.status.nodes``); a path through a list applies to
each element.
"""

from __future__ import annotations

import string
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from clusterforge.errors import InvalidInput

__all__ = ["LabelSelector", "filter_fields"]

_KEY_CHARS = frozenset(string.ascii_letters + string.digits + "-_./")
_VALUE_CHARS = frozenset(string.ascii_letters + string.digits + "-_.")


@dataclass(frozen=True)
class _Requirement:
    """``key <op> values``; op is one of ``in``, ``notin``, ``exists``, ``!exists``."""

    key: str
    op: str
    values: frozenset[str] = frozenset()

    def test(self, value: str | None) -> bool:
        if self.op == "exists":
            return value is not None
        if self.op == "!exists":
            return value is None
        inside = value is not None and value in self.values
        return inside if self.op == "in" else not inside


def _split_top(text: str) -> list[str]:
    """Split on commas that are not inside ``( )``."""
    parts: list[str] = []
    depth = 0
    current: list[str] = []
    for char in text:
        if char == "(":
            depth += 1
        elif char == ")":
            depth -= 1
        if char == "," and depth == 0:
            parts.append("".join(current).strip())
            current = []
        else:
            current.append(char)
    parts.append("".join(current).strip())
    return [p for p in parts if p]


def _key(text: str, field: str) -> str:
    key = text.strip()
    if not key or not set(key) <= _KEY_CHARS or len(key) > 317:
        raise InvalidInput(f"{field}: {key!r} is not a label key (letters, digits, '-_./')")
    return key


def _value(text: str, field: str) -> str:
    value = text.strip()
    if not set(value) <= _VALUE_CHARS or len(value) > 63:
        raise InvalidInput(f"{field}: {value!r} is not a label value (letters, digits, '-_.')")
    return value


def _set_requirement(term: str, field: str) -> _Requirement | None:
    for word, op in ((" notin ", "notin"), (" in ", "in")):
        key, sep, rest = term.partition(word)
        if not sep:
            continue
        rest = rest.strip()
        if not (rest.startswith("(") and rest.endswith(")")):
            raise InvalidInput(f"{field}: {term!r}: the values go in parentheses, e.g. k in (a,b)")
        values = frozenset(_value(v, field) for v in rest[1:-1].split(",") if v.strip())
        return _Requirement(_key(key, field), op, values)
    return None


def _requirement(term: str, field: str) -> _Requirement:
    found = _set_requirement(term, field)
    if found is not None:
        return found
    for sign in ("!=", "==", "="):
        key, sep, value = term.partition(sign)
        if sep:
            op = "notin" if sign == "!=" else "in"
            return _Requirement(_key(key, field), op, frozenset({_value(value, field)}))
    if term.startswith("!"):
        return _Requirement(_key(term[1:], field), "!exists")
    return _Requirement(_key(term, field), "exists")


class LabelSelector:
    """A parsed ``labelSelector``; matches a labels mapping."""

    def __init__(self, text: str | None, *, field: str = "listOptions.labelSelector") -> None:
        self.requirements = [_requirement(t, field) for t in _split_top(text or "")]

    def matches(self, labels: Mapping[str, str]) -> bool:
        return all(r.test(labels.get(r.key)) for r in self.requirements)


def _tree(paths: list[str]) -> dict[str, Any]:
    tree: dict[str, Any] = {}
    for path in paths:
        node = tree
        parts = [p for p in path.split(".") if p]
        for index, part in enumerate(parts):
            if index == len(parts) - 1:
                node[part] = True
            else:
                child = node.get(part)
                if child is True:
                    break
                node = node.setdefault(part, {})
    return tree


def _keep(value: Any, tree: dict[str, Any]) -> Any:
    if isinstance(value, list):
        return [_keep(v, tree) for v in value]
    if not isinstance(value, dict):
        return value
    out = {}
    for key, sub in tree.items():
        if key in value:
            out[key] = value[key] if sub is True else _keep(value[key], sub)
    return out


def _drop(value: Any, tree: dict[str, Any]) -> Any:
    if isinstance(value, list):
        return [_drop(v, tree) for v in value]
    if not isinstance(value, dict):
        return value
    out = {}
    for key, item in value.items():
        sub = tree.get(key)
        if sub is True:
            continue
        out[key] = item if sub is None else _drop(item, sub)
    return out


def filter_fields(doc: dict[str, Any], fields: str | None) -> dict[str, Any]:
    """``doc`` with only (or without) the ``fields`` paths."""
    if not fields or not fields.strip():
        return doc
    text = fields.strip()
    exclude = text.startswith("-")
    paths = [p.strip().lstrip("-") for p in text.split(",") if p.strip()]
    tree = _tree(paths)
    result = _drop(doc, tree) if exclude else _keep(doc, tree)
    assert isinstance(result, dict)
    return result
