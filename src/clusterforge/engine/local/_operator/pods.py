"""Pods: one attempt of a ``container`` or ``script`` template, run to its end.

:class:`Pods` is the narrow seam between the walk and the host, as httpx's
transport is between a client and the network: the walk hands over a node and
a :class:`PodSpec` and gets a :class:`PodOutcome` back. :class:`HostPods` runs
the attempt as an isolated host process (attempt directories, launch, timeout,
outputs, logs); :class:`~clusterforge.engine.local._operator.memory_pods.MemoryPods`
answers in memory, for unit tests and for benchmarks of the engine alone.

A pod implementation fills in the node's own fields (``pid``, ``log_dir``,
``exit_code``) and saves them through the journal; the phase the node ends in
is the walk's business (:mod:`execute`).
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextlib
import functools
import os
import shutil
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

from clusterforge.engine.artifacts import ArtifactFailure
from clusterforge.engine.local import private_root, process, shim
from clusterforge.engine.local import scratch as scratch_files
from clusterforge.engine.local._operator.artifacts import PodArtifacts
from clusterforge.engine.local._operator.errors import InputError
from clusterforge.engine.local._operator.journal import Journal
from clusterforge.engine.local._operator.pod_objects import ObjectFile
from clusterforge.engine.local.kubelet_expansion import expand, expand_all
from clusterforge.engine.local.step_env import step_base_env
from clusterforge.engine.local.values import (
    RESULT_LIMIT,
    host_path,
    parameter_text,
    result_text,
)
from clusterforge.engine.local.volumes import VolumeError, WorkflowVolumes
from clusterforge.engine.phases import DEADLINE_MESSAGE, INTERRUPTED
from clusterforge.errors import InvalidInput
from clusterforge.safety import inside
from clusterforge.store import NodeRecord

JSON = dict[str, Any]


@dataclass(frozen=True)
class PodSpec:
    """One attempt to run: the template's substituted body and what it must output."""

    kind: str  # "container" or "script"
    body: JSON
    outputs: list[JSON] = field(default_factory=list)  # the template's outputs.parameters
    timeout: float | None = None
    volumes: list[JSON] = field(default_factory=list)  # the template's own volumes
    artifacts: PodArtifacts | None = None  # inputs to place, outputs and logs to store
    env: Mapping[str, str] | None = None  # env/envFrom resolved (ConfigMaps, Secrets)
    object_files: Mapping[str, tuple[ObjectFile, ...]] = field(default_factory=dict)
    """The files of each configMap/secret volume, by volume name (never stored)."""


@dataclass
class PodOutcome:
    """How an attempt ended: the node's phase, message, exit code and ``outputs``."""

    phase: str
    message: str = ""
    exit_code: int | None = None
    outputs: JSON = field(default_factory=dict)

    @classmethod
    def exited(cls, code: int, outputs: JSON) -> PodOutcome:
        if code == 0:
            return cls("Succeeded", "", code, outputs)
        return cls("Failed", f"Error (exit code {code})", code, outputs)

    @classmethod
    def unrunnable(cls, error: process.ProgramError) -> PodOutcome:
        """The step's program could not be run: Failed with the exit code of
        Argo's executor, as a pod whose emissary could not start it."""
        code = error.exit_code
        message = f"Error (exit code {code}): failed to start: {error}"
        return cls("Failed", message, code, {"exitCode": str(code)})


class Sidecar(Protocol):
    """A sidecar container's process, running beside a pod's main one."""

    async def stop(self) -> None:
        """Terminate it (the pod's main container has ended)."""
        ...


class Pods(Protocol):
    """Runs pod attempts for one workflow run."""

    async def start_sidecar(
        self, node: NodeRecord, name: str, body: JSON, env: Mapping[str, str] | None = None
    ) -> Sidecar:
        """Start sidecar ``name`` of ``node``'s pod (``body``: its substituted
        container; ``env``: its variables read from ConfigMaps/Secrets, if any) in the
        background. Raises ``OSError`` when it cannot start."""
        ...

    async def run(self, node: NodeRecord, spec: PodSpec) -> PodOutcome:
        """Run one attempt once its state is durable. Cancelled: the attempt is
        stopped, ``node.exit_code`` set, and :class:`asyncio.CancelledError` re-raised."""
        ...

    def adopt(self, node: NodeRecord) -> bool:
        """An attempt a dead engine left unfinished. True: the walk takes it over when
        it reaches the node (still running under its supervisor, finished while no
        engine ran, or never started). False: nothing of it runs any more, and it
        ends in Error."""
        ...

    def recover(self, nodes: Iterable[NodeRecord]) -> None:
        """Before a resumed run: keep the files a dead engine's attempts left behind."""
        ...

    async def settle(self) -> None:
        """Wait until every attempt's files are where they stay (logs moved to disk)."""
        ...

    def close(self) -> None:
        """The run is over: remove what only lived while it ran."""
        ...


