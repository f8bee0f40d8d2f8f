"""Execute one workflow: Argo's operator semantics as asyncio coroutines.

The status tree is the truth. Every node has a deterministic name (as in Argo:
``wf.task``, ``wf.task(0:item)``, ``wf[0].step``, ``wf.task(1)`` for the second
attempt), and :meth:`WorkflowRun.execute` first looks the name up in the
store: a fulfilled node is returned as it is, never run again. That one rule
gives both resume-after-crash (start the same workflow again, it walks the
tree and only runs what is not finished) and ``retry`` (delete the failed
nodes, walk again).

Templates are kept as the JSON dicts that were snapshotted at submit time;
``{{…}}`` tags are substituted into copies of them just before a step starts.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextlib
import copy
import functools
import hashlib
import json
import os
import shutil
import time
from collections.abc import Awaitable, Callable, Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from clusterforge.engine.local import limits, process
from clusterforge.engine.local import scratch as scratch_files
from clusterforge.engine.local.dag_rules import (
    DagStates,
    continues_on,
    legacy_dependencies,
    task_references,
)
from clusterforge.engine.local.durations import backoff_delay, parse_duration
from clusterforge.engine.local.naming import item_label, node_id
from clusterforge.engine.local.step_env import step_base_env
from clusterforge.engine.local.values import (
    RESULT_LIMIT,
    host_path,
    iso_time,
    item_variables,
    parameter_text,
    result_text,
    substitute_tree,
)
from clusterforge.safety import LimitExceeded
from clusterforge.store import EventRow, NodeRecord, Store, WorkflowRecord, event_of
from clusterforge.workflow.expressions import (
    DependsExpression,
    ExpressionError,
    evaluate_when,
    parse_depends,
    substitute,
)

JSON = dict[str, Any]

FULFILLED = frozenset({"Succeeded", "Failed", "Error", "Skipped", "Omitted"})
COMPLETED = frozenset({"Succeeded", "Failed", "Error"})
FAILED = frozenset({"Failed", "Error"})
STOP_MESSAGE = "Stopped with strategy 'Stop'"
TERMINATE_MESSAGE = "Stopped with strategy 'Terminate'"
DEADLINE_MESSAGE = "Pod was active on the node longer than the specified deadline"
WORKFLOW_DEADLINE_MESSAGE = "Max duration limit exceeded"
INTERRUPTED = "engine restarted while this attempt was running (pid {pid}); attempt abandoned"


class NodeFailure(Exception):
    """Raised inside a node's execution to end it in Error with a message."""


@dataclass
class Scope:
    """Where template names resolve: the workflow, or a WorkflowTemplate."""

    name: str
    templates: dict[str, JSON]


@dataclass
class Call:
    """A resolved template call: the template, its scope, and its arguments."""

    template: JSON
    scope: Scope
    arguments: dict[str, str]


@dataclass
class Context:
    """What a node inherits from its caller."""

    boundary_id: str
    parent_id: str
    semaphores: tuple[asyncio.Semaphore, ...] = ()
    extra_vars: dict[str, str] = field(default_factory=dict)


