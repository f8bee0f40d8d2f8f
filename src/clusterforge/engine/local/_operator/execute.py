"""Dispatch one node by what its template does: a DAG, steps, a pod — with
retries around it and the template's ``activeDeadlineSeconds`` over it.

:class:`Executor` is the walk's single entry point (:meth:`Executor.execute`);
it implements :class:`~.context.Executes`, which it hands to the DAG, steps,
calls and retry modules so they can run children without importing it.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import functools
import time
from collections.abc import Awaitable, Callable
from typing import Any

from clusterforge.engine.local._operator.artifacts import (
    PodArtifacts,
    input_vars,
    output_path_vars,
    pod_name,
    template_inputs,
)
from clusterforge.engine.local._operator.container_set import ContainerSetRun
from clusterforge.engine.local._operator.context import Call, Context
from clusterforge.engine.local._operator.dag import DagRun
from clusterforge.engine.local._operator.data import run_data
from clusterforge.engine.local._operator.errors import NodeFailure
from clusterforge.engine.local._operator.http_call import run_http
from clusterforge.engine.local._operator.pod_objects import (
    needs_objects,
    object_env,
    object_volumes,
)
from clusterforge.engine.local._operator.pods import PodSpec
from clusterforge.engine.local._operator.resource import run_resource
from clusterforge.engine.local._operator.retry import RetryLoop
from clusterforge.engine.local._operator.runtime import Runtime
from clusterforge.engine.local._operator.scope import (
    parameter_list,
    reads_configmap,
    resolve_inputs,
)
from clusterforge.engine.local._operator.sidecars import (
    SidecarFailed,
    start_sidecars,
    stop_sidecars,
    what_it_names,
)
from clusterforge.engine.local._operator.steps import StepsRun
from clusterforge.engine.local._operator.suspend import run_suspend
from clusterforge.engine.local._operator.templates import kind
from clusterforge.engine.local.durations import DeadlinePassed, parse_duration, pod_deadline
from clusterforge.engine.local.limits import nesting_problem
from clusterforge.engine.local.values import parameter_text, substitute_tree
from clusterforge.engine.objects import ObjectMissing
from clusterforge.engine.phases import (
    DEADLINE_MESSAGE,
    TEMPLATE_TIMEOUT_MESSAGE,
    pod_deadline_passed,
    shutdown_message,
)
from clusterforge.errors import InvalidInput
from clusterforge.store import NodeRecord
from clusterforge.workflow.expressions import ExpressionError, substitute

JSON = dict[str, Any]


class Executor:
    """Runs nodes of one workflow run."""

    def __init__(self, rt: Runtime) -> None:
        self.rt = rt

    async def execute(
        self,
        name: str,
        display: str,
        call: Call,
        ctx: Context,
        *,
        retry_attempt: int | None = None,
    ) -> NodeRecord:
        """Run (or return the already-fulfilled) node ``name`` for a template call."""
        journal = self.rt.journal
        if done := journal.fulfilled(name):
            return done
        template = call.template
        if retry_attempt is None:
            # Argo's executeTemplate: node.name is the node's full name (a retried
            # template's parent, not the attempt).
            ctx = dataclasses.replace(ctx, extra_vars={**ctx.extra_vars, "node.name": name})
        try:
            variables = self.rt.variables
            read = functools.partial(
                resolve_inputs,
                template,
                call.arguments,
                variables.workflow_vars(),
                variables.objects,
                variables.wf.namespace,
            )
            objects = variables.objects
            if objects is not None and objects.cluster is not None and reads_configmap(template):
                # kubectl in a thread: the loop runs every workflow of the process
                inputs = await asyncio.get_running_loop().run_in_executor(None, read)
            else:
                inputs = read()
            call = dataclasses.replace(call, artifacts=template_inputs(template, call.artifacts))
        except (NodeFailure, ExpressionError) as err:
            node = journal.node(name, display, "Pod", ctx, template.get("name", ""))
            return journal.finish(node, "Error", str(err))
        if retry_attempt is None and template.get("synchronization"):
            # As Argo's executeTemplate: the lock is taken by the template's node (a
            # Retry node for all its attempts) before it runs, and released when it ends.
            return await self._synchronized(name, display, call, inputs, ctx)
        return await self._unlocked(name, display, call, inputs, ctx, retry_attempt)

    async def _synchronized(
        self, name: str, display: str, call: Call, inputs: dict[str, str], ctx: Context
    ) -> NodeRecord:
        """Run the node while holding its template's ``synchronization`` locks; Pending
        with Argo's "Waiting for … lock" message while it waits.

        As Argo, a lock is held by one node: a child whose template takes the same
        mutex as an ancestor that holds it waits (for ever — Argo does not refuse it).
        The template's ``timeout`` counts from the node's creation, the wait included
        (Argo's ``checkTemplateTimeout``): still Pending past it, the node fails with
        Argo's "timeout"; a pod that gets the lock has only what is left of it.
        """
        journal, template = self.rt.journal, call.template
        node_type = _node_type(template)
        tname = str(template.get("name", ""))
        node = journal.node(name, display, node_type, ctx, tname, phase="Pending")
        try:
            values = self.rt.variables.template_vars(inputs, ctx)
            synchronization = substitute_tree(template.get("synchronization"), values)
            timeout = self._template_timeout(template, inputs, ctx)
        except (ExpressionError, InvalidInput) as err:
            return journal.finish(node, "Error", str(err))
        since = node.started_at or time.time()
        held = self.rt.synchronized(synchronization, lambda text: self._waiting(node, text))
        async with contextlib.AsyncExitStack() as stack:
            try:
                if not await _lock_within(stack, held, timeout, since):
                    return journal.finish(node, "Failed", TEMPLATE_TIMEOUT_MESSAGE)
            except ObjectMissing as err:  # a semaphore's limit cannot be read
                return journal.finish(node, "Error", str(err))
            except asyncio.CancelledError:  # stopped while waiting: it never ran
                self.rt.cancelled(node)
                raise
            # Argo's markNodeWaitingForLock(node, "", ""): no longer waiting.
            node.message = ""
            if node_type != "Pod":  # a pod is Pending until its process starts
                node.phase, node.started_at = "Running", time.time()
            journal.save(node)
            return await self._unlocked(name, display, call, inputs, ctx, None, since)
        raise AssertionError("unreachable")  # pragma: no cover

    async def _unlocked(
        self,
        name: str,
        display: str,
        call: Call,
        inputs: dict[str, str],
        ctx: Context,
        retry_attempt: int | None,
        since: float | None = None,
    ) -> NodeRecord:
        """The node run by what its template does (its locks, if any, held since its
        node was made at ``since``)."""
        journal, template = self.rt.journal, call.template
        if retry_attempt is None and template.get("retryStrategy") is not None:
            # `retryStrategy: {}` too: Argo retries with no limit until it succeeds.
            loop = RetryLoop(self.rt, self, name, display, call, ctx)
            return await loop.run(self.rt.variables.template_vars(inputs, ctx))
        deadline = template.get("activeDeadlineSeconds")
        timeout = float(parameter_text(deadline)) if deadline not in (None, "") else None
        what = kind(template)
        if what in ("container", "script", "containerSet"):
            try:
                limits = Deadlines(timeout, self._template_timeout(template, inputs, ctx), since)
                pod_timeout = limits.seconds(time.time()) if what == "containerSet" else None
            except (InvalidInput, ExpressionError) as err:
                node = journal.node(name, display, "Pod", ctx, template.get("name", ""))
                return journal.finish(node, "Error", str(err))
            except DeadlinePassed:
                node = journal.node(name, display, "Pod", ctx, template.get("name", ""))
                return journal.finish(node, "Error", pod_deadline_passed(name))
            if what == "containerSet":
                pod = ContainerSetRun(self.rt, name, display, call, inputs, ctx, _no_command)
                return await pod.run(pod_timeout)
            return await self.run_pod(name, display, call, inputs, ctx, retry_attempt, limits)
        if what in ("dag", "steps") and (
            too_deep := nesting_problem(journal.nodes, ctx.boundary_id)
        ):
            node = journal.node(name, display, "Pod", ctx, template.get("name", ""))
            return journal.finish(node, "Error", too_deep)
        runner: Callable[[], Awaitable[NodeRecord]]
        if what == "http":
            runner = functools.partial(run_http, self.rt, name, display, call, inputs, ctx)
        elif what == "data":
            runner = functools.partial(run_data, self.rt, name, display, call, inputs, ctx)
        elif what == "resource":
            runner = functools.partial(run_resource, self.rt, name, display, call, inputs, ctx)
        elif what == "suspend":
            runner = functools.partial(run_suspend, self.rt, name, display, call, inputs, ctx)
        elif what == "dag":
            runner = DagRun(self.rt, self, name, display, call, inputs, ctx).run
        elif what == "steps":
            runner = StepsRun(self.rt, self, name, display, call, inputs, ctx).run
        else:
            node = journal.node(name, display, "Pod", ctx, template.get("name", ""))
            message = (
                f"template {template.get('name', '')!r} has no container, script, containerSet, "
                "dag, steps, http, suspend, resource or data; "
                "the local engine cannot run it"
            )
            return journal.finish(node, "Error", message)
        try:
            if timeout is None:
                return await runner()
            try:
                return await asyncio.wait_for(runner(), timeout)
            except TimeoutError:
                node = journal.by_name[name]
                return journal.finish(node, "Failed", f"{DEADLINE_MESSAGE} ({timeout:g}s)")
        finally:
            if what in ("dag", "steps") and name in journal.by_name:
                # As Argo's killDaemonedChildren: the scope's daemons end with it.
                await self.rt.daemons.stop_scope(journal.by_name[name].id)

    def _template_timeout(
        self, template: JSON, inputs: dict[str, str], ctx: Context
    ) -> float | None:
        """The template's ``timeout`` in seconds (None without one).

        As Argo, it is substituted like the rest of the template
        (``"{{inputs.parameters.timeout}}"``); for a pod, what is left of it becomes
        its deadline (:class:`Deadlines`).
        """
        raw = template.get("timeout")
        if raw in (None, ""):
            return None
        values = self.rt.variables.template_vars(inputs, ctx)
        text = substitute(parameter_text(raw), values, missing="error")
        return parse_duration(text, field=f"templates.{template.get('name', '')}.timeout")

    async def run_pod(
        self,
        name: str,
        display: str,
        call: Call,
        inputs: dict[str, str],
        ctx: Context,
        attempt: int | None,
        limits: Deadlines,
    ) -> NodeRecord:
        """A container/script node: substitute its body, wait for a free slot, run it."""
        journal, template = self.rt.journal, call.template
        node = journal.node(name, display, "Pod", ctx, template.get("name", ""), phase="Pending")
        node.inputs = {"parameters": parameter_list(inputs)}
        node.attempt = attempt
        values = self.rt.variables.template_vars(inputs, ctx)
        values.update(input_vars(call.artifacts))
        values.update(output_path_vars(template))
        # As Argo's executeTemplate/workflowpod.go: the pod's own name (per attempt).
        values["pod.name"] = pod_name(
            self.rt.journal.wf.name, str(template.get("name", "")), node.id
        )
        what = kind(template)
        try:
            # substitute_tree builds new lists and dicts: the template is never changed
            body = substitute_tree(template[what], values)
            volumes = substitute_tree(template.get("volumes") or [], values)
        except ExpressionError as err:
            return journal.finish(node, "Error", str(err))
        node.image = body.get("image")
        if what == "container" and not body.get("command"):
            return journal.finish(node, "Error", no_command_message(template, body))
        outputs = (template.get("outputs") or {}).get("parameters", []) or []
        spec = PodSpec(what, body, outputs, None, volumes, self._pod_artifacts(node, call, values))
        if needs_objects(body, [*volumes, *(self.rt.variables.spec.get("volumes") or [])]):
            try:
                spec = await self._with_objects(spec)
            except ObjectMissing as err:
                return journal.finish(node, "Error", str(err))
        wf_sem = self.rt.workflow_semaphore
        semaphores = ((wf_sem,) if wf_sem else ()) + ctx.semaphores
        async with contextlib.AsyncExitStack() as stack:
            for sem in sorted(semaphores, key=id):
                await stack.enter_async_context(sem)
            if self.rt.flags.shutdown:
                return journal.finish(node, "Failed", shutdown_message(self.rt.flags.shutdown))
            try:
                spec = dataclasses.replace(spec, timeout=limits.seconds(time.time()))
            except DeadlinePassed:
                return journal.finish(node, "Error", pod_deadline_passed(name))
            if template.get("daemon"):
                await self.rt.journal.durable()
                return await self.rt.daemons.start(node, spec, ctx.boundary_id)
            try:
                sidecars = await start_sidecars(self.rt, node, template, values)
            except (SidecarFailed, ExpressionError) as err:
                return journal.finish(node, "Error", str(err))
            try:
                return await self._attempt(node, spec)
            finally:
                await stop_sidecars(sidecars)
        raise AssertionError("unreachable")  # pragma: no cover

    async def _with_objects(self, spec: PodSpec) -> PodSpec:
        """``spec`` with its env and configMap/secret volume files read from the run's
        objects (in a thread when a cluster is read: kubectl must not stall the loop)."""
        variables = self.rt.variables
        objects, namespace = variables.objects, variables.wf.namespace
        declared = [*spec.volumes, *(variables.spec.get("volumes") or [])]
        mounted = {str(m.get("name", "")) for m in spec.body.get("volumeMounts") or []}

        def read() -> PodSpec:
            try:
                env = object_env(spec.body, objects, namespace)
            except ObjectMissing as err:
                raise ObjectMissing(f"CreateContainerConfigError: {err}") from None
            files = object_volumes(declared, mounted, objects, namespace)
            return dataclasses.replace(spec, env=env, object_files=files)

        if objects is not None and objects.cluster is not None:
            return await asyncio.get_running_loop().run_in_executor(None, read)
        return read()

    def _waiting(self, node: NodeRecord, message: str) -> None:
        node.message = message
        self.rt.journal.save(node)

    def _pod_artifacts(
        self, node: NodeRecord, call: Call, values: dict[str, str]
    ) -> PodArtifacts | None:
        """What the attempt does with artifacts and logs (None: nothing)."""
        run = self.rt.artifacts
        if run is None:
            return None
        wf_name = self.rt.journal.wf.name
        name = pod_name(wf_name, str(call.template.get("name", "")), node.id)
        arts = PodArtifacts(run, call.template, call.artifacts, values, name)
        return arts if arts.needed() else None

    async def _attempt(self, node: NodeRecord, spec: PodSpec) -> NodeRecord:
        try:
            outcome = await self.rt.pods.run(node, spec)
        except asyncio.CancelledError:
            self.rt.cancelled(node)
            raise
        if outcome.exit_code is not None:
            node.exit_code = outcome.exit_code
        if outcome.outputs:
            node.outputs = outcome.outputs
            self.rt.variables.publish_artifacts(outcome.outputs.get("artifacts") or [])
        for param in spec.outputs:
            if param.get("globalName"):
                value = _output_value(outcome.outputs, param["name"])
                if value is not None:
                    self.rt.variables.publish_global(param["globalName"], value)
        return self.rt.journal.finish(node, outcome.phase, outcome.message)


@dataclasses.dataclass(frozen=True)
class Deadlines:
    """A pod template's deadlines: ``activeDeadlineSeconds`` (counted from the pod's
    start) and ``timeout`` (from ``since``, when its node was made — before a wait
    for a lock; None: made just now, as Argo makes a pod's node right before the pod,
    once parallelism lets it)."""

    active: float | None
    timeout: float | None
    since: float | None = None

    def seconds(self, now: float) -> float | None:
        """The pod's deadline if it starts ``now``; raises :class:`DeadlinePassed`."""
        elapsed = 0.0 if self.since is None else now - self.since
        return pod_deadline(self.active, self.timeout, elapsed)


