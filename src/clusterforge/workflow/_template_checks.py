"""Checking templates: their type, fields, calls, DAG graph, steps and variables.

A :class:`TemplateChecker` walks every template it is given — and every
template those call, by name or by ``templateRef`` into the library — once,
appending :class:`Problem` s rather than stopping at the first. The rules
follow Argo's workflow/validate (template type, names, ``depends`` vs
``dependencies``, cycles, targets, loops, arguments, outputs, retry policy,
leaf-only and non-leaf-only fields), with the local engine's limits added as
warnings from :data:`LOCAL_SUPPORT`.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

from hera.workflows import models as m

from clusterforge.workflow.expressions import (
    ExpressionError,
    check_when,
    depends_from_dependencies,
    expression_references,
    parse_depends,
    references,
)

from ._documents import Document
from ._graph import ancestors, find_cycles
from ._library import TemplateLibrary
from ._problems import Problem, Severity
from ._support import unsupported_fields
from ._variables import Globals, ItemScope, NodeInfo, Scope, judge

__all__ = ["Site", "TemplateChecker", "template_names"]

JSON = dict[str, Any]
Holder = m.DAGTask | m.WorkflowStep

_FIELD_NAME = re.compile(r"^[a-zA-Z0-9][-a-zA-Z0-9]*$")
_PARAM_NAME = re.compile(r"^[-a-zA-Z0-9_]+$")
_DURATION = re.compile(
    r"^([0-9]+(\.[0-9]*)?|\.[0-9]+)(ns|us|µs|ms|s|m|h)?(([0-9]+(\.[0-9]*)?|\.[0-9]+)(ns|us|µs|ms|s|m|h))*$"
)
_RETRY_POLICIES = ("Always", "OnFailure", "OnError", "OnTransientError")
_TYPES = (
    "container",
    "script",
    "dag",
    "steps",
    "suspend",
    "resource",
    "http",
    "plugin",
    "data",
    "containerSet",
)
_TYPE_FIELDS = {
    "container": "container",
    "script": "script",
    "dag": "dag",
    "steps": "steps",
    "suspend": "suspend",
    "resource": "resource",
    "http": "http",
    "plugin": "plugin",
    "data": "data",
    "containerSet": "container_set",
}


@dataclass(frozen=True)
class Site:
    """A template and where it lives: its document, field path and how to name it."""

    doc: Document
    template: m.Template
    path: str  # e.g. "spec.templates[2]" (or "…tasks[0].inline")
    location: str  # e.g. "template 'main'"

    @property
    def name(self) -> str:
        return self.template.name or "(inline)"

    @property
    def key(self) -> tuple[str, int, str]:
        return (str(self.doc.source), self.doc.index, self.path)


def template_names(templates: Sequence[m.Template]) -> dict[str, int]:
    """Template name → index of its first definition."""
    names: dict[str, int] = {}
    for i, template in enumerate(templates):
        if template.name and template.name not in names:
            names[template.name] = i
    return names


def _template_type(template: m.Template) -> list[str]:
    return [t for t in _TYPES if getattr(template, _TYPE_FIELDS[t]) is not None]


def _is_leaf(template: m.Template) -> bool:
    return template.dag is None and template.steps is None


def _dump(model: Any) -> JSON:
    data: JSON = model.model_dump(by_alias=True, exclude_none=True, mode="json")
    return data


def _strings(
    data: object, path: str = "", skip: frozenset[str] = frozenset()
) -> Iterator[tuple[str, str]]:
    """Every string in ``data`` with its field path (keys in ``skip`` left out at the top)."""
    if isinstance(data, str):
        yield path, data
    elif isinstance(data, dict):
        for key, value in data.items():
            if key in skip:
                continue
            yield from _strings(value, f"{path}.{key}" if path else str(key))
    elif isinstance(data, list):
        for i, value in enumerate(data):
            yield from _strings(value, f"{path}[{i}]")


def _join(*parts: str) -> str:
    out = ""
    for part in parts:
        if not part:
            continue
        out += part if not out or part.startswith("[") else f".{part}"
    return out


def _closest(name: str, options: Sequence[str]) -> str:
    close = difflib.get_close_matches(name, options, n=1, cutoff=0.6)
    return f"did you mean {close[0]!r}?" if close else ""


def _listing(names: Sequence[str] | set[str] | frozenset[str]) -> str:
    return ", ".join(sorted(names)) or "none"


def _is_tagged(text: str) -> bool:
    return "{{" in text


@dataclass
class TemplateChecker:
    """Checks templates (and what they call) for one document's run."""

    library: TemplateLibrary
    globals: Globals
    problems: list[Problem] = field(default_factory=list)
    _done: set[tuple[str, int, str]] = field(default_factory=set)
    _docs: set[tuple[str, int]] = field(default_factory=set)

    # -- recording ---------------------------------------------------------------

    def add(
        self,
        site: Site | Document,
        location: str,
        field_name: str,
        message: str,
        hint: str = "",
        severity: Severity = "error",
        *,
        path: str = "",
    ) -> None:
        doc = site.doc if isinstance(site, Site) else site
        self.problems.append(doc.problem(location, field_name, message, hint, severity, path=path))

    def note_document(self, doc: Document) -> None:
        """Report what loading ``doc`` found (unknown fields, duplicate keys), once."""
        key = (str(doc.source), doc.index)
        if key not in self._docs:
            self._docs.add(key)
            self.problems.extend(doc.problems)

    def site(self, doc: Document, index: int) -> Site:
        # A library template is named the same way from every caller (its file and line
        # say where it is), so lint reports a problem in it once, not once per caller.
        template = (doc.spec.templates or [])[index]
        named = f"template '{template.name}'" if template.name else f"templates[{index}]"
        return Site(doc, template, f"spec.templates[{index}]", named)

    def site_named(self, doc: Document, name: str) -> Site | None:
        index = template_names(doc.spec.templates or []).get(name)
        return None if index is None else self.site(doc, index)

    # -- a template --------------------------------------------------------------

    def check_template(self, site: Site) -> None:
        if site.key in self._done:
            return
        self._done.add(site.key)
        self.note_document(site.doc)
        tmpl, loc = site.template, site.location
        if tmpl.name is None and not site.location.endswith("inline template"):
            self.add(site, loc, "name", "a template needs a name", "add name: …", path=site.path)
        elif tmpl.name is not None and not _FIELD_NAME.fullmatch(tmpl.name):
            self.add(
                site,
                loc,
                "name",
                f"invalid template name {tmpl.name!r}",
                "use letters, digits and '-', starting with a letter or digit",
                path=_join(site.path, "name"),
            )
        types = _template_type(tmpl)
        if not types:
            self.add(
                site,
                loc,
                "",
                "the template has no type: none of container, script, dag, steps or suspend",
                "give it exactly one of container, script, dag, steps",
                path=site.path,
            )
        elif len(types) > 1:
            self.add(
                site,
                loc,
                "",
                f"the template has several types ({', '.join(types)})",
                "keep exactly one of them; split the rest into their own templates",
                path=site.path,
            )
        self._unsupported(site, tmpl)
        self._inputs(site)
        self._outputs(site)
        self._retry(site)
        self._leaf_rules(site)
        scope = self.template_scope(site)
        if tmpl.dag is not None:
            self._dag(site, tmpl.dag, scope)
            # The template's own fields (outputs, target) may read every task of the DAG.
            dag_scope = replace(scope, node_kind="tasks", nodes=self._nodes_of_dag(site))
            data = _dump(tmpl)
            data["dag"].pop("tasks", None)
            self._references(site, loc, dag_scope, data, site.path, skip=frozenset({"name"}))
        elif tmpl.steps is not None:
            nodes = self._steps(site, tmpl.steps, scope)
            outputs_scope = replace(scope, node_kind="steps", nodes=nodes)
            self._references(
                site, loc, outputs_scope, _dump(tmpl), site.path, skip=frozenset({"name", "steps"})
            )
        else:
            self._references(site, loc, scope, _dump(tmpl), site.path, skip=frozenset({"name"}))

    def template_scope(self, site: Site) -> Scope:
        tmpl = site.template
        inputs = tmpl.inputs
        return Scope(
            template=site.name,
            globals=self.globals,
            inputs=frozenset(p.name for p in (inputs.parameters if inputs else None) or []),
            input_artifacts=frozenset(a.name for a in (inputs.artifacts if inputs else None) or []),
            leaf=_is_leaf(tmpl),
        )

    def _unsupported(self, site: Site, tmpl: m.Template) -> None:
        loc = site.location

        def warn(where: str, model: Any, path: str) -> None:
            for name, text in unsupported_fields(where, model):
                self.add(
                    site,
                    loc,
                    _join(path, name).removeprefix(site.path + ".") or name,
                    text,
                    severity="warning",
                    path=_join(path, name),
                )

        warn("template", tmpl, site.path)
        for kind in ("container", "script"):
            body = getattr(tmpl, kind)
            if body is None:
                continue
            warn("container", body, _join(site.path, kind))
            for i, env in enumerate(body.env or []):
                warn("env", env, _join(site.path, kind, f"env[{i}]"))
        if tmpl.retry_strategy is not None:
            warn("retryStrategy", tmpl.retry_strategy, _join(site.path, "retryStrategy"))
        for kind in ("inputs", "outputs"):
            io = getattr(tmpl, kind)
            if io is None:
                continue
            warn(kind, io, _join(site.path, kind))
            for i, param in enumerate(io.parameters or []):
                if param.value_from is not None:
                    warn(
                        "valueFrom",
                        param.value_from,
                        _join(site.path, kind, f"parameters[{i}]", "valueFrom"),
                    )

    def _inputs(self, site: Site) -> None:
        inputs = site.template.inputs
        params = (inputs.parameters if inputs else None) or []
        self.parameter_names(
            site, site.location, params, _join(site.path, "inputs.parameters"), "inputs.parameters"
        )

    def parameter_names(
        self, site: Site | Document, loc: str, params: Sequence[m.Parameter], path: str, shown: str
    ) -> None:
        """Parameter names must be valid and unique (``shown`` is the field as printed)."""
        seen: set[str] = set()
        field_prefix = shown
        for i, param in enumerate(params):
            where = f"{path}[{i}]"
            shown_name = f"{field_prefix}[{i}].name"
            if not _PARAM_NAME.fullmatch(param.name):
                self.add(
                    site,
                    loc,
                    shown_name,
                    f"invalid parameter name {param.name!r}",
                    "use letters, digits, '-' and '_'",
                    path=where,
                )
            if param.name in seen:
                self.add(
                    site,
                    loc,
                    shown_name,
                    f"parameter {param.name!r} is declared twice",
                    "remove or rename one",
                    path=where,
                )
            seen.add(param.name)

    def _outputs(self, site: Site) -> None:
        tmpl, loc = site.template, site.location
        outputs = tmpl.outputs
        params = (outputs.parameters if outputs else None) or []
        base = _join(site.path, "outputs.parameters")
        self.parameter_names(site, loc, params, base, "outputs.parameters")
        leaf = tmpl.container is not None or tmpl.script is not None
        for i, param in enumerate(params):
            path = f"{base}[{i}]"
            shown = f"outputs.parameters[{i}]"
            source = param.value_from
            if source is not None and param.value is not None:
                self.add(
                    site,
                    loc,
                    shown,
                    f"output {param.name!r} has both value and valueFrom",
                    "keep one",
                    path=path,
                )
                continue
            if source is None:
                if param.value is None:
                    self.add(
                        site,
                        loc,
                        shown,
                        f"output {param.name!r} has neither value nor valueFrom",
                        "add valueFrom: {path: …} (or parameter: for dag/steps)",
                        path=path,
                    )
                continue
            kinds = [
                k
                for k in (
                    "path",
                    "jq_filter",
                    "json_path",
                    "parameter",
                    "expression",
                    "supplied",
                    "configmap_key_ref",
                    "event",
                )
                if getattr(source, k, None) is not None
            ]
            if not kinds:
                self.add(
                    site,
                    loc,
                    f"{shown}.valueFrom",
                    f"output {param.name!r}: valueFrom names no source",
                    "give path (container/script) or parameter/expression (dag/steps)",
                    path=path,
                )
            elif len(kinds) > 1:
                self.add(
                    site,
                    loc,
                    f"{shown}.valueFrom",
                    f"output {param.name!r}: valueFrom has several sources",
                    "keep one",
                    path=path,
                )
            elif (
                leaf
                and source.path is None
                and (source.parameter is not None or source.expression is not None)
            ):
                self.add(
                    site,
                    loc,
                    f"{shown}.valueFrom",
                    f"output {param.name!r}: a container or script output is read from a file",
                    "use valueFrom.path",
                    path=path,
                )
            elif (tmpl.dag is not None or tmpl.steps is not None) and source.path is not None:
                self.add(
                    site,
                    loc,
                    f"{shown}.valueFrom",
                    f"output {param.name!r}: a {'dag' if tmpl.dag else 'steps'} template "
                    "has no files",
                    "use valueFrom.parameter: '{{tasks.X.outputs.parameters.Y}}' or expression",
                    path=path,
                )
            if source.expression is not None:
                self._expression(
                    site,
                    loc,
                    f"{shown}.valueFrom.expression",
                    source.expression,
                    f"{path}.valueFrom.expression",
                )

    def _expression(self, site: Site, loc: str, shown: str, expression: str, path: str) -> None:
        try:
            expression_references("{{=" + expression + "}}")
        except ExpressionError as err:
            self.add(site, loc, shown, _unwrapped(str(err)), "fix the expression", path=path)

    def _retry(self, site: Site) -> None:
        strategy = site.template.retry_strategy
        if strategy is None:
            return
        loc, base = site.location, _join(site.path, "retryStrategy")
        if strategy.retry_policy is not None and strategy.retry_policy not in _RETRY_POLICIES:
            self.add(
                site,
                loc,
                "retryStrategy.retryPolicy",
                f"unknown retry policy {strategy.retry_policy!r}",
                f"use one of {', '.join(_RETRY_POLICIES)}",
                path=f"{base}.retryPolicy",
            )
        if strategy.limit is not None:
            value = strategy.limit.root
            if isinstance(value, str) and not (value.strip().isdigit() or _is_tagged(value)):
                self.add(
                    site,
                    loc,
                    "retryStrategy.limit",
                    f"limit {value!r} is not a number",
                    "give a number of retries, e.g. limit: 3",
                    path=f"{base}.limit",
                )
        if strategy.expression is not None:
            self._expression(
                site, loc, "retryStrategy.expression", strategy.expression, f"{base}.expression"
            )
        backoff = strategy.backoff
        if backoff is None:
            return
        for alias, setting in (
            ("duration", backoff.duration),
            ("cap", backoff.cap),
            ("maxDuration", backoff.max_duration),
        ):
            if setting is None:
                continue
            text = str(setting)
            if not (_is_tagged(text) or _DURATION.fullmatch(text.strip())):
                self.add(
                    site,
                    loc,
                    f"retryStrategy.backoff.{alias}",
                    f"{text!r} is not a duration",
                    "write seconds (10) or a Go duration (30s, 2m, 1h)",
                    path=f"{base}.backoff.{alias}",
                )

    def _leaf_rules(self, site: Site) -> None:
        tmpl, loc = site.template, site.location
        leaf = _is_leaf(tmpl)
        if not leaf and tmpl.active_deadline_seconds is not None:
            self.add(
                site,
                loc,
                "activeDeadlineSeconds",
                "activeDeadlineSeconds is only valid on container and script templates "
                "(as in Argo)",
                "set it on the templates this one calls, or use spec.activeDeadlineSeconds",
                path=_join(site.path, "activeDeadlineSeconds"),
            )
        if leaf and tmpl.parallelism is not None:
            self.add(
                site,
                loc,
                "parallelism",
                "parallelism is only valid on dag and steps templates",
                "remove it, or set it on the dag/steps template that calls this one",
                path=_join(site.path, "parallelism"),
            )
        if not leaf and tmpl.timeout is not None:
            self.add(
                site,
                loc,
                "timeout",
                "timeout is only valid on container and script templates",
                "use it on the leaf templates",
                path=_join(site.path, "timeout"),
            )
        deadline = tmpl.active_deadline_seconds
        if deadline is not None:
            value = deadline.root
            bad = (
                value < 0
                if isinstance(value, int)
                else not (value.strip().isdigit() or _is_tagged(value))
            )
            if bad:
                self.add(
                    site,
                    loc,
                    "activeDeadlineSeconds",
                    f"{value!r} is not a positive number of seconds",
                    "give seconds, e.g. activeDeadlineSeconds: 300",
                    path=_join(site.path, "activeDeadlineSeconds"),
                )
        for kind in ("container", "script"):
            body = getattr(tmpl, kind)
            if body is not None and not body.image:
                self.add(
                    site,
                    loc,
                    f"{kind}.image",
                    "image is required",
                    "name the image the step runs in (it is recorded, not pulled, locally)",
                    path=_join(site.path, kind),
                )

    # -- calls -------------------------------------------------------------------

    def resolve(self, site: Site, holder: Holder, loc: str, path: str) -> Site | None:
        """The template ``holder`` calls (reporting what is wrong with the reference)."""
        if holder.inline is not None:
            if holder.template or holder.template_ref:
                self.add(
                    site,
                    loc,
                    "inline",
                    "inline cannot be combined with template or templateRef",
                    "keep one",
                    path=_join(path, "inline"),
                )
            return Site(site.doc, holder.inline, _join(path, "inline"), f"{loc} › inline template")
        if holder.template and holder.template_ref is not None:
            self.add(
                site,
                loc,
                "templateRef",
                "template and templateRef cannot both be set",
                "keep one",
                path=_join(path, "templateRef"),
            )
            return None
        if holder.template_ref is not None:
            return self._resolve_ref(site, holder.template_ref, loc, _join(path, "templateRef"))
        if not holder.template:
            self.add(
                site,
                loc,
                "template",
                "calls no template",
                "set template: NAME (or templateRef)",
                path=path,
            )
            return None
        if _is_tagged(holder.template):
            return None  # resolved at run time
        called = self.site_named(site.doc, holder.template)
        if called is None:
            names = list(template_names(site.doc.spec.templates or []))
            hint = _closest(holder.template, names) or "fix the name or add the template"
            self.add(
                site,
                loc,
                "template",
                f"unknown template {holder.template!r} (templates here: {_listing(names)})",
                hint,
                path=_join(path, "template"),
            )
        return called

    def _resolve_ref(self, site: Site, ref: m.TemplateRef, loc: str, path: str) -> Site | None:
        if not ref.name or not ref.template:
            missing = "name" if not ref.name else "template"
            self.add(
                site,
                loc,
                f"templateRef.{missing}",
                "required field is missing",
                "templateRef needs name (the WorkflowTemplate) and template",
                path=path,
            )
            return None
        if _is_tagged(ref.name) or _is_tagged(ref.template):
            return None
        cluster = bool(ref.cluster_scope)
        doc = self.library.find(ref.name, cluster_scope=cluster)
        if doc is None:
            message, hint = self.library.missing_document(ref.name, cluster_scope=cluster)
            self.add(site, loc, "templateRef.name", message, hint, path=_join(path, "name"))
            return None
        called = self.site_named(doc, ref.template)
        if called is None:
            names = list(template_names(doc.spec.templates or []))
            hint = _closest(ref.template, names) or "fix templateRef.template"
            self.add(
                site,
                loc,
                "templateRef.template",
                f"{doc.kind} {doc.name!r} has no template {ref.template!r} "
                f"(its templates: {_listing(names)})",
                hint,
                path=_join(path, "template"),
            )
        return called

    def check_call(
        self,
        site: Site | Document,
        holder: Holder | None,
        called: Site | None,
        loc: str,
        path: str,
        *,
        given: Mapping[str, str | None] | None = None,
        args_field: str = "arguments.parameters",
    ) -> None:
        """Arguments against the called template's inputs (required, unknown, enum)."""
        if holder is not None:
            args = (holder.arguments.parameters if holder.arguments else None) or []
            self.parameter_names(
                site, loc, args, _join(path, "arguments.parameters"), "arguments.parameters"
            )
            values: dict[str, str | None] = {}
            for i, arg in enumerate(args):
                values[arg.name] = arg.value
                if arg.value is None and arg.value_from is None:
                    self.add(
                        site,
                        loc,
                        f"arguments.parameters[{i}]",
                        f"argument {arg.name!r} has no value",
                        f"add value: … to {arg.name!r}",
                        path=_join(path, f"arguments.parameters[{i}]"),
                    )
            if holder.arguments is not None and holder.arguments.artifacts:
                self.add(
                    site,
                    loc,
                    "arguments.artifacts",
                    "not yet supported locally: artifacts are not stored or fetched",
                    severity="warning",
                    path=_join(path, "arguments.artifacts"),
                )
        else:
            values = dict(given or {})
        if called is None:
            return
        inputs = called.template.inputs
        declared = (inputs.parameters if inputs else None) or []
        names = {p.name for p in declared}
        for param in declared:
            required = param.value is None and param.default is None and param.value_from is None
            if param.name not in values:
                if required:
                    self.add(
                        site,
                        loc,
                        args_field,
                        f"template '{called.name}' requires input parameter {param.name!r} "
                        "(it has no default)",
                        f"pass it: {{name: {param.name}, value: …}}"
                        if holder is not None
                        else f"give it with -p {param.name}=VALUE or in spec.arguments.parameters",
                        path=_join(path, "arguments") if holder is not None else path,
                    )
                continue
            value = values[param.name]
            if (
                param.enum
                and value is not None
                and not _is_tagged(value)
                and value not in param.enum
            ):
                self.add(
                    site,
                    loc,
                    args_field,
                    f"{value!r} is not an allowed value of {param.name!r} "
                    f"(enum: {', '.join(param.enum)})",
                    "pass one of the enum values",
                    path=_join(path, "arguments") if holder is not None else path,
                )
        if holder is not None:
            for name in values:
                if name not in names:
                    self.add(
                        site,
                        loc,
                        args_field,
                        f"argument {name!r} is not an input of template '{called.name}' "
                        f"(its inputs: {_listing(names)}); it is ignored",
                        "declare it in that template's inputs.parameters, or remove it",
                        severity="warning",
                        path=_join(path, "arguments"),
                    )
        self.check_template(called)

    # -- DAG ---------------------------------------------------------------------

    def _dag_graph(self, dag: m.DAGTemplate) -> dict[str, set[str]]:
        graph: dict[str, set[str]] = {}
        for task in dag.tasks:
            deps: set[str] = set()
            try:
                if task.depends:
                    deps = set(parse_depends(task.depends).tasks())
                elif task.dependencies:
                    deps = set(depends_from_dependencies(task.dependencies).tasks())
            except ExpressionError:
                deps = set()
            graph.setdefault(task.name, set()).update(deps)
        return graph

    def _nodes_of_dag(self, site: Site) -> dict[str, NodeInfo]:
        dag = site.template.dag
        assert dag is not None
        nodes: dict[str, NodeInfo] = {}
        for task in dag.tasks:
            if task.name in nodes:
                continue
            called = self._quiet_resolve(site, task)
            nodes[task.name] = _node_info(task, called)
        return nodes

    def _quiet_resolve(self, site: Site, holder: Holder) -> Site | None:
        if holder.inline is not None:
            return Site(site.doc, holder.inline, "", "")
        if holder.template_ref is not None:
            ref = holder.template_ref
            doc = self.library.find(ref.name or "", cluster_scope=bool(ref.cluster_scope))
            return None if doc is None else self.site_named(doc, ref.template or "")
        return self.site_named(site.doc, holder.template or "")

    def _dag(self, site: Site, dag: m.DAGTemplate, scope: Scope) -> None:
        loc, base = site.location, _join(site.path, "dag")
        tasks = dag.tasks
        if not tasks:
            self.add(
                site, loc, "dag.tasks", "a DAG needs at least one task", "add tasks", path=base
            )
            return
        names = [t.name for t in tasks]
        uses_depends = [t.name for t in tasks if t.depends]
        uses_dependencies = any(t.dependencies for t in tasks)
        seen: set[str] = set()
        for i, task in enumerate(tasks):
            path = f"{base}.tasks[{i}]"
            tloc = f"{loc} › task '{task.name}'"
            if not _FIELD_NAME.fullmatch(task.name):
                self.add(
                    site,
                    tloc,
                    "name",
                    f"invalid task name {task.name!r}",
                    "use letters, digits and '-', starting with a letter or digit",
                    path=f"{path}.name",
                )
            elif (uses_depends or uses_dependencies) and task.name[0].isdigit():
                self.add(
                    site,
                    tloc,
                    "name",
                    "a task name cannot start with a digit when the DAG uses depends "
                    "or dependencies",
                    "rename the task",
                    path=f"{path}.name",
                )
            if task.name in seen:
                self.add(
                    site,
                    tloc,
                    "name",
                    f"task name {task.name!r} is used twice in this DAG",
                    "rename one of them",
                    path=f"{path}.name",
                )
            seen.add(task.name)
            if uses_depends and task.dependencies:
                self.add(
                    site,
                    tloc,
                    "dependencies",
                    "this DAG mixes dependencies with depends "
                    f"(used by {', '.join(repr(n) for n in uses_depends[:3])})",
                    f"write it as depends: {' && '.join(task.dependencies)!r}",
                    path=f"{path}.dependencies",
                )
            if uses_depends and task.continue_on is not None:
                self.add(
                    site,
                    tloc,
                    "continueOn",
                    "continueOn cannot be used in a DAG that uses depends",
                    "say it in depends instead, e.g. depends: 'a.Succeeded || a.Failed'",
                    path=f"{path}.continueOn",
                )
            self._task_dependencies(site, task, tloc, path, names)
        graph = self._dag_graph(dag)
        for cycle in find_cycles({k: {d for d in v if d in graph} for k, v in graph.items()}):
            first = cycle[0]
            index = names.index(first)
            self.add(
                site,
                f"{loc} › task '{first}'",
                "depends" if tasks[index].depends else "dependencies",
                f"dependency cycle: {' → '.join(cycle)} (each waits for the next)",
                "remove one of these dependencies",
                path=f"{base}.tasks[{index}]",
            )
        if dag.target and not _is_tagged(dag.target):
            for target in dag.target.split():
                if target not in graph:
                    self.add(
                        site,
                        loc,
                        "dag.target",
                        f"unknown target task {target!r} (tasks: {_listing(set(names))})",
                        _closest(target, names) or "fix the name",
                        path=f"{base}.target",
                    )
        nodes = self._nodes_of_dag(site)
        for i, task in enumerate(tasks):
            path = f"{base}.tasks[{i}]"
            tloc = f"{loc} › task '{task.name}'"
            called = self.resolve(site, task, tloc, path)
            self._holder(site, task, tloc, path)
            task_scope = replace(
                scope,
                node_kind="tasks",
                nodes=nodes,
                upstream=frozenset(ancestors(graph, task.name)),
                current=task.name,
                items=_items(task),
            )
            self._references(
                site,
                tloc,
                task_scope,
                _dump(task),
                path,
                skip=frozenset({"inline", "name", "depends", "dependencies"}),
                arguments=True,
            )
            self.check_call(site, task, called, tloc, path)

    def _task_dependencies(
        self, site: Site, task: m.DAGTask, tloc: str, path: str, names: list[str]
    ) -> None:
        known = set(names)
        listing = _listing(known - {task.name})
        if task.depends:
            try:
                expression = parse_depends(task.depends)
            except ExpressionError as err:
                self.add(
                    site,
                    tloc,
                    "depends",
                    _unwrapped(str(err)),
                    "fix the depends expression",
                    path=f"{path}.depends",
                )
            else:
                for dep in sorted(expression.tasks()):
                    if dep not in known:
                        self.add(
                            site,
                            tloc,
                            "depends",
                            f"unknown task {dep!r} (tasks in this DAG: {listing})",
                            _closest(dep, names) or "fix the name or add the task",
                            path=f"{path}.depends",
                        )
        for dep in task.dependencies or []:
            if dep not in known:
                self.add(
                    site,
                    tloc,
                    "dependencies",
                    f"unknown task {dep!r} (tasks in this DAG: {listing})",
                    _closest(dep, names) or "fix the name or add the task",
                    path=f"{path}.dependencies",
                )

    # -- steps -------------------------------------------------------------------

    def _steps(
        self, site: Site, groups: list[m.ParallelSteps], scope: Scope
    ) -> dict[str, NodeInfo]:
        loc, base = site.location, _join(site.path, "steps")
        nodes: dict[str, NodeInfo] = {}
        for g, group in enumerate(groups):
            for k, step in enumerate(group.root):
                path = f"{base}[{g}][{k}]"
                sloc = f"{loc} › step '{step.name}'"
                if not step.name:
                    self.add(
                        site,
                        loc,
                        f"steps[{g}][{k}].name",
                        "a step needs a name",
                        "add name: …",
                        path=path,
                    )
                    continue
                if not _FIELD_NAME.fullmatch(step.name):
                    self.add(
                        site,
                        sloc,
                        "name",
                        f"invalid step name {step.name!r}",
                        "use letters, digits and '-', starting with a letter or digit",
                        path=f"{path}.name",
                    )
                if step.name in nodes:
                    self.add(
                        site,
                        sloc,
                        "name",
                        f"step name {step.name!r} is used twice in this template",
                        "rename one of them",
                        path=f"{path}.name",
                    )
                    continue
                nodes[step.name] = replace(
                    _node_info(step, self._quiet_resolve(site, step)), group=g
                )
        for g, group in enumerate(groups):
            for k, step in enumerate(group.root):
                if not step.name:
                    continue
                path = f"{base}[{g}][{k}]"
                sloc = f"{loc} › step '{step.name}'"
                called = self.resolve(site, step, sloc, path)
                self._holder(site, step, sloc, path)
                step_scope = replace(
                    scope,
                    node_kind="steps",
                    nodes=nodes,
                    upstream=frozenset(n for n, info in nodes.items() if info.group < g),
                    current=step.name,
                    current_group=g,
                    items=_items(step),
                )
                self._references(
                    site,
                    sloc,
                    step_scope,
                    _dump(step),
                    path,
                    skip=frozenset({"inline", "name"}),
                    arguments=True,
                )
                self.check_call(site, step, called, sloc, path)
        return nodes

    # -- what tasks and steps share ------------------------------------------------

    def _holder(self, site: Site, holder: Holder, loc: str, path: str) -> None:
        kind = "task" if isinstance(holder, m.DAGTask) else "step"
        for name, text in unsupported_fields(kind, holder):
            self.add(site, loc, name, text, severity="warning", path=_join(path, name))
        if holder.when is not None:
            try:
                check_when(holder.when)
            except ExpressionError as err:
                self.add(
                    site,
                    loc,
                    "when",
                    _unwrapped(str(err)),
                    "fix the condition (quote strings that contain spaces or operators)",
                    path=f"{path}.when",
                )
        loops = [
            n
            for n, v in (
                ("withItems", holder.with_items),
                ("withParam", holder.with_param),
                ("withSequence", holder.with_sequence),
            )
            if v is not None
        ]
        if len(loops) > 1:
            self.add(
                site,
                loc,
                loops[1],
                "only one of withItems, withParam, withSequence may be set "
                f"(found {', '.join(loops)})",
                "keep one",
                path=_join(path, loops[1]),
            )
        sequence = holder.with_sequence
        if sequence is not None and sequence.count is not None and sequence.end is not None:
            self.add(
                site,
                loc,
                "withSequence",
                "withSequence takes count or end, not both",
                "remove one",
                path=_join(path, "withSequence"),
            )
        if (
            holder.on_exit
            and not _is_tagged(holder.on_exit)
            and self.site_named(site.doc, holder.on_exit) is None
        ):
            self.add(
                site,
                loc,
                "onExit",
                f"unknown template {holder.on_exit!r}",
                "fix the name or add the template",
                path=_join(path, "onExit"),
            )

    def _references(
        self,
        site: Site,
        loc: str,
        scope: Scope,
        data: JSON,
        path: str,
        *,
        skip: frozenset[str] = frozenset(),
        arguments: bool = False,
    ) -> None:
        for rel, text in _strings(data, "", skip):
            if "{{" not in text:
                continue
            try:
                simple = references(text)
                computed = expression_references(text)
            except ExpressionError as err:
                self.add(
                    site,
                    loc,
                    rel,
                    _unwrapped(str(err)),
                    "close every '{{' with '}}' and fix the expression",
                    path=_join(path, rel),
                )
                continue
            whole = (
                arguments
                and bool(re.fullmatch(r"arguments\.parameters\[\d+\]\.value", rel))
                and text.lstrip().startswith("{{tasks.")
            )
            for i, name in enumerate(simple):
                verdict = judge(name, scope, whole_value=whole and i == 0)
                if verdict is not None:
                    self.add(
                        site,
                        loc,
                        rel,
                        verdict.message,
                        verdict.hint,
                        verdict.severity,
                        path=_join(path, rel),
                    )
            for name in computed:
                verdict = judge(name, scope, expression=True)
                if verdict is not None:
                    self.add(
                        site,
                        loc,
                        rel,
                        verdict.message,
                        verdict.hint,
                        verdict.severity,
                        path=_join(path, rel),
                    )


