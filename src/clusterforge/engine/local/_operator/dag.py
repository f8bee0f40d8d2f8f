"""A ``dag`` template: tasks run as soon as their ``depends`` allow, in parallel.

:class:`DagRun` holds one DAG node's state as fields — each task's result,
the events its dependants wait on, whether fail-fast has stopped scheduling —
and its methods are Argo's rules over that state: a task waits for the tasks
its expression names, runs or is Omitted by the expression, and a failed
branch stops new tasks from starting unless ``failFast: false``.

Argo decides every task whose dependencies have completed in one pass, and
only then assesses the DAG (``executeDAG``: ``executeDAGTask`` for each
target, then ``assessDAGPhase``). So when a task fails, its dependants are
all decided together: ``x.Failed`` runs its handler even though the sibling
``x.Succeeded`` is Omitted and that Omitted leaf fails the branch (and the
DAG). Here each task's end is numbered; fail-fast stops only the tasks that
became ready after the end that turned a branch failed, never those made
ready by the same or an earlier end.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterable
from typing import Any

from clusterforge.engine.local._operator.calls import TemplateRun
from clusterforge.engine.local._operator.errors import NodeFailure
from clusterforge.engine.local.dag_rules import (
    DagStates,
    continues_on,
    legacy_dependencies,
    task_references,
)
from clusterforge.engine.phases import COMPLETED, FAILED
from clusterforge.store import NodeRecord
from clusterforge.workflow.expressions import DependsExpression, ExpressionError, parse_depends

JSON = dict[str, Any]


def task_logic(tasks: dict[str, JSON]) -> dict[str, DependsExpression | None]:
    """Each task's dependency expression (``depends``, or legacy ``dependencies``)."""
    logic: dict[str, DependsExpression | None] = {}
    for tname, task in tasks.items():
        try:
            if task.get("depends"):
                logic[tname] = parse_depends(task["depends"])
            elif task.get("dependencies"):
                logic[tname] = legacy_dependencies(task["dependencies"], tasks)
            else:
                logic[tname] = None
        except ExpressionError as err:
            raise NodeFailure(f"task {tname!r}: {err}") from err
    return logic


