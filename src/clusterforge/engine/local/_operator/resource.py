"""A ``resource`` template: kubectl against the workflow's cluster, as Argo's executor.

Argo runs these in a pod whose ``argoexec resource`` (cmd/argoexec/commands/
resource.go, workflow/executor/resource.go) does, in order — and so does this
module, from the engine, with the real kubectl (``engine/local/kubectl.py``):

1. refuse ``successCondition``/``failureCondition``/outputs on ``delete``;
2. the manifest — ``manifest`` after ``{{…}}`` substitution, or the input
   artifact ``manifestFrom.artifact`` names; with ``setOwnerReference`` the
   object gets a controller owner (locally the workflow's owner ConfigMap,
   see ``engine/local/owner.py``);
3. ``kubectl ACTION … -o json`` with Argo's arguments; a failure fails the node
   with ``no more retries <kubectl's error>``;
4. unless deleting: poll the object every ``RESOURCE_STATE_CHECK_INTERVAL``
   (Argo's variable; 5 s on Argo, 1 s here by default) until a failure
   condition holds (Failed: ``failure condition '…' evaluated true``) or every
   success condition does; an object deleted meanwhile fails the node;
5. output parameters from ``valueFrom.jsonPath`` (kubectl's jsonpath) or
   ``valueFrom.jqFilter`` (libjq), ``valueFrom.default`` when there is no object.

The node is a ``Pod`` node, as on Argo; ``retryStrategy`` and
``activeDeadlineSeconds`` wrap it as any pod. Once its action succeeded the node
records the object (``acted.json``), so a run resumed after the engine died
waits on that object rather than creating it twice. A workflow submitted without a
cluster never gets here (refused at submission, naming ``--kubeconfig``).
"""

from __future__ import annotations

import asyncio
import json
import os
import shutil
from pathlib import Path
from typing import Any

import yaml

from clusterforge.engine.artifacts import ArtifactFailure
from clusterforge.engine.cluster import ClusterRef
from clusterforge.engine.local._operator.artifacts import PodArtifacts, input_vars, pod_name
from clusterforge.engine.local._operator.context import Call, Context
from clusterforge.engine.local._operator.resource_log import LOG_FILE, RESOURCES, ResourceLog
from clusterforge.engine.local._operator.runtime import Runtime
from clusterforge.engine.local.durations import parse_duration
from clusterforge.engine.local.kubectl import (
    KubectlMissing,
    action_args,
    jq_filter,
    names_namespace,
    run_kubectl,
    run_with_retries,
    transient,
)
from clusterforge.engine.local.owner import OwnerFailed, ensure_owner
from clusterforge.engine.local.values import parameter_text, substitute_tree
from clusterforge.errors import InvalidInput
from clusterforge.safety import inside, load_yaml_documents, loads_json
from clusterforge.store import NodeRecord
from clusterforge.workflow import ConditionError, Requirement, parse_condition
from clusterforge.workflow.expressions import ExpressionError

__all__ = ["NO_CLUSTER", "ResourceFailed", "check_interval", "run_resource"]

JSON = dict[str, Any]
ACTED = "acted.json"
"""In the node's directory: the object its action made or changed (see ``_acted``)."""
ACTIONS = ("get", "create", "apply", "delete", "replace", "patch")
NO_CLUSTER = (
    "a resource template needs a cluster: run the workflow with --kubeconfig FILE "
    "(and --namespace N)"
)


class ResourceFailed(Exception):
    """The node fails (``phase``) with this message."""

    def __init__(self, message: str, phase: str = "Failed") -> None:
        super().__init__(message)
        self.phase = phase


def check_interval() -> float:
    """Seconds between condition checks: ``RESOURCE_STATE_CHECK_INTERVAL`` (a Go
    duration, as Argo's executor reads it), else 1 s."""
    raw = os.environ.get("RESOURCE_STATE_CHECK_INTERVAL")
    if not raw:
        return 1.0
    try:
        return max(0.05, parse_duration(raw, field="RESOURCE_STATE_CHECK_INTERVAL"))
    except InvalidInput:
        return 1.0