class WorkflowRun:
    """Runs (or resumes) one workflow to completion."""

    def __init__(
        self,
        store: Store,
        workflow: WorkflowRecord,
        run_dir: Path,
        scratch_root: Path | None = None,
    ) -> None:
        self.store = store
        self.wf = workflow
        self.run_dir = run_dir
        # Steps' working dirs and private /tmp: under scratch_root (memory-backed
        # by default, see paths.scratch_home) while the workflow runs, removed
        # when it ends; logs stay in run_dir. Without a scratch root, both live
        # in the attempt's run directory and stay.
        # One scratch root serves every engine home on the machine: the run
        # directory's hash keeps two homes' workflows of the same name apart.
        home_key = hashlib.sha256(os.fsencode(run_dir.absolute())).hexdigest()[:10]
        self.scratch_dir = scratch_root / f"{workflow.id}-{home_key}" if scratch_root else run_dir
        self._scratch_prefix, self._run_prefix = str(self.scratch_dir), str(run_dir)
        self.spec: JSON = workflow.manifest.get("spec", {})
        self.root_scope = Scope("", {t["name"]: t for t in self.spec.get("templates", [])})
        self.nodes: dict[str, NodeRecord] = {}
        self.by_name: dict[str, NodeRecord] = {}
        self.globals: dict[str, str] = {}
        parallelism = self.spec.get("parallelism")
        self.wf_semaphore = asyncio.Semaphore(int(parallelism)) if parallelism else None
        self.shutdown: str | None = workflow.shutdown
        self.processes: dict[str, process.StepHandle] = {}
        self.deadline_hit = False
        self._main: asyncio.Future[None] | None = None
        self.children_of: dict[str, dict[str, None]] = {}
        self._dirty: dict[str, NodeRecord] = {}
        self._events: list[EventRow] = []
        self._flush_scheduled = False
        self._durable_waiter: asyncio.Future[None] | None = None
        self._workflow_vars: dict[str, str] | None = None
        self._base_env: dict[str, str] | None = None
        self._attempt_dirs: set[str] | None = None
        self._copies: set[asyncio.Future[None]] = set()

    # -- node bookkeeping ------------------------------------------------------

    def _load(self) -> None:
        self.nodes = self.store.get_nodes(self.wf.id)
        self.by_name = {n.name: n for n in self.nodes.values()}
        for node in self.nodes.values():
            if node.parent_id:
                self.children_of.setdefault(node.parent_id, {})[node.id] = None

    def _save(self, node: NodeRecord, *, event: bool = True) -> None:
        """Record a node change; written with the next flush (see :meth:`_flush`)."""
        self.nodes[node.id] = node
        self.by_name[node.name] = node
        if node.parent_id:
            self.children_of.setdefault(node.parent_id, {})[node.id] = None
        self._dirty[node.id] = node
        if event:
            self._events.append(event_of(node))
        if not self._flush_scheduled:
            self._flush_scheduled = True
            asyncio.get_running_loop().call_soon(self._flush)

    def _flush(self) -> None:
        """Commit every pending node change and event in one transaction.

        Called once per event-loop turn, and always before a step process
        starts: nothing observable happens before the state that led to it is
        durable, so a crash never re-runs a node the store calls Succeeded.
        """
        self._flush_scheduled = False
        waiter, self._durable_waiter = self._durable_waiter, None
        try:
            if self._dirty or self._events:
                nodes, events = list(self._dirty.values()), self._events
                self._dirty, self._events = {}, []
                self.store.put_nodes(nodes, events)
        except BaseException as err:
            if waiter is not None and not waiter.done():
                waiter.set_exception(err)
            raise
        if waiter is not None and not waiter.done():
            waiter.set_result(None)

    async def _durable(self) -> None:
        """Wait until every change recorded so far is committed.

        Steps about to start in the same event-loop turn share one commit
        (a fan-out of a thousand tasks is not a thousand transactions).
        """
        if self._durable_waiter is None:
            self._durable_waiter = asyncio.get_running_loop().create_future()
            if not self._flush_scheduled:
                self._flush_scheduled = True
                asyncio.get_running_loop().call_soon(self._flush)
        await asyncio.shield(self._durable_waiter)

    def _new_node(
        self,
        name: str,
        display: str,
        node_type: str,
        ctx: Context,
        template_name: str = "",
        phase: str = "Running",
        message: str = "",
    ) -> NodeRecord:
        nid = self.wf.name if name == self.wf.name else node_id(self.wf.name, name)
        node = NodeRecord(
            workflow_id=self.wf.id,
            id=nid,
            name=name,
            display_name=display,
            type=node_type,
            template_name=template_name,
            phase=phase,
            message=message,
            boundary_id=ctx.boundary_id,
            parent_id=ctx.parent_id,
            started_at=time.time(),
            finished_at=time.time() if phase in FULFILLED else None,
            # A node recreated by `retry` keeps the succeeded children it had.
            children=list(self.children_of.get(nid, {})),
        )
        if ctx.parent_id and ctx.parent_id in self.nodes:
            parent = self.nodes[ctx.parent_id]
            if nid not in parent.children:
                # Not marked dirty: the store derives children from parent_id
                # (see Store.get_nodes), the parent's row is written when it changes.
                parent.children.append(nid)
        self._save(node)
        return node

    def _finish(self, node: NodeRecord, phase: str, message: str = "") -> NodeRecord:
        node.phase = phase
        node.message = message
        node.finished_at = time.time()
        self._save(node)
        return node

    # -- variables -------------------------------------------------------------

    def workflow_vars(self) -> dict[str, str]:
        """The ``workflow.*`` variables (computed once; global outputs invalidate it)."""
        if self._workflow_vars is None:
            self._workflow_vars = self._compute_workflow_vars()
        return self._workflow_vars

    def _compute_workflow_vars(self) -> dict[str, str]:
        wf = self.wf
        created = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(wf.created_at))
        values = {
            "workflow.name": wf.name,
            "workflow.namespace": wf.namespace,
            "workflow.uid": wf.uid,
            "workflow.creationTimestamp": created,
            "workflow.mainEntrypoint": self.spec.get("entrypoint", ""),
        }
        params = self.workflow_parameters()
        for name, value in params.items():
            values[f"workflow.parameters.{name}"] = value
        values["workflow.parameters"] = json.dumps(
            [{"name": k, "value": v} for k, v in params.items()]
        )
        values.update(self.globals)
        return values

    def workflow_parameters(self) -> dict[str, str]:
        params: dict[str, str] = {}
        for param in self.spec.get("arguments", {}).get("parameters", []) or []:
            value = param.get("value", param.get("default"))
            if value is not None:
                params[param["name"]] = parameter_text(value)
        params.update(self.wf.arguments)
        return params

    # -- template resolution -----------------------------------------------------

    def resolve(self, holder: JSON, scope: Scope) -> tuple[JSON, Scope]:
        """The template a task/step refers to (by name, templateRef or inline)."""
        if holder.get("inline"):
            return holder["inline"], scope
        ref = holder.get("templateRef")
        if ref:
            key = ("cluster/" if ref.get("clusterScope") else "") + ref["name"]
            doc = self.wf.templates.get(key)
            if doc is None:
                raise NodeFailure(f"templateRef: WorkflowTemplate {ref['name']!r} not found")
            templates = {t["name"]: t for t in doc.get("spec", {}).get("templates", [])}
            if ref["template"] not in templates:
                raise NodeFailure(
                    f"templateRef: template {ref['template']!r} not found in {ref['name']!r}"
                )
            return templates[ref["template"]], Scope(key, templates)
        name = holder.get("template")
        if not name or name not in scope.templates:
            raise NodeFailure(f"template {name!r} not found")
        return scope.templates[name], scope

    # -- the walk ----------------------------------------------------------------

    async def execute(
        self,
        name: str,
        display: str,
        call: Call,
        ctx: Context,
        *,
        retry_attempt: int | None = None,
    ) -> NodeRecord:
        """Run (or return the already-fulfilled) node ``name`` for a template call."""
        existing = self.by_name.get(name)
        if existing is not None and existing.phase in FULFILLED:
            return existing
        tmpl = call.template
        template_name = tmpl.get("name", "")
        try:
            inputs = self._inputs(tmpl, call.arguments)
        except NodeFailure as err:
            node = existing or self._new_node(name, display, "Pod", ctx, template_name)
            return self._finish(node, "Error", str(err))
        if retry_attempt is None and tmpl.get("retryStrategy"):
            return await self._run_retry(name, display, call, inputs, ctx)
        deadline = tmpl.get("activeDeadlineSeconds")
        timeout = float(parameter_text(deadline)) if deadline not in (None, "") else None
        too_deep = ("dag" in tmpl or "steps" in tmpl) and limits.nesting_problem(
            self.nodes, ctx.boundary_id
        )
        if too_deep:
            node = existing or self._new_node(name, display, "Pod", ctx, template_name)
            return self._finish(node, "Error", too_deep)
        if "dag" in tmpl:
            runner: Callable[[], Awaitable[NodeRecord]] = lambda: self._run_dag(  # noqa: E731
                name, display, call, inputs, ctx
            )
        elif "steps" in tmpl:
            runner = lambda: self._run_steps(name, display, call, inputs, ctx)  # noqa: E731
        elif "container" in tmpl or "script" in tmpl:
            return await self._run_pod(name, display, call, inputs, ctx, retry_attempt, timeout)
        else:
            node = existing or self._new_node(name, display, "Pod", ctx, template_name)
            return self._finish(
                node,
                "Error",
                f"template {template_name!r} has no container, script, dag or steps; "
                "the local engine cannot run it",
            )
        if timeout is None:
            return await runner()
        try:
            return await asyncio.wait_for(runner(), timeout)
        except TimeoutError:
            node = self.by_name[name]
            return self._finish(node, "Failed", f"{DEADLINE_MESSAGE} ({timeout:g}s)")

    def _inputs(self, tmpl: JSON, arguments: Mapping[str, str]) -> dict[str, str]:
        values: dict[str, str] = {}
        for param in tmpl.get("inputs", {}).get("parameters", []) or []:
            pname = param["name"]
            if pname in arguments:
                value: str | None = arguments[pname]
            elif param.get("value") is not None:
                value = parameter_text(param["value"])
            elif param.get("default") is not None:
                value = parameter_text(param["default"])
            else:
                value = None
            if value is None:
                raise NodeFailure(f"inputs.parameters.{pname} was not supplied")
            enum = param.get("enum")
            if enum and value not in [parameter_text(e) for e in enum]:
                raise NodeFailure(
                    f"inputs.parameters.{pname}: {value!r} is not one of "
                    f"{[parameter_text(e) for e in enum]}"
                )
            values[pname] = value
        return values

    def _vars(self, inputs: Mapping[str, str], ctx: Context) -> dict[str, str]:
        values = dict(self.workflow_vars())
        for key, value in inputs.items():
            values[f"inputs.parameters.{key}"] = value
        values["inputs.parameters"] = json.dumps(
            [{"name": k, "value": v} for k, v in inputs.items()]
        )
        values.update(ctx.extra_vars)
        return values

    # -- retries -----------------------------------------------------------------

    async def _run_retry(
        self, name: str, display: str, call: Call, inputs: dict[str, str], ctx: Context
    ) -> NodeRecord:
        tmpl = call.template
        strategy = tmpl["retryStrategy"]
        values = self._vars(inputs, ctx)
        node = self.by_name.get(name) or self._new_node(
            name, display, "Retry", ctx, tmpl.get("name", "")
        )
        limit_raw = strategy.get("limit")
        try:
            limit = (
                int(substitute(parameter_text(limit_raw), values))
                if limit_raw is not None
                else None
            )
        except (ValueError, ExpressionError) as err:
            return self._finish(node, "Error", f"retryStrategy.limit: {err}")
        policy = strategy.get("retryPolicy") or "OnFailure"
        backoff = substitute_tree(strategy.get("backoff") or {}, values)
        first_start = node.started_at or time.time()
        child_ctx = Context(node.boundary_id, node.id, ctx.semaphores, ctx.extra_vars)
        while True:
            attempts = [self.nodes[c] for c in node.children if c in self.nodes]
            last = attempts[-1] if attempts else None
            if last is not None and last.phase in FULFILLED:
                if last.phase not in FAILED:
                    node.outputs = last.outputs
                    node.exit_code = last.exit_code
                    return self._finish(node, last.phase, last.message)
                if self.shutdown or self.deadline_hit:
                    return self._finish(node, last.phase, last.message)
                retries_done = len(attempts) - 1
                reason = self._should_not_retry(
                    last, policy, limit, retries_done, strategy, first_start, backoff
                )
                if reason:
                    node.outputs = last.outputs
                    node.exit_code = last.exit_code
                    return self._finish(node, last.phase, last.message or reason)
                delay = backoff_delay(backoff, retries_done + 1)
                if delay > 0:
                    node.message = f"Backoff for {delay:g} seconds"
                    self._save(node, event=False)
                    await asyncio.sleep(delay)
            k = len(attempts) if last is None or last.phase in FULFILLED else len(attempts) - 1
            attempt_ctx = Context(
                child_ctx.boundary_id,
                child_ctx.parent_id,
                child_ctx.semaphores,
                {**ctx.extra_vars, "retries": str(k)},
            )
            await self.execute(
                f"{name}({k})", f"{display}({k})", call, attempt_ctx, retry_attempt=k
            )

    def _should_not_retry(
        self,
        last: NodeRecord,
        policy: str,
        limit: int | None,
        retries_done: int,
        strategy: JSON,
        first_start: float,
        backoff: JSON,
    ) -> str:
        if limit is not None and retries_done >= limit:
            return "No more retries left"
        allowed = {
            "Always": {"Failed", "Error"},
            "OnFailure": {"Failed"},
            "OnError": {"Error"},
            "OnTransientError": {"Error"} if "engine restarted" in last.message else set(),
        }.get(policy, {"Failed"})
        if last.phase not in allowed:
            return f"retryPolicy {policy} does not retry a node in phase {last.phase}"
        max_duration = backoff.get("maxDuration")
        if max_duration and time.time() - first_start > parse_duration(
            max_duration, field="retryStrategy.backoff.maxDuration"
        ):
            return "Max duration limit exceeded for retries"
        expression = strategy.get("expression")
        if expression:
            duration = (last.finished_at or time.time()) - (last.started_at or time.time())
            scope = {
                "lastRetry.exitCode": str(last.exit_code if last.exit_code is not None else -1),
                "lastRetry.status": last.phase,
                "lastRetry.duration": f"{duration:.0f}",
                "lastRetry.message": last.message,
            }
            result = substitute("{{=" + expression + "}}", scope, missing="error")
            if result.strip().lower() != "true":
                return f"retryStrategy.expression {expression!r} evaluated to {result}"
        return ""

    # -- pods (container / script) -------------------------------------------------

    async def _run_pod(
        self,
        name: str,
        display: str,
        call: Call,
        inputs: dict[str, str],
        ctx: Context,
        attempt: int | None,
        timeout: float | None,
    ) -> NodeRecord:
        tmpl = call.template
        node = self.by_name.get(name)
        if node is None:
            node = self._new_node(name, display, "Pod", ctx, tmpl.get("name", ""), phase="Pending")
        node.inputs = {"parameters": [{"name": k, "value": v} for k, v in inputs.items()]}
        node.attempt = attempt
        values = self._vars(inputs, ctx)
        kind = "script" if "script" in tmpl else "container"
        try:
            body = substitute_tree(copy.deepcopy(tmpl[kind]), values)
        except ExpressionError as err:
            return self._finish(node, "Error", str(err))
        node.image = body.get("image")
        semaphores = ((self.wf_semaphore,) if self.wf_semaphore else ()) + ctx.semaphores
        async with contextlib.AsyncExitStack() as stack:
            for sem in sorted(semaphores, key=id):
                await stack.enter_async_context(sem)
            if self.shutdown:
                return self._finish(node, "Failed", _shutdown_message(self.shutdown))
            return await self._start_and_wait(node, kind, body, tmpl, timeout)
        raise AssertionError("unreachable")  # pragma: no cover

    async def _start_and_wait(
        self, node: NodeRecord, kind: str, body: JSON, tmpl: JSON, timeout: float | None
    ) -> NodeRecord:
        # Plain strings, not Paths: this runs once per step and pathlib is slow.
        name = self._new_attempt_name(node.id)
        attempt = _AttemptFiles(
            scratch=f"{self._scratch_prefix}/{name}", dest=f"{self._run_prefix}/{name}"
        )
        work = f"{attempt.scratch}/work"
        make_dirs = [attempt.scratch, work, f"{attempt.scratch}/tmp"]  # noqa: S108 — the private /tmp
        argv = [str(a) for a in (body.get("command") or []) + (body.get("args") or [])]
        script: tuple[str, str] | None = None
        if kind == "script":
            script = (f"{attempt.scratch}/script", body.get("source", ""))
            argv = [*[str(a) for a in body.get("command") or ["sh"]], script[0]]
        env = self._step_env(body.get("env") or [], f"{self.wf.id}/{name}")
        cwd = work
        working_dir = body.get("workingDir")
        if working_dir:
            cwd = os.path.join(work, working_dir)  # an absolute workingDir replaces work
            make_dirs.append(cwd)
        step = process.StepProcess(
            argv=argv,
            env=env,
            cwd=cwd,
            tmp_dir=make_dirs[2],
            stdout=f"{attempt.scratch}/stdout.log",
            stderr=f"{attempt.scratch}/stderr.log",
            make_dirs=tuple(make_dirs),
            script=script,
        )
        node.log_dir = attempt.scratch
        try:
            return await self._attempt(node, kind, tmpl, step, attempt, timeout)
        finally:
            self._keep_logs(node, attempt)

    async def _attempt(
        self,
        node: NodeRecord,
        kind: str,
        tmpl: JSON,
        step: process.StepProcess,
        attempt: _AttemptFiles,
        timeout: float | None,
    ) -> NodeRecord:
        """Start one attempt once its state is durable, wait for it, collect outputs."""
        attempt.keep = kind == "script"
        try:
            await self._durable()
            proc = await process.launch(step)
        except asyncio.CancelledError:
            self._finish(node, "Failed", self._cancel_reason())
            raise
        except OSError as err:
            attempt.keep = True
            with contextlib.suppress(OSError):
                os.makedirs(attempt.scratch, exist_ok=True)
                Path(step.stderr).write_text(f"{err}\n")
            return self._finish(node, "Error", f"failed to start: {err}")
        node.pid = proc.pid
        node.phase = "Running"
        node.started_at = time.time()
        self._save(node)
        self.processes[node.id] = proc
        try:
            if timeout is None:
                code = await proc.wait()
            else:
                code = await asyncio.wait_for(proc.wait(), timeout)
        except TimeoutError:
            await process.terminate(proc)
            attempt.keep = attempt.keep or proc.wrote_output()
            proc.close()
            node.exit_code = proc.returncode
            return self._finish(node, "Failed", f"{DEADLINE_MESSAGE} ({timeout:g}s)")
        except asyncio.CancelledError:
            await process.terminate(proc)
            attempt.keep = attempt.keep or proc.wrote_output()
            proc.close()
            node.exit_code = proc.returncode
            self._finish(node, "Failed", self._cancel_reason())
            raise
        finally:
            self.processes.pop(node.id, None)
        node.exit_code = code
        outputs: JSON = {"exitCode": str(code)}
        result = result_text(proc.read_stdout(RESULT_LIMIT))
        attempt.keep = attempt.keep or proc.wrote_output()
        proc.close()
        if kind == "script" or result:
            outputs["result"] = result
        try:
            params = self._output_parameters(
                tmpl, Path(attempt.scratch, "work"), Path(step.tmp_dir), Path(step.cwd)
            )
        except NodeFailure as err:
            node.outputs = outputs
            return self._finish(node, "Error", str(err))
        if params:
            outputs["parameters"] = params
        node.outputs = outputs
        if code == 0:
            return self._finish(node, "Succeeded")
        return self._finish(node, "Failed", f"Error (exit code {code})")

    def _keep_logs(self, node: NodeRecord, attempt: _AttemptFiles) -> None:
        """Move the node's logs to disk (see scratch.py) once its attempt is over."""
        if attempt.scratch == attempt.dest:
            return
        if not attempt.keep:
            node.log_dir = attempt.dest  # nothing to keep: readers find no file = empty log
            self._save(node, event=False)
            return
        copy = asyncio.get_running_loop().run_in_executor(
            _log_keeper(), scratch_files.keep, Path(attempt.scratch), Path(attempt.dest)
        )

        def moved(done: asyncio.Future[None]) -> None:
            self._copies.discard(done)
            if done.cancelled() or done.exception() is not None:
                return  # the logs stay readable in scratch until the workflow ends
            node.log_dir = attempt.dest
            self._save(node, event=False)

        self._copies.add(copy)
        copy.add_done_callback(moved)

    def _keep_orphaned_logs(self) -> None:
        """Logs a dead engine left in scratch go to disk before scratch is removed."""
        if self.scratch_dir == self.run_dir:
            return
        prefix = str(self.scratch_dir) + os.sep
        for node in self.nodes.values():
            if node.log_dir and node.log_dir.startswith(prefix):
                dest = self.run_dir / Path(node.log_dir).name
                scratch_files.keep(Path(node.log_dir), dest)
                node.log_dir = str(dest)
                self._save(node, event=False)

    def _new_attempt_name(self, node_id: str) -> str:
        """A fresh name for one attempt's directories; an earlier attempt of a
        retried workflow keeps its own (and its logs)."""
        if self._attempt_dirs is None:
            try:
                self._attempt_dirs = set(os.listdir(self.run_dir))
            except FileNotFoundError:
                self._attempt_dirs = set()
        name, suffix = node_id, 0
        while name in self._attempt_dirs:
            suffix += 1
            name = f"{node_id}.{suffix}"
        self._attempt_dirs.add(name)
        return name

    def _step_env(self, template_env: list[JSON], attempt: str) -> dict[str, str]:
        """The engine's environment with the step PATH, the attempt's marker
        (see ``process.ATTEMPT_ENV``), plus the template's ``env``."""
        if self._base_env is None:
            self._base_env = step_base_env(os.environ)
        env = {**self._base_env, process.ATTEMPT_ENV: attempt}
        for item in template_env:
            if "value" in item:
                env[item["name"]] = parameter_text(item["value"])
        return env

    def _output_parameters(self, tmpl: JSON, work: Path, tmp: Path, cwd: Path) -> list[JSON]:
        params: list[JSON] = []
        for param in tmpl.get("outputs", {}).get("parameters", []) or []:
            source = param.get("valueFrom") or {}
            path = source.get("path")
            value: str | None = None
            if path:
                host = host_path(path, tmp, cwd)
                try:
                    value = host.read_text().rstrip("\n") if host.is_file() else None
                except OSError:
                    value = None
                if value is None:
                    default = source.get("default", param.get("default"))
                    if default is None:
                        raise NodeFailure(
                            f"outputs.parameters.{param['name']}: {path}: no such file "
                            "(write it, or give valueFrom.default)"
                        )
                    value = parameter_text(default)
            elif param.get("value") is not None:
                value = parameter_text(param["value"])
            if value is None:
                continue
            params.append({"name": param["name"], "value": value})
            if param.get("globalName"):
                self.globals[f"workflow.outputs.parameters.{param['globalName']}"] = value
                self._workflow_vars = None
        return params

    # -- DAG -----------------------------------------------------------------------

    async def _run_dag(
        self, name: str, display: str, call: Call, inputs: dict[str, str], ctx: Context
    ) -> NodeRecord:
        tmpl = call.template
        dag = tmpl["dag"]
        node = self.by_name.get(name) or self._new_node(
            name, display, "DAG", ctx, tmpl.get("name", "")
        )
        node.inputs = {"parameters": [{"name": k, "value": v} for k, v in inputs.items()]}
        tasks: dict[str, JSON] = {t["name"]: t for t in dag.get("tasks", [])}
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
                return self._finish(node, "Error", f"task {tname!r}: {err}")
        dependents = {d for expr in logic.values() if expr for d in expr.tasks()}
        # Which tasks' outputs each task mentions: only those go into its scope.
        refs = {t: task_references(task, tasks) for t, task in tasks.items()}
        targets = (
            dag["target"].split()
            if dag.get("target")
            else [t for t in tasks if t not in dependents]
        )
        fail_fast = dag.get("failFast", True) is not False
        parallelism = tmpl.get("parallelism")
        sems = ctx.semaphores + ((asyncio.Semaphore(int(parallelism)),) if parallelism else ())
        base_vars = self._vars(inputs, ctx)
        done: dict[str, asyncio.Event] = {t: asyncio.Event() for t in tasks}
        results: dict[str, NodeRecord | None] = {}
        stop_scheduling = False

        def task_name(t: str) -> str:
            return f"{name}.{t}"

        def phase_of(t: str) -> str:
            rec = results.get(t)
            return rec.phase if rec else "Pending"

        def children_phases(t: str) -> list[str]:
            rec = results.get(t)
            if rec is None or rec.type != "TaskGroup":
                return []
            return [self.nodes[c].phase for c in rec.children if c in self.nodes]

        states = DagStates(phase_of, children_phases)

        def branch_phase(t: str, seen: frozenset[str] = frozenset()) -> str:
            rec = results.get(t)
            if rec is None:
                return ""
            if rec.phase in COMPLETED:
                return rec.phase
            expr = logic[t]
            phases = [branch_phase(d, seen | {t}) for d in (expr.tasks() if expr else ())]
            for p in phases:
                if p in FAILED:
                    return p
            return "Succeeded"

        def check_fail_fast() -> None:
            nonlocal stop_scheduling
            if not fail_fast or stop_scheduling:
                return
            for t in targets:
                bp = branch_phase(t)
                if bp in FAILED and not continues_on(tasks[t], bp):
                    stop_scheduling = True
                    return

        dag_ctx = Context(node.id, node.id, sems, ctx.extra_vars)

        async def run_task(tname: str) -> None:
            task = tasks[tname]
            expr = logic[tname]
            try:
                if expr is not None:
                    for dep in expr.tasks():
                        await done[dep].wait()
                existing = self.by_name.get(task_name(tname))
                if existing is None and stop_scheduling:
                    results[tname] = None
                    return
                if expr is not None and not expr.evaluate(states):
                    results[tname] = existing or self._new_node(
                        task_name(tname),
                        tname,
                        "Skipped",
                        dag_ctx,
                        task.get("template", ""),
                        phase="Omitted",
                        message="omitted: depends condition not met",
                    )
                    return
                scope_vars = {**base_vars, **self._task_vars(name, refs[tname], results)}
                results[tname] = await self._run_item_or_group(
                    task_name(tname), tname, task, scope_vars, call.scope, dag_ctx
                )
            except ExpressionError as err:
                results[tname] = self._error_node(task_name(tname), tname, dag_ctx, str(err))
            except NodeFailure as err:
                results[tname] = self._error_node(task_name(tname), tname, dag_ctx, str(err))
            finally:
                check_fail_fast()
                done[tname].set()

        jobs = [asyncio.ensure_future(run_task(t)) for t in tasks]
        try:
            await asyncio.gather(*jobs)
        except asyncio.CancelledError:
            for job in jobs:
                job.cancel()
            await asyncio.gather(*jobs, return_exceptions=True)
            reason = self._cancel_reason()
            self._finish(node, "Failed", reason)
            raise
        phase = "Succeeded"
        message = ""
        for t in targets:
            bp = branch_phase(t) or ("Failed" if stop_scheduling else "Succeeded")
            if bp in FAILED and not continues_on(tasks[t], bp):
                phase = bp
                culprit = self._first_failed(name, tasks)
                message = f"child '{culprit}' failed" if culprit else "a branch failed"
                break
        if phase == "Succeeded":
            try:
                node.outputs = self._template_outputs(
                    tmpl, {**base_vars, **self._task_vars(name, tasks, results)}
                )
            except (NodeFailure, ExpressionError) as err:
                return self._finish(node, "Error", str(err))
        return self._finish(node, phase, message)

    def _first_failed(self, prefix: str, tasks: Mapping[str, JSON]) -> str:
        for t in tasks:
            rec = self.by_name.get(f"{prefix}.{t}")
            if rec is not None and rec.phase in FAILED:
                return rec.id
        return ""

    def _error_node(self, name: str, display: str, ctx: Context, message: str) -> NodeRecord:
        node = self.by_name.get(name) or self._new_node(name, display, "Skipped", ctx)
        return self._finish(node, "Error", message)

    def _task_vars(
        self, prefix: str, tasks: Iterable[str], results: Mapping[str, NodeRecord | None]
    ) -> dict[str, str]:
        values: dict[str, str] = {}
        for t in tasks:
            rec = results.get(t) or self.by_name.get(f"{prefix}.{t}")
            if rec is not None:
                values.update(self._node_vars(f"tasks.{t}", rec))
        return values

    def _node_vars(self, key: str, rec: NodeRecord) -> dict[str, str]:
        values = {f"{key}.status": rec.phase, f"{key}.id": rec.id}
        if rec.started_at:
            values[f"{key}.startedAt"] = iso_time(rec.started_at)
        if rec.finished_at:
            values[f"{key}.finishedAt"] = iso_time(rec.finished_at)
        if rec.type == "TaskGroup":
            kids = [self.nodes[c] for c in rec.children if c in self.nodes]
            results = [k.outputs.get("result") for k in kids if "result" in k.outputs]
            values[f"{key}.outputs.result"] = json.dumps(results, separators=(",", ":"))
            names = {p["name"] for k in kids for p in k.outputs.get("parameters", [])}
            for pname in sorted(names):
                values[f"{key}.outputs.parameters.{pname}"] = json.dumps(
                    [
                        p["value"]
                        for k in kids
                        for p in k.outputs.get("parameters", [])
                        if p["name"] == pname
                    ],
                    separators=(",", ":"),
                )
            values[f"{key}.outputs.parameters"] = json.dumps(
                [{p["name"]: p["value"] for p in k.outputs.get("parameters", [])} for k in kids]
            )
            return values
        outputs = rec.outputs
        if "result" in outputs:
            values[f"{key}.outputs.result"] = outputs["result"]
        if "exitCode" in outputs:
            values[f"{key}.exitCode"] = outputs["exitCode"]
            values[f"{key}.outputs.exitCode"] = outputs["exitCode"]
        for param in outputs.get("parameters", []):
            values[f"{key}.outputs.parameters.{param['name']}"] = param["value"]
        return values

    def _template_outputs(self, tmpl: JSON, values: Mapping[str, str]) -> JSON:
        params = []
        for param in tmpl.get("outputs", {}).get("parameters", []) or []:
            source = param.get("valueFrom") or {}
            if "parameter" in source:
                value = substitute(source["parameter"], values, missing="error")
            elif "expression" in source:
                value = substitute("{{=" + source["expression"] + "}}", values, missing="error")
            elif param.get("value") is not None:
                value = substitute(parameter_text(param["value"]), values, missing="error")
            elif source.get("default") is not None:
                value = parameter_text(source["default"])
            else:
                continue
            params.append({"name": param["name"], "value": value})
            if param.get("globalName"):
                self.globals[f"workflow.outputs.parameters.{param['globalName']}"] = value
                self._workflow_vars = None
        return {"parameters": params} if params else {}

    # -- loops, when, and the call itself ------------------------------------------

    async def _run_item_or_group(
        self,
        name: str,
        display: str,
        task: JSON,
        values: dict[str, str],
        scope: Scope,
        ctx: Context,
        group_type: str = "TaskGroup",
    ) -> NodeRecord:
        try:
            items = self._expand(task, values)
        except LimitExceeded as err:
            raise NodeFailure(str(err)) from None
        if items is None:
            return await self._run_one(name, display, task, values, scope, ctx)
        group = self.by_name.get(name) or self._new_node(
            name, display, group_type, ctx, task.get("template", "")
        )
        if group.phase in FULFILLED:
            return group
        group_ctx = Context(ctx.boundary_id, group.id, ctx.semaphores, ctx.extra_vars)
        coros = []
        for index, item in enumerate(items):
            label = f"{display}({index}:{item_label(item)})"
            child_name = f"{name}({index}:{item_label(item)})"
            item_vars = dict(values)
            item_vars.update(item_variables(item))
            coros.append(self._run_one(child_name, label, task, item_vars, scope, group_ctx))
        children = await asyncio.gather(*coros)
        phase = "Succeeded"
        for child in children:
            if child.phase in FAILED and not continues_on(task, child.phase):
                phase = child.phase
        return self._finish(group, phase)

    def _expand(self, task: JSON, values: Mapping[str, str]) -> list[Any] | None:
        if "withItems" in task and task["withItems"] is not None:
            items = limits.loop_items(task["withItems"], "withItems")
            return [substitute_tree(copy.deepcopy(i), values) for i in items]
        if task.get("withParam"):
            raw = substitute(task["withParam"], values, missing="error")
            try:
                parsed = limits.loop_param(raw)
            except json.JSONDecodeError as err:
                raise NodeFailure(
                    f"withParam value could not be parsed as a JSON list: {raw!r}"
                ) from err
            if not isinstance(parsed, list):
                raise NodeFailure(f"withParam value is not a JSON list: {raw!r}")
            return parsed
        seq = task.get("withSequence")
        if seq:
            return _sequence(seq, values)
        return None

    async def _run_one(
        self,
        name: str,
        display: str,
        task: JSON,
        values: dict[str, str],
        scope: Scope,
        ctx: Context,
    ) -> NodeRecord:
        existing = self.by_name.get(name)
        if existing is not None and existing.phase in FULFILLED:
            return existing
        when = task.get("when")
        if when and existing is None:
            text = substitute(when, values, missing="error")
            if not evaluate_when(text):
                return self._new_node(
                    name,
                    display,
                    "Skipped",
                    ctx,
                    task.get("template", ""),
                    phase="Skipped",
                    message=f"when '{text}' evaluated false",
                )
        template, tscope = self.resolve(task, scope)
        arguments = {
            p["name"]: substitute(parameter_text(p.get("value", "")), values, missing="error")
            for p in (task.get("arguments", {}) or {}).get("parameters", []) or []
            if p.get("value") is not None
        }
        extra = {k: v for k, v in values.items() if k == "item" or k.startswith("item.")}
        child_ctx = Context(
            ctx.boundary_id, ctx.parent_id, ctx.semaphores, {**ctx.extra_vars, **extra}
        )
        return await self.execute(name, display, Call(template, tscope, arguments), child_ctx)

    # -- steps -----------------------------------------------------------------------

    async def _run_steps(
        self, name: str, display: str, call: Call, inputs: dict[str, str], ctx: Context
    ) -> NodeRecord:
        tmpl = call.template
        node = self.by_name.get(name) or self._new_node(
            name, display, "Steps", ctx, tmpl.get("name", "")
        )
        node.inputs = {"parameters": [{"name": k, "value": v} for k, v in inputs.items()]}
        parallelism = tmpl.get("parallelism")
        sems = ctx.semaphores + ((asyncio.Semaphore(int(parallelism)),) if parallelism else ())
        base_vars = self._vars(inputs, ctx)
        step_vars: dict[str, str] = {}
        steps_ctx = Context(node.id, node.id, sems, ctx.extra_vars)
        try:
            for index, group_steps in enumerate(tmpl.get("steps") or []):
                group_name = f"{name}[{index}]"
                group = self.by_name.get(group_name) or self._new_node(
                    group_name, f"[{index}]", "StepGroup", steps_ctx
                )
                group_ctx = Context(node.id, group.id, sems, ctx.extra_vars)
                values = {**base_vars, **step_vars}
                coros = [
                    self._run_step(f"{group_name}.{s['name']}", s, values, call.scope, group_ctx)
                    for s in group_steps or []
                ]
                results = await asyncio.gather(*coros)
                failed = [
                    (s, r)
                    for s, r in zip(group_steps or [], results, strict=True)
                    if r.phase in FAILED and not continues_on(s, r.phase)
                ]
                for s, r in zip(group_steps or [], results, strict=True):
                    step_vars.update(self._node_vars(f"steps.{s['name']}", r))
                if failed:
                    _step, rec = failed[0]
                    self._finish(group, rec.phase, f"child '{rec.id}' failed")
                    return self._finish(node, rec.phase, f"child '{rec.id}' failed")
                if group.phase not in FULFILLED:
                    self._finish(group, "Succeeded")
        except asyncio.CancelledError:
            reason = self._cancel_reason()
            self._finish(node, "Failed", reason)
            raise
        try:
            node.outputs = self._template_outputs(tmpl, {**base_vars, **step_vars})
        except (NodeFailure, ExpressionError) as err:
            return self._finish(node, "Error", str(err))
        return self._finish(node, "Succeeded")

    async def _run_step(
        self, name: str, step: JSON, values: dict[str, str], scope: Scope, ctx: Context
    ) -> NodeRecord:
        try:
            return await self._run_item_or_group(
                name, step["name"], step, values, scope, ctx, group_type="TaskGroup"
            )
        except (ExpressionError, NodeFailure) as err:
            return self._error_node(name, step["name"], ctx, str(err))

    # -- the workflow as a whole ---------------------------------------------------

    def _cancel_reason(self) -> str:
        if self.shutdown:
            return _shutdown_message(self.shutdown)
        if self.deadline_hit:
            return WORKFLOW_DEADLINE_MESSAGE
        return "cancelled"

    def interrupted_attempts(self) -> None:
        """Turn attempts left Running/Pending by a dead engine into Error (and kill leftovers)."""
        for node in list(self.nodes.values()):
            if node.type != "Pod" or node.phase in FULFILLED:
                continue
            if node.log_dir:  # launched, or about to be: find it by its marker, not its pid
                process.kill_attempt(f"{self.wf.id}/{Path(node.log_dir).name}")
            self._finish(node, "Error", INTERRUPTED.format(pid=node.pid or "?"))

    def _sweep(self, reason: str) -> None:
        """After a stop or deadline, no node may be left looking alive."""
        for node in list(self.nodes.values()):
            if node.phase not in FULFILLED:
                self._finish(node, "Failed", reason)

    async def run(self) -> WorkflowRecord:
        """Run the workflow (resuming whatever the store already holds) to its end."""
        self._load()
        self.interrupted_attempts()
        self._keep_orphaned_logs()
        wf = self.wf
        if wf.started_at is None:
            wf.started_at = time.time()
        wf.phase = "Running"
        self.store.update_workflow(wf.id, phase="Running", started_at=wf.started_at, message="")
        entry = self.spec.get("entrypoint", "")
        deadline = self.spec.get("activeDeadlineSeconds")
        watcher = asyncio.ensure_future(self._watch_shutdown())
        main_phase, main_message = "Error", ""
        try:
            self._main = asyncio.ensure_future(self._run_entry(entry))
            timeout = None
            if deadline not in (None, ""):
                timeout = max(float(parameter_text(deadline)) - (time.time() - wf.started_at), 0.0)
            finished, _ = await asyncio.wait({self._main}, timeout=timeout)
            if not finished:
                self.deadline_hit = True
                self._main.cancel()
                await asyncio.wait({self._main})
            reason = (
                WORKFLOW_DEADLINE_MESSAGE
                if self.deadline_hit
                else _shutdown_message(self.shutdown)
                if self.shutdown
                else "workflow ended"
            )
            self._sweep(reason)
            root = self.by_name.get(wf.name)
            if self.deadline_hit:
                main_phase, main_message = "Failed", WORKFLOW_DEADLINE_MESSAGE
                if root is not None and root.phase not in FULFILLED:
                    self._finish(root, "Failed", WORKFLOW_DEADLINE_MESSAGE)
            elif self.shutdown and (root is None or root.phase not in COMPLETED - {"Succeeded"}):
                main_phase, main_message = "Failed", _shutdown_message(self.shutdown)
            elif root is not None:
                main_phase = root.phase
                main_message = root.message if root.phase in FAILED else ""
            if self.shutdown != "Terminate":
                exit_phase = await self._run_on_exit(main_phase)
                if exit_phase in FAILED and main_phase == "Succeeded":
                    main_phase, main_message = "Failed", "exit handler failed"
        finally:
            watcher.cancel()
        final = (
            "Succeeded"
            if main_phase == "Succeeded"
            else ("Error" if main_phase == "Error" else "Failed")
        )
        wf.phase, wf.message, wf.finished_at = final, main_message, time.time()
        wf.outputs = (
            {
                "parameters": [
                    {"name": k.rsplit(".", 1)[-1], "value": v} for k, v in self.globals.items()
                ]
            }
            if self.globals
            else {}
        )
        while self._copies:  # every log on disk before the workflow is done
            await asyncio.gather(*list(self._copies), return_exceptions=True)
            await asyncio.sleep(0)  # let the copies' callbacks record the new log_dir
        self._flush()
        if self.scratch_dir != self.run_dir:
            shutil.rmtree(self.scratch_dir, ignore_errors=True)
        self.store.update_workflow(
            wf.id,
            phase=final,
            message=main_message,
            finished_at=wf.finished_at,
            outputs=wf.outputs,
            owner=None,
        )
        return wf

    async def _run_entry(self, entry: str) -> None:
        ctx = Context("", "")
        if entry not in self.root_scope.templates:
            node = self.by_name.get(self.wf.name) or self._new_node(
                self.wf.name, self.wf.name, "Pod", ctx
            )
            self._finish(node, "Error", f"entrypoint template {entry!r} not found")
            return
        call = Call(self.root_scope.templates[entry], self.root_scope, {})
        try:
            await self.execute(self.wf.name, self.wf.name, call, ctx)
        except NodeFailure as err:
            self._error_node(self.wf.name, self.wf.name, ctx, str(err))

    async def _run_on_exit(self, main_phase: str) -> str:
        handler = self.spec.get("onExit")
        if not handler:
            return "Succeeded"
        if handler not in self.root_scope.templates:
            return "Error"
        failures = [
            {
                "displayName": n.display_name,
                "message": n.message,
                "templateName": n.template_name,
                "phase": n.phase,
                "podName": n.id,
                "finishedAt": iso_time(n.finished_at) if n.finished_at else "",
            }
            for n in self.nodes.values()
            if n.phase in FAILED and n.type == "Pod"
        ]
        status = "Succeeded" if main_phase == "Succeeded" else main_phase
        extra = {"workflow.status": status, "workflow.failures": json.dumps(failures)}
        ctx = Context("", "", (), extra)
        call = Call(self.root_scope.templates[handler], self.root_scope, {})
        saved = self.shutdown
        self.shutdown = None  # the exit handler runs even after a Stop
        try:
            node = await self.execute(f"{self.wf.name}.onExit", f"{self.wf.name}.onExit", call, ctx)
        except NodeFailure:
            return "Error"
        finally:
            self.shutdown = saved
        return node.phase

    async def _watch_shutdown(self) -> None:
        """Poll the store for a stop/terminate request from another process."""
        while True:
            await asyncio.sleep(0.25)
            requested = self.store.shutdown_requested(self.wf.id)
            if requested and not self.shutdown:
                self.shutdown = requested
                if self._main is not None:
                    self._main.cancel()
            self.store.update_workflow(self.wf.id, heartbeat=time.time())