async def _lock_within(
    stack: contextlib.AsyncExitStack[bool | None],
    held: contextlib.AbstractAsyncContextManager[None, bool | None],
    timeout: float | None,
    since: float,
) -> bool:
    """Take ``held`` into ``stack``; False when the template's ``timeout``, counted
    from ``since``, passes first (Argo fails a node Pending past it)."""
    if timeout is None:
        await stack.enter_async_context(held)
        return True
    left = timeout - (time.time() - since)
    if left <= 0:
        return False
    try:
        async with asyncio.timeout(left):
            await stack.enter_async_context(held)
    except TimeoutError:
        return False
    return True


def _node_type(template: JSON) -> str:
    """The type of the node a template's call creates (Argo's ``GetNodeType``)."""
    if template.get("retryStrategy") is not None:
        return "Retry"
    return _NODE_TYPES.get(kind(template), "Pod")


_NODE_TYPES = {"steps": "Steps", "dag": "DAG", "suspend": "Suspend", "http": "HTTP"}


def no_command_message(template: JSON, body: JSON) -> str:
    """Why a container naming only an image cannot run on the host, and the fix."""
    return (
        f"template {template.get('name', '')!r}: the container {what_it_names(body)}; "
        "the local engine runs host programs, "
        "not an image's entrypoint — name the program in container.command "
        '(e.g. command: [echo, "hello"])'
    )


def _no_command(template: JSON, body: JSON) -> str:
    return "" if body.get("command") else no_command_message(template, body)


def _output_value(outputs: dict[str, object], name: str) -> str | None:
    params = outputs.get("parameters")
    for param in params if isinstance(params, list) else []:
        if param.get("name") == name:
            return str(param["value"])
    return None