def interrupted_message(node: NodeRecord) -> str:
    return INTERRUPTED.format(pid=node.pid or "?")


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


class HostPods:
    """Attempts as isolated host processes (see :mod:`clusterforge.engine.local.process`).

    Steps' working dirs and private /tmp live under ``scratch_dir`` (memory-backed
    by default, see ``paths.scratch_home``) while the workflow runs and are removed
    when it ends; logs move to ``run_dir``. When both are the same directory,
    everything stays there.
    """

    def __init__(self, journal: Journal, run_dir: Path, scratch_dir: Path) -> None:
        self.journal = journal
        self.workflow_id = journal.wf.id
        self.run_dir = run_dir
        self.scratch_dir = scratch_dir
        # Plain strings, not Paths: these are joined once per step and pathlib is slow.
        self._scratch_prefix, self._run_prefix = str(scratch_dir), str(run_dir)
        self.processes: dict[str, process.StepHandle] = {}
        self._base_env: dict[str, str] | None = None
        self._attempt_dirs: set[str] | None = None
        self._copies: set[asyncio.Future[None]] = set()
        self._spec: JSON = journal.wf.manifest.get("spec") or {}
        self.volumes = WorkflowVolumes.of(self._spec, run_dir, self._scratch_prefix)
        self._adopted: dict[str, int | None] = {}
        """Attempts a dead engine left: node id → its live shim's pid (None: ended
        while no engine ran, its exit recorded; or never started)."""

    async def run(self, node: NodeRecord, spec: PodSpec) -> PodOutcome:
        adopted = node.id in self._adopted
        if adopted and node.log_dir:
            name = Path(node.log_dir).name  # the dead engine's attempt, taken over
            if self._attempt_dirs is not None:
                self._attempt_dirs.add(name)
        else:  # a directory no attempt used (a fenced one stays as it is)
            name = self._new_attempt_name(node.id, avoid=self._scratch_prefix if adopted else None)
        attempt = _AttemptFiles(
            scratch=f"{self._scratch_prefix}/{name}", dest=f"{self._run_prefix}/{name}"
        )
        files = f"{self._scratch_prefix}/.objects/{name}"  # never under the attempt: kept logs
        try:
            prepared = _write_object_files(files, spec.object_files) if spec.object_files else {}
            step = self._step_process(spec, attempt, name, prepared)
        except (VolumeError, OSError) as err:
            shutil.rmtree(files, ignore_errors=True)
            return PodOutcome("Error", f"failed to start: {err}")
        except private_root.RootError as err:
            shutil.rmtree(files, ignore_errors=True)
            return PodOutcome("Error", str(err))
        node.log_dir = attempt.scratch
        try:
            if adopted:
                return await self._take_over(node, spec, step, attempt)
            return await self._attempt(node, spec, step, attempt)
        finally:
            if spec.object_files:  # the pod ended: its ConfigMap/Secret files go
                shutil.rmtree(files, ignore_errors=True)
            self._keep_logs(node, attempt)

    async def _take_over(
        self, node: NodeRecord, spec: PodSpec, step: process.StepProcess, attempt: _AttemptFiles
    ) -> PodOutcome:
        """Wait for (or read) an attempt a dead engine launched; one that never
        started is started now."""
        pid = self._adopted.pop(node.id)
        if pid is None and shim.read_exit(attempt.scratch) is None:
            return await self._attempt(node, spec, step, attempt)
        attempt.keep = True
        proc = process.adopt(step, pid or 0)
        timeout = spec.timeout
        if timeout is not None:  # counted from the launch, as for a live engine's step
            timeout = max(timeout - (time.time() - (node.started_at or time.time())), 0.0)
        return await self._wait(node, spec, step, attempt, proc, timeout)

    def _step_process(
        self, spec: PodSpec, attempt: _AttemptFiles, name: str, prepared: Mapping[str, str]
    ) -> process.StepProcess:
        body = spec.body
        work = f"{attempt.scratch}/work"
        make_dirs = [attempt.scratch, work, f"{attempt.scratch}/tmp"]  # noqa: S108 — the private /tmp
        variables = _container_env(body, spec.env)
        # The kubelet's $(VAR) expansion of command and args (never a shell's).
        command = expand_all((str(a) for a in body.get("command") or []), variables)
        args = expand_all((str(a) for a in body.get("args") or []), variables)
        argv = [*command, *args]
        script: tuple[str, str] | None = None
        if spec.kind == "script":
            script = (f"{attempt.scratch}/script", body.get("source", ""))
            # As Argo: the command, its args, then the script's path (the source as written).
            argv = [*(command or ["sh"]), *args, script[0]]
        cwd = work
        working_dir = body.get("workingDir")
        volumes = (
            self.volumes.mounts(body, spec.volumes, name, prepared, variables)
            if body.get("volumeMounts")
            else ()
        )
        root = _private_root(spec.artifacts, spec.outputs, volumes, f"{attempt.scratch}/root")
        if root is not None:  # "/" of the root stands for the image's working directory
            cwd = root.root
        elif working_dir:
            cwd = os.path.join(work, working_dir)  # an absolute workingDir replaces work
            make_dirs.append(cwd)
        return process.StepProcess(
            argv=argv,
            env=self._step_env(f"{self.workflow_id}/{name}", variables),
            cwd=cwd,
            tmp_dir=make_dirs[2],
            stdout=f"{attempt.scratch}/stdout.log",
            stderr=f"{attempt.scratch}/stderr.log",
            make_dirs=tuple(make_dirs),
            script=script,
            volumes=volumes,
            state_dir=attempt.scratch,
            root=root,
            root_cwd=os.path.join("/", working_dir or ""),
        )

    async def _attempt(
        self, node: NodeRecord, spec: PodSpec, step: process.StepProcess, attempt: _AttemptFiles
    ) -> PodOutcome:
        """Start one attempt once its state is durable, wait for it, collect outputs."""
        attempt.keep = spec.kind == "script"
        # Durable with the launch's commit: a restarted engine finds the attempt.
        self.journal.save(node, event=False)
        try:
            await self.journal.durable()
            if spec.artifacts is not None:
                await self._stage(spec.artifacts, step)
            proc = await process.launch(step)
        except OSError as err:
            attempt.keep = True
            with contextlib.suppress(OSError):
                os.makedirs(attempt.scratch, exist_ok=True)
                Path(step.stderr).write_text(f"{err}\n")
            if isinstance(err, process.ProgramError):
                return PodOutcome.unrunnable(err)
            return PodOutcome("Error", f"failed to start: {err}")
        except ArtifactFailure as err:
            attempt.keep = True
            return PodOutcome("Error", str(err))
        node.pid = proc.pid
        node.phase = "Running"
        node.started_at = time.time()
        self.journal.save(node)
        return await self._wait(node, spec, step, attempt, proc, spec.timeout)

    async def _wait(
        self,
        node: NodeRecord,
        spec: PodSpec,
        step: process.StepProcess,
        attempt: _AttemptFiles,
        proc: process.StepHandle,
        timeout: float | None,
    ) -> PodOutcome:
        """Wait for a started attempt (terminated on a timeout or a cancellation)."""
        self.processes[node.id] = proc
        try:
            code = await asyncio.wait_for(proc.wait(), timeout)
        except (TimeoutError, asyncio.CancelledError) as err:
            await process.terminate(proc)
            attempt.keep = attempt.keep or proc.wrote_output()
            proc.close()
            node.exit_code = proc.returncode
            if isinstance(err, asyncio.CancelledError):
                raise
            return PodOutcome("Failed", f"{DEADLINE_MESSAGE} ({spec.timeout:g}s)", proc.returncode)
        finally:
            self.processes.pop(node.id, None)
        if proc.start_error is not None:
            proc.close()
            return PodOutcome.unrunnable(proc.start_error)
        if code is None:  # an adopted step whose supervisor was killed
            proc.close()
            return PodOutcome("Error", interrupted_message(node))
        outcome = self._collect(proc, code, spec, step, attempt)
        if spec.artifacts is not None:
            outcome = await self._store(spec.artifacts, step, outcome)
        return outcome

    async def _stage(self, artifacts: PodArtifacts, step: process.StepProcess) -> None:
        """Place the input artifacts (off the event loop: it is file and network I/O)."""
        for path in step.make_dirs:
            os.makedirs(path, exist_ok=True)
        if step.root is not None:
            step.root.make()
        await asyncio.get_running_loop().run_in_executor(
            None, artifacts.stage, lambda p: step_path(p, step)
        )

    async def _store(
        self, artifacts: PodArtifacts, step: process.StepProcess, outcome: PodOutcome
    ) -> PodOutcome:
        """Store the output artifacts and the log; a failure ends the node in Error."""
        logs = [Path(step.stdout), Path(step.stderr)]
        try:
            entries = await asyncio.get_running_loop().run_in_executor(
                None, artifacts.collect, lambda p: step_path(p, step), logs
            )
        except ArtifactFailure as err:
            if outcome.phase == "Succeeded":
                return PodOutcome("Error", str(err), outcome.exit_code, outcome.outputs)
            return outcome
        if entries:
            outcome.outputs["artifacts"] = entries
        return outcome

    def _collect(
        self,
        proc: process.StepHandle,
        code: int,
        spec: PodSpec,
        step: process.StepProcess,
        attempt: _AttemptFiles,
    ) -> PodOutcome:
        outputs: JSON = {"exitCode": str(code)}
        result = result_text(proc.read_stdout(RESULT_LIMIT))
        attempt.keep = attempt.keep or proc.wrote_output()
        proc.close()
        if spec.kind == "script" or result:
            outputs["result"] = result
        try:
            params = output_parameters(spec.outputs, lambda path: step_path(path, step))
        except InputError as err:
            return PodOutcome("Error", str(err), code, outputs)
        if params:
            outputs["parameters"] = params
        return PodOutcome.exited(code, outputs)

    def _keep_logs(self, node: NodeRecord, attempt: _AttemptFiles) -> None:
        """Move the node's logs to disk (see scratch.py) once its attempt is over."""
        if attempt.scratch == attempt.dest:
            return
        if not attempt.keep:
            node.log_dir = attempt.dest  # nothing to keep: readers find no file = empty log
            self.journal.save(node, event=False)
            return
        copy = asyncio.get_running_loop().run_in_executor(
            _log_keeper(), scratch_files.keep, Path(attempt.scratch), Path(attempt.dest)
        )

        def moved(done: asyncio.Future[None]) -> None:
            self._copies.discard(done)
            if done.cancelled() or done.exception() is not None:
                return  # the logs stay readable in scratch until the workflow ends
            node.log_dir = attempt.dest
            self.journal.save(node, event=False)

        self._copies.add(copy)
        copy.add_done_callback(moved)

    async def start_sidecar(
        self, node: NodeRecord, name: str, body: JSON, env: Mapping[str, str] | None = None
    ) -> Sidecar:
        """A background process with its own directories and logs beside the
        pod's (``<node id>.<name>`` under the run directory, kept after the run)."""
        dir_name = self._new_attempt_name(f"{node.id}.{name}")
        where = f"{self._run_prefix}/{dir_name}"
        step = self._step_process(
            PodSpec("container", body, env=env),
            _AttemptFiles(scratch=where, dest=where),
            dir_name,
            {},
        )
        await self.journal.durable()
        return _HostSidecar(await process.launch(step))

    def adopt(self, node: NodeRecord) -> bool:
        if not node.log_dir:  # never launched (the launch follows a durable log_dir)
            self._adopted[node.id] = None
            return True
        directory = node.log_dir
        if shim.read_exit(directory) is not None:
            self._adopted[node.id] = None
            return True
        if (pid := shim.live_shim(directory)) is not None:
            self._adopted[node.id] = pid
            return True
        if shim.program() is not None and shim.fence(directory):
            node.log_dir = None  # its shim never started the step: start it in a new directory
            self._adopted[node.id] = None
            return True
        if (pid := shim.live_shim(directory)) is not None:  # it recorded itself meanwhile
            self._adopted[node.id] = pid
            return True
        # No live shim now. A shim records the exit before it exits, so read it again:
        # the step may have ended since the first look (then it is not lost).
        if shim.read_exit(directory) is not None:
            self._adopted[node.id] = None
            return True
        # Nothing ran it to its end: make sure nothing of it runs (by its marker, not a pid).
        process.kill_attempt(f"{self.workflow_id}/{Path(directory).name}")
        return False

    def recover(self, nodes: Iterable[NodeRecord]) -> None:
        """Logs a dead engine left in scratch go to disk before scratch is removed
        (those of attempts still to be taken over go when they end)."""
        if self.scratch_dir == self.run_dir:
            return
        prefix = str(self.scratch_dir) + os.sep
        for node in nodes:
            if node.id in self._adopted:
                continue
            if node.log_dir and node.log_dir.startswith(prefix):
                dest = self.run_dir / Path(node.log_dir).name
                scratch_files.keep(Path(node.log_dir), dest)
                node.log_dir = str(dest)
                self.journal.save(node, event=False)

    async def settle(self) -> None:
        while self._copies:  # every log on disk before the workflow is done
            await asyncio.gather(*list(self._copies), return_exceptions=True)
            await asyncio.sleep(0)  # let the copies' callbacks record the new log_dir

    def close(self) -> None:
        root = self.journal.by_name.get(self.journal.wf.name)
        self.volumes.collect(
            root is not None and root.phase == "Succeeded", self._spec.get("volumeClaimGC")
        )
        if self.scratch_dir != self.run_dir:
            scratch_files.remove(self.scratch_dir)

    def _new_attempt_name(self, node_id: str, avoid: str | None = None) -> str:
        """A fresh name for one attempt's directories; an earlier attempt of a
        retried workflow keeps its own (and its logs)."""
        if self._attempt_dirs is None:
            try:
                self._attempt_dirs = set(os.listdir(self.run_dir))
            except FileNotFoundError:
                self._attempt_dirs = set()
        name, suffix = node_id, 0
        while name in self._attempt_dirs or (avoid and os.path.lexists(f"{avoid}/{name}")):
            suffix += 1
            name = f"{node_id}.{suffix}"
        self._attempt_dirs.add(name)
        return name

    def _step_env(self, attempt: str, variables: Mapping[str, str]) -> dict[str, str]:
        """The engine's environment with the step PATH, the attempt's marker
        (see ``process.ATTEMPT_ENV``), plus the container's own variables."""
        if self._base_env is None:
            self._base_env = step_base_env(os.environ)
        return {**self._base_env, process.ATTEMPT_ENV: attempt, **variables}


