"""The local engine: Argo workflows on this machine, state in SQLite.

Submitting checks the whole workflow first (nothing runs if anything is
wrong), then stores a self-contained snapshot — the workflow and every
WorkflowTemplate it references — so that a resume, a retry or a reader in
another process never needs the original files again.

A workflow is run by an *owner*: this process, as a task of its engine loop
(``run`` with ``--wait``, the API server; see :mod:`.loop`) or a detached
engine process (``run`` without ``--wait``). The owner writes a heartbeat;
when it dies, :meth:`resume` in any later process claims the workflow and
continues from the stored tree.
"""

from __future__ import annotations

import concurrent.futures
import functools
import json
import logging
import os
import shutil
import socket
import string
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterable, Iterator, Mapping
from concurrent.futures import Future
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

from clusterforge import ids, paths
from clusterforge.engine.cluster import (
    KUBECONFIG_ANNOTATION,
    annotate,
    check_namespace,
    cluster_of,
    cluster_ref,
    resource_user,
)
from clusterforge.engine.interface import LogLine, Records, StopStrategy, Submission
from clusterforge.engine.local import process
from clusterforge.engine.local._operator import PodsFactory, WorkflowRun, delete_garbage
from clusterforge.engine.local._operator.run import host_pods
from clusterforge.engine.local._operator.templates import callers, ref_key
from clusterforge.engine.local.collector import collector_paused
from clusterforge.engine.local.loop import shared_loop
from clusterforge.engine.local.owner import delete_owner
from clusterforge.engine.local.planner import PlannedNode, plan
from clusterforge.engine.objects import annotate_objects, object_files
from clusterforge.engine.phases import FAILED, FULFILLED, WORKFLOW_DONE
from clusterforge.engine.status import WorkflowView
from clusterforge.errors import AlreadyExists, InvalidInput, NotFound
from clusterforge.safety import check_workflow_name, inside
from clusterforge.store import NodeEvent, Store, WorkflowRecord, WorkflowRow
from clusterforge.workflow import (
    Document,
    TemplateLibrary,
    check_or_raise,
    default_template_dirs,
    effective_spec,
    load_documents,
    load_text,
)

log = logging.getLogger(__name__)

_ALNUM = string.ascii_lowercase + string.digits
_T = TypeVar("_T")


_HANDOFF = "queued@"
_JOIN_SLICE = 0.25
"""Longest a join blocks the calling thread at a time (see LocalEngine.join)."""


def current_owner() -> str:
    """This process as a workflow owner: host, pid and the pid's start time (a reused
    pid is not mistaken for a live owner)."""
    return f"{socket.gethostname()}:{os.getpid()}:{process.process_start_time(os.getpid())}"


def handoff_owner(owner: str) -> str:
    """The owner a workflow is stored with while it waits for ``owner`` to hand it to
    a runner (a multi-process server's controller takes these; see
    ``Store.take_handed_off``). Alive exactly while ``owner`` is, so nobody else
    resumes it meanwhile and anybody may once ``owner`` is gone."""
    return _HANDOFF + owner


def owner_alive(owner: str | None) -> bool:
    """Is the engine that owns a workflow still running (on this host)?"""
    if not owner:
        return False
    owner = owner.removeprefix(_HANDOFF)
    try:
        host, pid, start = owner.rsplit(":", 2)
    except ValueError:
        return False
    if host != socket.gethostname():
        return True  # another machine's engine: assume alive, heartbeats tell
    return process.process_start_time(int(pid)) == start


@dataclass(frozen=True)
class _Compiled:
    """A checked, snapshotted submission, minus what varies per run."""

    kind: str
    manifest_json: str
    templates_json: str
    warnings: tuple[str, ...]
    enums: dict[str, list[str]]
    value_rules: tuple[tuple[str, frozenset[str]], ...] = ()
    """The checks a parameter's value takes part in (a workflow parameter's enum,
    the entrypoint inputs' enums): what a document differing only in values
    must pass again to share this compilation."""
    resource_user: str | None = None
    """Where its first ``resource`` template is: it needs ``--kubeconfig``."""


_VALUE = "\x00value"
"""Stands for a parameter's value in the cache key of a document (see ``_shape``)."""


