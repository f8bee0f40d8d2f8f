"""What every part of a workflow run shares: its journal, variables, stop flags,
pods, the snapshotted WorkflowTemplates, the workflow's ``parallelism`` and
the engine home's mutexes.

One small bundle instead of one large class: the DAG, steps, retry and call
modules take a :class:`Runtime` and an :class:`~.context.Executes`, and own
only their own state.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
from collections.abc import AsyncIterator, Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from clusterforge.engine.cluster import ClusterRef
from clusterforge.engine.local._operator.artifacts import RunArtifacts
from clusterforge.engine.local._operator.configmaps import semaphore_limit
from clusterforge.engine.local._operator.context import Call, Context, RunFlags
from clusterforge.engine.local._operator.daemons import LOOPBACK, Daemons
from clusterforge.engine.local._operator.journal import Journal
from clusterforge.engine.local._operator.mutexes import Mutexes, mutex_names
from clusterforge.engine.local._operator.pod_objects import needs_objects, object_env
from clusterforge.engine.local._operator.pods import Pods
from clusterforge.engine.local._operator.scope import Variables, node_vars, parameter_list
from clusterforge.engine.local._operator.semaphores import (
    Holder,
    SemaphoreRef,
    Semaphores,
    semaphore_refs,
)
from clusterforge.engine.objects import ObjectMissing
from clusterforge.store import NodeRecord

JSON = dict[str, Any]


@dataclass
class Runtime:
    journal: Journal
    variables: Variables
    flags: RunFlags
    pods: Pods
    documents: Mapping[str, JSON]
    workflow_semaphore: asyncio.Semaphore | None = None
    artifacts: RunArtifacts | None = None
    mutexes: Mutexes | None = None
    semaphores: Semaphores | None = None
    cluster: ClusterRef | None = None
    """The cluster ``resource`` templates act on (``--kubeconfig``), if one was given."""
    work_dir: Path | None = None
    """The run's own directory (resource manifests are written under it)."""
    daemons: Daemons = field(init=False)

    def __post_init__(self) -> None:
        self.daemons = Daemons(self.journal, self.pods)

    @contextlib.asynccontextmanager
    async def synchronized(
        self, synchronization: object, waiting: Callable[[str], None]
    ) -> AsyncIterator[None]:
        """Hold a ``synchronization``'s mutexes, then a slot of each of its semaphores;
        ``waiting(message)`` says what it waits for. A semaphore whose limit cannot be
        read raises :class:`~clusterforge.engine.objects.ObjectMissing` (Argo's message)."""
        variables = self.variables
        namespace = variables.wf.namespace
        async with contextlib.AsyncExitStack() as stack:
            names = mutex_names(synchronization)
            if names and self.mutexes is not None:
                await stack.enter_async_context(self.mutexes.held(namespace, names, waiting))
            refs = semaphore_refs(synchronization)
            if refs and self.semaphores is not None:

                async def limit(ref: SemaphoreRef) -> int:
                    where, objects = ref.namespace or namespace, variables.objects
                    read = functools.partial(semaphore_limit, objects, where, ref.name, ref.key)
                    if objects is None or objects.cached("ConfigMap", where, ref.name):
                        return read()
                    # kubectl in a thread: the loop runs every workflow of the process
                    return await asyncio.get_running_loop().run_in_executor(None, read)

                priority = variables.spec.get("priority")
                holder = Holder(
                    int(priority) if isinstance(priority, int) else 0,
                    variables.wf.created_at,
                    limit,
                    waiting,
                )
                await stack.enter_async_context(self.semaphores.held(namespace, refs, holder))
            yield

    async def object_env(self, body: JSON) -> dict[str, str] | None:
        """A container's ``env``/``envFrom`` with the values read from the run's
        ConfigMaps/Secrets, as the kubelet builds it (``None``: it reads none, its plain
        values do). A missing object raises :class:`ObjectMissing` with the kubelet's
        ``CreateContainerConfigError`` message; kubectl runs in a thread."""
        if not needs_objects(body, ()):
            return None
        objects, namespace = self.variables.objects, self.variables.wf.namespace

        def read() -> dict[str, str]:
            try:
                return object_env(body, objects, namespace)
            except ObjectMissing as err:
                raise ObjectMissing(f"CreateContainerConfigError: {err}") from None

        if objects is not None and objects.cluster is not None:
            return await asyncio.get_running_loop().run_in_executor(None, read)
        return read()

    def node_vars(self, key: str, rec: NodeRecord) -> dict[str, str]:
        """``tasks.X.*`` / ``steps.X.*`` of a finished (or daemoned) node."""
        values = node_vars(key, rec, self.journal.children(rec) if rec.type == "TaskGroup" else ())
        if rec.id in self.daemons.daemoned:
            values[f"{key}.ip"] = LOOPBACK
        return values

    def leaf_node(
        self,
        name: str,
        display: str,
        node_type: str,
        call: Call,
        inputs: dict[str, str],
        ctx: Context,
    ) -> tuple[NodeRecord, dict[str, str]]:
        """A node that calls no template (HTTP, Suspend): the node with its inputs
        recorded, and the variables its template's body sees."""
        template = call.template
        node = self.journal.node(name, display, node_type, ctx, template.get("name", ""))
        node.inputs = {"parameters": parameter_list(inputs)}
        return node, self.variables.template_vars(inputs, ctx)

    async def gather_children(self, node: NodeRecord, jobs: Sequence[asyncio.Future[None]]) -> None:
        """Run a node's children; cancelled, cancel every child and end the node."""
        try:
            await asyncio.gather(*jobs)
        except asyncio.CancelledError:
            for job in jobs:
                job.cancel()
            await asyncio.gather(*jobs, return_exceptions=True)
            self.cancelled(node)
            raise

    def cancelled(self, node: NodeRecord) -> NodeRecord:
        """End a node whose run was cancelled (stop, terminate, deadline)."""
        return self.journal.finish(node, "Failed", self.flags.cancel_reason())

    def error(self, name: str, display: str, ctx: Context, err: Exception) -> NodeRecord:
        return self.journal.error(name, display, ctx, str(err))
