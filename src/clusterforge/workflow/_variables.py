"""Which ``{{…}}`` variables a field may use, where — Argo's validation scopes.

Argo checks every ``{{…}}`` tag whose name starts with ``item``, ``inputs.``,
``outputs.``, ``pod.``, ``node.``, ``workflow.``, ``tasks.`` or ``steps.``
against what will exist when the field is substituted (workflow/validate,
``resolveAllVariables``); other tags are left alone. The rules, and the
choices made here where Argo's validation is looser than its runtime:

* ``inputs.parameters.X`` needs an input ``X`` declared by the template.
* ``workflow.parameters.X`` needs ``X`` in the workflow's ``spec.arguments``
  — except when a WorkflowTemplate is linted on its own: the workflow that
  uses it may declare the parameter (Argo allows this too).
* ``item`` exists only in a task or step with ``withItems``, ``withParam``
  or ``withSequence``; ``item.key`` needs ``key`` in the items' maps.
* ``tasks.X.…`` needs a task ``X`` in the same DAG, and an attribute its
  template produces (``outputs.parameters.P`` declared, ``outputs.result``
  only from a container or script). ``tasks.X.status`` needs ``X`` upstream,
  as does an argument value that *is* a ``{{tasks.X…}}`` reference (Argo
  rejects both). Anywhere else a reference to a task that is not upstream is
  a warning: Argo accepts it, but the value may not exist yet at run time.
* ``steps.X.…`` needs a step ``X`` in an *earlier* group of the same steps
  template (a step of the same group has not finished).
* Variables Argo knows but the local engine does not provide
  (labels from ``labelsFrom``, a CronWorkflow's ``scheduledTime``, …) are warnings.

Inside ``{{=…}}`` expressions only the names are checked (an expression may
legitimately index or filter what it reads).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Literal

from ._problems import Severity

__all__ = ["Globals", "ItemScope", "NodeInfo", "Scope", "Verdict", "judge"]

_CHECKED_PREFIXES = (
    "item",
    "inputs.",
    "outputs.",
    "pod.",
    "node.",
    "workflow.",
    "tasks.",
    "steps.",
)
SCHEDULED_TIME = "workflows.argoproj.io/scheduled-time"
_NOT_PROVIDED = "is not provided by the local engine; the text stays as written"


@dataclass(frozen=True)
class Verdict:
    severity: Severity
    message: str
    hint: str = ""


@dataclass(frozen=True)
class Globals:
    """The ``workflow.*`` names of one run."""

    owner: str = "the workflow"  # e.g. "Workflow 'build-'", for messages
    parameters: frozenset[str] = frozenset()
    open_parameters: bool = False  # a WorkflowTemplate linted alone: any name may come later
    labels: frozenset[str] = frozenset()
    labels_from: frozenset[str] = frozenset()  # spec.workflowMetadata.labelsFrom: not evaluated
    annotations: frozenset[str] = frozenset()
    output_parameters: frozenset[str] = frozenset()
    has_priority: bool = False


@dataclass(frozen=True)
class ItemScope:
    """What ``{{item…}}`` may name in a loop."""

    kind: Literal["items", "param", "sequence"]
    scalar: bool = False
    keys: frozenset[str] = frozenset()
    list_length: int = 0


@dataclass(frozen=True)
class NodeInfo:
    """A task or step, as far as references to it are concerned."""

    template: str  # what it calls, for messages
    outputs: frozenset[str] | None = None  # output parameter names; None if unknown
    artifacts: frozenset[str] | None = None
    has_result: bool = False  # a container or script (or a looped script)
    aggregate: bool = False  # looped: outputs are JSON lists
    daemon: bool = False
    group: int = 0  # steps only: the group it runs in


@dataclass(frozen=True)
class Scope:
    """Everything a field of one template (or one task or step of it) may reference."""

    template: str
    globals: Globals
    inputs: frozenset[str] = frozenset()
    input_artifacts: frozenset[str] = frozenset()
    leaf: bool = True
    pod_name: bool = False  # the engine sets {{pod.name}} here (container, script, resource)
    items: ItemScope | None = None
    node_kind: Literal["tasks", "steps"] | None = None
    nodes: Mapping[str, NodeInfo] = field(default_factory=dict)
    upstream: frozenset[str] | None = None  # tasks: ancestors; steps: earlier steps; None: all
    current: str | None = None  # the task or step being checked
    current_group: int = 0


def judge(
    name: str, scope: Scope, *, expression: bool = False, whole_value: bool = False
) -> Verdict | None:
    """None if ``{{name}}`` is fine here; otherwise what is wrong (an error or a warning).

    ``whole_value`` says the reference is an argument's entire value, where
    Argo requires a referenced task to be upstream.
    """
    name = name.strip()
    if not name.startswith(_CHECKED_PREFIXES):
        return None
    if name == "item" or name.startswith(("item.", "item[")):
        return _item(name, scope, expression)
    if name.startswith("item"):
        return None  # some other variable that merely starts with "item"
    if name.startswith("inputs."):
        return _inputs(name, scope)
    if name.startswith("outputs."):
        return None  # a template naming its own outputs (e.g. in metrics) is fine
    if name.startswith("pod."):
        if name != "pod.name":
            return Verdict(
                "error", f"unknown variable {{{{{name}}}}}", "the only pod variable is pod.name"
            )
        if not scope.leaf:
            return Verdict("error", "{{pod.name}} is only set in container and script templates")
        if scope.pod_name:
            return None
        return Verdict("warning", f"{{{{{name}}}}} {_NOT_PROVIDED}")
    if name.startswith("node."):
        if name != "node.name":
            return Verdict(
                "error", f"unknown variable {{{{{name}}}}}", "the only node variable is node.name"
            )
        return None
    if name.startswith("workflow."):
        return _workflow(name, scope.globals)
    return _node(name, scope, expression, whole_value)


def _names(names: object) -> str:
    listed = sorted(str(n) for n in names)  # type: ignore[attr-defined]
    return ", ".join(listed) if listed else "none"


def _item(name: str, scope: Scope, expression: bool) -> Verdict | None:
    items = scope.items
    if items is None:
        return Verdict(
            "error",
            f"{{{{{name}}}}} is only set in a task or step with withItems, withParam "
            "or withSequence",
            "loop over items here, or pass the value in as an input parameter",
        )
    if expression or items.kind == "param" or (name == "item" and items.kind == "sequence"):
        return None
    if items.kind == "sequence":
        return Verdict(
            "error", f"{{{{{name}}}}}: withSequence items are plain numbers", "use {{item}}"
        )
    if name == "item":
        return None  # a map or list item reads as its JSON (Argo's processItem)
    key = name[len("item.") :] if name.startswith("item.") else name[len("item") :]
    if key in items.keys:
        return None
    index = key[1:-1] if key.startswith("[") and key.endswith("]") else ""
    if index.isdigit() and int(index) < items.list_length:
        return None
    return Verdict(
        "error",
        f"{{{{{name}}}}}: no withItems entry has the key {key!r} (keys: {_names(items.keys)})",
        "fix the key, or add it to the items",
    )


def _inputs(name: str, scope: Scope) -> Verdict | None:
    if name == "inputs.parameters":
        # The whole list as JSON; Argo's controller gives "null" for a template
        # with none, which Hera's script runner (source: '{{inputs.parameters}}') reads.
        return None
    if name.startswith("inputs.parameters."):
        param = name[len("inputs.parameters.") :]
        if param in scope.inputs:
            return None
        return Verdict(
            "error",
            f"{{{{{name}}}}}: template '{scope.template}' declares no input parameter {param!r} "
            f"(its inputs: {_names(scope.inputs)})",
            f"add {{name: {param}}} to its inputs.parameters, or fix the name",
        )
    if name.startswith("inputs.artifacts."):
        art = name[len("inputs.artifacts.") :]
        if art.endswith(".path"):
            art = art[: -len(".path")]
        if art in scope.input_artifacts:
            return None
        return Verdict(
            "error",
            f"{{{{{name}}}}}: template '{scope.template}' declares no input artifact {art!r}",
            "declare it in inputs.artifacts, or fix the name",
        )
    return Verdict("error", f"unknown variable {{{{{name}}}}}", "use inputs.parameters.NAME")


_WORKFLOW_PROVIDED = frozenset(
    {
        "workflow.name",
        "workflow.namespace",
        "workflow.uid",
        "workflow.mainEntrypoint",
        "workflow.creationTimestamp",
        "workflow.status",
        "workflow.failures",
        "workflow.parameters",
        "workflow.parameters.json",
        "workflow.serviceAccountName",
        "workflow.duration",
        "workflow.labels",
        "workflow.labels.json",
        "workflow.annotations",
        "workflow.annotations.json",
    }
)
# workflow.creationTimestamp.X: Argo's strftime characters, Unix seconds, RFC 3339.
_CREATION_FORMATS = frozenset("BbmAadHIMSYypZzL") | {"s", "RFC3339"}


def _workflow(name: str, globals_: Globals) -> Verdict | None:
    if name in _WORKFLOW_PROVIDED:
        return None
    if name.startswith("workflow.creationTimestamp."):
        if name.removeprefix("workflow.creationTimestamp.") in _CREATION_FORMATS:
            return None
        return Verdict(
            "error",
            f"{{{{{name}}}}}: not a creationTimestamp format",
            "use one strftime character of BbmAadHIMSYypZzL, s (Unix seconds) or RFC3339",
        )
    if name == "workflow.scheduledTime":
        if SCHEDULED_TIME in globals_.annotations:
            return None
        return Verdict("warning", f"{{{{{name}}}}} is set only for a CronWorkflow's runs")
    if name == "workflow.priority":
        if globals_.has_priority:
            return None
        return Verdict("error", "{{workflow.priority}}: the workflow sets no spec.priority")
    for prefix, known, what in (
        ("workflow.parameters.", globals_.parameters, "parameter"),
        ("workflow.labels.", globals_.labels, "label"),
        ("workflow.annotations.", globals_.annotations, "annotation"),
        ("workflow.outputs.parameters.", globals_.output_parameters, "output parameter"),
    ):
        if not name.startswith(prefix):
            continue
        key = name[len(prefix) :]
        if key in known:
            return None
        if what == "label" and key in globals_.labels_from:
            return Verdict("warning", f"{{{{{name}}}}} (from labelsFrom) {_NOT_PROVIDED}")
        if what == "parameter":
            if globals_.open_parameters:
                return None
            return Verdict(
                "error",
                f"{{{{{name}}}}}: {globals_.owner} declares no parameter {key!r} "
                f"(spec.arguments.parameters: {_names(globals_.parameters)})",
                f"add {{name: {key}}} to the workflow's spec.arguments.parameters, or fix the name",
            )
        if what == "output parameter":
            return Verdict(
                "error",
                f"{{{{{name}}}}}: no output parameter has globalName {key!r}",
                "set globalName on the output parameter that should provide it",
            )
        return Verdict(
            "error",
            f"{{{{{name}}}}}: the workflow has no {what} {key!r}",
            f"add it to metadata.{what}s, or fix the name",
        )
    if name.startswith("workflow.outputs.artifacts."):
        return None  # set by an output artifact's globalName while the workflow runs
    return Verdict(
        "error",
        f"unknown variable {{{{{name}}}}}",
        "workflow variables: name, namespace, uid, parameters(.json), parameters.NAME, "
        "labels(.json), labels.NAME, annotations(.json), annotations.NAME, status, failures, "
        "creationTimestamp(.X), mainEntrypoint, serviceAccountName, priority, duration, "
        "outputs.parameters.NAME",
    )


_NODE_PROVIDED = frozenset({"status", "id", "startedAt", "finishedAt"})


def _node(name: str, scope: Scope, expression: bool, whole_value: bool) -> Verdict | None:
    kind = "tasks" if name.startswith("tasks.") else "steps"
    singular = kind[:-1]
    rest = name[len(kind) + 1 :]
    target, _, attribute = rest.partition(".")
    if rest == "name":
        return None  # the calling step's/task's name (Argo's localParams), in any template
    if scope.node_kind != kind:
        where = "a DAG template's tasks" if kind == "tasks" else "a steps template's steps"
        return Verdict("error", f"{{{{{name}}}}} is only available in {where}")
    if target not in scope.nodes:
        if rest == "name":
            return None  # {{tasks.name}} / {{steps.name}}: the current task's name
        container = "this DAG" if kind == "tasks" else "this steps template"
        return Verdict(
            "error",
            f"{{{{{name}}}}}: unknown {singular} {target!r} ({kind} in {container}: "
            f"{_names(scope.nodes)})",
            f"fix the name or add the {singular}",
        )
    node = scope.nodes[target]
    if not expression:
        problem = _attribute(name, singular, target, attribute, node)
        if problem is not None:
            return problem
    return _visibility(name, kind, target, attribute, node, scope, whole_value)


def _attribute(
    name: str, singular: str, target: str, attribute: str, node: NodeInfo
) -> Verdict | None:
    called = f"{singular} {target!r} (template '{node.template}')"
    if attribute in _NODE_PROVIDED:
        return None
    if attribute == "hostNodeName":
        return None  # this host's name: every pod runs here
    if attribute == "ip":
        if node.daemon:
            return None  # 127.0.0.1: daemons run on this host
        return Verdict("error", f"{{{{{name}}}}}: only daemon steps have an ip")
    if attribute in ("outputs.result", "exitCode", "outputs.exitCode"):
        if node.has_result or node.outputs is None:
            return None
        return Verdict(
            "error",
            f"{{{{{name}}}}}: {called} is not a container, script, http or data template, "
            f"so it has no {attribute.removeprefix('outputs.')}",
            "use one of its outputs.parameters",
        )
    if attribute == "outputs.parameters":
        if node.aggregate or node.outputs is None:
            return None
        return Verdict(
            "error",
            f"{{{{{name}}}}}: only a looped {singular} has an aggregated outputs.parameters",
            "name one parameter: outputs.parameters.NAME",
        )
    if attribute.startswith("outputs.parameters."):
        param = attribute[len("outputs.parameters.") :]
        if node.outputs is None or param in node.outputs:
            return None
        return Verdict(
            "error",
            f"{{{{{name}}}}}: {called} has no output parameter {param!r} "
            f"(its outputs: {_names(node.outputs)})",
            "declare it in that template's outputs.parameters, or fix the name",
        )
    if attribute.startswith("outputs.artifacts."):
        art = attribute[len("outputs.artifacts.") :]
        if node.artifacts is None or art in node.artifacts:
            return None
        return Verdict(
            "error",
            f"{{{{{name}}}}}: {called} has no output artifact {art!r}",
            "declare it in that template's outputs.artifacts, or fix the name",
        )
    return Verdict(
        "error",
        f"{{{{{name}}}}}: unknown attribute {attribute or '(none)'!r} of {singular} {target!r}",
        "use outputs.result, outputs.parameters.NAME, exitCode, status, id, startedAt or "
        "finishedAt",
    )


def _visibility(
    name: str,
    kind: str,
    target: str,
    attribute: str,
    node: NodeInfo,
    scope: Scope,
    whole_value: bool,
) -> Verdict | None:
    if scope.upstream is None or target in scope.upstream:
        return None
    if kind == "steps":
        if target == scope.current or node.group >= scope.current_group:
            when = "in the same group" if node.group == scope.current_group else "later"
            return Verdict(
                "error",
                f"{{{{{name}}}}}: step {target!r} runs {when} (group {node.group + 1}), "
                "so its outputs do not exist yet",
                f"move step {target!r} into an earlier group",
            )
        return None
    if target == scope.current:
        return Verdict(
            "error",
            f"{{{{{name}}}}}: a task cannot read its own outputs",
            "read them in a task that depends on this one",
        )
    hint = f"add {target!r} to this task's depends"
    if attribute == "status" or whole_value:
        what = "status" if attribute == "status" else "outputs"
        return Verdict(
            "error",
            f"{{{{{name}}}}}: task {target!r} is not upstream of this task, so its {what} "
            "may not exist when it runs",
            hint,
        )
    return Verdict(
        "warning",
        f"{{{{{name}}}}}: task {target!r} is not upstream of this task; its outputs may not "
        "exist yet when this task runs",
        hint,
    )