def _shape(document: Mapping[str, Any] | None) -> tuple[str | None, dict[str, str]]:
    """A workflow document as a cache key, its ``spec.arguments.parameters`` values
    cut out, and those values by parameter name.

    Webhook triggers render the same workflow again and again with other
    parameter values; keyed on the rest, they share one parse and check. Only
    plain string values are cut out, and only when every parameter name is a
    distinct string: anything else stays in the key (and so gets checked).
    """
    if document is None:
        return None, {}
    spec = document.get("spec")
    if not isinstance(spec, dict) or not isinstance(spec.get("arguments"), dict):
        return json.dumps(document), {}
    arguments: dict[str, Any] = spec["arguments"]
    params = arguments.get("parameters")
    if not isinstance(params, list):
        return json.dumps(document), {}
    values: dict[str, str] = {}
    names: set[str] = set()
    masked = []
    for param in params:
        name = param.get("name") if isinstance(param, dict) else None
        if not isinstance(name, str) or name in names:
            return json.dumps(document), {}
        names.add(name)
        if isinstance(param.get("value"), str):
            values[name] = param["value"]
            param = {**param, "value": _VALUE}
        masked.append(param)
    shaped = {**document, "spec": {**spec, "arguments": {**arguments, "parameters": masked}}}
    return json.dumps(shaped), values


def _put_values(manifest: dict[str, Any], values: Mapping[str, str]) -> None:
    """Give the manifest's workflow parameters these values (by name)."""
    arguments = manifest.get("spec", {}).get("arguments") or {}
    for param in arguments.get("parameters") or []:
        if param.get("name") in values:
            param["value"] = values[param["name"]]


def _value_rules(spec: Mapping[str, Any]) -> tuple[tuple[str, frozenset[str]], ...]:
    """Every enum a workflow parameter's value is checked against (see ``_Compiled``)."""
    rules = [
        (p["name"], frozenset(str(e) for e in p["enum"]))
        for p in (spec.get("arguments") or {}).get("parameters") or []
        if p.get("enum")
    ]
    for tmpl in spec.get("templates") or []:
        if tmpl.get("name") == spec.get("entrypoint"):
            rules.extend(
                (p["name"], frozenset(str(e) for e in p["enum"]))
                for p in (tmpl.get("inputs") or {}).get("parameters") or []
                if p.get("enum")
            )
    return tuple(rules)


def _values_fit(compiled: _Compiled, values: Mapping[str, str | None]) -> bool:
    """Would these values pass the value checks ``compiled`` was made with?"""
    for name, allowed in compiled.value_rules:
        value = values.get(name)
        if value is not None and "{{" not in value and value not in allowed:
            return False
    return True


def _place(
    manifest: dict[str, Any],
    submission: Submission,
    resource_user: str | None,
    kubeconfig: str | None,
) -> str:
    """The workflow's namespace, and the cluster it runs against recorded in ``manifest``
    (see :mod:`clusterforge.engine.cluster`). Only the submission names a cluster: an
    annotation the document itself carries is dropped, so a posted workflow cannot
    point the engine at a file of its choosing."""
    meta = manifest.setdefault("metadata", {})
    annotations = meta.get("annotations")
    if isinstance(annotations, dict):
        annotations.pop(KUBECONFIG_ANNOTATION, None)
    given = meta.get("namespace")
    namespace = submission.namespace or given or "default"
    if submission.namespace:
        check_namespace(submission.namespace)
        if given and given != submission.namespace:
            raise InvalidInput(
                f"--namespace {submission.namespace}: the workflow's metadata.namespace is "
                f"{given!r}; give the same namespace or drop one of them"
            )
        meta["namespace"] = namespace
    if kubeconfig:
        annotate(manifest, cluster_ref(kubeconfig, namespace))
    elif resource_user:
        raise InvalidInput(
            f"{resource_user}: a resource template creates Kubernetes objects, so the "
            "workflow needs a cluster to run against; name one with --kubeconfig FILE "
            "(and --namespace N), e.g. clusterforge run WORKFLOW --kubeconfig ~/.kube/config"
        )
    return namespace


def _fingerprint(paths: Iterable[Path]) -> tuple[tuple[str, int, int], ...]:
    """What the given files and directories hold, as far as a cache needs to know."""
    out = []
    for path in paths:
        files = sorted(path.rglob("*.y*ml")) if path.is_dir() else [path]
        for file in files:
            try:
                stat = file.stat()
            except OSError:
                out.append((str(file), -1, -1))
                continue
            out.append((str(file), stat.st_mtime_ns, stat.st_size))
    return tuple(out)


