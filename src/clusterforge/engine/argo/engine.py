"""The Argo backend: the :class:`Engine` interface on a Kubernetes API with Argo's CRDs.

Argo's workflow-controller runs the workflows; this backend only submits,
reads and controls ``Workflow`` objects in one namespace (kubeconfig +
namespace). A submission is checked and snapshotted exactly as the local
engine does (so bad input is refused before anything is created); the
WorkflowTemplates it references are applied from that snapshot, then the
Workflow is created with the submission's parameters as
``spec.arguments``.

* ``get``/``list`` read the Workflow objects (:mod:`._translate`).
  ``events``/``watch``/``changes`` read a journal of node phase changes
  kept on this machine (:mod:`._journal`): what was observed, with ids that
  never move. A one-off command observes by reading the Workflow; a server
  calls :meth:`ArgoEngine.watching`, and one Kubernetes watch
  (:mod:`._informer`) journals every change as it happens and serves reads
  from its cache.
* ``logs`` read the step output the host executor keeps on this machine (a
  pod annotation names the files; kwok serves no ``pods/log``).
* ``retry`` does what Argo's ``RetryWorkflow`` does: failed Pod nodes (and
  a failed Retry node's attempts) are removed with their pods, the failed
  nodes above them reset to Running, succeeded nodes kept, and the
  Workflow set Running again — the controller re-runs what is missing.
* ``stop`` sets ``spec.shutdown`` (``Stop`` runs exit handlers,
  ``Terminate`` does not).
* ``submit`` waits until a controller has picked the Workflow up
  (``start_timeout``); if none does, it deletes the Workflow and says so.
"""

from __future__ import annotations

import builtins
import contextlib
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from clusterforge.engine.argo._informer import Informer
from clusterforge.engine.argo._journal import ObservedJournal
from clusterforge.engine.argo._kube import Kube
from clusterforge.engine.argo._records import ConfigMapRecords
from clusterforge.engine.argo._translate import to_view
from clusterforge.engine.argo.host_executor import LOG_DIR_ANNOTATION
from clusterforge.engine.interface import LogLine, Records, StopStrategy, Submission
from clusterforge.engine.status import WORKFLOW_DONE, WorkflowView
from clusterforge.errors import InvalidInput, NotFound, OperationFailed
from clusterforge.store.records import NodeEvent, WorkflowRecord

if TYPE_CHECKING:
    from clusterforge.engine.local.planner import PlannedNode

WORKFLOWS = "workflows"
NODE_ID_ANNOTATION = "workflows.argoproj.io/node-id"
_POLL = 0.5


