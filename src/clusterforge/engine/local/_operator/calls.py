"""A DAG task or a step, called: its loop (one child per item), its ``when``,
and the template call itself. Shared by :mod:`dag` and :mod:`steps`, which
differ only in when they call and what the result gates."""

from __future__ import annotations

import asyncio
import contextlib
import functools
from typing import Any

from clusterforge.engine.local._operator import loops
from clusterforge.engine.local._operator.artifacts import (
    input_vars,
    resolve_arguments,
    template_output_artifacts,
)
from clusterforge.engine.local._operator.context import Call, Context, Executes
from clusterforge.engine.local._operator.errors import NodeFailure
from clusterforge.engine.local._operator.hooks import LifecycleHooks
from clusterforge.engine.local._operator.runtime import Runtime
from clusterforge.engine.local._operator.scope import (
    SKIPPED,
    call_arguments,
    parameter_list,
    reads_configmap,
    skipped_defaults,
)
from clusterforge.engine.local._operator.templates import (
    Scope,
    exit_hook,
    kind,
    named_hooks,
    resolve,
)
from clusterforge.engine.local.dag_rules import continues_on
from clusterforge.engine.local.naming import item_label
from clusterforge.engine.local.values import item_variables
from clusterforge.engine.phases import COMPLETED, FAILED
from clusterforge.store import NodeRecord
from clusterforge.workflow.expressions import ExpressionError, evaluate_when, substitute

JSON = dict[str, Any]


_CALLER_NAMES = frozenset({"steps.name", "tasks.name"})


class TaskCaller:
    """Calls tasks/steps of one template (their templates resolve in ``scope``)."""

    def __init__(self, rt: Runtime, walk: Executes, scope: Scope, kind: str = "steps") -> None:
        self.rt, self.walk, self.scope, self.kind = rt, walk, scope, kind
        # A DAG's tasks' lifecycle hooks, waited for by the DAG (not by dependants).
        self.pending_hooks: list[LifecycleHooks] = []

    async def call(
        self,
        name: str,
        display: str,
        task: JSON,
        values: dict[str, str],
        ctx: Context,
        group_type: str = "TaskGroup",
    ) -> NodeRecord:
        """Run ``task`` as node ``name``: once, or once per loop item under a group node."""
        items = loops.expand(task, values)
        if items is None:
            return await self.call_once(name, display, task, values, ctx)
        journal = self.rt.journal
        if not items:  # as Argo's dag.go/steps.go: one Skipped node, no group
            return self._skipped(name, display, task, ctx, "Skipped, empty params")
        group = journal.node(name, display, group_type, ctx, task.get("template", ""))
        if done := journal.fulfilled(name):
            return done
        group_ctx = Context(ctx.boundary_id, group.id, ctx.semaphores, ctx.extra_vars)
        coros = []
        for index, item in enumerate(items):
            label = f"({index}:{item_label(item)})"
            item_vars = {**values, **item_variables(item)}
            coros.append(self.call_once(name + label, display + label, task, item_vars, group_ctx))
        children = await asyncio.gather(*coros)
        phase = "Succeeded"
        for child in children:
            if child.phase in FAILED and not continues_on(task, child.phase):
                phase = child.phase
        return journal.finish(group, phase)

    def _skipped(
        self, name: str, display: str, task: JSON, ctx: Context, message: str
    ) -> NodeRecord:
        """A call that does not run: one Skipped node saying why."""
        template = task.get("template", "")
        return self.rt.journal.node(
            name, display, "Skipped", ctx, template, phase="Skipped", message=message
        )

    async def call_once(
        self, name: str, display: str, task: JSON, values: dict[str, str], ctx: Context
    ) -> NodeRecord:
        """One call: skipped if its ``when`` is false, else its template executed."""
        journal = self.rt.journal
        if done := journal.fulfilled(name):
            return done
        when = task.get("when")
        if when and name not in journal.by_name:
            text = substitute(when, values, missing="error")
            if not evaluate_when(text):
                return self._skipped(name, display, task, ctx, f"when '{text}' evaluated false")
        template, scope = resolve(task, self.scope, self.rt.documents)
        arguments = await self._arguments(task, values)
        artifacts = resolve_arguments(task, values)
        extra = {k: v for k, v in values.items() if k == "item" or k.startswith("item.")}
        # The called template sees the name of the step/task calling it (Argo's
        # localParams steps.name / tasks.name: the expanded name of a loop item).
        inherited = {k: v for k, v in ctx.extra_vars.items() if k not in _CALLER_NAMES}
        extra[f"{self.kind}.name"] = display
        # A template's parallelism bounds its own children: a DAG/steps child holds
        # a slot for as long as it runs (its descendants are bounded only by their own
        # template's parallelism, as Argo); a pod takes its slot once it is Pending.
        composite = kind(template) in ("dag", "steps")
        child_ctx = Context(
            ctx.boundary_id,
            ctx.parent_id,
            () if composite else ctx.semaphores,
            {**inherited, **extra},
        )
        hooks = self._lifecycle_hooks(name, task, values, child_ctx)
        async with contextlib.AsyncExitStack() as stack:
            for sem in sorted(ctx.semaphores if composite else (), key=id):
                await stack.enter_async_context(sem)
            call = Call(template, scope, arguments, artifacts)
            try:
                rec = await self.walk.execute(name, display, call, child_ctx)
            except asyncio.CancelledError:
                if hooks is not None:
                    await hooks.cancel()
                raise
        if hooks is not None and self.kind == "steps":
            await hooks.wait()  # a step group ends once its steps' hooks did (Argo)
        elif hooks is not None:
            self.pending_hooks.append(hooks)
        hook = exit_hook(task)
        if hook is not None and rec.phase in COMPLETED:
            await self.run_exit_hook(hook, rec, task, values, child_ctx.child(rec.id))
        return rec

    def _lifecycle_hooks(
        self, name: str, task: JSON, values: dict[str, str], ctx: Context
    ) -> LifecycleHooks | None:
        """The call's named hooks (``hooks.NAME`` with an expression), following its node."""
        hooks = named_hooks(task)
        if not hooks:
            return None
        key = f"{self.kind}.{task.get('name', '')}"

        def seen(rec: NodeRecord) -> dict[str, str]:
            return {**values, **self.rt.variables.global_vars(), **self.rt.node_vars(key, rec)}

        lifecycle = LifecycleHooks(self.rt, self.walk, self.scope, hooks, seen, ctx)
        lifecycle.attach(name)
        return lifecycle

    async def wait_hooks(self) -> None:
        """Until the hooks of the tasks called so far have ended (a DAG waits for them)."""
        while self.pending_hooks:
            await self.pending_hooks.pop().wait()

    async def cancel_hooks(self) -> None:
        while self.pending_hooks:
            await self.pending_hooks.pop().cancel()

    async def _arguments(self, task: JSON, values: dict[str, str]) -> dict[str, str]:
        """The call's arguments (one read from a cluster's ConfigMap: in a thread)."""
        objects, namespace = self.rt.variables.objects, self.rt.variables.wf.namespace
        read = functools.partial(call_arguments, task, values, objects, namespace)
        if (
            objects is not None
            and objects.cluster is not None
            and reads_configmap(task, "arguments")
        ):
            return await asyncio.get_running_loop().run_in_executor(None, read)
        return read()

    async def run_exit_hook(
        self, hook: JSON, rec: NodeRecord, task: JSON, values: dict[str, str], ctx: Context
    ) -> None:
        """A step's/task's exit hook (``hooks.exit`` or ``onExit``), as Argo's
        ``runOnExitNode``: node ``NAME.onExit`` under the step, once it completed,
        its arguments reading the step's own outputs (``steps.X.*``/``tasks.X.*``);
        with none, the workflow's arguments. Its phase does not change the step's."""
        key = f"{self.kind}.{task.get('name', '')}"
        seen = {**values, **self.rt.node_vars(key, rec)}
        expression = hook.get("expression")
        if expression and substitute(f"{{{{={expression}}}}}", seen, missing="error") != "true":
            return
        if (hook.get("arguments") or {}).get("parameters"):
            arguments = call_arguments(hook, seen)
        else:
            arguments = self.rt.variables.workflow_arguments()
        template, scope = resolve(hook, self.scope, self.rt.documents)
        name, display = f"{rec.name}.onExit", f"{rec.display_name}.onExit"
        call = Call(template, scope, arguments, resolve_arguments(hook, seen))
        await self.walk.execute(name, display, call, ctx)