def _container_env(body: JSON, resolved: Mapping[str, str] | None) -> dict[str, str]:
    """The container's own variables (not the host's), as the kubelet builds them: what
    its process gets, and what ``$(VAR)`` in its command, args and ``subPathExpr`` reads.
    Each ``env`` value is expanded against the variables defined before it."""
    if resolved is not None:  # env and envFrom with ConfigMap/Secret values
        return dict(resolved)
    env: dict[str, str] = {}
    for item in body.get("env") or []:
        if "value" in item:
            env[str(item["name"])] = expand(parameter_text(item["value"]), env)
    return env


class _HostSidecar:
    def __init__(self, proc: process.StepHandle) -> None:
        self.proc = proc

    async def stop(self) -> None:
        await process.terminate(self.proc)
        self.proc.close()


def _write_object_files(
    directory: str, volumes: Mapping[str, tuple[ObjectFile, ...]]
) -> dict[str, str]:
    """Write each configMap/secret volume's files under ``directory`` (private, 0700);
    the host directory of each volume, by name. An attempt a dead engine left
    (adopted, maybe still running with them mounted) keeps the files it has."""
    roots = {v: os.path.join(directory, str(i)) for i, v in enumerate(sorted(volumes))}
    if os.path.isdir(directory):
        return roots
    os.makedirs(directory, mode=0o700)
    for vname, files in volumes.items():
        root = roots[vname]  # no user text in the path
        os.makedirs(root, mode=0o700)
        for item in files:
            parts = [p for p in item.path.split("/") if p]
            if not parts or ".." in parts:
                raise VolumeError(f"volume {vname!r}: items path {item.path!r} must be relative")
            path = os.path.join(root, *parts)
            os.makedirs(os.path.dirname(path), mode=0o700, exist_ok=True)
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            with os.fdopen(fd, "wb") as handle:
                handle.write(item.data)
            os.chmod(path, item.mode)
    return roots


