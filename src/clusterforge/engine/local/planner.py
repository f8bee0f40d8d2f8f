"""Plan a workflow without running it: what would run, what would be skipped, and why.

The planner walks the same snapshot the operator would run (workflow plus
referenced WorkflowTemplates) with the same expression code, but executes
nothing. Conditions that only workflow parameters decide (``when`` on
``workflow.parameters.*``, ``withParam`` over a parameter) are decided now;
anything that needs a step's output is reported as decided at run time. Tasks
whose dependencies are all skipped still run (Argo's bare ``depends`` accepts
Skipped), and the plan says so — the same rules the operator applies.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from clusterforge.engine.local import limits
from clusterforge.engine.local.naming import item_label
from clusterforge.safety import LimitExceeded
from clusterforge.store import WorkflowRecord
from clusterforge.workflow.expressions import ExpressionError, evaluate_when, substitute

JSON = dict[str, Any]


@dataclass
class PlannedNode:
    """One node of the plan tree."""

    display_name: str
    template: str
    decision: str  # "run", "skip", "runtime"
    reason: str = ""
    children: list[PlannedNode] = field(default_factory=list)

    def walk(self, depth: int = 0) -> list[tuple[int, PlannedNode]]:
        out = [(depth, self)]
        for child in self.children:
            out.extend(child.walk(depth + 1))
        return out


def plan(record: WorkflowRecord) -> PlannedNode:
    """The plan for a prepared (not necessarily stored) workflow record."""
    spec = record.manifest.get("spec", {})
    params: dict[str, str] = {}
    for param in spec.get("arguments", {}).get("parameters", []) or []:
        value = param.get("value", param.get("default"))
        if value is not None:
            params[param["name"]] = value if isinstance(value, str) else json.dumps(value)
    params.update(record.arguments)
    values = {f"workflow.parameters.{k}": v for k, v in params.items()}
    values["workflow.name"] = record.name
    root_templates = {t["name"]: t for t in spec.get("templates", [])}
    planner = _Planner(record, values)
    entry = spec.get("entrypoint", "")
    return planner.template_node(record.name, root_templates.get(entry, {}), root_templates)


class _Planner:
    def __init__(self, record: WorkflowRecord, values: dict[str, str]) -> None:
        self.record = record
        self.values = values

    def resolve(self, holder: JSON, scope: dict[str, JSON]) -> tuple[JSON, dict[str, JSON]]:
        ref = holder.get("templateRef")
        if ref:
            key = ("cluster/" if ref.get("clusterScope") else "") + ref["name"]
            doc = self.record.templates.get(key, {})
            templates = {t["name"]: t for t in doc.get("spec", {}).get("templates", [])}
            return templates.get(ref["template"], {}), templates
        return scope.get(holder.get("template", ""), {}), scope

    def template_node(self, display: str, tmpl: JSON, scope: dict[str, JSON]) -> PlannedNode:
        node = PlannedNode(display, tmpl.get("name", ""), "run")
        if "dag" in tmpl:
            node.children = self.dag(tmpl["dag"], scope)
        elif "steps" in tmpl:
            for index, group in enumerate(tmpl.get("steps") or []):
                group_node = PlannedNode(f"[{index}]", "", "run")
                group_node.children = [self.task(s, scope) for s in group or []]
                node.children.append(group_node)
        elif "container" in tmpl or "script" in tmpl:
            body = tmpl.get("container") or tmpl.get("script") or {}
            command = [str(c) for c in (body.get("command") or []) + (body.get("args") or [])]
            node.reason = " ".join(command)
        return node

    def dag(self, dag: JSON, scope: dict[str, JSON]) -> list[PlannedNode]:
        return [self.task(task, scope) for task in dag.get("tasks", [])]

    def task(self, task: JSON, scope: dict[str, JSON]) -> PlannedNode:
        name = task["name"]
        tmpl, tscope = self.resolve(task, scope)
        when = task.get("when")
        decision, reason = "run", ""
        if when:
            decision, reason = self.decide_when(when)
        if task.get("depends"):
            reason = (reason + "; " if reason else "") + f"after {task['depends']}"
        elif task.get("dependencies"):
            reason = (reason + "; " if reason else "") + f"after {', '.join(task['dependencies'])}"
        items = self.items(task)
        node = PlannedNode(name, tmpl.get("name", ""), decision, reason)
        if decision == "skip":
            return node
        if items is None:
            inner = self.template_node(name, tmpl, tscope)
            node.children = inner.children
            if inner.reason and not node.children:
                node.reason = (node.reason + "; " if node.reason else "") + inner.reason
        elif isinstance(items, str):
            node.decision = "runtime"
            node.reason = (node.reason + "; " if node.reason else "") + items
        else:
            for index, item in enumerate(items):
                node.children.append(
                    PlannedNode(f"{name}({index}:{item_label(item)})", tmpl.get("name", ""), "run")
                )
            if not items:
                node.reason = (node.reason + "; " if node.reason else "") + "no items"
        return node

    def decide_when(self, when: str) -> tuple[str, str]:
        try:
            text = substitute(when, self.values, missing="error")
        except ExpressionError:
            return "runtime", f"when '{when}' is decided at run time"
        try:
            ok = evaluate_when(text)
        except ExpressionError as err:
            return "skip", f"when '{text}' is invalid: {err.reason}"
        if ok:
            return "run", f"when '{text}' is true"
        return "skip", f"when '{text}' evaluated false"

    def items(self, task: JSON) -> list[Any] | str | None:
        if task.get("withItems") is not None:
            return list(task["withItems"])
        if task.get("withParam"):
            try:
                raw = substitute(task["withParam"], self.values, missing="error")
                parsed = limits.loop_param(raw)
            except (ExpressionError, json.JSONDecodeError):
                return f"items from {task['withParam']} at run time"
            except LimitExceeded as err:
                return str(err)
            return parsed if isinstance(parsed, list) else f"withParam {raw!r} is not a list"
        if task.get("withSequence"):
            return "items from withSequence"
        return None