class TemplateRun:
    """A DAG or steps node being run: its node, what its body sees, how it calls children."""

    node_type = ""

    def __init__(
        self,
        rt: Runtime,
        walk: Executes,
        name: str,
        display: str,
        call: Call,
        inputs: dict[str, str],
        ctx: Context,
    ) -> None:
        self.rt, self.name, self.call = rt, name, call
        template = call.template
        self.node = rt.journal.node(name, display, self.node_type, ctx, template.get("name", ""))
        self.node.inputs = {"parameters": parameter_list(inputs)}
        self.base_vars = rt.variables.template_vars(inputs, ctx)
        self.base_vars.update(input_vars(call.artifacts))
        self.ctx = ctx.inside(self.node.id, template)
        kind = "tasks" if self.node_type == "DAG" else "steps"
        self.caller = TaskCaller(rt, walk, call.scope, kind)

    def called_vars(self, key: str, task: JSON, rec: NodeRecord) -> dict[str, str]:
        """``tasks.X.*``/``steps.X.*`` of a finished call; a skipped or omitted one's
        declared output parameters read as their ``valueFrom.default``, as Argo does
        (those without a default stay absent: see :func:`call_arguments`)."""
        values = self.rt.node_vars(key, rec)
        if rec.phase in SKIPPED and not rec.outputs:
            try:
                template, _ = resolve(task, self.caller.scope, self.rt.documents)
            except NodeFailure:
                return values
            values.update(skipped_defaults(key, template))
        return values

    def succeed(self, values: dict[str, str]) -> NodeRecord:
        """End the node Succeeded with its template's outputs (Error if one has no value)."""
        try:
            self.node.outputs = self.rt.variables.template_outputs(self.call.template, values)
            artifacts = template_output_artifacts(self.call.template, values)
            if artifacts:
                self.node.outputs["artifacts"] = artifacts
                self.rt.variables.publish_artifacts(artifacts)
        except (NodeFailure, ExpressionError) as err:
            return self.rt.journal.finish(self.node, "Error", str(err))
        return self.rt.journal.finish(self.node, "Succeeded")
