"""Variables: what ``{{…}}`` tags see, and how values come in and go out of a template.

``workflow.*`` (computed once per run, invalidated only when a global output
is published through :meth:`Variables.publish_global`), ``inputs.parameters.*``
of a template, and ``tasks.X.*`` / ``steps.X.*`` of a finished node. Workflow
parameters are rendered by :func:`workflow_parameters`, which the planner uses
too, so a plan and a run see the same text.
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Iterable, Mapping
from typing import Any

from clusterforge.engine.local._operator.artifacts import entry_vars
from clusterforge.engine.local._operator.configmaps import input_from_configmap
from clusterforge.engine.local._operator.context import Context
from clusterforge.engine.local._operator.errors import InputError
from clusterforge.engine.local.values import iso_time, parameter_text
from clusterforge.engine.local.workflow_globals import creation_vars, duration, metadata_vars
from clusterforge.engine.objects import ObjectMissing, Objects
from clusterforge.store import NodeRecord, WorkflowRecord
from clusterforge.workflow.expressions import go_json, substitute

JSON = dict[str, Any]
# A pod's hostNodeName: every step runs on this host (the local meaning of a node).
HOST_NAME = os.uname().nodename
GLOBAL_PREFIX = "workflow.outputs.parameters."


def workflow_parameters(
    spec: Mapping[str, Any],
    arguments: Mapping[str, str],
    from_objects: Mapping[str, str] | None = None,
) -> dict[str, str]:
    """The workflow's parameters as text: the manifest's values (``from_objects``: those
    read from ConfigMaps, see :func:`~.configmaps.global_parameters`), then the submitted ones."""
    params: dict[str, str] = {}
    for param in (spec.get("arguments") or {}).get("parameters", []) or []:
        value = param.get("value", param.get("default"))
        if value is not None:
            params[param["name"]] = parameter_text(value)
        elif from_objects and param["name"] in from_objects:
            params[param["name"]] = from_objects[param["name"]]
    params.update(arguments)
    return params


def parameter_list(values: Mapping[str, str]) -> list[dict[str, str]]:
    """``{name: value}`` as Argo's ``[{name, value}]``."""
    return [{"name": k, "value": v} for k, v in values.items()]


