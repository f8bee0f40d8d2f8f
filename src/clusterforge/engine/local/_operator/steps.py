"""A ``steps`` template: groups run one after another, the steps of a group in parallel.

:class:`StepsRun` keeps the outputs of finished steps (``steps.X.*``) as a
field; a group whose step failed (without ``continueOn``) ends the node.
"""

from __future__ import annotations

import asyncio
from typing import Any

from clusterforge.engine.local._operator.calls import TemplateRun
from clusterforge.engine.local._operator.context import Context
from clusterforge.engine.local._operator.errors import NodeFailure
from clusterforge.engine.local.dag_rules import continues_on
from clusterforge.engine.phases import FAILED, FULFILLED
from clusterforge.store import NodeRecord
from clusterforge.workflow.expressions import ExpressionError

JSON = dict[str, Any]


class StepsRun(TemplateRun):
    """One Steps node being run; ``step_vars`` are the outputs of its finished steps."""

    node_type = "Steps"
    step_vars: dict[str, str]

    async def run(self) -> NodeRecord:
        journal, self.step_vars = self.rt.journal, {}
        try:
            for index, group_steps in enumerate(self.call.template.get("steps") or []):
                failed = await self.run_group(index, group_steps or [])
                if failed is not None:
                    return journal.finish(self.node, failed.phase, f"child '{failed.id}' failed")
        except asyncio.CancelledError:
            self.rt.cancelled(self.node)
            raise
        return self.succeed({**self.base_vars, **self.step_vars})

    async def run_group(self, index: int, steps: list[JSON]) -> NodeRecord | None:
        """Run one group; the step that failed it, if one did."""
        journal = self.rt.journal
        group_name = f"{self.name}[{index}]"
        group = journal.node(group_name, f"[{index}]", "StepGroup", self.ctx)
        group_ctx = Context(self.node.id, group.id, self.ctx.semaphores, self.ctx.extra_vars)
        values = {**self.base_vars, **self.rt.variables.global_vars(), **self.step_vars}
        results = await asyncio.gather(
            *(self.run_step(f"{group_name}.{s['name']}", s, values, group_ctx) for s in steps)
        )
        failed = [
            r
            for s, r in zip(steps, results, strict=True)
            if r.phase in FAILED and not continues_on(s, r.phase)
        ]
        for s, r in zip(steps, results, strict=True):
            self.step_vars.update(self.called_vars(f"steps.{s['name']}", s, r))
        if failed:
            journal.finish(group, failed[0].phase, f"child '{failed[0].id}' failed")
            return failed[0]
        if group.phase not in FULFILLED:
            journal.finish(group, "Succeeded")
        return None

    async def run_step(
        self, name: str, step: JSON, values: dict[str, str], ctx: Context
    ) -> NodeRecord:
        try:
            return await self.caller.call(name, step["name"], step, values, ctx)
        except (ExpressionError, NodeFailure) as err:
            return self.rt.error(name, step["name"], ctx, err)
