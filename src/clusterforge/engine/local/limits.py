"""How big a loop and how deep a template call chain may grow.

A workflow is input too. ``withSequence: {count: "1000000000"}`` used to build
a billion-item list (``MemoryError``), a huge or negative bound an
``OverflowError``, a template that calls itself grew the node table by a
gigabyte a minute — each ending in a traceback instead of a node's error.
These checks run where a loop is expanded and where a dag or steps template
starts, and raise :class:`~clusterforge.safety.LimitExceeded`, which the
operator reports as that node's ``Error`` message.

* :data:`MAX_LOOP_ITEMS` (10,000): items of one ``withItems``/``withParam``/
  ``withSequence``. Each item is a node with its own process; past a few
  thousand a workflow should fan out over child workflows instead.
* :data:`MAX_TEMPLATE_DEPTH` (100): nested dag/steps templates. Argo stops
  recursion the same way (its controller's maximum stack depth).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from clusterforge.safety import INT64_MAX, LimitExceeded, loads_json
from clusterforge.store import NodeRecord

MAX_LOOP_ITEMS = 10_000
MAX_TEMPLATE_DEPTH = 100


def loop_items(items: Any, field: str) -> Any:
    """``items`` unchanged, if it has at most :data:`MAX_LOOP_ITEMS` entries."""
    if isinstance(items, list) and len(items) > MAX_LOOP_ITEMS:
        raise LimitExceeded(
            f"{field}: {len(items):,} items; a loop has at most {MAX_LOOP_ITEMS:,} "
            "(split the work over child workflows)"
        )
    return items


def loop_param(raw: str) -> Any:
    """A ``withParam`` value decoded as bounded JSON (size, depth, item count)."""
    return loop_items(loads_json(raw, "withParam"), "withParam")


def check_sequence(count: int | None, start: int | None, end: int | None) -> None:
    """Refuse a ``withSequence`` that is negative, out of 64-bit range, or too long."""
    for key, value in (("count", count), ("start", start), ("end", end)):
        if value is not None and abs(value) > INT64_MAX:
            raise LimitExceeded(f"withSequence.{key}: {value} is outside 64-bit integers")
    if count is not None and count < 0:
        raise LimitExceeded(f"withSequence.count: {count} is negative; give 0 or more")
    first = start or 0
    length = count if count is not None else abs((end or 0) - first) + 1
    if length > MAX_LOOP_ITEMS:
        raise LimitExceeded(
            f"withSequence: {length:,} items; a loop has at most {MAX_LOOP_ITEMS:,}"
        )


def nesting_problem(nodes: Mapping[str, NodeRecord], boundary_id: str) -> str | None:
    """Why a dag/steps template cannot start inside ``boundary_id``, or ``None``.

    The depth is the number of enclosing dag/steps templates, found by
    following boundary ids up to the workflow's node (at most the limit + 1
    hops, so the check costs nothing for real workflows).
    """
    depth, current = 0, boundary_id
    while current and depth <= MAX_TEMPLATE_DEPTH:
        node = nodes.get(current)
        if node is None:
            break
        depth += 1
        current = node.boundary_id
    if depth < MAX_TEMPLATE_DEPTH:
        return None
    return (
        f"templates nested more than {MAX_TEMPLATE_DEPTH} levels deep (a template that calls "
        "itself without a 'when' that stops it?); Argo stops such recursion too"
    )
