"""Check a whole workflow before any step runs.

Like Gardener compiling its task graph before running a flow, :func:`check`
looks at everything at once: the document's header and spec (entrypoint,
exit handler, arguments and their values), every template it defines, and
every library template it reaches through ``templateRef`` or
``workflowTemplateRef`` — and returns *all* problems, errors and warnings,
each naming file, line, template/task and field.

Two modes, as in Argo:

* **run** (default): what ``clusterforge run`` (and ``argo submit``) needs —
  an entrypoint, and a value for every workflow parameter and every required
  input of the entrypoint template, from the file or from ``arguments``
  (``-p NAME=VALUE``).
* **lint** (``lint=True``): a WorkflowTemplate is checked as a library entry —
  no entrypoint needed, parameters may be left for the workflow that submits
  or references it. A Workflow is still checked as it would run.

:func:`check_or_raise` raises :class:`WorkflowInvalid` if any problem is an
error, and returns the warnings otherwise.
"""

from __future__ import annotations

from collections.abc import Mapping

from hera.workflows import models as m

from ._documents import Document
from ._library import TemplateLibrary, effective_spec
from ._problems import Problem, WorkflowInvalid, errors_of, unique
from ._sites import Site, template_names
from ._support import unsupported_fields
from ._template_checks import TemplateChecker
from ._variables import Globals

__all__ = ["check", "check_or_raise"]

_NO_ARGUMENTS: Mapping[str, str] = {}


def check(
    doc: Document,
    library: TemplateLibrary,
    arguments: Mapping[str, str] = _NO_ARGUMENTS,
    *,
    lint: bool = False,
) -> list[Problem]:
    """Every problem of ``doc`` as it would run with ``arguments`` (errors and warnings)."""
    given = dict(arguments)
    context = doc
    spec = doc.spec
    ref = doc.spec.workflow_template_ref if doc.kind == "Workflow" else None
    problems: list[Problem] = []
    if ref is not None:
        base = library.find(ref.name or "", cluster_scope=bool(ref.cluster_scope))
        if doc.spec.templates:
            problems.append(
                doc.problem(
                    doc.title,
                    "spec.templates",
                    "a Workflow with workflowTemplateRef cannot define templates",
                    "move them into the WorkflowTemplate, or drop workflowTemplateRef",
                    path="spec.templates",
                )
            )
        if base is None:
            message, hint = library.missing_document(
                ref.name or "", cluster_scope=bool(ref.cluster_scope)
            )
            problems.append(
                doc.problem(
                    doc.title,
                    "spec.workflowTemplateRef",
                    message,
                    hint,
                    path="spec.workflowTemplateRef",
                )
            )
            return unique([*doc.problems, *problems])
        context = base
        spec = effective_spec(doc, library)
    checker = TemplateChecker(library, _globals(doc, spec, context, library, given, lint))
    checker.problems.extend(problems)
    checker.note_document(doc)
    must_run = doc.kind == "Workflow" or not lint
    for owner in dict.fromkeys([doc, context]):
        for name, text in unsupported_fields("spec", owner.spec):
            checker.add(
                owner, owner.title, f"spec.{name}", text, severity="warning", path=f"spec.{name}"
            )
        sync = owner.spec.synchronization if owner.spec is not None else None
        for name, text in unsupported_fields("synchronization", sync):
            field = f"spec.synchronization.{name}"
            checker.add(owner, owner.title, field, text, severity="warning", path=field)
        for i, sem in enumerate((sync.semaphores or []) if sync is not None else []):
            for name, text in unsupported_fields("semaphore", sem):
                field = f"spec.synchronization.semaphores[{i}].{name}"
                checker.add(owner, owner.title, field, text, severity="warning", path=field)
    _arguments(checker, doc, spec, given, must_run, lint=lint)
    _entrypoint(checker, doc, context, spec, given, must_run)
    if spec.on_exit:
        _named_template(checker, doc, context, spec.on_exit, "spec.onExit")
    _workflow_hooks(checker, doc, context, spec)
    names: set[str] = set()
    for index, template in enumerate(context.spec.templates or []):
        if template.name in names:
            checker.add(
                context,
                f"template '{template.name}'",
                "name",
                f"template name {template.name!r} is used twice",
                "rename one of them",
                path=f"spec.templates[{index}].name",
            )
            continue
        names.add(template.name or "")
        checker.check_template(checker.site(context, index))
    return unique(checker.problems)


def check_or_raise(
    doc: Document,
    library: TemplateLibrary,
    arguments: Mapping[str, str] = _NO_ARGUMENTS,
    *,
    lint: bool = False,
) -> list[Problem]:
    """The warnings of ``doc``; raises :class:`WorkflowInvalid` if there is any error."""
    problems = check(doc, library, arguments, lint=lint)
    if errors_of(problems):
        raise WorkflowInvalid(problems)
    return problems


