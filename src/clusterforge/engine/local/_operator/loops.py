"""Loops: the items of ``withItems``, ``withParam`` and ``withSequence``.

One expansion for the operator (which runs a child per item) and the planner
(which names the children it would run), so both name the same nodes.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from clusterforge.engine.local import limits
from clusterforge.engine.local._operator.errors import LoopError
from clusterforge.engine.local.values import parameter_text, substitute_tree
from clusterforge.safety import LimitExceeded
from clusterforge.workflow.expressions import substitute

JSON = dict[str, Any]


def is_loop(task: Mapping[str, Any]) -> bool:
    return (
        task.get("withItems") is not None
        or bool(task.get("withParam"))
        or bool(task.get("withSequence"))
    )


def expand(task: Mapping[str, Any], values: Mapping[str, str]) -> list[Any] | None:
    """The items a task loops over (``None``: not a loop).

    Raises :class:`~clusterforge.workflow.expressions.ExpressionError` when a
    ``{{…}}`` tag has no value yet, :class:`LoopError` when the result is no list
    or a loop is larger than :mod:`~clusterforge.engine.local.limits` allows.
    """
    try:
        return _expand(task, values)
    except LimitExceeded as err:
        raise LoopError(str(err)) from None


def _expand(task: Mapping[str, Any], values: Mapping[str, str]) -> list[Any] | None:
    if task.get("withItems") is not None:
        items = limits.loop_items(task["withItems"], "withItems")
        return [substitute_tree(i, values) for i in items]  # a new tree: no copy
    if task.get("withParam"):
        raw = substitute(task["withParam"], values, missing="error")
        try:
            parsed = limits.loop_param(raw)
        except json.JSONDecodeError as err:
            raise LoopError(f"withParam value could not be parsed as a JSON list: {raw!r}") from err
        if not isinstance(parsed, list):
            raise LoopError(f"withParam value is not a JSON list: {raw!r}")
        return parsed
    seq = task.get("withSequence")
    if seq:
        return sequence(seq, values)
    return None


def sequence(seq: Mapping[str, Any], values: Mapping[str, str]) -> list[str]:
    """``withSequence``: ``count`` numbers from ``start``, or ``start`` to ``end`` (either way)."""
    count, start, end = (_number(seq, key, values) for key in ("count", "start", "end"))
    limits.check_sequence(count, start, end)
    first = start or 0
    if count is not None:
        numbers = list(range(first, first + count))
    elif end is not None:
        step = 1 if end >= first else -1
        numbers = list(range(first, end + step, step))
    else:
        raise LoopError("withSequence needs count or end")
    fmt = seq.get("format")
    if fmt:
        try:
            return [fmt % n for n in numbers]
        except (TypeError, ValueError) as err:
            raise LoopError(f"withSequence.format {fmt!r}: {err}") from err
    return [str(n) for n in numbers]


def _number(seq: Mapping[str, Any], key: str, values: Mapping[str, str]) -> int | None:
    raw = seq.get(key)
    if raw in (None, ""):
        return None
    text = substitute(parameter_text(raw), values, missing="error")
    try:
        return int(text)
    except ValueError as err:
        raise LoopError(f"withSequence.{key}: {text!r} is not an integer") from err