class Variables:
    """The variables of one workflow run, and its global outputs."""

    def __init__(self, workflow: WorkflowRecord) -> None:
        self.wf = workflow
        self.spec: JSON = workflow.manifest.get("spec", {})
        self.globals: dict[str, str] = {}
        self.global_artifacts: dict[str, JSON] = {}
        self._workflow_vars: dict[str, str] | None = None
        self.objects: Objects | None = None  # the run's ConfigMaps and Secrets
        self.from_objects: dict[str, str] = {}  # spec.arguments read from ConfigMaps

    def use_objects(self, objects: Objects, from_objects: Mapping[str, str]) -> None:
        """The run's ConfigMaps/Secrets and the global parameters read from them."""
        self.objects = objects
        self.from_objects = dict(from_objects)
        self._workflow_vars = None

    def publish_global(self, name: str, value: str) -> None:
        """``globalName`` of an output: visible as ``workflow.outputs.parameters.NAME``."""
        self.globals[GLOBAL_PREFIX + name] = value
        self._workflow_vars = None

    def publish_artifacts(self, entries: Iterable[Mapping[str, Any]]) -> None:
        """Artifacts with a ``globalName``: ``workflow.outputs.artifacts.NAME`` (the last wins)."""
        for entry in entries:
            if entry.get("globalName"):
                name = str(entry["globalName"])
                rest = {k: v for k, v in entry.items() if k not in ("globalName", "path")}
                self.global_artifacts[name] = {**rest, "name": name}
                self._workflow_vars = None

    def global_vars(self) -> dict[str, str]:
        """The global outputs published so far (a later step or task sees them)."""
        values = dict(self.globals)
        values.update(entry_vars("workflow", list(self.global_artifacts.values())))
        return values

    def global_outputs(self) -> JSON:
        """The workflow's ``status.outputs``."""
        outputs: JSON = {}
        if self.globals:
            outputs["parameters"] = [
                {"name": k.removeprefix(GLOBAL_PREFIX), "value": v} for k, v in self.globals.items()
            ]
        if self.global_artifacts:
            outputs["artifacts"] = list(self.global_artifacts.values())
        return outputs

    def workflow_vars(self) -> dict[str, str]:
        """The ``workflow.*`` variables (computed once; global outputs invalidate it)."""
        if self._workflow_vars is None:
            self._workflow_vars = self._compute_workflow_vars()
        return self._workflow_vars

    def _compute_workflow_vars(self) -> dict[str, str]:
        wf = self.wf
        values = {
            "workflow.name": wf.name,
            "workflow.namespace": wf.namespace,
            "workflow.uid": wf.uid,
            "workflow.mainEntrypoint": self.spec.get("entrypoint", ""),
        }
        values.update(creation_vars(wf.created_at))
        values.update(metadata_vars(wf.manifest.get("metadata") or {}, wf.labels, self.spec))
        params = workflow_parameters(self.spec, wf.arguments, self.from_objects)
        for name, value in params.items():
            values[f"workflow.parameters.{name}"] = value
        # json.Marshal of spec.arguments.parameters, under both names (Argo).
        values["workflow.parameters"] = go_json(parameter_list(params))
        values["workflow.parameters.json"] = values["workflow.parameters"]
        values.update(self.globals)
        values.update(entry_vars("workflow", list(self.global_artifacts.values())))
        return values

    def workflow_arguments(self) -> dict[str, str]:
        """``spec.arguments`` with the submitted values: what a hook without arguments gets."""
        return workflow_parameters(self.spec, self.wf.arguments, self.from_objects)

    def template_vars(self, inputs: Mapping[str, str], ctx: Context) -> dict[str, str]:
        """What a template's body sees: workflow variables, its inputs, the caller's extras."""
        values = dict(self.workflow_vars())
        values["workflow.duration"] = duration(self.wf.started_at)
        # Argo's setGlobalRuntimeParameters: the phase while it runs (exit handlers
        # get the final one through their context).
        values["workflow.status"] = "Running"
        for key, value in inputs.items():
            values[f"inputs.parameters.{key}"] = value
        # As Argo (json.Marshal of the template's inputs): "null" when it has none.
        values["inputs.parameters"] = json.dumps(parameter_list(inputs) or None)
        values.update(ctx.extra_vars)
        return values

    def template_outputs(self, template: JSON, values: Mapping[str, str]) -> JSON:
        """A DAG's or steps' ``outputs.parameters`` (from ``valueFrom.parameter`` / expression)."""
        params = []
        for param in (template.get("outputs") or {}).get("parameters", []) or []:
            source = param.get("valueFrom") or {}
            if "parameter" in source:
                value = substitute(source["parameter"], values, missing="error")
            elif "expression" in source:
                value = substitute("{{=" + source["expression"] + "}}", values, missing="error")
            elif param.get("value") is not None:
                value = substitute(parameter_text(param["value"]), values, missing="error")
            elif source.get("default") is not None:
                value = parameter_text(source["default"])
            else:
                continue
            params.append({"name": param["name"], "value": value})
            if param.get("globalName"):
                self.publish_global(param["globalName"], value)
        return {"parameters": params} if params else {}


def resolve_inputs(
    template: JSON,
    arguments: Mapping[str, str],
    workflow_vars: Mapping[str, str],
    objects: Objects | None = None,
    namespace: str = "default",
) -> dict[str, str]:
    """A template's input parameters: the caller's argument, else its ConfigMap's value
    (``valueFrom.configMapKeyRef``, from ``objects``), else its value or default.

    A value or default the template declares itself is substituted with the
    workflow's variables first, as Argo does (``value: "{{=sprig.b64dec(…)}}"``).
    """
    values: dict[str, str] = {}
    for param in (template.get("inputs") or {}).get("parameters", []) or []:
        pname = param["name"]
        if pname in arguments:
            value = arguments[pname]
        elif (from_map := _from_configmap(param, objects, namespace, workflow_vars)) is not None:
            value = from_map
        elif param.get("value") is not None:
            value = substitute(parameter_text(param["value"]), workflow_vars, missing="keep")
        elif param.get("default") is not None:
            value = substitute(parameter_text(param["default"]), workflow_vars, missing="keep")
        else:
            raise InputError(f"inputs.parameters.{pname} was not supplied")
        enum = param.get("enum")
        if enum and value not in [parameter_text(e) for e in enum]:
            raise InputError(
                f"inputs.parameters.{pname}: {value!r} is not one of "
                f"{[parameter_text(e) for e in enum]}"
            )
        values[pname] = value
    return values


SKIPPED = frozenset({"Skipped", "Omitted"})
_PURE_REFERENCE = re.compile(r"^\{\{\s*((tasks|steps)\.([^.{}\s]+)\.outputs\.[^{}\s]+)\s*\}\}$")


