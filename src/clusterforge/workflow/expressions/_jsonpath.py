"""The simple JSONPath that ``jsonpath(json, path)`` in a ``{{=…}}`` tag accepts.

Argo's ``jsonpath`` runs a full JSONPath engine; workflows use it to pull one
value out of a step's JSON output, e.g. ``jsonpath(tasks.a.outputs.result,
'$.items[0].name')``. clusterforge supports exactly that shape: ``$`` followed
by ``.name``, ``['name']`` / ``["name"]`` and ``[index]`` (negative counts from
the end). Wildcards, slices, filters and recursive descent are refused by name
rather than half-supported.
"""

from __future__ import annotations

import re
from collections.abc import Mapping

__all__ = ["JsonPathError", "query"]

_SEGMENT = re.compile(
    r"""\.(?P<name>[^.\[\]'"*?()@$ ]+)"""
    r"""|\[\s*(?:'(?P<single>[^']*)'|"(?P<double>[^"]*)"|(?P<index>-?[0-9]+))\s*\]"""
)


class JsonPathError(ValueError):
    """The path is outside the supported subset, or does not lead to a value."""


def query(data: object, path: str) -> object:
    """The value ``path`` selects in decoded JSON ``data``."""
    if not path.startswith("$"):
        raise JsonPathError("a path must start with '$'")
    position = 1
    value = data
    while position < len(path):
        match = _SEGMENT.match(path, position)
        if match is None:
            rest = path[position:]
            if rest.startswith(".."):
                raise JsonPathError("recursive descent ('..') is not supported")
            if rest[:2] in (".*", "[*"):
                raise JsonPathError("wildcards are not supported")
            if rest.startswith("[?"):
                raise JsonPathError("filters are not supported")
            if ":" in rest.split("]", 1)[0]:
                raise JsonPathError("slices are not supported")
            raise JsonPathError(f"cannot read the path from {rest!r}")
        position = match.end()
        index = match.group("index")
        if index is not None:
            value = _index(value, int(index))
            continue
        key = next(
            g
            for g in (match.group("name"), match.group("single"), match.group("double"))
            if g is not None
        )
        if not isinstance(value, Mapping):
            raise JsonPathError(f"cannot read key {key!r}: the value there is not an object")
        if key not in value:
            raise JsonPathError(f"key {key!r} not found")
        value = value[key]
    return value


def _index(value: object, index: int) -> object:
    if not isinstance(value, list):
        raise JsonPathError(f"cannot read index {index}: the value there is not an array")
    if not -len(value) <= index < len(value):
        raise JsonPathError(f"index {index} is out of range (length {len(value)})")
    return value[index]
