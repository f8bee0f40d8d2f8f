"""The one interface every engine backend implements.

Everything above the engine (stages, CLI, API, UI) drives workflows through
:class:`Engine` only — the local engine today, an Argo Workflows backend
later — the way httpx's clients speak to any transport through one method.
Front ends get an engine from :func:`clusterforge.engine.open_engine` and
never import a backend's module.

The types crossing this surface are the engine's own: :class:`Submission`
(what to run), :class:`~clusterforge.engine.status.WorkflowView` (Argo's
Workflow object), :class:`LogLine`, the plain node records and events a
watcher reads, and :class:`Records` — the small key/value space a caller
keeps its own records in next to the workflows (the pipeline's build
records, the API's idempotency keys). No database handle crosses it: an Argo
backend keeps records wherever it likes (a ConfigMap, a local file).

:class:`HostedEngine` is the extension a *host* of workflow runs offers — an
engine whose steps run in this machine's processes, so a server can queue
them, run them in its own threads and hand them between its processes. The
Argo backend is not one (the controller runs the workflows); a server on it
submits through :class:`Engine` and follows through :class:`WatchedEngine`.
"""

from __future__ import annotations

import builtins
from collections.abc import Callable, Iterator, Mapping, Sequence
from concurrent.futures import Future
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal, Protocol, TypeVar, runtime_checkable

from clusterforge.engine.plans import PlannedNode
from clusterforge.engine.status import WorkflowView
from clusterforge.store.records import NodeEvent, WorkflowRecord

if TYPE_CHECKING:
    from clusterforge.store import WorkflowRow

T = TypeVar("T")

StopStrategy = Literal["Stop", "Terminate"]
"""Argo's two ways to end a workflow early: ``Stop`` lets exit handlers run,
``Terminate`` does not."""


@dataclass(frozen=True)
class Submission:
    """What to run: workflow files (or a library WorkflowTemplate), and arguments.

    ``workflow_template`` submits a WorkflowTemplate of the library by name, like
    ``argo submit --from workflowtemplate/NAME``. ``document`` is one workflow
    already as data (what a sensor's trigger renders): it is checked exactly as
    its JSON text would be, and an engine may reuse that check for documents
    that differ only in ``spec.arguments.parameters`` values.

    ``kubeconfig`` names the cluster the workflow runs against (its ``resource``
    templates, ConfigMap references) by path — never the file's content — and
    ``namespace`` the workflow's namespace there (``argo submit -n``); see
    :mod:`clusterforge.engine.cluster`. ``objects`` names files of ConfigMap and
    Secret manifests the run reads (``--objects``; by path, see
    :mod:`clusterforge.engine.objects`).
    """

    files: tuple[Path, ...] = ()
    workflow_template: str | None = None
    text: str | None = None
    document: Mapping[str, Any] | None = None
    template_dirs: tuple[Path, ...] = ()
    arguments: Mapping[str, str] = field(default_factory=dict)
    labels: Mapping[str, str] = field(default_factory=dict)
    name: str | None = None
    kubeconfig: str | None = None
    namespace: str | None = None
    objects: tuple[str, ...] = ()


@dataclass(frozen=True)
class LogLine:
    """One line of a step's output."""

    node_id: str
    display_name: str
    stream: str
    text: str


class Records(Protocol):
    """A caller's own records, kept next to the workflows, by scope and key."""

    def kv_get(self, scope: str, key: str) -> Any: ...

    def kv_put(self, scope: str, key: str, value: Any) -> None: ...

    def kv_create(self, scope: str, key: str, value: Any) -> bool:
        """Store only if the key is free; False if it was taken."""
        ...

    def kv_delete(self, scope: str, key: str) -> None: ...

    def kv_items(self, scope: str) -> builtins.list[tuple[str, Any]]: ...