def _globals(
    doc: Document,
    spec: m.WorkflowSpec,
    context: Document,
    library: TemplateLibrary,
    given: Mapping[str, str],
    lint: bool,
) -> Globals:
    params = {p.name for p in (spec.arguments.parameters if spec.arguments else None) or []}
    labels: set[str] = set()
    annotations: set[str] = set()
    for meta in (doc.model.metadata, context.model.metadata):
        if meta is not None:
            labels.update(meta.labels or {})
            annotations.update(meta.annotations or {})
    labels_from: set[str] = set()
    if spec.workflow_metadata is not None:
        labels.update(spec.workflow_metadata.labels or {})
        labels_from.update(spec.workflow_metadata.labels_from or {})
        annotations.update(spec.workflow_metadata.annotations or {})
    outputs: set[str] = set()
    for owner in [context, *library.documents()]:
        for template in owner.spec.templates or []:
            for param in (template.outputs.parameters if template.outputs else None) or []:
                if param.global_name:
                    outputs.add(param.global_name)
    return Globals(
        owner=doc.title,
        parameters=frozenset(params | set(given)),
        open_parameters=lint and doc.kind != "Workflow",
        labels=frozenset(labels),
        labels_from=frozenset(labels_from - labels),
        annotations=frozenset(annotations),
        output_parameters=frozenset(outputs),
        has_priority=spec.priority is not None,
    )


def _arguments(
    checker: TemplateChecker,
    doc: Document,
    spec: m.WorkflowSpec,
    given: Mapping[str, str],
    must_run: bool,
    *,
    lint: bool,
) -> None:
    params = (spec.arguments.parameters if spec.arguments else None) or []
    base = "spec.arguments.parameters"
    checker.parameter_names(doc, doc.title, params, base, base)
    for i, param in enumerate(params):
        path = f"{base}[{i}]"
        source = param.value_from
        if source is not None:
            for name, text in unsupported_fields("valueFrom", source):
                checker.add(
                    doc, doc.title, f"{path}.valueFrom.{name}", text, severity="warning", path=path
                )
            if any(
                v is not None
                for v in (
                    source.path,
                    source.parameter,
                    source.expression,
                    source.json_path,
                    source.jq_filter,
                )
            ):
                checker.add(
                    doc,
                    doc.title,
                    f"{path}.valueFrom",
                    f"workflow parameter {param.name!r}: valueFrom here only allows default, "
                    "configMapKeyRef and supplied",
                    "give value: instead",
                    path=path,
                )
        if param.value is None and source is None and param.name not in given and must_run:
            checker.add(
                doc,
                doc.title,
                path,
                f"workflow parameter {param.name!r} has no value",
                f"give it with -p {param.name}=VALUE, or set value: in the file",
                path=path,
            )
        if param.enum is not None:
            value = given.get(param.name, param.value)
            if not param.enum:
                checker.add(
                    doc,
                    doc.title,
                    f"{path}.enum",
                    "enum is empty",
                    "list the allowed values",
                    path=path,
                )
            elif value is not None and "{{" not in value and value not in param.enum:
                checker.add(
                    doc,
                    doc.title,
                    path,
                    f"{value!r} is not an allowed value of {param.name!r} "
                    f"(enum: {', '.join(param.enum)})",
                    "use one of the enum values",
                    path=path,
                )
    declared = {p.name for p in params}
    for name in () if lint else given:  # lint shares one set of -p values across documents
        if name not in declared:
            checker.add(
                doc,
                doc.title,
                "spec.arguments.parameters",
                f"parameter {name!r} is given but not declared; the run gets it as an extra "
                "workflow parameter",
                "check the name, or declare it in spec.arguments.parameters",
                severity="warning",
                path=base,
            )


def _entrypoint(
    checker: TemplateChecker,
    doc: Document,
    context: Document,
    spec: m.WorkflowSpec,
    given: Mapping[str, str],
    must_run: bool,
) -> None:
    if not spec.entrypoint:
        if must_run:
            names = list(template_names(context.spec.templates or []))
            checker.add(
                doc,
                doc.title,
                "spec.entrypoint",
                "required field is missing",
                f"name the template to start with (templates: {', '.join(names) or 'none'})",
                path="spec",
            )
        return
    site = _named_template(checker, doc, context, spec.entrypoint, "spec.entrypoint")
    if site is None or not must_run:
        return
    values: dict[str, str | None] = {
        p.name: p.value for p in (spec.arguments.parameters if spec.arguments else None) or []
    }
    values.update(given)
    checker.check_call(
        doc,
        None,
        site,
        doc.title,
        "spec.arguments",
        given=values,
        args_field="spec.arguments.parameters",
    )


def _workflow_hooks(
    checker: TemplateChecker, doc: Document, context: Document, spec: m.WorkflowSpec
) -> None:
    """``spec.hooks``: ``exit`` is the exit handler (when there is no ``onExit``); every
    other hook runs when its ``expression`` is true, so it needs one (Argo's validateHooks)."""
    for name, hook in sorted((spec.hooks or {}).items()):
        field = f"spec.hooks.{name}"
        if hook.template:
            _named_template(checker, doc, context, hook.template, f"{field}.template")
        if name != "exit" and not hook.expression:
            checker.add(
                doc,
                doc.title,
                f"{field}.expression",
                f"hook {name!r} has no expression: a hook other than exit runs when its "
                "expression is true",
                'add one, e.g. expression: workflow.status == "Running"; or name the hook '
                "exit to run it once the workflow ended",
                path=f"{field}.expression",
            )


def _named_template(
    checker: TemplateChecker, doc: Document, context: Document, name: str, field_name: str
) -> Site | None:
    site = checker.site_named(context, name)
    if site is None and "{{" not in name:
        names = list(template_names(context.spec.templates or []))
        checker.add(
            doc,
            doc.title,
            field_name,
            f"unknown template {name!r} (templates: {', '.join(names) or 'none'})",
            "fix the name or add the template",
            path=field_name,
        )
    return site