def skipped_defaults(key: str, template: JSON) -> dict[str, str]:
    """A skipped/omitted call's output parameters that declare ``valueFrom.default``."""
    values: dict[str, str] = {}
    for param in (template.get("outputs") or {}).get("parameters", []) or []:
        default = (param.get("valueFrom") or {}).get("default")
        if default is not None:
            values[f"{key}.outputs.parameters.{param['name']}"] = parameter_text(default)
    return values


def reads_configmap(template: JSON, where: str = "inputs") -> bool:
    """Whether a parameter of ``template``'s ``inputs`` (or a task's ``arguments``)
    is read from a ConfigMap."""
    params = (template.get(where) or {}).get("parameters", []) or []
    return any("configMapKeyRef" in (p.get("valueFrom") or {}) for p in params)


def _from_configmap(
    param: JSON, objects: Objects | None, namespace: str, workflow_vars: Mapping[str, str]
) -> str | None:
    try:
        return input_from_configmap(param, objects, namespace, workflow_vars)
    except ObjectMissing as err:
        raise InputError(str(err)) from None


def call_arguments(
    task: JSON,
    values: Mapping[str, str],
    objects: Objects | None = None,
    namespace: str = "default",
) -> dict[str, str]:
    """A task's/step's ``arguments.parameters``, substituted.

    An argument that is only a reference to a skipped/omitted call's output
    with no default (an absent optional, in Argo's words) is left unsupplied,
    so the called template's input default applies, as Argo does. One given as
    ``valueFrom.configMapKeyRef`` is read as the input it fills would be.
    """
    arguments: dict[str, str] = {}
    for p in (task.get("arguments") or {}).get("parameters", []) or []:
        if p.get("value") is None:
            from_map = _from_configmap(p, objects, namespace, values)
            if from_map is not None:
                arguments[p["name"]] = from_map
            continue
        text = parameter_text(p["value"])
        if _absent_optional(text, values):
            continue
        arguments[p["name"]] = substitute(text, values, missing="error")
    return arguments


def _absent_optional(text: str, values: Mapping[str, str]) -> bool:
    match = _PURE_REFERENCE.match(text)
    if match is None or match.group(1) in values:
        return False
    return values.get(f"{match.group(2)}.{match.group(3)}.status") in SKIPPED


def node_vars(key: str, rec: NodeRecord, children: Iterable[NodeRecord]) -> dict[str, str]:
    """``tasks.X.*`` / ``steps.X.*`` of a finished node (a loop's: its children's, as lists)."""
    values = {f"{key}.status": rec.phase, f"{key}.id": rec.id}
    if rec.started_at:
        values[f"{key}.startedAt"] = iso_time(rec.started_at)
    if rec.finished_at:
        values[f"{key}.finishedAt"] = iso_time(rec.finished_at)
    if rec.type == "TaskGroup":
        values.update(_group_outputs(key, list(children)))
        return values
    if rec.type in ("Pod", "Retry"):
        values[f"{key}.hostNodeName"] = HOST_NAME
    outputs = rec.outputs
    if "result" in outputs:
        values[f"{key}.outputs.result"] = outputs["result"]
    if "exitCode" in outputs:
        values[f"{key}.exitCode"] = outputs["exitCode"]
        values[f"{key}.outputs.exitCode"] = outputs["exitCode"]
    for param in outputs.get("parameters", []):
        values[f"{key}.outputs.parameters.{param['name']}"] = param["value"]
    if "artifacts" in outputs:
        values.update(entry_vars(key, outputs["artifacts"]))
    return values


def _group_outputs(key: str, kids: list[NodeRecord]) -> dict[str, str]:
    compact = (",", ":")
    values: dict[str, str] = {}
    # As Argo (processAggregateNodeOutputs): succeeded children only, and each
    # result that is JSON joins the list as its value, so ``withParam`` over
    # the list sees objects (``item.field``) rather than strings of JSON.
    kids = [k for k in kids if k.phase == "Succeeded"]
    results = [_json_or_text(k.outputs["result"]) for k in kids if "result" in k.outputs]
    values[f"{key}.outputs.result"] = json.dumps(results, separators=compact)
    names = {p["name"] for k in kids for p in k.outputs.get("parameters", [])}
    for pname in sorted(names):
        values[f"{key}.outputs.parameters.{pname}"] = json.dumps(
            [
                p["value"]
                for k in kids
                for p in k.outputs.get("parameters", [])
                if p["name"] == pname
            ],
            separators=compact,
        )
    values[f"{key}.outputs.parameters"] = json.dumps(
        [{p["name"]: p["value"] for p in k.outputs.get("parameters", [])} for k in kids],
        separators=compact,
    )
    return values


def _json_or_text(text: str) -> Any:
    try:
        return json.loads(text)
    except ValueError:
        return text
