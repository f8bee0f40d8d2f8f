"""Argo's DAG rules the operator applies: what a task waits for, and when a failure counts.

Kept apart from the operator so the rules read as rules: the legacy
``dependencies`` list as an enhanced ``depends`` expression (with
``continueOn`` widening it, as Argo's ``expandDependency`` does), which
tasks' outputs a task refers to, and ``continueOn``.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterable, Mapping
from typing import Any

from clusterforge.workflow.expressions import (
    DependsExpression,
    depends_from_dependencies,
    parse_depends,
)

JSON = dict[str, Any]


class DagStates:
    """Adapts the DAG's view of its tasks to the depends evaluator."""

    def __init__(self, phase: Callable[[str], str], children: Callable[[str], list[str]]) -> None:
        self._phase = phase
        self._children = children

    def phase(self, task: str) -> str:
        return self._phase(task)

    def child_phases(self, task: str) -> list[str]:
        return self._children(task)


def legacy_dependencies(names: Iterable[str], tasks: Mapping[str, JSON]) -> DependsExpression:
    """``dependencies: [A]`` — run when A succeeded/skipped, or failed with continueOn."""
    parts = []
    for dep in names:
        allowed = [f"{dep}.Succeeded", f"{dep}.Skipped", f"{dep}.Daemoned"]
        cont = (tasks.get(dep) or {}).get("continueOn") or {}
        if cont.get("failed"):
            allowed.append(f"{dep}.Failed")
        if cont.get("error"):
            allowed.append(f"{dep}.Errored")
        parts.append("(" + " || ".join(allowed) + ")")
    if not parts:
        return depends_from_dependencies([])
    return parse_depends(" && ".join(parts))


_TASK_REF = re.compile(r"tasks(?:\.|\[['\"])([A-Za-z0-9][A-Za-z0-9_-]*)")


def task_references(task: JSON, tasks: Mapping[str, JSON]) -> list[str]:
    """Task names whose outputs ``task`` refers to (``tasks.X…`` / ``tasks['X']``)."""
    text = json.dumps(task)
    if "tasks" not in text:
        return []
    return sorted({m for m in _TASK_REF.findall(text) if m in tasks})


def continues_on(task: JSON, phase: str) -> bool:
    cont = task.get("continueOn") or {}
    return bool(
        (phase == "Failed" and cont.get("failed")) or (phase == "Error" and cont.get("error"))
    )
