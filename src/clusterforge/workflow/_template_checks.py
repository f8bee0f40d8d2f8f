"""Checking templates, and every template they call, once each.

A :class:`TemplateChecker` walks every template it is given — and every
template those call, by name or by ``templateRef`` into the library — once,
appending :class:`Problem` s rather than stopping at the first. Here: the
template's type and name, fields the local engine cannot honour (warnings
from :data:`LOCAL_SUPPORT`), how a task or step names what it calls, its
arguments against the called template's inputs, ``when`` and loops, and the
``{{…}}`` references of every field. The rules for a template's own fields
live in ``_field_rules``, those for the inside of dag and steps templates in
``_task_graphs``; all follow Argo's workflow/validate.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

from hera.workflows import models as m

from clusterforge.workflow.expressions import (
    ExpressionError,
    check_when,
    expression_references,
    references,
)

from ._documents import Document
from ._field_rules import check_leaf_rules, check_outputs, check_retry
from ._library import TemplateLibrary
from ._problems import Problem, Severity
from ._resource_checks import check_resource
from ._sites import (
    FIELD_NAME,
    JSON,
    PARAM_NAME,
    Holder,
    Site,
    closest,
    dump,
    is_leaf,
    is_tagged,
    join,
    listing,
    strings,
    template_names,
    template_type,
    unwrapped,
)
from ._support import unsupported_fields
from ._task_graphs import check_dag, check_steps, nodes_of_dag
from ._variables import Globals, Scope, judge

__all__ = ["TemplateChecker"]


@dataclass
class TemplateChecker:
    """Checks templates (and what they call) for one document's run."""

    library: TemplateLibrary
    globals: Globals
    problems: list[Problem] = field(default_factory=list)
    _done: set[tuple[str, int, str]] = field(default_factory=set)
    _docs: set[tuple[str, int]] = field(default_factory=set)
    _names: dict[tuple[str, int], dict[str, int]] = field(default_factory=dict)

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
        key = (str(doc.source), doc.index)
        names = self._names.get(key)
        if names is None:
            names = self._names[key] = template_names(doc.spec.templates or [])
        index = names.get(name)
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
        elif tmpl.name is not None and not FIELD_NAME.fullmatch(tmpl.name):
            self.add(
                site,
                loc,
                "name",
                f"invalid template name {tmpl.name!r}",
                "use letters, digits and '-', starting with a letter or digit",
                path=join(site.path, "name"),
            )
        types = template_type(tmpl)
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
        check_outputs(self, site)
        check_retry(self, site)
        check_leaf_rules(self, site)
        check_resource(self, site)
        scope = self.template_scope(site)
        if tmpl.dag is not None:
            check_dag(self, site, tmpl.dag, scope)
            # The template's own fields (outputs, target) may read every task of the DAG.
            dag_scope = replace(scope, node_kind="tasks", nodes=nodes_of_dag(self, site))
            data = dump(tmpl)
            data["dag"].pop("tasks", None)
            self.check_references(site, loc, dag_scope, data, site.path, skip=frozenset({"name"}))
        elif tmpl.steps is not None:
            nodes = check_steps(self, site, tmpl.steps, scope)
            outputs_scope = replace(scope, node_kind="steps", nodes=nodes)
            self.check_references(
                site, loc, outputs_scope, dump(tmpl), site.path, skip=frozenset({"name", "steps"})
            )
        else:
            self.check_references(site, loc, scope, dump(tmpl), site.path, skip=frozenset({"name"}))

    def template_scope(self, site: Site) -> Scope:
        tmpl = site.template
        inputs = tmpl.inputs
        return Scope(
            template=site.name,
            globals=self.globals,
            inputs=frozenset(p.name for p in (inputs.parameters if inputs else None) or []),
            input_artifacts=frozenset(a.name for a in (inputs.artifacts if inputs else None) or []),
            leaf=is_leaf(tmpl),
            pod_name=any(t is not None for t in (tmpl.container, tmpl.script, tmpl.resource)),
        )

    def _unsupported(self, site: Site, tmpl: m.Template) -> None:
        loc = site.location

        def warn(where: str, model: Any, path: str) -> None:
            for name, text in unsupported_fields(where, model):
                self.add(
                    site,
                    loc,
                    join(path, name).removeprefix(site.path + ".") or name,
                    text,
                    severity="warning",
                    path=join(path, name),
                )

        warn("template", tmpl, site.path)
        for kind in ("container", "script"):
            body = getattr(tmpl, kind)
            if body is None:
                continue
            warn("container", body, join(site.path, kind))
            for i, env in enumerate(body.env or []):
                warn("env", env, join(site.path, kind, f"env[{i}]"))
                warn("envSource", env.value_from, join(site.path, kind, f"env[{i}]", "valueFrom"))
        if tmpl.retry_strategy is not None:
            warn("retryStrategy", tmpl.retry_strategy, join(site.path, "retryStrategy"))
        warn("synchronization", tmpl.synchronization, join(site.path, "synchronization"))
        for i, sem in enumerate(
            (tmpl.synchronization.semaphores or []) if tmpl.synchronization else []
        ):
            warn("semaphore", sem, join(site.path, "synchronization", f"semaphores[{i}]"))
        for kind in ("inputs", "outputs"):
            io = getattr(tmpl, kind)
            if io is None:
                continue
            warn(kind, io, join(site.path, kind))
            for i, param in enumerate(io.parameters or []):
                if param.value_from is not None:
                    warn(
                        "valueFrom",
                        param.value_from,
                        join(site.path, kind, f"parameters[{i}]", "valueFrom"),
                    )

    def _inputs(self, site: Site) -> None:
        inputs = site.template.inputs
        params = (inputs.parameters if inputs else None) or []
        self.parameter_names(
            site, site.location, params, join(site.path, "inputs.parameters"), "inputs.parameters"
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
            if not PARAM_NAME.fullmatch(param.name):
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
                    path=join(path, "inline"),
                )
            return Site(site.doc, holder.inline, join(path, "inline"), f"{loc} › inline template")
        if holder.template and holder.template_ref is not None:
            self.add(
                site,
                loc,
                "templateRef",
                "template and templateRef cannot both be set",
                "keep one",
                path=join(path, "templateRef"),
            )
            return None
        if holder.template_ref is not None:
            return self._resolve_ref(site, holder.template_ref, loc, join(path, "templateRef"))
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
        if is_tagged(holder.template):
            return None  # resolved at run time
        called = self.site_named(site.doc, holder.template)
        if called is None:
            names = list(template_names(site.doc.spec.templates or []))
            hint = closest(holder.template, names) or "fix the name or add the template"
            self.add(
                site,
                loc,
                "template",
                f"unknown template {holder.template!r} (templates here: {listing(names)})",
                hint,
                path=join(path, "template"),
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
        if is_tagged(ref.name) or is_tagged(ref.template):
            return None
        cluster = bool(ref.cluster_scope)
        doc = self.library.find(ref.name, cluster_scope=cluster)
        if doc is None:
            message, hint = self.library.missing_document(ref.name, cluster_scope=cluster)
            self.add(site, loc, "templateRef.name", message, hint, path=join(path, "name"))
            return None
        called = self.site_named(doc, ref.template)
        if called is None:
            names = list(template_names(doc.spec.templates or []))
            hint = closest(ref.template, names) or "fix templateRef.template"
            self.add(
                site,
                loc,
                "templateRef.template",
                f"{doc.kind} {doc.name!r} has no template {ref.template!r} "
                f"(its templates: {listing(names)})",
                hint,
                path=join(path, "template"),
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
                site, loc, args, join(path, "arguments.parameters"), "arguments.parameters"
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
                        path=join(path, f"arguments.parameters[{i}]"),
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
                        path=join(path, "arguments") if holder is not None else path,
                    )
                continue
            value = values[param.name]
            if (
                param.enum
                and value is not None
                and not is_tagged(value)
                and value not in param.enum
            ):
                self.add(
                    site,
                    loc,
                    args_field,
                    f"{value!r} is not an allowed value of {param.name!r} "
                    f"(enum: {', '.join(param.enum)})",
                    "pass one of the enum values",
                    path=join(path, "arguments") if holder is not None else path,
                )
        if holder is not None:
            for name in values:
                if name not in names:
                    self.add(
                        site,
                        loc,
                        args_field,
                        f"argument {name!r} is not an input of template '{called.name}' "
                        f"(its inputs: {listing(names)}); it is ignored",
                        "declare it in that template's inputs.parameters, or remove it",
                        severity="warning",
                        path=join(path, "arguments"),
                    )
        self.check_template(called)

    def quiet_resolve(self, site: Site, holder: Holder) -> Site | None:
        if holder.inline is not None:
            return Site(site.doc, holder.inline, "", "")
        if holder.template_ref is not None:
            ref = holder.template_ref
            doc = self.library.find(ref.name or "", cluster_scope=bool(ref.cluster_scope))
            return None if doc is None else self.site_named(doc, ref.template or "")
        return self.site_named(site.doc, holder.template or "")

    # -- what tasks and steps share ------------------------------------------------

    def check_holder(self, site: Site, holder: Holder, loc: str, path: str) -> None:
        kind = "task" if isinstance(holder, m.DAGTask) else "step"
        for name, text in unsupported_fields(kind, holder):
            self.add(site, loc, name, text, severity="warning", path=join(path, name))
        if holder.when is not None:
            try:
                check_when(holder.when)
            except ExpressionError as err:
                self.add(
                    site,
                    loc,
                    "when",
                    unwrapped(str(err)),
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
                path=join(path, loops[1]),
            )
        sequence = holder.with_sequence
        if sequence is not None and sequence.count is not None and sequence.end is not None:
            self.add(
                site,
                loc,
                "withSequence",
                "withSequence takes count or end, not both",
                "remove one",
                path=join(path, "withSequence"),
            )
        if (
            holder.on_exit
            and not is_tagged(holder.on_exit)
            and self.site_named(site.doc, holder.on_exit) is None
        ):
            self.add(
                site,
                loc,
                "onExit",
                f"unknown template {holder.on_exit!r}",
                "fix the name or add the template",
                path=join(path, "onExit"),
            )

    def check_references(
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
        for rel, text in strings(data, "", skip):
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
                    unwrapped(str(err)),
                    "close every '{{' with '}}' and fix the expression",
                    path=join(path, rel),
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
                        path=join(path, rel),
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
                        path=join(path, rel),
                    )