def _private_root(
    artifacts: PodArtifacts | None,
    parameters: Iterable[JSON],
    volumes: Iterable[process.Mount],
    where: str,
) -> private_root.PrivateRoot | None:
    """The attempt's private root when an artifact or output parameter path is
    outside /tmp and the working directory, or a volume's mount point is where the
    host has nothing (see private_root.py); refused without a mount namespace."""
    inputs = _paths("inputs", artifacts.inputs) if artifacts is not None else {}
    outputs = _paths("outputs", artifacts.outputs) if artifacts is not None else {}
    outputs.update(_parameter_paths(parameters))
    inputs.update(private_root.mount_points(v.target for v in volumes))
    root = private_root.plan(where, inputs, outputs)
    isolation = process.isolation()
    if root is not None and not isolation.private_tmp:
        field, path = next(
            (k, v) for k, v in {**inputs, **outputs}.items() if private_root.elsewhere(v)
        )
        raise private_root.RootError(
            f"{field} {path}: a path outside /tmp and the working directory needs a "
            f"private mount namespace, which steps do not get here ({isolation.reason}); "
            "use a path under /tmp, or run clusterforge as root"
        )
    return root


def _parameter_paths(parameters: Iterable[JSON]) -> dict[str, str]:
    """Output parameters read from a file: a step writes ``/a`` in its own root, as in
    its container, never on the host."""
    paths: dict[str, str] = {}
    for param in parameters:
        path = (param.get("valueFrom") or {}).get("path")
        if path:
            paths[f"outputs.parameters.{param['name']}.valueFrom.path"] = str(path)
    return paths