class LocalEngine:
    """Runs Argo-dialect workflows as host subprocesses; implements ``HostedEngine``."""

    kind = "local"

    def __init__(
        self,
        home: Path | None = None,
        *,
        pods: PodsFactory = host_pods,
        in_cluster: bool = False,
        kubeconfig: str | None = None,
    ) -> None:
        """``pods``: how steps run (host processes; in-memory pods for benchmarks
        of the engine alone, see ``bench/fleet.py``). ``in_cluster``: this engine
        only checks workflows that run inside a cluster (the Argo backend's), so a
        ``resource`` template needs no ``--kubeconfig``. ``kubeconfig``: the cluster
        of every submission that names none (a server's ``serve --kubeconfig``:
        its clients cannot name a file on the server's disk); checked now."""
        self.home = home or paths.data_home()
        self.store = Store(self.home / "state.db")
        self.runs = self.home / "runs"
        self.scratch = paths.scratch_home()
        self.owner = current_owner()
        self.warnings: list[str] = []
        self._runs: dict[str, Future[None]] = {}
        self._runs_lock = threading.Lock()
        self._compiled: dict[tuple[Any, ...], _Compiled] = {}
        self._compile_lock = threading.Lock()
        self._pods = pods
        self._in_cluster = in_cluster
        self._kubeconfig = cluster_ref(kubeconfig).kubeconfig if kubeconfig else None

    # -- submit ------------------------------------------------------------------

    def prepare(self, submission: Submission, *, check_generated: bool = True) -> WorkflowRecord:
        """Load, check and snapshot a submission; raises on any error, stores nothing.

        A name already taken is refused here; with ``check_generated=False`` a
        *generated* name is not looked up — for a caller that stores the record
        itself, sees ``create_workflow`` refuse a taken id, and prepares again
        (a server's event loop, which must not wait on a read per trigger).

        The expensive part — parsing the documents into Argo models, checking the
        whole workflow, snapshotting referenced templates — is cached per
        document set (file contents by mtime, inline text, template name) and
        per set of argument names, so a server accepting many builds of the
        same template pays it once. A ``document``'s parameter values are not
        part of the key either: a webhook sensor renders the same workflow with
        new values each time, and only the checks a value takes part in (enums)
        run again — a value that fails one gets the full check and its message.

        No garbage collection runs meanwhile (:mod:`.collector`): it made the
        time per task grow with the workflow's size.
        """
        with collector_paused():
            return self._prepare(submission, check_generated)

    def _prepare(self, submission: Submission, check_generated: bool) -> WorkflowRecord:
        if submission.name is not None:
            check_workflow_name(submission.name, "name")
        compiled, values = self._compile(submission)
        self.warnings = list(compiled.warnings)
        for param, allowed in compiled.enums.items():
            value = submission.arguments.get(param)
            if value is not None and value not in allowed:
                raise InvalidInput(
                    f"spec.arguments.parameters: {param}={value!r} is not one of {allowed}"
                )
        manifest = json.loads(compiled.manifest_json)
        if values:
            _put_values(manifest, values)
        namespace = _place(
            manifest,
            submission,
            None if self._in_cluster else compiled.resource_user,
            submission.kubeconfig or self._kubeconfig,
        )
        if not self._in_cluster:
            annotate_objects(manifest, object_files(submission.objects, self.home))
        meta = manifest["metadata"]
        name = submission.name or (meta.get("name") if compiled.kind == "Workflow" else None)
        check = True
        if not name:
            if compiled.kind == "Workflow":
                base = meta.get("generateName") or f"{meta.get('name', 'workflow')}-"
            else:  # `argo submit --from`: the template's name and a dash
                base = f"{meta.get('name', 'workflow')}-"
            name = base + "".join(_ALNUM[b % len(_ALNUM)] for b in ids.random_bytes(5))
            check_workflow_name(name, "metadata.generateName")
            if not check_generated:
                check = False
        else:
            check_workflow_name(name, "name" if submission.name else "metadata.name")
        if check and self.store.get_workflow(name) is not None:
            raise AlreadyExists(
                f"metadata.name: workflow {name!r} already exists; use generateName or another name"
            )
        return WorkflowRecord(
            id=name,
            name=name,
            namespace=namespace,
            uid=str(ids.uuid4()),
            manifest=manifest,
            templates=json.loads(compiled.templates_json),
            arguments=dict(submission.arguments),
            labels={**meta.get("labels", {}), **dict(submission.labels)},
            created_at=time.time(),
        )

    @property
    def records(self) -> Records:
        """Callers' records live in the same state database as the workflows."""
        return self.store

    def plan(self, submission: Submission) -> PlannedNode:
        """What the submission would run and skip, and why (runs nothing)."""
        return plan(self.prepare(submission))

    def _compile(self, submission: Submission) -> tuple[_Compiled, dict[str, str]]:
        """The compilation of ``submission`` (cached), and the values of its document's
        parameters that the manifest must be given (a cached one has others)."""
        shape, values = _shape(submission.document)
        key = (
            _fingerprint(submission.files),
            submission.text,
            shape,
            submission.workflow_template,
            _fingerprint([*default_template_dirs(), *submission.template_dirs]),
            frozenset(submission.arguments),
        )
        with self._compile_lock:
            cached = self._compiled.get(key)
        if cached is not None:
            if _values_fit(cached, {**values, **submission.arguments}):
                return cached, values
            # a value the cached check did not see fails an enum: the full check
            # below says which, as it would have the first time
            return self._compile_uncached(submission), values
        compiled = self._compile_uncached(submission)
        with self._compile_lock:
            if len(self._compiled) >= 64:
                self._compiled.pop(next(iter(self._compiled)))
            self._compiled[key] = compiled
        return compiled, values

    def _compile_uncached(self, submission: Submission) -> _Compiled:
        docs: list[Document] = []
        if submission.files:
            docs.extend(load_documents(submission.files))
        if submission.text is not None:
            docs.extend(load_text(submission.text))
        if submission.document is not None:
            docs.extend(load_text(json.dumps(submission.document)))
        library = TemplateLibrary.from_paths([*default_template_dirs(), *submission.template_dirs])
        workflows = [d for d in docs if d.kind == "Workflow"]
        for doc in docs:
            if doc.kind != "Workflow":
                library.add(doc)
        if submission.workflow_template:
            if docs:
                raise InvalidInput(
                    "give either workflow files or a workflow template name, not both"
                )
            docs = [library.get(submission.workflow_template)]
            workflows = []
        if len(workflows) > 1:
            names = ", ".join(f"{d.source}:{d.name}" for d in workflows)
            raise InvalidInput(f"more than one Workflow given ({names}); submit one at a time")
        if workflows:
            target = workflows[0]
        elif len(docs) == 1:
            target = docs[0]  # a WorkflowTemplate submitted on its own, like `argo submit --from`
        else:
            raise InvalidInput(
                "nothing to run: give a file with one Workflow (or a single WorkflowTemplate)"
            )
        warnings = [str(p) for p in check_or_raise(target, library, submission.arguments)]
        iso = process.isolation()
        if not iso.private_tmp:
            warnings.append(
                f"steps will NOT get a private /tmp ({iso.reason}): parallel steps writing "
                "the same /tmp path can collide; each step's TMPDIR points at its own "
                "directory instead. Run as root with util-linux `unshare` for isolation."
            )
        spec = effective_spec(target, library).model_dump(
            by_alias=True, exclude_none=True, mode="json"
        )
        manifest = target.model.model_dump(by_alias=True, exclude_none=True, mode="json")
        manifest["kind"] = "Workflow"
        manifest["spec"] = spec
        templates: dict[str, Any] = {}
        self._collect_refs(spec.get("templates", []), library, templates)
        enums = {
            p["name"]: [str(e) for e in p["enum"]]
            for p in spec.get("arguments", {}).get("parameters", []) or []
            if p.get("enum")
        }
        return _Compiled(
            kind=target.kind,
            manifest_json=json.dumps(manifest),
            templates_json=json.dumps(templates),
            warnings=tuple(warnings),
            enums=enums,
            value_rules=_value_rules(spec),
            resource_user=resource_user(spec, templates),
        )

    def _collect_refs(
        self, templates: list[dict[str, Any]], library: TemplateLibrary, out: dict[str, Any]
    ) -> None:
        """Snapshot every WorkflowTemplate these templates reach by ``templateRef``, under
        the key the operator looks it up by (:func:`ref_key`)."""
        for tmpl in templates:
            for holder in callers(tmpl):
                ref = holder.get("templateRef")
                if not ref or ref_key(ref) in out:
                    continue
                doc = library.get(ref["name"], cluster_scope=bool(ref.get("clusterScope")))
                dumped = doc.model.model_dump(by_alias=True, exclude_none=True, mode="json")
                out[ref_key(ref)] = dumped
                self._collect_refs(dumped.get("spec", {}).get("templates", []), library, out)

    def submit(self, submission: Submission, *, detach: bool = False) -> WorkflowView:
        """Check, store and start a workflow (on the engine loop, or in a detached process)."""
        record = self.prepare(submission)
        self.store.create_workflow(record)
        if detach:
            self.spawn(record.id)
        else:
            self.start(record.id)
        return self.get(record.id)

    # -- running -----------------------------------------------------------------

    def start(self, workflow_id: str) -> None:
        """Run a workflow on this process's engine loop (see :mod:`.loop`); returns at once."""
        if not self.store.claim_workflow(
            workflow_id, self.owner, unless_alive=self.live_owners(workflow_id)
        ):
            return
        with self._runs_lock:
            running = self._runs.get(workflow_id)
            if running is not None and not running.done():
                return  # already running here: one run per workflow
            future = shared_loop().submit(self._run(workflow_id))
            self._runs[workflow_id] = future
        future.add_done_callback(functools.partial(self._ended, workflow_id))

    def _ended(self, workflow_id: str, future: Future[None]) -> None:
        with self._runs_lock:
            if self._runs.get(workflow_id) is future:
                del self._runs[workflow_id]
        if not future.cancelled() and (err := future.exception()) is not None:
            log.error("workflow %s: the engine failed", workflow_id, exc_info=err)

    async def _run(self, workflow_id: str) -> None:
        record = self.store.get_workflow(workflow_id)
        if record is None:
            raise NotFound(f"workflow {workflow_id!r} not found")
        run_dir = inside(self.runs, check_workflow_name(workflow_id))
        run_dir.mkdir(parents=True, exist_ok=True)
        await WorkflowRun(self.store, record, run_dir, self.scratch, pods=self._pods).run()

    def run_blocking(self, workflow_id: str) -> WorkflowView:
        """Run a workflow to its end (on the engine loop), waiting in the calling thread."""
        loop = shared_loop()
        if loop.in_loop_thread():
            raise RuntimeError("run_blocking called from the engine loop; use start")
        loop.submit(self._run(workflow_id)).result()
        return self.get(workflow_id)

    def spawn(self, workflow_id: str) -> None:
        """Run a workflow in a detached engine process that outlives this one."""
        log = inside(self.runs, check_workflow_name(workflow_id)) / "engine.log"
        log.parent.mkdir(parents=True, exist_ok=True)
        with log.open("ab") as out:
            subprocess.Popen(
                [sys.executable, "-m", "clusterforge.engine.local.daemon", workflow_id],
                env={**os.environ, "CLUSTERFORGE_HOME": str(self.home)},
                stdin=subprocess.DEVNULL,
                stdout=out,
                stderr=out,
                start_new_session=True,
            )

    # -- hosting: owners, hand-off, grouped writes (HostedEngine) -----------------

    def handoff_owner(self) -> str:
        return handoff_owner(self.owner)

    def owner_alive(self, owner: str | None) -> bool:
        return owner_alive(owner)

    def take_handed_off(self, marker: str) -> list[str]:
        return self.store.take_handed_off(marker, self.owner)

    def count_owned(self, owner: str) -> int:
        return self.store.count_owned(owner)

    def create(self, record: WorkflowRecord | WorkflowRow) -> None:
        self.store.create_workflow(record)

    def write_grouped(self, work: Callable[[], _T]) -> Future[_T]:
        return self.store.write_grouped(work)

    def requeue(self, workflow_id: str, *, hand_to: str) -> WorkflowView:
        return self.retry(workflow_id, hand_to=hand_to)

    def live_owners(self, workflow_id: str) -> list[str]:
        record = self.store.get_workflow(workflow_id)
        if record is None or not record.owner:
            return []
        return [record.owner] if owner_alive(record.owner) else []

    def orphans(self) -> list[str]:
        """Workflows still Pending/Running whose owner engine is gone."""
        return [
            wf.id
            for wf in self.store.list_workflows()
            if wf.phase in ("Pending", "Running") and not owner_alive(wf.owner)
        ]

    def resume(self, workflow_ids: list[str] | None = None) -> list[str]:
        """Claim interrupted workflows and continue them in this process."""
        targets = workflow_ids or self.orphans()
        started = []
        for wid in targets:
            record = self.store.get_workflow(wid)
            if record is None:
                raise NotFound(f"workflow {wid!r} not found")
            if record.phase not in ("Pending", "Running"):
                continue
            if owner_alive(record.owner) and record.owner != self.owner:
                raise InvalidInput(
                    f"workflow {wid!r} is being run by a live engine ({record.owner}); "
                    "nothing to resume"
                )
            self.start(wid)
            started.append(wid)
        return started

    def join(self, workflow_id: str, timeout: float | None = None) -> None:
        """Wait for a workflow this engine runs to finish (no-op for others)."""
        with self._runs_lock:
            running = self._runs.get(workflow_id)
        if running is None:
            return
        # In slices: a Ctrl-C the kernel hands to another thread of this process
        # is acted on only when the main thread next runs Python code, and one
        # wait without a timeout would hold it until the workflow has ended.
        deadline = None if timeout is None else time.monotonic() + timeout
        while not running.done():
            left = _JOIN_SLICE if deadline is None else deadline - time.monotonic()
            if left <= 0:
                return
            concurrent.futures.wait([running], min(left, _JOIN_SLICE))

    # -- reading -----------------------------------------------------------------

    def get(self, workflow_id: str) -> WorkflowView:
        record = self.store.get_workflow(workflow_id)
        if record is None:
            raise NotFound(f"workflow {workflow_id!r} not found (see `clusterforge list`)")
        return WorkflowView(record, self.store.get_nodes(workflow_id))

    def summary(self, workflow_id: str) -> WorkflowView:
        record = self.store.get_workflow(workflow_id)
        if record is None:
            raise NotFound(f"workflow {workflow_id!r} not found (see `clusterforge list`)")
        return WorkflowView(record, {})

    def exists(self, workflow_id: str) -> bool:
        return self.store.get_workflow(workflow_id) is not None

    def events(self, workflow_id: str, *, after: int = 0) -> list[NodeEvent]:
        return self.store.events(workflow_id, after=after)

    def changes(self, after: int | None = None) -> tuple[int, list[str]]:
        if after is None:
            return self.store.latest_event(), []
        return self.store.changed_since(after)

    def list(
        self,
        *,
        phase: str | None = None,
        labels: Mapping[str, str] | None = None,
        limit: int | None = None,
        offset: int = 0,
    ) -> list[WorkflowView]:
        records = self.store.list_workflows(
            phase=phase, labels=dict(labels or {}), limit=limit, offset=offset
        )
        return [WorkflowView(r, {}) for r in records]

    def watch(self, workflow_id: str, *, after: int = 0, poll: float = 0.1) -> Iterator[NodeEvent]:
        """Node events in order, until the workflow has finished and all are read."""
        self.get(workflow_id)
        seq = after
        while True:
            events = self.store.events(workflow_id, after=seq)
            yield from events
            if events:
                seq = events[-1].seq
                continue
            record = self.store.get_workflow(workflow_id)
            if record is None or record.phase in WORKFLOW_DONE:
                tail = self.store.events(workflow_id, after=seq)
                yield from tail
                return
            time.sleep(poll)

    def logs(
        self, workflow_id: str, node: str | None = None, *, follow: bool = False
    ) -> Iterator[LogLine]:
        view = self.get(workflow_id)
        if node is not None and view.node(node) is None:
            raise NotFound(f"workflow {workflow_id!r} has no node {node!r}")
        emitted: dict[tuple[str, str], int] = {}
        while True:
            view = self.get(workflow_id)
            wanted = view.node(node) if node else None
            pods = [
                n
                for n in view.nodes.values()
                if n.type == "Pod"
                and n.log_dir
                and (wanted is None or n.id == wanted.id or n.name.startswith(wanted.name))
            ]
            for pod in pods:
                for stream in ("stdout", "stderr"):
                    path = Path(pod.log_dir or "") / f"{stream}.log"
                    key = (pod.id, stream)
                    offset = emitted.get(key, 0)
                    try:
                        with path.open("rb") as handle:
                            handle.seek(offset)
                            data = handle.read()
                    except OSError:
                        continue
                    complete = data.rsplit(b"\n", 1)[0] + b"\n" if b"\n" in data else b""
                    if pod.phase in FULFILLED:
                        complete = data
                    emitted[key] = offset + len(complete)
                    for line in complete.decode("utf-8", "replace").splitlines():
                        yield LogLine(pod.id, pod.display_name, stream, line)
            if not follow or view.done:
                return
            time.sleep(0.2)

    def wait(self, workflow_id: str, *, timeout: float | None = None) -> WorkflowView:
        deadline = None if timeout is None else time.monotonic() + timeout
        self.join(workflow_id, timeout)  # a run of this process: its task's end
        while True:
            view = self.get(workflow_id)
            if view.done:
                return view
            if deadline is not None and time.monotonic() > deadline:
                return view
            time.sleep(0.1)

    # -- control -----------------------------------------------------------------

    def stop(self, workflow_id: str, *, strategy: StopStrategy = "Stop") -> WorkflowView:
        view = self.get(workflow_id)
        if view.done:
            raise InvalidInput(f"workflow {workflow_id!r} has already finished ({view.phase})")
        self.store.update_workflow(workflow_id, shutdown=strategy)
        if not owner_alive(view.record.owner):
            # No engine is running it: finish it here.
            self.resume([workflow_id])
        return self.get(workflow_id)

    def delete(self, workflow_id: str) -> None:
        """Forget a workflow, its nodes, events and logs; a running one is
        terminated first (as Argo deletes a running workflow's pods)."""
        view = self.get(workflow_id)
        if not view.done:
            self.stop(workflow_id, strategy="Terminate")
            if not self.wait(workflow_id, timeout=30).done:
                raise InvalidInput(
                    f"workflow {workflow_id!r} did not end after terminate; try again"
                )
        # artifactGC OnWorkflowDeletion first: a repository that refuses keeps the workflow.
        outputs = [n.outputs for n in view.nodes.values() if n.outputs]
        delete_garbage(view.record.manifest.get("spec", {}), outputs, self.home / "artifacts")
        cluster = cluster_of(view.record.manifest, view.record.namespace)
        documents = json.dumps([view.record.manifest, view.record.templates])
        if cluster is not None and '"setOwnerReference": true' in documents:
            # what its resource templates own goes with it (Kubernetes' garbage collector)
            delete_owner(cluster, view.record.name)
        self.store.delete_workflow(workflow_id)
        shutil.rmtree(self.runs / workflow_id, ignore_errors=True)

    def retry(
        self, workflow_id: str, *, detach: bool = False, hand_to: str | None = None
    ) -> WorkflowView:
        """Re-run Failed/Errored nodes and what they gate; keep Succeeded ones.

        ``hand_to``: reset the workflow and store it with that owner (a
        :func:`handoff_owner`) instead of running it here.
        """
        view = self.get(workflow_id)
        if not view.done:
            raise InvalidInput(f"workflow {workflow_id!r} is still {view.phase}; stop it first")
        if view.phase == "Succeeded":
            raise InvalidInput(f"workflow {workflow_id!r} succeeded; nothing to retry")
        nodes = view.nodes
        exit_prefix = f"{view.record.name}.onExit"
        doomed = {
            nid
            for nid, n in nodes.items()
            if n.phase in FAILED or n.phase == "Omitted" or n.name.startswith(exit_prefix)
        }
        # Children of a removed node go too, unless they succeeded (they are reused by name).
        changed = True
        while changed:
            changed = False
            for nid, n in nodes.items():
                if nid not in doomed and n.parent_id in doomed and n.phase != "Succeeded":
                    doomed.add(nid)
                    changed = True
        with self.store.transaction():
            for nid, n in nodes.items():
                if nid in doomed:
                    continue
                kept = [c for c in n.children if c not in doomed]
                if kept != n.children:
                    n.children = kept
                    self.store.put_node(n, event=False)
            self.store.delete_nodes(workflow_id, doomed)
            self.store.update_workflow(
                workflow_id,
                phase="Running",
                message="",
                finished_at=None,
                shutdown=None,
                owner=hand_to,
            )
        if hand_to is not None:
            pass  # its runner takes it from the store
        elif detach:
            self.spawn(workflow_id)
        else:
            self.start(workflow_id)
        return self.get(workflow_id)
