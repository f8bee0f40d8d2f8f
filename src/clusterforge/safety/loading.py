"""Bounded reading of files, YAML and JSON that someone else wrote.

A hostile or careless input must cost a bounded amount of memory and time and
end in one message naming the limit — never a hang, a ``MemoryError`` or a
``RecursionError`` traceback. The limits, and why each exists:

* size (:data:`MAX_DOCUMENT_BYTES`, 8 MiB): ``/dev/zero`` or a log file given
  as a workflow is read in bounded chunks and refused at the limit, instead of
  being read whole (:func:`read_text`);
* depth (:data:`MAX_DEPTH`, 100 levels): the composers, constructors and every
  walker after them recurse once per level, so ``[[[[…]]]]`` 900 levels deep
  ends in ``RecursionError`` somewhere; no real manifest nests beyond ~20;
* aliases (:data:`MAX_ALIASES`, 1,000) and the size a document has once its
  aliases are expanded (:data:`MAX_EXPANDED_NODES`, 1,000,000): a nine-level
  "billion laughs" has only 81 aliases but expands to 9⁹ nodes, which every
  consumer of the data (JSON encoding, pydantic, our own walks) pays for.

YAML is checked on PyYAML's event stream (:func:`check_yaml`), before any node
tree is built, by the C parser when it is available; JSON after decoding
(:func:`loads_json`), the decoder being C and iterative enough to get there.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import yaml

from clusterforge.errors import InvalidInput

__all__ = [
    "MAX_ALIASES",
    "MAX_DEPTH",
    "MAX_DOCUMENT_BYTES",
    "MAX_EXPANDED_NODES",
    "LimitExceeded",
    "check_depth",
    "check_yaml",
    "load_yaml_documents",
    "loads_json",
    "read_text",
]

MAX_DOCUMENT_BYTES = 8 << 20
MAX_DEPTH = 100
MAX_ALIASES = 1_000
MAX_EXPANDED_NODES = 1_000_000

_PARSER: Any = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
_CHUNK = 1 << 16


class LimitExceeded(InvalidInput):
    """An input over one of the limits above; the message names the limit and the input."""


def read_text(path: Path, *, limit: int = MAX_DOCUMENT_BYTES) -> str:
    """The UTF-8 text of ``path``, read in chunks and refused past ``limit`` bytes.

    Works on anything ``open`` can read (a FIFO, ``/dev/zero``), never reading
    more than ``limit`` + one chunk. ``OSError`` and ``UnicodeDecodeError``
    pass through for the caller to word in its own terms.
    """
    chunks: list[bytes] = []
    total = 0
    with open(path, "rb") as handle:
        if os.fstat(handle.fileno()).st_size > limit:
            raise _too_big(path, limit)
        while chunk := handle.read(_CHUNK):
            total += len(chunk)
            if total > limit:
                raise _too_big(path, limit)
            chunks.append(chunk)
    return b"".join(chunks).decode("utf-8")


def _too_big(path: Path, limit: int) -> LimitExceeded:
    return LimitExceeded(
        f"{path}: larger than {limit:,} bytes, the limit for one file; "
        "give a workflow, template or spec file"
    )


def check_yaml(text: str, source: str) -> None:
    """Refuse ``text`` if a document in it is too big, too deep or expands too far.

    Syntax errors are left for the real load to report with their position.
    """
    if len(text) > MAX_DOCUMENT_BYTES:
        raise LimitExceeded(f"{source}: larger than {MAX_DOCUMENT_BYTES:,} bytes")
    scan = _EventScan(source)
    try:
        for event in yaml.parse(text, Loader=_PARSER):
            scan.feed(event)
    except yaml.YAMLError:
        return


def load_yaml_documents(text: str, source: str) -> list[Any]:
    """Every document of ``text`` as plain data (PyYAML's safe loader), within the limits.

    ``yaml.YAMLError`` passes through for the caller's own wording.
    """
    check_yaml(text, source)
    return list(yaml.load_all(text, Loader=_PARSER))


class _EventScan:
    """Depth, alias count and expanded size, counted along PyYAML's events.

    ``count`` is the number of values the document has once expanded: one per
    scalar and collection, and for an alias the count its anchor covered.
    """

    def __init__(self, source: str) -> None:
        self.source = source
        self.open: list[tuple[int, str | None]] = []  # (count at start, anchor)
        self.anchors: dict[str, int] = {}
        self.aliases = 0
        self.count = 0

    def feed(self, event: yaml.Event) -> None:
        if isinstance(event, yaml.DocumentStartEvent):
            self.anchors.clear()
            self.count = 0
        elif isinstance(event, yaml.AliasEvent):
            self.aliases += 1
            if self.aliases > MAX_ALIASES:
                raise self._over(f"more than {MAX_ALIASES:,} aliases (*name)", event)
            self._add(self.anchors.get(event.anchor or "", 1), event)
        elif isinstance(event, yaml.ScalarEvent):
            if event.anchor:
                self.anchors[event.anchor] = 1
            self._add(1, event)
        elif isinstance(event, (yaml.SequenceStartEvent, yaml.MappingStartEvent)):
            if len(self.open) >= MAX_DEPTH:
                raise self._over(f"nested more than {MAX_DEPTH} levels deep", event)
            self.open.append((self.count, event.anchor))
            self._add(1, event)
        elif isinstance(event, (yaml.SequenceEndEvent, yaml.MappingEndEvent)):
            started, anchor = self.open.pop()
            if anchor:
                self.anchors[anchor] = self.count - started

    def _add(self, size: int, event: yaml.Event) -> None:
        self.count += size
        if self.count > MAX_EXPANDED_NODES:
            raise self._over(
                f"more than {MAX_EXPANDED_NODES:,} values once its aliases are expanded", event
            )

    def _over(self, what: str, event: yaml.Event) -> LimitExceeded:
        mark = event.start_mark
        where = f"{self.source}:{mark.line + 1}" if mark is not None else self.source
        return LimitExceeded(f"{where}: the YAML has {what}; that is over clusterforge's limit")


def loads_json(text: str, field: str, *, limit: int = MAX_DOCUMENT_BYTES) -> Any:
    """``json.loads(text)`` bounded in size and depth; :class:`LimitExceeded` names ``field``.

    ``json.JSONDecodeError`` passes through for the caller's own wording.
    """
    if len(text) > limit:
        raise LimitExceeded(f"{field}: the JSON is larger than {limit:,} bytes")
    try:
        data = json.loads(text)
    except RecursionError:
        raise LimitExceeded(
            f"{field}: the JSON is nested more than {MAX_DEPTH} levels deep"
        ) from None
    check_depth(data, field)
    return data


def check_depth(data: Any, field: str) -> None:
    """Refuse ``data`` (decoded JSON/YAML) nested deeper than :data:`MAX_DEPTH`, iteratively."""
    stack: list[tuple[Any, int]] = [(data, 0)]
    while stack:
        value, depth = stack.pop()
        if isinstance(value, (dict, list)):
            if depth >= MAX_DEPTH:
                raise LimitExceeded(f"{field}: nested more than {MAX_DEPTH} levels deep")
            children = value.values() if isinstance(value, dict) else value
            stack.extend((child, depth + 1) for child in children)