def _unwrapped(message: str) -> str:
    """An ExpressionError's text on one line (its caret drawing follows on later lines)."""
    return message.replace("\n", "\n    ")


def _items(holder: Holder) -> ItemScope | None:
    if holder.with_param is not None:
        return ItemScope("param")
    if holder.with_sequence is not None:
        return ItemScope("sequence")
    if holder.with_items is None:
        return None
    scalar = False
    keys: set[str] = set()
    length = 0
    for item in holder.with_items:
        value = item.root
        if isinstance(value, dict):
            keys.update(str(k) for k in value)
        elif isinstance(value, list):
            length = max(length, len(value))
        else:
            scalar = True
    return ItemScope("items", scalar=scalar, keys=frozenset(keys), list_length=length)


def _node_info(holder: Holder, called: Site | None) -> NodeInfo:
    looped = (
        holder.with_items is not None
        or holder.with_param is not None
        or holder.with_sequence is not None
    )
    if called is None:
        return NodeInfo(template=holder.template or "?", aggregate=looped)
    tmpl = called.template
    outputs = tmpl.outputs
    return NodeInfo(
        template=called.name,
        outputs=frozenset(p.name for p in (outputs.parameters if outputs else None) or []),
        artifacts=frozenset(a.name for a in (outputs.artifacts if outputs else None) or []),
        has_result=tmpl.container is not None
        or tmpl.script is not None
        or tmpl.container_set is not None,
        aggregate=looped,
        daemon=bool(tmpl.daemon),
    )