@runtime_checkable
class Engine(Protocol):
    """Submit, observe and control workflows."""

    kind: str
    """The backend's name, as ``open_engine`` takes it (``local``, later ``argo``)."""

    @property
    def warnings(self) -> Sequence[str]:
        """What the last ``prepare``/``submit`` of this engine warned about."""
        ...

    @property
    def records(self) -> Records: ...

    # -- submitting --------------------------------------------------------------

    def prepare(self, submission: Submission, *, check_generated: bool = True) -> WorkflowRecord:
        """Check a submission completely and snapshot it (the workflow and every
        template it references); raises on any error and stores nothing.

        ``check_generated=False``: do not look a generated name up (a caller that
        stores the snapshot itself sees a clash there and prepares again).
        """
        ...

    def plan(self, submission: Submission) -> PlannedNode:
        """What the submission would run and skip, and why — running nothing."""
        ...

    def submit(self, submission: Submission, *, detach: bool = False) -> WorkflowView:
        """Check, store and start a workflow. ``detach``: its run outlives this
        process (a CLI that returns at once); otherwise it runs in this one."""
        ...

    # -- reading -----------------------------------------------------------------

    def get(self, workflow_id: str) -> WorkflowView: ...

    def summary(self, workflow_id: str) -> WorkflowView:
        """The workflow without its nodes (cheap: what a poller of its phase needs)."""
        ...

    def exists(self, workflow_id: str) -> bool: ...

    def list(
        self,
        *,
        phase: str | None = None,
        labels: Mapping[str, str] | None = None,
        limit: int | None = None,
        offset: int = 0,
    ) -> list[WorkflowView]: ...

    def events(self, workflow_id: str, *, after: int = 0) -> builtins.list[NodeEvent]:
        """The node events after ``after`` that exist now (never blocks)."""
        ...

    def watch(self, workflow_id: str, *, after: int = 0) -> Iterator[NodeEvent]:
        """Node events in order, blocking, until the workflow has ended."""
        ...

    def changes(self, after: int | None = None) -> tuple[int, builtins.list[str]]:
        """The newest change id, and the workflows changed after ``after`` (in the
        order of their first change): what a live list refetches. ``after=None``
        means from now: the newest id and no workflows. Ids only grow, and an
        id a client saw stays valid after a restart, so a feed resumes with it."""
        ...

    def logs(
        self, workflow_id: str, node: str | None = None, *, follow: bool = False
    ) -> Iterator[LogLine]: ...

    def wait(self, workflow_id: str, *, timeout: float | None = None) -> WorkflowView:
        """The workflow once it has ended (or when ``timeout`` runs out)."""
        ...

    # -- control -----------------------------------------------------------------

    def retry(self, workflow_id: str, *, detach: bool = False) -> WorkflowView:
        """Re-run Failed/Errored nodes and what they gate; keep Succeeded ones."""
        ...

    def stop(self, workflow_id: str, *, strategy: StopStrategy = "Stop") -> WorkflowView: ...

    def delete(self, workflow_id: str) -> None:
        """Forget a finished workflow: its nodes, events and logs."""
        ...

    def resume(self, workflow_ids: builtins.list[str] | None = None) -> builtins.list[str]:
        """Continue workflows whose runner died; the ids taken up."""
        ...


@runtime_checkable
class HostedEngine(Engine, Protocol):
    """An engine whose workflows run in this host's processes (see the module doc).

    An *owner* names the process that runs a workflow; a workflow stored with
    :meth:`handoff_owner` waits for a controller process to :meth:`take_handed_off`
    it. These calls are how one server accepts in some processes and runs in
    another, with the state database as the queue.
    """

    owner: str

    def handoff_owner(self) -> str:
        """The owner a workflow waits under until this process's controller takes it."""
        ...

    def owner_alive(self, owner: str | None) -> bool: ...

    def start(self, workflow_id: str) -> None:
        """Claim a stored workflow and run it in a thread of this process."""
        ...

    def join(self, workflow_id: str, timeout: float | None = None) -> None:
        """Wait for a workflow this process runs to finish (no-op for others)."""
        ...

    def orphans(self) -> builtins.list[str]:
        """Workflows still Pending/Running whose owner is gone."""
        ...

    def take_handed_off(self, marker: str) -> builtins.list[str]:
        """Claim, oldest first, the workflows waiting under ``marker``."""
        ...

    def count_owned(self, owner: str) -> int: ...

    def create(self, record: WorkflowRecord | WorkflowRow) -> None:
        """Store a prepared workflow, Pending, to be started later."""
        ...

    def write_grouped(self, work: Callable[[], T]) -> Future[T]:
        """Run ``work`` (which calls :meth:`create` and writes records) as one
        transaction, grouped with other callers' for throughput."""
        ...

    def requeue(self, workflow_id: str, *, hand_to: str) -> WorkflowView:
        """:meth:`Engine.retry`, the reset workflow waiting under ``hand_to``."""
        ...


@runtime_checkable
class WatchedEngine(Engine, Protocol):
    """An engine whose workflows something else runs (Argo's controller): a server
    follows all of them through one watch instead of asking about each."""

    def watching(self, on_finished: Callable[[WorkflowView], None] | None = None) -> Any:
        """Follow every workflow from now on: events and reads come from the watch;
        ``on_finished`` hears of each workflow that ends meanwhile."""
        ...

    def close(self) -> None:
        """Stop following."""
        ...
