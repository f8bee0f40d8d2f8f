"""A ``containerSet`` template: a small DAG of containers in one pod, as host processes.

As Argo (docs/container-set-template.md, the controller's pod reconciliation):
the template's node is a Pod node, and each container gets a child node of
type ``Container`` named ``<pod>.<container>``. A container starts once every
container in its ``dependencies`` has succeeded; containers without a path
between them run in parallel. The pod fails when a container fails; one whose
dependency did not succeed never starts and fails with that reason. The pod's
outputs (``outputs.result``, ``exitCode``, ``outputs.parameters``) are those of
the container named ``main``, which Argo requires for outputs.

Each container runs as one attempt of its own (its own working directory and
private /tmp), like the containers of a pod, which share no files unless a
volume is mounted.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

from clusterforge.engine.local._operator.context import Call, Context
from clusterforge.engine.local._operator.pods import PodSpec
from clusterforge.engine.local._operator.runtime import Runtime
from clusterforge.engine.local._operator.scope import parameter_list
from clusterforge.engine.local.values import substitute_tree
from clusterforge.engine.objects import ObjectMissing
from clusterforge.store import NodeRecord
from clusterforge.workflow.expressions import ExpressionError

JSON = dict[str, Any]
MAIN = "main"


class ContainerSetRun:
    """One containerSet pod being run; ``refuse(template, body)`` says why a
    container cannot run on the host (no command), or ``""``."""

    def __init__(
        self,
        rt: Runtime,
        name: str,
        display: str,
        call: Call,
        inputs: dict[str, str],
        ctx: Context,
        refuse: Callable[[JSON, JSON], str],
    ) -> None:
        self.rt, self.name, self.call, self.refuse = rt, name, call, refuse
        template = call.template
        self.node = rt.journal.node(name, display, "Pod", ctx, template.get("name", ""))
        self.node.inputs = {"parameters": parameter_list(inputs)}
        self.values = rt.variables.template_vars(inputs, ctx)
        self.child_ctx = ctx.child(self.node.id)
        self.results: dict[str, NodeRecord] = {}
        self.done: dict[str, asyncio.Event] = {}

    async def run(self, timeout: float | None) -> NodeRecord:
        journal, template = self.rt.journal, self.call.template
        containers = (template["containerSet"] or {}).get("containers") or []
        self.done = {c["name"]: asyncio.Event() for c in containers}
        jobs = [asyncio.ensure_future(self._container(c, timeout)) for c in containers]
        await self.rt.gather_children(self.node, jobs)
        failed = [c["name"] for c in containers if self.results[c["name"]].phase != "Succeeded"]
        main = self.results.get(MAIN)
        if main is not None:
            self.node.outputs, self.node.exit_code = main.outputs, main.exit_code
        if failed:
            first = self.results[failed[0]]
            return journal.finish(self.node, first.phase, f"{failed[0]}: {first.message}")
        return journal.finish(self.node, "Succeeded")

    async def _container(self, container: JSON, timeout: float | None) -> None:
        cname = container["name"]
        try:
            self.results[cname] = await self._run_container(container, timeout)
        finally:
            self.done[cname].set()

    async def _run_container(self, container: JSON, timeout: float | None) -> NodeRecord:
        journal, cname = self.rt.journal, container["name"]
        child = journal.node(
            f"{self.name}.{cname}", cname, "Container", self.child_ctx, phase="Pending"
        )
        if done := journal.fulfilled(child.name):
            return done
        for dep in container.get("dependencies") or []:
            if dep not in self.done:
                return journal.finish(child, "Error", f"dependencies: no container named {dep!r}")
            await self.done[dep].wait()
            if self.results[dep].phase != "Succeeded":
                return journal.finish(child, "Failed", f"dependency {dep!r} did not succeed")
        try:
            body = substitute_tree(container, self.values)
        except ExpressionError as err:
            return journal.finish(child, "Error", str(err))
        child.image = body.get("image")
        if why := self.refuse(self.call.template, body):
            return journal.finish(child, "Error", why)
        try:
            env = await self.rt.object_env(body)
        except ObjectMissing as err:
            return journal.finish(child, "Error", str(err))
        outputs = (self.call.template.get("outputs") or {}).get("parameters", []) or []
        spec = PodSpec("container", body, outputs if cname == MAIN else [], timeout, env=env)
        try:
            outcome = await self.rt.pods.run(child, spec)
        except asyncio.CancelledError:
            self.rt.cancelled(child)
            raise
        if outcome.exit_code is not None:
            child.exit_code = outcome.exit_code
        child.outputs = outcome.outputs
        return journal.finish(child, outcome.phase, outcome.message)