async def run_resource(
    rt: Runtime, name: str, display: str, call: Call, inputs: dict[str, str], ctx: Context
) -> NodeRecord:
    """A resource node: substitute, act with kubectl, wait for its conditions, outputs."""
    resumed = name in rt.journal.by_name  # an engine that died left it unfinished
    node, values = rt.leaf_node(name, display, "Pod", call, inputs, ctx)
    values.update(input_vars(call.artifacts))
    values["pod.name"] = pod_name(rt.journal.wf.name, str(call.template.get("name", "")), node.id)
    try:
        spec = substitute_tree(call.template["resource"], values)
    except ExpressionError as err:
        return rt.journal.finish(node, "Error", str(err))
    if rt.cluster is None or rt.work_dir is None:
        return rt.journal.finish(node, "Error", NO_CLUSTER)
    await rt.journal.durable()
    work = rt.work_dir / RESOURCES / node.id
    if not resumed:  # a new attempt (or `retry` of a failed one) acts anew
        await asyncio.to_thread(shutil.rmtree, work, True)
    run = ResourceRun(rt, node, call, spec, rt.cluster, work)
    node.log_dir = str(work)  # its log, as a pod's (resource_log.py)
    phase, message = "Succeeded", ""
    try:
        outputs = await run.run(values)
    except ResourceFailed as err:
        outputs, phase, message = [], err.phase, str(err)
    except KubectlMissing as err:
        outputs, phase, message = [], "Error", str(err)
    if message:
        run.log.line(message, "error")
    if outputs:
        node.outputs = {"parameters": outputs}
        for param, out in zip(run.output_params, outputs, strict=False):
            if param.get("globalName"):
                rt.variables.publish_global(param["globalName"], out["value"])
    problem = await archive_log(rt, call, values, node, work)
    if problem and phase == "Succeeded":
        phase, message = "Error", problem
    return rt.journal.finish(node, phase, message)


async def archive_log(
    rt: Runtime, call: Call, values: dict[str, str], node: NodeRecord, work: Path
) -> str:
    """With ``archiveLogs``, store the node's log as its ``main-logs`` artifact (as a
    pod's); why it could not be, if so."""
    if rt.artifacts is None or not rt.artifacts.archives_logs(call.template):
        return ""
    arts = PodArtifacts(rt.artifacts, call.template, [], values, values.get("pod.name", ""))
    arts.outputs = []  # a resource template's outputs are parameters only
    try:
        entries = await asyncio.to_thread(arts.collect, lambda p: work / p, [work / LOG_FILE])
    except ArtifactFailure as err:
        return str(err)
    if entries:
        node.outputs = {**node.outputs, "artifacts": entries}
    return ""