# -- helpers ---------------------------------------------------------------------------


@dataclass
class _AttemptFiles:
    """Where one attempt's files are (scratch) and go (dest), and whether any
    are worth keeping."""

    scratch: str
    dest: str
    keep: bool = True


@functools.cache
def _log_keeper() -> concurrent.futures.ThreadPoolExecutor:
    # One thread: copies are rare (silent steps leave nothing) and never urgent.
    return concurrent.futures.ThreadPoolExecutor(
        max_workers=1, thread_name_prefix="clusterforge-logs"
    )


def _shutdown_message(strategy: str) -> str:
    return TERMINATE_MESSAGE if strategy == "Terminate" else STOP_MESSAGE


def _sequence(seq: JSON, values: Mapping[str, str]) -> list[str]:
    def num(key: str) -> int | None:
        raw = seq.get(key)
        if raw in (None, ""):
            return None
        text = substitute(parameter_text(raw), values, missing="error")
        try:
            return int(text)
        except ValueError as err:
            raise NodeFailure(f"withSequence.{key}: {text!r} is not an integer") from err

    count, start, end = num("count"), num("start"), num("end")
    limits.check_sequence(count, start, end)
    fmt = seq.get("format")
    if count is not None:
        first = start or 0
        numbers = list(range(first, first + count))
    elif end is not None:
        first = start or 0
        step = 1 if end >= first else -1
        numbers = list(range(first, end + step, step))
    else:
        raise NodeFailure("withSequence needs count or end")
    if fmt:
        try:
            return [fmt % n for n in numbers]
        except (TypeError, ValueError) as err:
            raise NodeFailure(f"withSequence.format {fmt!r}: {err}") from err
    return [str(n) for n in numbers]


__all__ = ["NodeFailure", "WorkflowRun"]