class ArgoEngine:
    """Workflows run by Argo's controller in ``namespace`` of the kubeconfig's cluster."""

    kind = "argo"

    def __init__(
        self,
        kubeconfig: str | None,
        namespace: str = "default",
        *,
        home: Path | None = None,
        start_timeout: float = 30.0,
    ) -> None:
        from clusterforge.engine.local import LocalEngine

        self.kube = Kube(kubeconfig, namespace)
        self.namespace = namespace
        self.start_timeout = start_timeout
        self._checker = LocalEngine(home, in_cluster=True)  # resource templates: Argo's cluster
        self._records = ConfigMapRecords(self.kube)
        self._journal = ObservedJournal(self._checker.home, self.kube.server, namespace)
        self._informer: Informer | None = None
        self._finished: Callable[[WorkflowView], None] | None = None
        self._done: set[str] = set()

    # -- following the namespace (a server) ----------------------------------------

    def watching(self, on_finished: Callable[[WorkflowView], None] | None = None) -> Informer:
        """Keep one watch on the namespace's Workflows from now on: node events are
        journaled as they happen, reads come from its cache, and ``on_finished``
        hears of each workflow that ends while it watches."""
        if self._informer is None:
            self._finished = on_finished
            self._informer = Informer(self.kube, WORKFLOWS, self._seen)
            self._informer.start()
        return self._informer

    def close(self) -> None:
        if self._informer is not None:
            self._informer.stop()

    def _seen(self, kind: str, workflow: dict[str, Any]) -> None:
        """What the watch reports: journal it; tell ``on_finished`` of a new end."""
        name = str(workflow["metadata"]["name"])
        if kind == "DELETED":  # (by us, a user or Argo's TTL): its journal goes too
            self._done.discard(name)
            self._journal.forget(name)
            return
        self._journal.observe(workflow)
        if (workflow.get("status") or {}).get("phase") not in WORKFLOW_DONE:
            self._done.discard(name)  # (again) running: its next end is news
            return
        if name in self._done:
            return
        self._done.add(name)
        informer = self._informer
        if self._finished is not None and informer is not None and informer.synced.is_set():
            self._finished(to_view(workflow))

    def _object(self, workflow_id: str) -> dict[str, Any]:
        """The Workflow: from the watch's cache when there is one, else the API server."""
        cached = self._informer.get(workflow_id) if self._informer is not None else None
        return cached if cached is not None else self.kube.get(WORKFLOWS, workflow_id)

    def _pause(self, seconds: float = _POLL) -> None:
        """Until the next change (watching) or for ``seconds`` (polling)."""
        if self._informer is not None and self._informer.alive():
            self._informer.wait_change(seconds * 4)
        else:
            time.sleep(seconds)

    @property
    def warnings(self) -> Sequence[str]:
        return self._checker.warnings

    @property
    def records(self) -> Records:
        return self._records

    # -- submitting ----------------------------------------------------------------

    def prepare(self, submission: Submission, *, check_generated: bool = True) -> WorkflowRecord:
        return self._checker.prepare(submission, check_generated=False)

    def plan(self, submission: Submission) -> PlannedNode:
        return self._checker.plan(submission)

    def submit(self, submission: Submission, *, detach: bool = False) -> WorkflowView:
        record = self.prepare(submission)
        for template in record.templates.values():
            self.kube.apply_template(template)
        created = self.kube.create(WORKFLOWS, self._workflow(record))
        name = str(created["metadata"]["name"])
        self._await_pickup(name)
        # The controller runs it whether or not this process stays (``detach`` changes
        # nothing here): return once it is picked up, as the local engine returns once
        # its run has started.
        return self.get(name)

    def _workflow(self, record: WorkflowRecord) -> dict[str, Any]:
        manifest = dict(record.manifest)
        spec = dict(manifest.get("spec") or {})
        if manifest.get("kind") == "WorkflowTemplate":
            self.kube.apply_template(manifest)
            spec = {"workflowTemplateRef": {"name": manifest["metadata"]["name"]}}
        if record.arguments:
            arguments = dict(spec.get("arguments") or {})
            given = dict(record.arguments)
            params = [
                {**p, "value": given.pop(p["name"])} if p.get("name") in given else p
                for p in arguments.get("parameters") or []
            ]
            params += [{"name": k, "value": v} for k, v in given.items()]
            spec["arguments"] = {**arguments, "parameters": params}
        labels = {**record.labels}
        return {
            "apiVersion": "argoproj.io/v1alpha1",
            "kind": "Workflow",
            "metadata": {"name": record.name, "namespace": self.namespace, "labels": labels},
            "spec": spec,
        }

    def _await_pickup(self, name: str) -> None:
        deadline = time.monotonic() + self.start_timeout
        while time.monotonic() < deadline:
            if (self.kube.get(WORKFLOWS, name).get("status") or {}).get("phase"):
                return
            self._pause()
        self.kube.delete(WORKFLOWS, name)
        raise OperationFailed(
            f"workflow {name!r} was not picked up by a workflow-controller within "
            f"{self.start_timeout:.0f}s, so it was deleted; is the controller running for "
            f"namespace {self.namespace!r}? (`clusterforge argo status`)"
        )

    # -- reading -------------------------------------------------------------------

    def get(self, workflow_id: str) -> WorkflowView:
        return to_view(self._object(workflow_id))

    def summary(self, workflow_id: str) -> WorkflowView:
        return to_view(self._object(workflow_id), with_nodes=False)

    def exists(self, workflow_id: str) -> bool:
        try:
            self.kube.get(WORKFLOWS, workflow_id)
        except NotFound:
            return False
        return True

    def list(
        self,
        *,
        phase: str | None = None,
        labels: Mapping[str, str] | None = None,
        limit: int | None = None,
        offset: int = 0,
    ) -> builtins.list[WorkflowView]:
        selector = ",".join(f"{k}={v}" for k, v in (labels or {}).items())
        informer = self._informer
        if informer is not None and informer.synced.is_set():
            wanted = (labels or {}).items()
            items = [
                o
                for o in informer.items()
                if all((o["metadata"].get("labels") or {}).get(k) == v for k, v in wanted)
            ]
        else:
            items = self.kube.items(WORKFLOWS, selector)
        views = [to_view(item, with_nodes=False) for item in items]
        views = [v for v in views if phase is None or v.phase == phase]
        views.sort(key=lambda v: v.record.created_at, reverse=True)
        return views[offset : None if limit is None else offset + limit]

    def events(self, workflow_id: str, *, after: int = 0) -> builtins.list[NodeEvent]:
        informer = self._informer
        if informer is None or informer.get(workflow_id) is None:
            with contextlib.suppress(NotFound):  # gone: no events, as on the local engine
                self._journal.observe(self.kube.get(WORKFLOWS, workflow_id))
        return self._journal.events(workflow_id, after)

    def watch(self, workflow_id: str, *, after: int = 0) -> Iterator[NodeEvent]:
        seq = after
        while True:
            found = self.events(workflow_id, after=seq)
            for event in found:
                yield event
                seq = event.seq
            if found:
                continue
            if self.summary(workflow_id).done:  # its last changes are journaled: drain
                yield from self.events(workflow_id, after=seq)
                return
            self._pause()

    def changes(self, after: int | None = None) -> tuple[int, builtins.list[str]]:
        if self._informer is None and after is not None:
            for workflow in self.kube.items(WORKFLOWS):
                self._journal.observe(workflow)
        return self._journal.changes(after)

    def logs(
        self, workflow_id: str, node: str | None = None, *, follow: bool = False
    ) -> Iterator[LogLine]:
        if follow:
            self.wait(workflow_id)
        view = self.get(workflow_id)
        wanted = view.node(node) if node else None
        if node and wanted is None:
            raise NotFound(f"workflow {workflow_id!r} has no node {node!r}")
        for pod in self.kube.pods(workflow_id):
            annotations = (pod.get("metadata") or {}).get("annotations") or {}
            node_id = annotations.get(NODE_ID_ANNOTATION, "")
            log_dir = annotations.get(LOG_DIR_ANNOTATION)
            record = view.nodes.get(node_id)
            if record is None or log_dir is None or (wanted and wanted.id != node_id):
                continue
            for stream in ("stdout", "stderr"):
                path = Path(log_dir) / stream
                if path.is_file():
                    for text in path.read_text("utf-8", errors="replace").splitlines():
                        yield LogLine(node_id, record.display_name, stream, text)

    def wait(self, workflow_id: str, *, timeout: float | None = None) -> WorkflowView:
        deadline = None if timeout is None else time.monotonic() + timeout
        while True:
            view = self.get(workflow_id)
            if view.done or (deadline is not None and time.monotonic() >= deadline):
                return view
            self._pause()

    # -- control -------------------------------------------------------------------

    def retry(self, workflow_id: str, *, detach: bool = False) -> WorkflowView:
        from clusterforge.engine.argo._retry import reset_for_retry

        workflow = self.kube.get(WORKFLOWS, workflow_id)
        removed = reset_for_retry(workflow)
        for pod in self.kube.pods(workflow_id):
            annotations = (pod.get("metadata") or {}).get("annotations") or {}
            if annotations.get(NODE_ID_ANNOTATION) in removed:
                self.kube.delete_pod(str(pod["metadata"]["name"]))
        for node_id in removed:  # a re-run node may get the same id: no stale outputs
            with contextlib.suppress(NotFound):
                self.kube.delete("workflowtaskresults", node_id)
        self.kube.replace(WORKFLOWS, workflow)
        return self.get(workflow_id)  # the controller re-runs it; ``detach`` changes nothing

    def stop(self, workflow_id: str, *, strategy: StopStrategy = "Stop") -> WorkflowView:
        view = self.summary(workflow_id)
        if view.done:  # as the local engine: an ended workflow is not stopped again
            raise InvalidInput(f"workflow {workflow_id!r} has already finished ({view.phase})")
        self.kube.patch(WORKFLOWS, workflow_id, {"spec": {"shutdown": strategy}})
        return self.get(workflow_id)

    def delete(self, workflow_id: str) -> None:
        view = self.summary(workflow_id)
        if not view.done:
            self.stop(workflow_id, strategy="Terminate")
        self.kube.delete(WORKFLOWS, workflow_id)
        self._journal.forget(workflow_id)

    def resume(self, workflow_ids: builtins.list[str] | None = None) -> builtins.list[str]:
        """The controller resumes its own workflows; nothing is taken up here."""
        return []