class ResourceRun:
    """One attempt of a resource template (Argo's ``execResource``)."""

    def __init__(
        self, rt: Runtime, node: NodeRecord, call: Call, spec: JSON, cluster: ClusterRef, work: Path
    ) -> None:
        self.rt, self.node, self.call, self.spec = rt, node, call, spec
        self.cluster, self.work = cluster, work
        self.log = ResourceLog(work)
        self.action = str(spec.get("action", ""))
        template_outputs = (call.template.get("outputs") or {}).get("parameters") or []
        self.output_params: list[JSON] = list(template_outputs)

    async def run(self, values: dict[str, str]) -> list[JSON]:
        if self.action not in ACTIONS:
            raise ResourceFailed(
                f"resource.action {self.action!r}: use one of {', '.join(ACTIONS)}", "Error"
            )
        deleting = self.action == "delete"
        waits = self.spec.get("successCondition") or self.spec.get("failureCondition")
        if deleting and (waits or self.output_params):
            raise ResourceFailed(
                "successCondition, failureCondition and outputs are not supported for delete action"
            )
        acted = self._acted()
        if acted is None:  # (a resumed node whose action was done goes on waiting)
            stdout = await self._act(values)
            if deleting:
                return []
            if self.action == "get" and not stdout.strip():
                return self._defaults()
            acted = _identity(stdout)
            self._record(acted)
            self.log.resource(*acted)
        namespace, full_name = acted
        if waits:
            await self._wait(namespace, full_name)
        return await self._outputs(namespace, full_name)

    async def _act(self, values: dict[str, str]) -> str:
        """Run the action; kubectl's output (Argo's message when it fails)."""
        text, doc = await self._manifest(values)
        manifest = self.work / "manifest.yaml"
        manifest.write_text(text)
        flags = [parameter_text(f) for f in self.spec.get("flags") or []]
        try:
            args = action_args(
                self.action, manifest, text, flags, self.spec.get("mergeStrategy"), doc
            )
        except ValueError as err:
            raise ResourceFailed(str(err)) from None
        namespace = not names_namespace(args, doc)
        self.log.command(args, self.cluster.namespace if namespace else None)
        ran = await run_with_retries(self.cluster, args, namespace=namespace)
        if ran.code != 0:
            self.log.failed(ran.code, ran.stderr)
            raise ResourceFailed(f"no more retries {ran.stderr.strip()}")
        if self.action == "delete":
            self.log.line(f"Deleted: {ran.stdout.strip() or 'nothing (not found)'}")
        return ran.stdout

    def _acted(self) -> tuple[str, str] | None:
        """The object this node already acted on, when an engine that died left it waiting."""
        try:
            found = json.loads((self.work / ACTED).read_text())
            return str(found["namespace"]), str(found["name"])
        except (OSError, ValueError, KeyError, TypeError):
            return None

    def _record(self, acted: tuple[str, str]) -> None:
        """Remember the object acted on (atomically), so a resumed run does not act twice."""
        temporary = self.work / f".{ACTED}.{os.getpid()}"
        temporary.write_text(json.dumps({"namespace": acted[0], "name": acted[1]}))
        temporary.replace(self.work / ACTED)

    async def _manifest(self, values: dict[str, str]) -> tuple[str, Any]:
        """The manifest's text and its decoded document (owner reference added)."""
        self.work.mkdir(parents=True, exist_ok=True)
        source = (self.spec.get("manifestFrom") or {}).get("artifact") or {}
        if source:
            text = await self._artifact_text(str(source.get("name", "")), values)
        else:
            text = parameter_text(self.spec.get("manifest", ""))
        try:
            docs = [d for d in load_yaml_documents(text, "resource.manifest") if d is not None]
        except (yaml.YAMLError, InvalidInput) as err:
            raise ResourceFailed(f"resource.manifest: not valid YAML: {err}", "Error") from None
        doc = docs[0] if len(docs) == 1 else None
        if self.spec.get("setOwnerReference"):
            if not isinstance(doc, dict):
                raise ResourceFailed(
                    "resource.setOwnerReference: the manifest must be one Kubernetes object",
                    "Error",
                )
            wf = self.rt.journal.wf
            try:
                owner = await ensure_owner(self.cluster, wf.name, wf.uid, self.work)
            except OwnerFailed as err:
                raise ResourceFailed(str(err)) from None
            meta = doc.setdefault("metadata", {})
            meta["ownerReferences"] = [*(meta.get("ownerReferences") or []), owner]
            text = yaml.safe_dump(doc, sort_keys=False)
        return text, doc

    async def _artifact_text(self, name: str, values: dict[str, str]) -> str:
        """The content of the input artifact ``manifestFrom.artifact`` names."""
        found = next((a for a in self.call.artifacts if a.get("name") == name), None)
        if found is None or self.rt.artifacts is None:
            raise ResourceFailed(
                f"resource.manifestFrom.artifact {name!r}: the template has no input "
                "artifact of that name",
                "Error",
            )
        root = self.work / "artifacts"
        root.mkdir(parents=True, exist_ok=True)
        arts = PodArtifacts(self.rt.artifacts, self.call.template, [found], values, "")

        def host_path(path: str) -> Path:
            return inside(root, path.lstrip("/") or ".")

        try:
            await asyncio.to_thread(arts.stage, host_path)
            placed = host_path(str(found.get("path", "")))
            return await asyncio.to_thread(placed.read_text)
        except (ArtifactFailure, InvalidInput, OSError, UnicodeDecodeError) as err:
            raise ResourceFailed(f"resource.manifestFrom.artifact {name!r}: {err}") from None

    async def _wait(self, namespace: str, full_name: str) -> None:
        """Poll until a failure condition holds (fail) or every success condition does."""
        success = _parse(self.spec.get("successCondition"), "success")
        failure = _parse(self.spec.get("failureCondition"), "fail")
        if success:
            self.log.line(f"Waiting for conditions: {', '.join(map(str, success))}")
        if failure:
            self.log.line(f"Failing for conditions: {', '.join(map(str, failure))}")
        interval = check_interval()
        args = [*_in(namespace), "get", full_name, "-o", "json"]
        self.log.command(args, None)
        while True:
            ran = await run_kubectl(self.cluster, args, namespace=False)
            if ran.code != 0 and "NotFound" in ran.stderr:
                raise ResourceFailed(
                    "The resource has been deleted while its status was still being checked. "
                    f"Will not be retried: {ran.stderr.strip()}"
                )
            if ran.code != 0 and not transient(ran.stderr):  # Forbidden, …: never better
                raise ResourceFailed(ran.stderr.strip())
            if ran.code == 0:
                try:
                    document = loads_json(ran.stdout, "kubectl get output")
                except (ValueError, InvalidInput):
                    document = None
                if document is not None and self._holds(document, success, failure):
                    return
            await asyncio.sleep(interval)

    def _holds(self, document: Any, success: list[Requirement], failure: list[Requirement]) -> bool:
        """Every success condition holds (logged, as Argo's executor logs each check);
        a failure condition that holds fails the node."""
        for req in failure:
            matched = req.matches(document)
            self.log.condition("failure", req, matched)
            if matched:
                raise ResourceFailed(f"failure condition '{req}' evaluated true")
        results = [req.matches(document) for req in success]
        for req, matched in zip(success, results, strict=True):
            self.log.condition("success", req, matched)
        return all(results)

    async def _outputs(self, namespace: str, full_name: str) -> list[JSON]:
        """Output parameters read from the object (jsonPath, jqFilter)."""
        outputs: list[JSON] = []
        if self.output_params:
            self.log.line("Saving resource output parameters")
        for param in self.output_params:
            source = param.get("valueFrom") or {}
            if source.get("jsonPath"):
                fmt = f"jsonpath={source['jsonPath']}"
            elif source.get("jqFilter"):
                fmt = "json"
            else:
                continue
            args = [*_in(namespace), "get", full_name, "-o", fmt]
            self.log.command(args, None)
            ran = await run_kubectl(self.cluster, args, namespace=False)
            if ran.code != 0:
                self.log.failed(ran.code, ran.stderr)
                raise ResourceFailed(
                    f"outputs.parameters.{param.get('name')}: {ran.stderr.strip()}"
                )
            value = ran.stdout
            if source.get("jqFilter"):
                try:
                    value = jq_filter(ran.stdout, str(source["jqFilter"]))
                except ValueError as err:
                    raise ResourceFailed(f"outputs.parameters.{param.get('name')}: {err}") from None
            outputs.append({"name": param["name"], "value": value})
            self.log.line(f"Saved output parameter: {param['name']}")
        return outputs

    def _defaults(self) -> list[JSON]:
        """No object (a ``get`` that found nothing): each output's ``valueFrom.default``."""
        return [
            {"name": p["name"], "value": parameter_text((p["valueFrom"] or {}).get("default", ""))}
            for p in self.output_params
            if p.get("valueFrom")
        ]


def _in(namespace: str) -> list[str]:
    return [f"--namespace={namespace}"] if namespace else []


def _parse(condition: Any, which: str) -> list[Requirement]:
    if not condition:
        return []
    text = parameter_text(condition)
    try:
        return parse_condition(text)
    except ConditionError as err:
        raise ResourceFailed(f"{which} condition '{text}' failed to parse: {err}") from None


def _identity(output: str) -> tuple[str, str]:
    """``(namespace, kind.group/name)`` of the object kubectl printed, as Argo's."""
    try:
        obj = loads_json(output, "kubectl output")
    except (ValueError, InvalidInput):
        obj = None
    if not isinstance(obj, dict):
        raise ResourceFailed(f"kubectl printed no object: {output[:200]!r}")
    meta = obj.get("metadata") or {}
    kind, name = str(obj.get("kind") or ""), str(meta.get("name") or "")
    if not kind or not name:
        raise ResourceFailed(
            "Kind and name are both required but at least one of them is missing from the manifest"
        )
    group, _, _ = str(obj.get("apiVersion") or "").rpartition("/")
    return str(meta.get("namespace") or ""), f"{kind.lower()}.{group}/{name}"
