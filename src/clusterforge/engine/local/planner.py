"""Plan a workflow without running it: what would run, what would be skipped, and why.

The planner walks the same snapshot the operator would run (workflow plus
referenced WorkflowTemplates) with the operator's own code for what both
decide — template resolution (``templateRef``, ``inline``), loop items,
parameter text and ``workflow.*`` variables — but executes nothing.
Conditions that only workflow parameters decide (``when`` on
``workflow.parameters.*``, ``withParam`` over a parameter) are decided now;
anything that needs a step's output is reported as decided at run time. Tasks
whose dependencies are all skipped still run (Argo's bare ``depends`` accepts
Skipped), and the plan says so — the same rules the operator applies.
"""

from __future__ import annotations

from typing import Any

from clusterforge.engine.local._operator import loops
from clusterforge.engine.local._operator.errors import NodeFailure
from clusterforge.engine.local._operator.scope import Variables
from clusterforge.engine.local._operator.templates import (
    Scope,
    exit_hook,
    kind,
    named_hooks,
    resolve,
    workflow_scope,
)
from clusterforge.engine.local.naming import item_label
from clusterforge.engine.plans import PlannedNode
from clusterforge.store import WorkflowRecord
from clusterforge.workflow.expressions import ExpressionError, evaluate_when, substitute

__all__ = ["PlannedNode", "plan"]

JSON = dict[str, Any]


def plan(record: WorkflowRecord) -> PlannedNode:
    """The plan for a prepared (not necessarily stored) workflow record."""
    spec = record.manifest.get("spec", {})
    root = workflow_scope(spec)
    planner = _Planner(record, Variables(record).workflow_vars())
    entry_name = spec.get("entrypoint", "")
    entry = root.template(entry_name) if entry_name in root.templates else {}
    node = planner.template_node(record.name, entry, root)
    planner.named_hooks(spec, node, root)
    return node


class _Planner:
    def __init__(self, record: WorkflowRecord, values: dict[str, str]) -> None:
        self.record = record
        self.values = values

    def resolve(self, holder: JSON, scope: Scope) -> tuple[JSON, Scope]:
        try:
            return resolve(holder, scope, self.record.templates)
        except NodeFailure:
            return {}, scope  # submit-time checks refuse this; a plan shows an empty node

    def template_node(self, display: str, tmpl: JSON, scope: Scope) -> PlannedNode:
        node = PlannedNode(display, tmpl.get("name", ""), "run")
        what = kind(tmpl)
        if what == "dag":
            node.children = [self.task(task, scope) for task in tmpl["dag"].get("tasks", [])]
        elif what == "steps":
            for index, group in enumerate(tmpl.get("steps") or []):
                group_node = PlannedNode(f"[{index}]", "", "run")
                group_node.children = [self.task(s, scope) for s in group or []]
                node.children.append(group_node)
        elif what == "containerSet":  # one Container child per container, as the run has
            for container in (tmpl["containerSet"] or {}).get("containers") or []:
                command = (container.get("command") or []) + (container.get("args") or [])
                child = PlannedNode(container.get("name", ""), "", "run")
                child.reason = " ".join(str(c) for c in command)
                node.children.append(child)
        elif what == "suspend":
            duration = (tmpl["suspend"] or {}).get("duration")
            node.reason = f"suspend for {duration}" if duration else "suspend until resumed"
        elif what == "http":
            body = tmpl["http"] or {}
            node.reason = f"{body.get('method') or 'GET'} {body.get('url', '')}"
        elif what == "data":
            steps = len((tmpl["data"] or {}).get("transformation") or [])
            node.reason = f"list artifact paths, {steps} transformation(s)"
        elif what:
            body = tmpl[what] or {}
            command = [str(c) for c in (body.get("command") or []) + (body.get("args") or [])]
            node.reason = " ".join(command)
        return node

    def task(self, task: JSON, scope: Scope) -> PlannedNode:
        name = task["name"]
        tmpl, tscope = self.resolve(task, scope)
        decision, reason = self.decide_when(task["when"]) if task.get("when") else ("run", "")
        node = PlannedNode(name, tmpl.get("name", ""), decision, reason)
        if task.get("depends"):
            node.explain(f"after {task['depends']}")
        elif task.get("dependencies"):
            node.explain(f"after {', '.join(task['dependencies'])}")
        if decision == "skip":
            return node
        items = self.items(task)
        if items is None:
            inner = self.template_node(name, tmpl, tscope)
            node.children = inner.children
            if inner.reason and not node.children:
                node.explain(inner.reason)
        elif isinstance(items, str):
            node.decision = "runtime"
            node.explain(items)
        else:
            for index, item in enumerate(items):
                label = f"{name}({index}:{item_label(item)})"
                child = PlannedNode(label, tmpl.get("name", ""), "run")
                # an item calling a DAG/steps template has that template's children
                child.children = self.template_node(label, tmpl, tscope).children
                self.hook(task, child, scope)
                node.children.append(child)
            if not items:  # one Skipped node at run time, as in Argo ("Skipped, empty params")
                node.decision = "skip"
                node.explain("no items")
            return node
        self.hook(task, node, scope)
        return node

    def hook(self, task: JSON, node: PlannedNode, scope: Scope) -> None:
        """The call's hooks, as children decided at run time: each named hook once its
        expression is true, the exit hook once the call completed."""
        self.named_hooks(task, node, scope)
        hook = exit_hook(task)
        if hook is not None:
            why = f"exit hook: runs once {node.display_name} completed"
            self._hook_node(node, f"{node.display_name}.onExit", hook, scope, why)

    def named_hooks(self, holder: JSON, node: PlannedNode, scope: Scope) -> None:
        """``hooks.NAME`` of a call or the workflow: node ``<node>.hooks.NAME``."""
        for hname, hook in named_hooks(holder).items():
            why = f"lifecycle hook: runs once {hook.get('expression', '')}"
            self._hook_node(node, f"{node.display_name}.hooks.{hname}", hook, scope, why)

    def _hook_node(
        self, node: PlannedNode, display: str, hook: JSON, scope: Scope, why: str
    ) -> None:
        tmpl, _ = self.resolve(hook, scope)
        node.children.append(PlannedNode(display, tmpl.get("name", ""), "runtime", why))

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
        """The loop items (the operator's expansion), or why they are known only at run time."""
        try:
            return loops.expand(task, self.values)
        except ExpressionError:
            source = task.get("withParam") or "withSequence"
            return f"items from {source} at run time"
        except NodeFailure as err:
            return str(err)
