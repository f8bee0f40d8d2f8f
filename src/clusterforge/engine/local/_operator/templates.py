"""Where a template name resolves: the workflow's own templates, a
WorkflowTemplate's (``templateRef``), or the call itself (``inline``).

The snapshot taken at submit time keeps referenced WorkflowTemplates under one
key per reference (:func:`ref_key`); the submit path writes that key, the
operator and the planner read it — all through this module, so the three can
never disagree about what a ``templateRef`` means.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from clusterforge.engine.local._operator.errors import TemplateNotFound
from clusterforge.engine.local.template_defaults import template_defaults, with_defaults

JSON = dict[str, Any]


@dataclass
class Scope:
    """Where template names resolve: the workflow (name ``""``), or a WorkflowTemplate."""

    name: str
    templates: dict[str, JSON]
    defaults: JSON | None = None
    """The workflow's ``templateDefaults``: they apply in every scope, as in Argo."""
    retry: JSON | None = None
    """The workflow's ``retryStrategy``, for templates that have none."""

    def template(self, name: str) -> JSON:
        """The template ``name`` of this scope, with the workflow's defaults merged in."""
        return self.merged(self.templates[name])

    def merged(self, template: JSON) -> JSON:
        """``template`` as it runs: ``spec.templateDefaults`` and ``spec.retryStrategy`` applied."""
        return with_defaults(template, self.defaults, self.retry)


def ref_key(ref: Mapping[str, Any]) -> str:
    """The snapshot key of a ``templateRef``: its name (``cluster/NAME`` if cluster-scoped)."""
    return ("cluster/" if ref.get("clusterScope") else "") + str(ref["name"])


def workflow_scope(spec: Mapping[str, Any]) -> Scope:
    """The workflow's own templates."""
    defaults, retry = template_defaults(spec)
    return Scope("", {t["name"]: t for t in spec.get("templates", []) or []}, defaults, retry)


def callers(template: Mapping[str, Any]) -> Iterator[JSON]:
    """The DAG tasks and steps of a template: everything that calls another template."""
    yield from (template.get("dag") or {}).get("tasks", []) or []
    for group in template.get("steps", []) or []:
        yield from group or []


def resolve(
    holder: Mapping[str, Any], scope: Scope, documents: Mapping[str, JSON]
) -> tuple[JSON, Scope]:
    """The template a task/step calls (by ``inline``, ``templateRef`` or name) and its scope.

    ``documents`` are the snapshotted WorkflowTemplates by :func:`ref_key`.
    """
    inline = holder.get("inline")
    if inline:
        return scope.merged(dict(inline)), scope
    ref = holder.get("templateRef")
    if ref:
        key = ref_key(ref)
        doc = documents.get(key)
        if doc is None:
            raise TemplateNotFound(f"templateRef: WorkflowTemplate {ref['name']!r} not found")
        templates = {t["name"]: t for t in doc.get("spec", {}).get("templates", []) or []}
        if ref["template"] not in templates:
            raise TemplateNotFound(
                f"templateRef: template {ref['template']!r} not found in {ref['name']!r}"
            )
        referenced = Scope(key, templates, scope.defaults, scope.retry)
        return referenced.template(ref["template"]), referenced
    name = holder.get("template")
    if not name or name not in scope.templates:
        raise TemplateNotFound(f"template {name!r} not found")
    return scope.template(name), scope


_KINDS = (
    "dag",
    "steps",
    "container",
    "script",
    "containerSet",
    "http",
    "suspend",
    "resource",
    "data",
)


def kind(template: Mapping[str, Any]) -> str:
    """What a template does: ``dag``, ``steps``, ``container``, ``script``,
    ``containerSet``, ``http``, ``suspend``, ``resource``, ``data`` or ``""`` (nothing the local
    engine can run)."""
    for key in _KINDS:
        if key in template:
            return key
    return ""


def named_hooks(holder: JSON) -> dict[str, JSON]:
    """``hooks`` of a step, task or workflow spec but ``exit`` (see hooks.py)."""
    hooks = holder.get("hooks") or {}
    return {n: h for n, h in hooks.items() if n != "exit" and isinstance(h, dict)}


def exit_hook(task: JSON) -> JSON | None:
    """A step's/task's exit hook: ``hooks.exit``, or the older ``onExit: TEMPLATE``."""
    hook = (task.get("hooks") or {}).get("exit")
    if isinstance(hook, dict):
        return hook
    if task.get("onExit"):
        return {"template": task["onExit"]}
    return None