class DagRun(TemplateRun):
    """One DAG node being run."""

    node_type = "DAG"

    # The DAG's state, set up by run(): each task's result, the events its
    # dependants wait on, whether fail-fast has stopped scheduling.
    tasks: dict[str, JSON]
    results: dict[str, NodeRecord | None]
    done: dict[str, asyncio.Event]
    stop_scheduling: bool
    logic: dict[str, DependsExpression | None]
    refs: dict[str, list[str]]
    targets: list[str]
    fail_fast: bool
    # Tasks' ends, numbered: each task's number, and the end that stopped scheduling.
    ends: int
    ended_at: dict[str, int]
    stopped_at: int | None

    def _setup(self) -> None:
        dag: JSON = self.call.template["dag"]
        self.tasks = {t["name"]: t for t in dag.get("tasks", [])}
        self.results, self.stop_scheduling = {}, False
        self.ends, self.ended_at, self.stopped_at = 0, {}, None
        self.done = {t: asyncio.Event() for t in self.tasks}
        self.logic = task_logic(self.tasks)
        # Which tasks' outputs each task mentions: only those go into its scope.
        self.refs = {t: task_references(task, self.tasks) for t, task in self.tasks.items()}
        dependents = {d for expr in self.logic.values() if expr for d in expr.tasks()}
        target = dag.get("target")
        self.targets = target.split() if target else [t for t in self.tasks if t not in dependents]
        self.fail_fast = dag.get("failFast", True) is not False
        self.states = DagStates(self.phase_of, self.children_phases)

    async def run(self) -> NodeRecord:
        try:
            self._setup()
        except NodeFailure as err:
            return self.rt.journal.finish(self.node, "Error", str(err))
        jobs = [asyncio.ensure_future(self.run_task(t)) for t in self.tasks]
        try:
            await self.rt.gather_children(self.node, jobs)
            await self.caller.wait_hooks()  # the DAG ends once its tasks' hooks did (Argo)
        except asyncio.CancelledError:
            await self.caller.cancel_hooks()
            raise
        return self.outcome()

    # -- one task ------------------------------------------------------------------

    async def run_task(self, tname: str) -> None:
        name = f"{self.name}.{tname}"
        try:
            self.results[tname] = await self._task(tname, name)
        except (ExpressionError, NodeFailure) as err:
            self.results[tname] = self.rt.error(name, tname, self.ctx, err)
        finally:
            self.ends += 1
            self.ended_at[tname] = self.ends
            result = self.results.get(tname)
            if result is None or result.phase != "Succeeded":
                # Only such a result can turn a branch failed (a Succeeded task
                # ends its branch's walk), so a fan-out of N successes costs N, not N².
                self.check_fail_fast()
            self.done[tname].set()

    async def _task(self, tname: str, name: str) -> NodeRecord | None:
        task, expr = self.tasks[tname], self.logic[tname]
        if expr is not None:
            for dep in expr.tasks():
                await self.done[dep].wait()
        existing = self.rt.journal.by_name.get(name)
        if existing is None and self.stopped_before(expr):
            return None
        if expr is not None and not expr.evaluate(self.states):
            return self.rt.journal.node(
                name,
                tname,
                "Skipped",
                self.ctx,
                task.get("template", ""),
                phase="Omitted",
                message="omitted: depends condition not met",
            )
        values = {
            **self.base_vars,
            **self.rt.variables.global_vars(),
            **self.task_vars(self.refs[tname]),
        }
        return await self.caller.call(name, tname, task, values, self.ctx)

    # -- the rules over the tasks' state ------------------------------------------------

    def phase_of(self, tname: str) -> str:
        """The task's phase; ``Daemoned`` for a running daemon (``X.Daemoned`` in depends)."""
        rec = self.results.get(tname)
        if rec is not None and rec.id in self.rt.daemons.daemoned and rec.phase == "Running":
            return "Daemoned"
        return rec.phase if rec else "Pending"

    def children_phases(self, tname: str) -> list[str]:
        rec = self.results.get(tname)
        if rec is None or rec.type != "TaskGroup":
            return []
        return [c.phase for c in self.rt.journal.children(rec)]

    def branch_phase(self, tname: str) -> str:
        """The phase of the branch ending in ``tname``: failed if any task on it failed."""
        rec = self.results.get(tname)
        if rec is None:
            return ""
        if rec.phase in COMPLETED:
            return rec.phase
        expr = self.logic[tname]
        for dep in expr.tasks() if expr else ():
            phase = self.branch_phase(dep)
            if phase in FAILED:
                return phase
        return "Succeeded"

    def check_fail_fast(self) -> None:
        if not self.fail_fast or self.stop_scheduling:
            return
        for t in self.targets:
            phase = self.branch_phase(t)
            if phase in FAILED and not continues_on(self.tasks[t], phase):
                self.stop_scheduling = True
                self.stopped_at = self.ends
                return

    def stopped_before(self, expr: DependsExpression | None) -> bool:
        """Whether fail-fast stopped scheduling before this task's last dependency ended."""
        if not self.stop_scheduling or self.stopped_at is None:
            return self.stop_scheduling
        ready_at = max((self.ended_at[d] for d in expr.tasks()), default=0) if expr else 0
        return ready_at > self.stopped_at

    def task_vars(self, names: Iterable[str]) -> dict[str, str]:
        values: dict[str, str] = {}
        for t in names:
            rec = self.results.get(t) or self.rt.journal.by_name.get(f"{self.name}.{t}")
            if rec is not None:
                values.update(self.called_vars(f"tasks.{t}", self.tasks[t], rec))
        return values

    def outcome(self) -> NodeRecord:
        """End the DAG node: failed if a target's branch failed, else with its outputs."""
        journal = self.rt.journal
        for t in self.targets:
            phase = self.branch_phase(t) or ("Failed" if self.stop_scheduling else "Succeeded")
            if phase in FAILED and not continues_on(self.tasks[t], phase):
                culprit = self._first_failed()
                message = f"child '{culprit}' failed" if culprit else "a branch failed"
                return journal.finish(self.node, phase, message)
        return self.succeed({**self.base_vars, **self.task_vars(self.tasks)})

    def _first_failed(self) -> str:
        for t in self.tasks:
            rec = self.rt.journal.by_name.get(f"{self.name}.{t}")
            if rec is not None and rec.phase in FAILED:
                return rec.id
        return ""