def _paths(kind: str, artifacts: Iterable[JSON]) -> dict[str, str]:
    return {
        f"{kind}.artifacts.{a['name']}.path": str(a["path"]) for a in artifacts if a.get("path")
    }


def step_path(path: str, step: process.StepProcess) -> Path:
    """Where a path of the step's view is on the host: in a volume mounted over it,
    its private /tmp, its working directory, its private root, or else the host's
    own (which the step sees too)."""
    mounted = _volume_path(path, step.volumes)
    if mounted is not None:
        return mounted
    root = step.root
    if root is None or path == "/tmp" or path.startswith("/tmp/"):  # noqa: S108
        return host_path(path, Path(step.tmp_dir), Path(step.cwd))
    return root.host(path if path.startswith("/") else os.path.join(step.root_cwd, path))


def output_parameters(specs: list[JSON], host: Callable[[str], Path]) -> list[JSON]:
    """A pod's ``outputs.parameters``: each read from its ``valueFrom.path`` (found on
    the host by ``host(path)``), else its default, else its value."""
    params: list[JSON] = []
    for param in specs:
        source = param.get("valueFrom") or {}
        path = source.get("path")
        value: str | None = None
        if path:
            try:
                value = _read(host(path))
            except InvalidInput as err:
                raise InputError(
                    f"outputs.parameters.{param['name']}.valueFrom.path: {err}"
                ) from None
            if value is None:
                default = source.get("default", param.get("default"))
                if default is None:
                    raise InputError(
                        f"outputs.parameters.{param['name']}: {path}: no such file "
                        "(write it, or give valueFrom.default)"
                    )
                value = parameter_text(default)
        elif param.get("value") is not None:
            value = parameter_text(param["value"])
        if value is not None:
            params.append({"name": param["name"], "value": value})
    return params


def _read(path: Path) -> str | None:
    try:
        return path.read_text().rstrip("\n") if path.is_file() else None
    except OSError:
        return None


def _volume_path(path: str, volumes: Iterable[process.Mount]) -> Path | None:
    """The path in the volume whose mount covers ``path`` (the innermost), as Argo's
    executor loads and saves an artifact under a volume mount in the volume itself
    (``FindOverlappingVolume``); None when no volume covers it."""
    if not path.startswith("/"):
        return None
    norm = os.path.normpath(path)
    best: tuple[str, str] | None = None
    for mount in volumes:
        target = os.path.normpath(mount.target)
        covers = norm == target or norm.startswith(target.rstrip("/") + "/")
        if covers and (best is None or len(target) > len(best[0])):
            best = (target, mount.source)
    if best is None:
        return None
    target, source = best
    rest = norm[len(target) :].strip("/")
    return inside(Path(source), *rest.split("/")) if rest else Path(source)
