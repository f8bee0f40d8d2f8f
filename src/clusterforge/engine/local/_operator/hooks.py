"""Lifecycle hooks other than ``exit``: a step's, a task's or the workflow's
``hooks.NAME`` with an ``expression``, as Argo's ``hooks.go`` runs them.

Argo evaluates each hook's expression at every reconciliation of the node it
hooks (``steps["x"].status == "Running"``, ``tasks.x.status == "Failed"``,
``workflow.status == "Running"``); the first time it is true the hook's
template runs as node ``<node>.hooks.<NAME>``, a child of the hooked node,
and never again. The local engine has no reconciliations: it evaluates the
expressions each time the hooked node is saved with a new phase (Pending,
Running, its final phase) — every phase the node goes through, so a
``Running`` hook fires even for a step that ends in a millisecond.

What waits for the hooks fired, as in Argo: a step group (its steps' hooks),
a DAG (its tasks' hooks; a task's dependants do not wait), the workflow (its
own hooks, before its exit handler). A hook's phase changes no other node's:
a failed hook leaves its step, DAG and workflow as they were. An expression
that cannot be evaluated ends the hook's node in Error with the reason.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

from clusterforge.engine.local._operator.artifacts import resolve_arguments
from clusterforge.engine.local._operator.context import Call, Context, Executes
from clusterforge.engine.local._operator.errors import NodeFailure
from clusterforge.engine.local._operator.runtime import Runtime
from clusterforge.engine.local._operator.scope import call_arguments
from clusterforge.engine.local._operator.templates import Scope, resolve
from clusterforge.store import NodeRecord
from clusterforge.workflow.expressions import ExpressionError, substitute

JSON = dict[str, Any]

Values = Callable[[NodeRecord], dict[str, str]]
"""What a hook's expression and arguments see, given the hooked node as it is now."""


def hook_fires(expression: str, values: dict[str, str]) -> bool:
    """Argo's ``argoexpr.EvalBool`` of a hook's expression over ``values``."""
    return substitute(f"{{{{={expression}}}}}", values, missing="error") == "true"


class LifecycleHooks:
    """The named hooks of one node: evaluated as it changes phase, each fired once."""

    def __init__(
        self,
        rt: Runtime,
        walk: Executes,
        scope: Scope,
        hooks: dict[str, JSON],
        values: Values,
        ctx: Context,
    ) -> None:
        self.rt, self.walk, self.scope, self.hooks = rt, walk, scope, hooks
        self.values, self.ctx = values, ctx
        self.fired: dict[str, asyncio.Future[NodeRecord]] = {}
        self._phase = ""
        self._name = ""

    def attach(self, name: str) -> None:
        """Follow node ``name`` (created later, or already there on a resume)."""
        self._name = name
        self.rt.journal.observe(name, self.observe)

    def observe(self, node: NodeRecord) -> None:
        """The hooked node was saved: fire each hook whose expression is now true
        (or whose node exists already: a resumed run carries it on, as Argo does)."""
        if node.phase == self._phase or len(self.fired) == len(self.hooks):
            return
        self._phase = node.phase
        values = self.values(node)
        for hname, hook in self.hooks.items():
            if hname in self.fired:
                continue
            problem = ""
            try:
                fires = f"{node.name}.hooks.{hname}" in self.rt.journal.by_name or hook_fires(
                    str(hook.get("expression") or ""), values
                )
            except ExpressionError as err:
                fires, problem = True, f"hook expression: {err}"
            if fires:
                job = self._run(hname, hook, node, values, problem)
                self.fired[hname] = asyncio.ensure_future(job)

    async def _run(
        self, hname: str, hook: JSON, node: NodeRecord, values: dict[str, str], problem: str
    ) -> NodeRecord:
        name, display = f"{node.name}.hooks.{hname}", f"{node.display_name}.hooks.{hname}"
        ctx = self.ctx.child(node.id)
        if problem:
            return self.rt.journal.error(name, display, ctx, problem)
        try:
            template, scope = resolve(hook, self.scope, self.rt.documents)
            has_parameters = bool((hook.get("arguments") or {}).get("parameters"))
            arguments = call_arguments(hook, values) if has_parameters else {}
            call = Call(template, scope, arguments, resolve_arguments(hook, values))
            return await self.walk.execute(name, display, call, ctx)
        except (ExpressionError, NodeFailure) as err:
            return self.rt.error(name, display, ctx, err)

    async def wait(self) -> None:
        """Until every hook fired has ended; cancelled, the hooks are cancelled too."""
        if self._name:
            self.rt.journal.unobserve(self._name)
        jobs = list(self.fired.values())
        if not jobs:
            return
        try:
            await asyncio.gather(*jobs)
        except asyncio.CancelledError:
            await self.cancel()
            raise

    async def cancel(self) -> None:
        """Stop the hooks still running (the node they hook was cancelled)."""
        if self._name:
            self.rt.journal.unobserve(self._name)
        jobs = list(self.fired.values())
        for job in jobs:
            job.cancel()
        await asyncio.gather(*jobs, return_exceptions=True)
