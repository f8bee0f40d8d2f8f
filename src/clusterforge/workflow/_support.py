"""What the local engine does with each Argo field — one table, kept honest by a test.

The local engine runs steps as host subprocesses, so much of Argo's pod
plumbing (node selection, service accounts, …) has nothing to act on, and a
few features are not built yet. The design rule is that such a field is never silently ignored:
:func:`unsupported_fields` turns every field of :data:`LOCAL_SUPPORT` that a
template sets into a lint warning with this table's text.

Keys are ``<where>.<field>``, with ``where`` one of ``spec`` (the workflow
spec), ``template``, ``dag``, ``task`` (a DAG task), ``step``, ``container``
(a container or script template's container), ``script``, ``env``,
``inputs``, ``outputs``, ``parameter``, ``valueFrom``, ``retryStrategy``,
``backoff``, ``sequence``, ``synchronization``, ``semaphore``, ``envSource`` (an
env's ``valueFrom``). :data:`HONOURED` lists
the fields the engine does act on; ``tests/workflow/test_support.py`` checks that every field Hera's
models define in those places is in exactly one of the two.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from types import MappingProxyType

from pydantic import BaseModel

__all__ = ["HONOURED", "LOCAL_SUPPORT", "TEMPLATE_TYPES_NOT_RUN", "unsupported_fields"]

_HOST = "ignored: steps run as processes on this host, not in pods"
_NO_VOLUMES = "not supported locally: block devices are not mapped into steps"
_NOT_RUN = "not run by the local engine: a node calling this template ends in Error"

LOCAL_SUPPORT: Mapping[str, str] = MappingProxyType(
    {
        # -- the workflow spec --------------------------------------------------
        "spec.affinity": _HOST,
        "spec.automountServiceAccountToken": _HOST,
        "spec.dnsConfig": "ignored: steps use the host's DNS",
        "spec.dnsPolicy": "ignored: steps use the host's DNS",
        "spec.executor": _HOST,
        "spec.hostAliases": "ignored: steps use the host's /etc/hosts",
        "spec.hostNetwork": "ignored: steps always use the host network",
        "spec.imagePullSecrets": "ignored: images are recorded, never pulled",
        "spec.metrics": "ignored: no Prometheus metrics are emitted for workflows",
        "spec.nodeSelector": _HOST,
        "spec.podDisruptionBudget": _HOST,
        "spec.podGC": _HOST,
        "spec.podMetadata": _HOST,
        "spec.podPriorityClassName": _HOST,
        "spec.podSpecPatch": _HOST,
        "spec.priority": "ignored: workflows are not queued by priority locally",
        "spec.schedulerName": _HOST,
        "spec.securityContext": "ignored: steps run as the user running clusterforge",
        "spec.serviceAccountName": _HOST,
        "spec.shutdown": "ignored in a manifest: stop a running workflow with `clusterforge stop`",
        "spec.suspend": "not supported locally: the workflow starts at once",
        "spec.tolerations": _HOST,
        "spec.ttlStrategy": "ignored: finished workflows stay in the local store until deleted",
        "spec.workflowMetadata": (
            "ignored: labels and annotations are not added to the stored workflow locally "
            "(they are visible as {{workflow.labels.NAME}} / {{workflow.annotations.NAME}}; "
            "labelsFrom is not evaluated)"
        ),
        # -- a template -----------------------------------------------------------
        "template.affinity": _HOST,
        "template.annotations": _HOST,
        "template.automountServiceAccountToken": _HOST,
        "template.executor": _HOST,
        "template.failFast": "not applied locally: use dag.failFast",
        "template.hostAliases": "ignored: steps use the host's /etc/hosts",
        "template.initContainers": "not run locally: only the main container's command runs",
        "template.memoize": "not supported locally: the step runs every time",
        "template.metadata": _HOST,
        "template.metrics": "ignored: no Prometheus metrics are emitted for templates",
        "template.nodeSelector": _HOST,
        "template.plugin": _NOT_RUN,
        "template.podSpecPatch": _HOST,
        "template.priorityClassName": _HOST,
        "template.schedulerName": _HOST,
        "template.securityContext": "ignored: steps run as the user running clusterforge",
        "template.serviceAccountName": _HOST,
        "template.tolerations": _HOST,
        # -- DAG tasks and steps ----------------------------------------------------
        # -- a container or script ----------------------------------------------------
        "container.imagePullPolicy": "ignored: images are recorded, never pulled",
        "container.lifecycle": "not run locally: postStart/preStop hooks do not run",
        "container.livenessProbe": "ignored: probes do not run locally",
        "container.ports": "ignored: steps use the host network",
        "container.readinessProbe": "ignored except on daemon steps, where httpGet and "
        "tcpSocket probes run against 127.0.0.1",
        "container.resizePolicy": _HOST,
        "container.resources": "not enforced locally: no CPU or memory limits are applied",
        "container.restartPolicy": _HOST,
        "container.securityContext": "ignored: steps run as the user running clusterforge",
        "container.startupProbe": "ignored: probes do not run locally",
        "container.stdin": "ignored: steps get no standard input",
        "container.stdinOnce": "ignored: steps get no standard input",
        "container.terminationMessagePath": _HOST,
        "container.terminationMessagePolicy": _HOST,
        "container.tty": "ignored: steps get no terminal",
        "container.volumeDevices": _NO_VOLUMES,
        "envSource.fieldRef": "not supported locally: there is no pod to read; the variable "
        "is not set",
        "envSource.resourceFieldRef": "not supported locally: no resources are allotted; the "
        "variable is not set",
        # -- inputs, outputs, parameters ---------------------------------------------
        "valueFrom.event": "not supported locally: there is no event to read",
        "retryStrategy.affinity": _HOST,
        "semaphore.database": "not honoured locally: a database semaphore's limit lives in "
        "Argo's database; use configMapKeyRef",
    }
)

HONOURED: frozenset[str] = frozenset(
    {
        "spec.activeDeadlineSeconds",
        "spec.archiveLogs",
        "spec.artifactGC",
        "spec.artifactRepositoryRef",
        "spec.arguments",
        "spec.entrypoint",
        "spec.synchronization",
        "template.synchronization",
        "synchronization.mutexes",
        # a ConfigMap key's limit, across the engine home (_operator/semaphores.py)
        "synchronization.semaphores",
        "semaphore.configMapKeyRef",
        "semaphore.namespace",  # the ConfigMap's (and the lock's) namespace
        "spec.onExit",
        # exit: the exit handler; others run when their expression is true (_operator/hooks.py)
        "spec.hooks",
        "spec.parallelism",
        # merged into every template as Argo's controller does (engine/local/template_defaults.py)
        "spec.retryStrategy",
        "spec.templateDefaults",
        # Volumes: host directories bind-mounted into the step (engine/local/volumes.py).
        "spec.volumeClaimGC",
        "spec.volumeClaimTemplates",
        "spec.volumes",
        "template.volumes",
        "container.volumeMounts",
        "spec.templates",
        "spec.workflowTemplateRef",
        "template.activeDeadlineSeconds",
        "template.archiveLocation",
        "template.timeout",  # a pod's deadline; Argo does not apply it to DAGs or steps
        "template.container",
        "template.containerSet",  # each container a host process (container_set.py)
        "template.daemon",  # a background process until its scope ends (daemons.py)
        "template.dag",
        "template.http",  # sent by the engine, as Argo's agent does (docs/argo-parity.md)
        "template.data",  # listed and transformed by the engine (_operator/data.py)
        "template.inputs",
        "template.name",
        "template.outputs",
        "template.parallelism",
        "template.retryStrategy",
        "template.sidecars",  # host processes beside the main one (sidecars.py)
        "template.script",
        "template.steps",
        "template.resource",  # kubectl against --kubeconfig's cluster (_operator/resource.py)
        "valueFrom.jqFilter",  # resource templates: libjq over the object
        "valueFrom.jsonPath",  # resource templates: kubectl's jsonpath
        "template.suspend",  # until `clusterforge resume-node` or its duration
        "dag.failFast",
        "dag.target",
        "dag.tasks",
        *(
            f"{where}.{name}"
            for where in ("task", "step")
            for name in (
                "arguments",
                "hooks",  # exit: once it ended; others when their expression is true
                "onExit",
                "continueOn",
                "inline",
                "name",
                "template",
                "templateRef",
                "when",
                "withItems",
                "withParam",
                "withSequence",
            )
        ),
        "task.dependencies",
        "task.depends",
        "container.args",
        "container.command",
        "container.env",
        # ConfigMaps and Secrets from the run's objects (_operator/pod_objects.py)
        "container.envFrom",
        "env.valueFrom",
        "envSource.configMapKeyRef",
        "envSource.secretKeyRef",
        "container.image",
        "container.name",
        "container.workingDir",
        "script.source",
        "env.name",
        "env.value",
        "inputs.artifacts",
        "inputs.parameters",
        "outputs.artifacts",
        "outputs.parameters",
        "outputs.result",
        "outputs.exitCode",
        "parameter.default",
        "parameter.description",
        "parameter.enum",
        "parameter.globalName",
        "parameter.name",
        "parameter.value",
        "parameter.valueFrom",
        # Read from the run's objects files or cluster (engine/objects, docs/argo-parity.md).
        "valueFrom.configMapKeyRef",
        "valueFrom.default",
        "valueFrom.expression",
        "valueFrom.parameter",
        "valueFrom.path",
        "valueFrom.supplied",  # given with `clusterforge resume-node -p`
        "retryStrategy.backoff",
        "retryStrategy.expression",
        "retryStrategy.limit",
        "retryStrategy.retryPolicy",
        "backoff.cap",
        "backoff.duration",
        "backoff.factor",
        "backoff.maxDuration",
        "sequence.count",
        "sequence.end",
        "sequence.format",
        "sequence.start",
    }
)

# Template types Argo runs that the local engine does not (see LOCAL_SUPPORT).
TEMPLATE_TYPES_NOT_RUN: tuple[str, ...] = ("plugin",)


def unsupported_fields(where: str, model: BaseModel | None) -> Iterator[tuple[str, str]]:
    """``(field, what the engine does)`` for each field of ``model`` the table lists."""
    if model is None:
        return
    fields = type(model).model_fields
    for name in sorted(model.model_fields_set):
        info = fields.get(name)
        alias = (info.alias if info is not None else None) or name
        text = LOCAL_SUPPORT.get(f"{where}.{alias}")
        if text is not None and getattr(model, name) is not None:
            yield alias, text
