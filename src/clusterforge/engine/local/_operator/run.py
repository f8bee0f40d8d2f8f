"""One workflow run, start to end: resume what the store holds, run the
entrypoint under the workflow's deadline, honour stop/terminate requests from
other processes (read for all runs of the loop at once, :mod:`batch`), run the
``onExit`` handler, record the workflow's end.

Templates are kept as the JSON dicts snapshotted at submit time; ``{{…}}``
tags are substituted into copies of them just before a step starts.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import json
import os
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from clusterforge.engine.artifacts import ArtifactFailure, RepositoryError
from clusterforge.engine.cluster import cluster_of
from clusterforge.engine.local._operator.artifacts import (
    RunArtifacts,
    garbage_collect,
    resolve_arguments,
)
from clusterforge.engine.local._operator.batch import run_watcher
from clusterforge.engine.local._operator.configmaps import global_parameters
from clusterforge.engine.local._operator.context import Call, Context, RunFlags
from clusterforge.engine.local._operator.errors import NodeFailure
from clusterforge.engine.local._operator.execute import Executor
from clusterforge.engine.local._operator.hooks import LifecycleHooks
from clusterforge.engine.local._operator.journal import Journal
from clusterforge.engine.local._operator.mutexes import Mutexes
from clusterforge.engine.local._operator.pods import HostPods, Pods, interrupted_message
from clusterforge.engine.local._operator.resource_log import is_resource_log
from clusterforge.engine.local._operator.runtime import Runtime
from clusterforge.engine.local._operator.scope import Variables, call_arguments
from clusterforge.engine.local._operator.semaphores import Semaphores
from clusterforge.engine.local._operator.templates import named_hooks, resolve, workflow_scope
from clusterforge.engine.local.values import iso_time, parameter_text
from clusterforge.engine.local.workflow_globals import duration
from clusterforge.engine.objects import ObjectMissing, Objects, objects_of
from clusterforge.engine.phases import (
    COMPLETED,
    FAILED,
    FULFILLED,
    WORKFLOW_DEADLINE_MESSAGE,
    shutdown_message,
)
from clusterforge.errors import InvalidInput
from clusterforge.store import NodeRecord, Store, WorkflowRecord
from clusterforge.workflow.expressions import ExpressionError

JSON = dict[str, Any]

PodsFactory = Callable[[Journal, Path, Path], Pods]
"""Makes the pods of one run from its journal, run directory and scratch directory."""


def host_pods(journal: Journal, run_dir: Path, scratch_dir: Path) -> Pods:
    return HostPods(journal, run_dir, scratch_dir)


class WorkflowRun:
    """Runs (or resumes) one workflow to completion."""

    def __init__(
        self,
        store: Store,
        workflow: WorkflowRecord,
        run_dir: Path,
        scratch_root: Path | None = None,
        *,
        pods: PodsFactory = host_pods,
    ) -> None:
        self.wf = workflow
        self.spec = workflow.manifest.get("spec", {})
        self.root_scope = workflow_scope(self.spec)
        # One scratch root serves every engine home on the machine: the run
        # directory's hash keeps two homes' workflows of the same name apart.
        home_key = hashlib.sha256(os.fsencode(run_dir.absolute())).hexdigest()[:10]
        scratch_dir = scratch_root / f"{workflow.id}-{home_key}" if scratch_root else run_dir
        self.journal = Journal(store, workflow)
        parallelism = self.spec.get("parallelism")
        self.rt = Runtime(
            journal=self.journal,
            variables=Variables(workflow),
            flags=RunFlags(shutdown=workflow.shutdown),
            pods=pods(self.journal, run_dir, scratch_dir),
            documents=workflow.templates,
            workflow_semaphore=asyncio.Semaphore(int(parallelism)) if parallelism else None,
            # The engine home's own repository when none is configured (run_dir is home/runs/ID).
            artifacts=RunArtifacts(self.spec, run_dir.parent.parent / "artifacts"),
            mutexes=Mutexes(run_dir.parent.parent / "locks"),
            semaphores=Semaphores(run_dir.parent.parent / "locks"),
            cluster=cluster_of(workflow.manifest, workflow.namespace),
            work_dir=run_dir,
        )
        self.executor = Executor(self.rt)
        self._main: asyncio.Future[None] | None = None
        self._failure = ""  # why the run ended before its first node
        self._started = asyncio.Event()  # Running: its workflow-level lock (if any) taken
        # The workflow-level locks, once taken: held until the workflow has ended, its
        # exit handler included (Argo's persistUpdates releases them, ReleaseAll, only
        # once the workflow is Fulfilled), whatever ends the entrypoint's task.
        self._locks = contextlib.AsyncExitStack()

    async def run(self) -> WorkflowRecord:
        """Run the workflow (resuming whatever the store already holds) to its end."""
        self.journal.load()
        self.interrupted_attempts()
        self.rt.pods.recover(list(self.journal.nodes.values()))
        if not self.spec.get("synchronization") or self.wf.started_at is not None:
            self._start()
        problem = await self._read_objects()
        if problem is not None:
            # As Argo's setGlobalParameters: the workflow ends in Error before any node.
            await self.rt.pods.settle()
            self.rt.pods.close()
            self.journal.workflow_finished("Error", problem, {})
            return self.wf
        async with self._locks:  # released once the workflow has ended
            watcher = run_watcher()
            watcher.add(self)
            try:
                phase, message = await self._run_main()
                if self.rt.flags.shutdown != "Terminate":
                    exit_phase = await self._run_on_exit(phase)
                    if exit_phase in FAILED and phase == "Succeeded":
                        phase, message = "Failed", "exit handler failed"
            finally:
                watcher.remove(self)
            final = phase if phase in ("Succeeded", "Error") else "Failed"
            await self.rt.pods.settle()
            message = await self._collect_garbage(message)
            self.rt.pods.close()
            self.journal.workflow_finished(final, message, self.rt.variables.global_outputs())
        return self.wf

    async def _read_objects(self) -> str | None:
        """Read the run's ConfigMaps/Secrets and the global parameters taken from them
        (in a thread: files, or kubectl for a cluster); why the run cannot start, if so."""
        wf = self.wf
        files, cluster = objects_of(wf.manifest), cluster_of(wf.manifest, wf.namespace)

        def read() -> tuple[Objects, dict[str, str]]:
            objects = Objects.load(files, cluster)
            return objects, global_parameters(self.spec, wf.arguments, objects, wf.namespace)

        try:
            if files or cluster is not None:
                objects, values = await asyncio.get_running_loop().run_in_executor(None, read)
            else:  # nothing to read: no thread hop (a fleet starts hundreds of runs)
                objects, values = read()
        except (ObjectMissing, InvalidInput) as err:
            return str(err)
        self.rt.variables.use_objects(objects, values)
        return None

    async def _collect_garbage(self, message: str) -> str:
        """``artifactGC`` with ``OnWorkflowCompletion``: delete those artifacts now."""
        arts = self.rt.artifacts
        if arts is None or not arts.stored:
            return message
        try:
            await asyncio.get_running_loop().run_in_executor(
                None, garbage_collect, arts, "OnWorkflowCompletion"
            )
        except (ArtifactFailure, RepositoryError) as err:
            return f"{message}; artifactGC: {err}" if message else f"artifactGC: {err}"
        return message

    def interrupted_attempts(self) -> None:
        """Attempts a dead engine left Running/Pending are taken over by the walk
        (see ``Pods.adopt``); those that cannot be end in Error."""
        for node in self.journal.unfinished():
            if is_resource_log(node, self.rt.work_dir):
                continue  # a resource node runs no process: the walk waits on its object again
            if node.type == "Pod" and not self.rt.pods.adopt(node):
                self.journal.finish(node, "Error", interrupted_message(node))

    def _start(self) -> None:
        """The workflow is Running from now (Argo sets its startedAt then)."""
        self.journal.workflow_started()
        self._started.set()

    async def _until_started(self) -> None:
        await self._started.wait()

    async def _deadline_left(self) -> float | None:
        """Seconds left of ``activeDeadlineSeconds`` once the workflow has started. As
        Argo's ``getWorkflowDeadline``, it counts from ``startedAt``, which a workflow
        Pending for its workflow-level lock does not have yet: the wait is not counted."""
        deadline = self.spec.get("activeDeadlineSeconds")
        if deadline in (None, "") or self._main is None:
            return None
        started = asyncio.ensure_future(self._until_started())
        await asyncio.wait({self._main, started}, return_when=asyncio.FIRST_COMPLETED)
        started.cancel()
        if self.wf.started_at is None:  # ended while it waited
            return None
        return max(float(parameter_text(deadline)) - (time.time() - self.wf.started_at), 0.0)

    async def _run_main(self) -> tuple[str, str]:
        """Run the entrypoint under the workflow's deadline; its phase and message."""
        flags, wf = self.rt.flags, self.wf
        self._main = asyncio.ensure_future(self._run_hooked(self.spec.get("entrypoint", "")))
        timeout = await self._deadline_left()
        finished, _ = await asyncio.wait({self._main}, timeout=timeout)
        if not finished:
            flags.deadline_hit = True
            self._main.cancel()
            await asyncio.wait({self._main})
        await self.rt.daemons.stop_all()  # a daemon entrypoint, or one a cancel left
        self._sweep(
            flags.cancel_reason() if flags.shutdown or flags.deadline_hit else "workflow ended"
        )
        root = self.journal.by_name.get(wf.name)
        if flags.deadline_hit:
            if root is not None and root.phase not in FULFILLED:
                self.journal.finish(root, "Failed", WORKFLOW_DEADLINE_MESSAGE)
            return "Failed", WORKFLOW_DEADLINE_MESSAGE
        if flags.shutdown and (root is None or root.phase not in COMPLETED - {"Succeeded"}):
            return "Failed", shutdown_message(flags.shutdown)
        if root is not None:
            return root.phase, root.message if root.phase in FAILED else ""
        if self._failure:
            return "Failed", self._failure
        return "Error", ""

    def _sweep(self, reason: str) -> None:
        """After a stop or deadline, no node may be left looking alive."""
        for node in self.journal.unfinished():
            self.journal.finish(node, "Failed", reason)

    async def _run_hooked(self, entry: str) -> None:
        """The entrypoint, with the workflow's named hooks (``spec.hooks.NAME``) following
        its node; the workflow ends once the hooks it fired did (Argo's
        ``executeWfLifeCycleHook``, before the exit handler)."""
        hooks = named_hooks(self.spec)
        if not hooks:
            await self._run_entry(entry)
            return
        ctx = Context("", self.wf.name, (), {"steps.name": ""})
        lifecycle = LifecycleHooks(
            self.rt, self.executor, self.root_scope, hooks, self._hook_values, ctx
        )
        lifecycle.attach(self.wf.name)
        try:
            await self._run_entry(entry)
        except asyncio.CancelledError:
            await lifecycle.cancel()
            raise
        await lifecycle.wait()

    def _hook_values(self, root: NodeRecord) -> dict[str, str]:
        """What a workflow-level hook sees: ``workflow.status`` from the entrypoint's
        node as Argo maps it (Skipped and Omitted read Succeeded), ``workflow.failures``."""
        status = {"Skipped": "Succeeded", "Omitted": "Succeeded"}.get(root.phase, root.phase)
        return {
            **self.rt.variables.workflow_vars(),
            "workflow.duration": duration(self.wf.started_at),
            "workflow.status": status,
            "workflow.failures": self._failures(),
        }

    async def _run_entry(self, entry: str) -> None:
        # Argo calls the entrypoint (and onExit) as a step with no name: steps.name is "".
        ctx, name = Context("", "", (), {"steps.name": ""}), self.wf.name
        if entry not in self.root_scope.templates:
            node = self.journal.node(name, name, "Pod", ctx)
            self.journal.finish(node, "Error", f"entrypoint template {entry!r} not found")
            return
        synchronization = self.spec.get("synchronization")
        try:
            call = Call(
                self.root_scope.template(entry),
                self.root_scope,
                self._arguments(),
                self._artifact_arguments(),
            )
            if synchronization:
                # Workflow-level locks are held for the whole run (Argo): wait first,
                # Pending with Argo's "Waiting for … lock" message on the workflow. They
                # join the run's stack, so the exit handler runs while they are held.
                held = self.rt.synchronized(synchronization, self.journal.workflow_waiting)
                await self._locks.enter_async_context(held)
                if not self._started.is_set():
                    self._start()
            await self.executor.execute(name, name, call, ctx)
        except NodeFailure as err:
            self.journal.error(name, name, ctx, str(err))
        except ObjectMissing as err:
            # As Argo's workflow-level TryAcquire error: the workflow fails, no node runs.
            self._failure = f"Failed to acquire the synchronization lock. {err}"

    def _arguments(self) -> dict[str, str]:
        """What the entrypoint and the ``onExit`` handler are called with: as in
        Argo, the workflow's ``spec.arguments`` (with the submitted values) fill
        the template's inputs of the same names."""
        return self.rt.variables.workflow_arguments()

    def _artifact_arguments(self) -> list[dict[str, object]]:
        """``spec.arguments.artifacts``, for the entrypoint's (and onExit's) inputs."""
        return resolve_arguments(self.spec, self.rt.variables.workflow_vars())

    def _exit_hook(self) -> JSON | None:
        """The workflow's exit handler: ``onExit: TEMPLATE``, else ``hooks.exit`` (Argo's
        ``WorkflowSpec.GetExitHook``: onExit wins when both are set)."""
        if self.spec.get("onExit"):
            return {"template": self.spec["onExit"]}
        hook = (self.spec.get("hooks") or {}).get("exit")
        return hook if isinstance(hook, dict) else None

    async def _run_on_exit(self, main_phase: str) -> str:
        hook = self._exit_hook()
        if hook is None:
            return "Succeeded"
        extra = {
            "workflow.status": main_phase,
            "workflow.failures": self._failures(),
            "steps.name": "",
        }
        try:
            template, scope = resolve(hook, self.root_scope, self.rt.documents)
            if (hook.get("arguments") or {}).get("parameters"):
                # a hook's own arguments, which may read workflow.status/failures
                seen = {**self.rt.variables.workflow_vars(), **extra}
                arguments = call_arguments(hook, seen)
                artifacts = resolve_arguments(hook, seen)
            else:  # without them, the workflow's arguments (Argo's WithArgs)
                arguments, artifacts = self._arguments(), self._artifact_arguments()
            call = Call(template, scope, arguments, artifacts)
        except (NodeFailure, ExpressionError):
            return "Error"
        flags = self.rt.flags
        saved, flags.shutdown = flags.shutdown, None  # the exit handler runs even after a Stop
        name = f"{self.wf.name}.onExit"
        try:
            node = await self.executor.execute(name, name, call, Context("", "", (), extra))
        except NodeFailure:
            return "Error"
        finally:
            flags.shutdown = saved
        return node.phase

    def _failures(self) -> str:
        """``workflow.failures``: the failed pods, as Argo lists them."""
        return json.dumps(
            [
                {
                    "displayName": n.display_name,
                    "message": n.message,
                    "templateName": n.template_name,
                    "phase": n.phase,
                    "podName": n.id,
                    "finishedAt": iso_time(n.finished_at) if n.finished_at else "",
                }
                for n in self.journal.nodes.values()
                if n.phase in FAILED and n.type == "Pod"
            ]
        )

    @property
    def store(self) -> Store:
        return self.journal.store

    @property
    def workflow_id(self) -> str:
        return self.wf.id

    def request_shutdown(self, strategy: str) -> None:
        """Another process asked to stop or terminate this run (the loop's
        :class:`~.batch.RunWatcher` read it, with everybody else's)."""
        if not self.rt.flags.shutdown:
            self.rt.flags.shutdown = strategy
            if self._main is not None:
                self._main.cancel()
