"""Run one step as a host subprocess, with a private working directory and /tmp.

On Argo each step is a pod with its own filesystem; two parallel steps that
write ``/tmp/out`` never see each other. Locally we keep that promise with a
Linux mount namespace: the step gets its own mount table, in which a
per-attempt directory is bind-mounted over ``/tmp``. When the step ends, what
it left in its ``/tmp`` is still in that directory, so output parameters read
from ``/tmp/...`` paths work as on Argo.

Two launchers give the same isolation:

* the ``_spawn`` C extension (built by ``make setup``): one ``vfork`` + ``exec``
  per step, the namespace and mounts made by the child itself — the fast path;
* without it (no C compiler at install time): ``unshare --mount`` running a
  fixed ``sh`` script that bind-mounts /tmp and execs the step, three extra
  program executions per step. The step's argv is passed as positional
  parameters (``"$@"``), never spliced, so ``fluent bit; rm -rf /`` stays data.

Where namespaces are unavailable (not root, no unshare), steps still run but
share the host's /tmp; :func:`isolation` reports that so the engine can say so
loudly instead of silently sharing.

The namespace is a list of bind mounts made in order (:func:`mount_plan`):
volumes (``volumeMounts``, see :mod:`volumes`) outside /tmp first, then —
inside the attempt's directory — the host paths under /tmp the step must still
reach (:mod:`reachable`: a checkout or virtualenv under /tmp) and volumes
mounted under /tmp, and last that directory over /tmp, recursively, so what
was put inside it comes along. Every source is named in the host's view.
A step with a private root (artifact paths outside /tmp, or volume mount
points the host lacks, see :mod:`private_root`) has every mount made inside
that root — its mirrored host entries first — and is started through
``chroot`` into it. No mount point is ever made on the host.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextlib
import errno
import fcntl
import functools
import importlib
import os
import shutil
import signal
import subprocess
import tempfile
import time
from dataclasses import dataclass, replace
from pathlib import Path
from types import ModuleType

from clusterforge.engine.local import reachable, shim
from clusterforge.engine.local.private_root import PrivateRoot


def _load_spawn() -> ModuleType | None:
    # By module name, not `from clusterforge.engine.local import _spawn`: the C
    # extension is no Python file, so the import linter would read that as an
    # import of the whole package (and of the operator above this module).
    try:
        return importlib.import_module("clusterforge.engine.local._spawn")
    except ImportError:
        return None


_SPAWN = _load_spawn()

# $1 = working dir, $2 = how many mounts, then (source, target, ro|rw) for each,
# then the step's argv. The cd comes first: a working directory under /tmp
# must stay the host's, not the private one.
_WRAPPER = (
    'cd "$1" || exit 126; n=$2; shift 2; '
    'while [ "$n" -gt 0 ]; do '
    'mount --rbind "$1" "$2" || '
    '{ echo "clusterforge: cannot bind-mount $1 at $2" >&2; exit 126; }; '
    'if [ "$3" = ro ]; then mount -o remount,bind,ro "$2" || '
    '{ echo "clusterforge: cannot make $2 read-only" >&2; exit 126; }; fi; '
    "shift 3; n=$((n - 1)); done; "
    'exec "$@"'
)


# Run inside a private root (see private_root.py): chroot(8) into it, then this
# script moves to the step's working directory there ($0) and execs the step
# ("$@"), every user string a positional parameter, never spliced.
_IN_ROOT = 'cd -- "$0" || exit 126; exec "$@"'


class StartError(OSError):
    """A step that could not be started; its text names the program (or the
    mount) and the reason, without Python's ``[Errno N]`` prefix."""

    def __str__(self) -> str:
        return str(self.strerror or (self.args[0] if self.args else ""))


class ProgramError(StartError):
    """The step's own program could not be run: not found, not executable, or
    refused by the kernel (a ``#!`` interpreter that does not exist, a wrong
    format).

    On Argo the pod's executor finds this out: emissary exits with
    :attr:`exit_code` and the node is Failed, so ``retryStrategy``'s default
    policy (OnFailure) retries it and ``continueOn.failed`` covers it. A start
    the engine itself could not make (a mount, a log file) stays an Error."""

    exit_code = 64
    """What Argo's argoexec exits with when it, not the step, failed."""


@dataclass(frozen=True)
class Isolation:
    """How steps are isolated on this host."""

    private_tmp: bool
    reason: str


@functools.cache
def isolation() -> Isolation:
    """Probe once whether a private mount namespace can be created here.

    ``CLUSTERFORGE_ISOLATION=none`` turns isolation off on purpose (the engine
    then warns on every submit, like when it is unavailable).
    """
    if os.environ.get("CLUSTERFORGE_ISOLATION") == "none":
        return Isolation(False, "CLUSTERFORGE_ISOLATION=none")
    if _fast_launcher():
        return _probe_spawn()
    unshare = shutil.which("unshare")
    if unshare is None:
        return Isolation(False, "the 'unshare' command is not installed (util-linux)")
    probe = subprocess.run(
        [unshare, "--mount", "--propagation", "private", "--", "true"],
        capture_output=True,
        text=True,
        check=False,
    )
    if probe.returncode != 0:
        return Isolation(
            False, f"unshare --mount failed: {probe.stderr.strip() or probe.returncode}"
        )
    return Isolation(True, "mount namespace with a private /tmp per step")


def _fast_launcher() -> bool:
    """Whether steps start through the C extension (``CLUSTERFORGE_LAUNCHER=sh`` forces
    the portable ``unshare`` + ``sh`` path, which the tests exercise too)."""
    return _SPAWN is not None and os.environ.get("CLUSTERFORGE_LAUNCHER") != "sh"


def _probe_spawn() -> Isolation:
    assert _SPAWN is not None
    true = shutil.which("true") or "/bin/true"
    with tempfile.TemporaryDirectory(prefix="clusterforge-probe-") as scratch:
        private = Path(scratch, "tmp")
        private.mkdir()
        log = _above_stdio(os.open(Path(scratch, "log"), os.O_WRONLY | os.O_CREAT | os.O_CLOEXEC))
        try:
            mounts = [(os.fsencode(private), os.fsencode(reachable.TMP), False)]
            pid = _SPAWN.spawn(os.fsencode(true), [b"true"], [], b"/", log, log, mounts)
        except OSError as err:
            return Isolation(False, f"no private mount namespace: {err.strerror}")
        finally:
            os.close(log)
        _, status = os.waitpid(pid, 0)
    if os.waitstatus_to_exitcode(status) != 0:
        return Isolation(False, "no private mount namespace: the probe step failed")
    return Isolation(True, "mount namespace with a private /tmp per step")


@dataclass(frozen=True)
class Mount:
    """A host path bind-mounted at ``target`` inside the step (a volume)."""

    source: str
    target: str
    readonly: bool = False


@dataclass(frozen=True)
class StepProcess:
    """Everything needed to launch one attempt.

    The attempt's directories (and its script file) are made by the launch
    itself, off the event loop: on a busy disk a ``mkdir`` can take a
    millisecond (which is also why they live in scratch, see scratch.py).
    """

    argv: list[str]
    env: dict[str, str]
    cwd: str
    tmp_dir: str
    stdout: str
    stderr: str
    make_dirs: tuple[str, ...] = ()
    """Created in order before the start; each parent must exist or come earlier."""
    script: tuple[str, str] | None = None
    """A script template's source, written to this path before the start."""
    state_dir: str | None = None
    """The attempt's directory: given, the step runs under its shim (see shim.py),
    which records the exit code there."""
    volumes: tuple[Mount, ...] = ()
    """Bind mounts inside the step's mount namespace (its ``volumeMounts``)."""
    root: PrivateRoot | None = None
    """The attempt's private root (artifact paths outside /tmp), chroot'ed into."""
    root_cwd: str = "/"
    """The working directory inside the private root."""


def _argv(step: StepProcess, mounts: list[tuple[str, str, bool]] | None) -> list[str]:
    if mounts is None:
        return step.argv
    unshare = _which("unshare", os.environ.get("PATH", os.defpath)) or "unshare"
    triples = [w for src, dst, ro in mounts for w in (src, dst, "ro" if ro else "rw")]
    return [
        unshare,
        "--mount",
        "--propagation",
        "private",
        "--",
        "/bin/sh",
        "-c",
        _WRAPPER,
        "clusterforge-step",
        step.cwd,
        str(len(mounts)),
        *triples,
        *step.argv,
    ]


def mount_plan(step: StepProcess, executable: str) -> list[tuple[str, str, bool]]:
    """The step's bind mounts, in the order they are made: ``(source, target, readonly)``.

    Mounts at a path under /tmp go inside the attempt's tmp directory (which
    then goes over /tmp), so their sources are still the host's."""
    tmp = step.tmp_dir
    files = [step.script[0]] if step.script else []
    args = [a for a in step.argv[1:] if reachable.under_tmp(a) and a not in files]
    supervisor = shim.program() if step.state_dir is not None else None
    kept = [*files, supervisor] if supervisor else files  # a checkout under /tmp holds it
    roots = reachable.keep_roots(executable, step.env.get("PATH", ""), args, kept)
    inside = [(root, tmp + root[len(reachable.TMP) :], False) for root in roots]
    # In a private root, every mount is made inside it (its host entries first).
    prefix = step.root.root if step.root is not None else ""
    outside = step.root.binds() if step.root is not None else []
    for volume in step.volumes:
        if reachable.under_tmp(volume.target):
            target = tmp + volume.target[len(reachable.TMP) :]
            inside.append((volume.source, target, volume.readonly))
        else:
            outside.append((volume.source, prefix + volume.target, volume.readonly))
    return [*outside, *inside, (tmp, prefix + reachable.TMP, False)]


def make_mount_points(
    mounts: list[tuple[str, str, bool]], tmp_dir: str, root: str | None = None
) -> None:
    """Each missing target made (a directory, or an empty file for a file source),
    only inside the attempt — its private /tmp or root: the host is never given a
    mount point (one it lacks puts the step in a private root, see private_root.py)."""
    for source, target, _ in mounts:
        if os.path.lexists(target):
            continue
        if not any(p and (target == p or target.startswith(p + "/")) for p in (tmp_dir, root)):
            raise StartError(
                f"the mount point {target} is gone from this host since the step was "
                "planned; retry the step (clusterforge never creates it on the host)"
            )
        if os.path.isdir(source):
            os.makedirs(target, exist_ok=True)
        else:
            os.makedirs(os.path.dirname(target), exist_ok=True)
            with open(target, "a"):
                pass


@functools.lru_cache(maxsize=4096)
def _which(program: str, path: str) -> str | None:
    return shutil.which(program, path=path)


class StepHandle:
    """A running step: its pid, and an awaitable exit that costs no thread.

    Waiting uses a pidfd registered with the event loop (Linux ≥ 5.3), so a
    thousand running steps need no watcher threads; elsewhere it falls back to
    waiting in a worker thread. The step is our child, so we reap it ourselves.
    """

    def __init__(
        self,
        pid: int,
        stdout_fd: int | None = None,
        stderr_fd: int | None = None,
        *,
        state_dir: str | None = None,
        adopted: bool = False,
        program: str = "",
        executable: str = "",
    ) -> None:
        self.pid = pid
        self.returncode: int | None = None
        self.start_error: ProgramError | None = None
        """Set when the shim could not execute the step's command."""
        self._program = program
        self._executable = executable or program
        """The step's program as written and as resolved, to name in ``start_error``."""
        self._stdout_fd = stdout_fd
        self._stderr_fd = stderr_fd
        self._state_dir = state_dir
        self._adopted = adopted
        """Not our child (a dead engine's step under its shim): waited for, not reaped."""

    def _exited(self, code: int | None) -> int | None:
        """The step's exit code: what its shim recorded, else the shim's own status
        (SIGKILL'd with its step) — or None for an adopted shim that left no record."""
        record = shim.read_exit(self._state_dir) if self._state_dir else None
        if record is not None:
            if record.start_errno is not None:
                self.start_error = exec_error(record.start_errno, self._program, self._executable)
            code = record.code
        self.returncode = code
        return code

    def wrote_output(self) -> bool:
        """Whether the step wrote anything to stdout or stderr."""
        return any(
            fd is not None and os.fstat(fd).st_size for fd in (self._stdout_fd, self._stderr_fd)
        )

    def read_stdout(self, limit: int) -> bytes:
        """Up to ``limit`` bytes of what the step wrote to stdout (through the
        descriptor kept open at launch: an empty log costs one ``fstat``)."""
        fd = self._stdout_fd
        if fd is None:
            return b""
        size = os.fstat(fd).st_size
        return os.pread(fd, min(size, limit), 0) if size else b""

    def close(self) -> None:
        """Release the log descriptors (the log files stay)."""
        for fd in (self._stdout_fd, self._stderr_fd):
            if fd is not None:
                os.close(fd)
        self._stdout_fd = self._stderr_fd = None

    def poll(self) -> int | None:
        if self.returncode is None and self._adopted:
            if shim.live_shim(self._state_dir or "") is None:
                self._exited(None)
        elif self.returncode is None:
            try:
                pid, status = os.waitpid(self.pid, os.WNOHANG)
            except ChildProcessError:
                return None
            if pid == self.pid:
                self._exited(os.waitstatus_to_exitcode(status))
        return self.returncode

    def _reap(self) -> int | None:
        if self.returncode is None and self._adopted:
            while shim.live_shim(self._state_dir or "") is not None:
                time.sleep(0.2)
            return self._exited(None)
        if self.returncode is None:
            _, status = os.waitpid(self.pid, 0)
            self._exited(os.waitstatus_to_exitcode(status))
        return self.returncode

    async def wait(self) -> int | None:
        """The step's exit code once it ended (None: an adopted step's shim was
        killed before it could record one)."""
        if self.poll() is not None:
            return self.returncode
        try:
            fd = os.pidfd_open(self.pid)
        except (AttributeError, OSError):
            return await asyncio.to_thread(self._reap)
        if self._adopted and shim.live_shim(self._state_dir or "") != self.pid:
            os.close(fd)  # it ended (or the pid is a stranger's) before the pidfd pinned it
            return self._reap()
        loop = asyncio.get_running_loop()
        exited: asyncio.Future[None] = loop.create_future()

        def ready() -> None:
            if not exited.done():
                exited.set_result(None)

        loop.add_reader(fd, ready)
        try:
            await exited
        finally:
            loop.remove_reader(fd)
            os.close(fd)
        return self._reap()


def launch_sync(step: StepProcess) -> StepHandle:
    """Start the step in its own session (so the whole group can be signalled).

    Raises ``OSError`` when the command cannot be started: a
    :class:`ProgramError` when the program itself cannot be run (not found, not
    executable) — a Failed node with the executor's exit code — else (a log,
    the working directory or a mount unusable) an Error node.
    """
    for directory in step.make_dirs:
        try:
            os.mkdir(directory)
        except FileExistsError:
            pass
        except FileNotFoundError:
            os.makedirs(directory, exist_ok=True)
    if step.script is not None:
        path, source = step.script
        Path(path).write_text(source)
        # Executable, as Argo's executor stages it (mode 0755): `command: [sh, -c]`
        # runs the script's path as a command.
        os.chmod(path, 0o755)  # noqa: S103 — the step's own script, in its private attempt dir
    isolated = isolation().private_tmp
    env = step.env
    if not isolated:
        env = {**env, "TMPDIR": step.tmp_dir}
        if step.volumes:
            raise StartError(
                f"volumeMounts ({step.volumes[0].target}) need a private mount namespace, "
                f"which steps do not get here ({isolation().reason}); run clusterforge "
                "as root (or with CAP_SYS_ADMIN)"
            )
    executable = _resolve(step, env)
    program, resolved = step.argv[0], executable  # named if its shim cannot exec it
    mounts = mount_plan(step, executable) if isolated else None
    if step.root is not None:
        if mounts is None:
            raise StartError(
                f"a private root needs a private mount namespace ({isolation().reason})"
            )
        step.root.make()
        step, executable = _in_root(step, step.root, executable, env)
    if mounts:
        make_mount_points(mounts, step.tmp_dir, step.root.root if step.root else None)
    flags = os.O_CREAT | os.O_TRUNC | os.O_CLOEXEC
    out = _above_stdio(os.open(step.stdout, os.O_RDWR | flags, 0o644))
    state = -1
    try:
        err = _above_stdio(os.open(step.stderr, os.O_WRONLY | flags, 0o644))
        if step.state_dir is not None and shim.program() is not None:
            state = _above_stdio(
                os.open(step.state_dir, os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC)
            )
    except BaseException:
        os.close(out)
        raise
    try:
        pid = _start(step, executable, env, out, err, mounts, state)
    except OSError as error:
        os.close(out)
        os.close(err)
        raise _start_error(error, step.argv[0], executable) from None
    except BaseException:
        os.close(out)
        os.close(err)
        raise
    finally:
        if state >= 0:
            os.close(state)
    return StepHandle(
        pid,
        stdout_fd=out,
        stderr_fd=err,
        state_dir=step.state_dir if state >= 0 else None,
        program=program,
        executable=resolved,
    )


def adopt(step: StepProcess, pid: int) -> StepHandle:
    """A handle on a step a dead engine launched, running under its shim ``pid``
    (checked by :func:`shim.live_shim`): its logs are read, not truncated."""
    out = _above_stdio(os.open(step.stdout, os.O_RDONLY | os.O_CREAT | os.O_CLOEXEC, 0o644))
    err = _above_stdio(os.open(step.stderr, os.O_RDONLY | os.O_CREAT | os.O_CLOEXEC, 0o644))
    return StepHandle(
        pid,
        stdout_fd=out,
        stderr_fd=err,
        state_dir=step.state_dir,
        adopted=True,
        program=step.argv[0] if step.argv else "",
    )


def _resolve(step: StepProcess, env: dict[str, str]) -> str:
    """The program's path, as the kernel will be given it (PATH searched)."""
    if not step.argv:
        raise StartError("the template has no command")
    program = step.argv[0]
    if "/" in program and not program.startswith("/"):
        program = os.path.join(step.cwd, program)
    if "/" in program:
        executable: str | None = program if os.access(program, os.X_OK) else None
        if executable is None:
            reason = "not executable" if os.path.exists(program) else "no such file"
            raise ProgramError(f"cannot execute {step.argv[0]!r}: {reason}")
    else:
        executable = _which(program, env.get("PATH", os.defpath))
    if executable is None:
        raise ProgramError(f"executable file not found in $PATH: {step.argv[0]!r}")
    return executable


def _in_root(
    step: StepProcess, root: PrivateRoot, executable: str, env: dict[str, str]
) -> tuple[StepProcess, str]:
    """The step's command run through chroot(8) into its private root."""
    chroot = _which("chroot", env.get("PATH", os.defpath) + ":/usr/sbin:/sbin")
    if chroot is None:
        raise StartError("a private root needs the 'chroot' command (coreutils)")
    argv = [chroot, root.root, "/bin/sh", "-c", _IN_ROOT, step.root_cwd, executable]
    return replace(step, argv=[*argv, *step.argv[1:]]), chroot


def _start_error(error: OSError, program: str, executable: str) -> StartError:
    """``error`` restated to name the program; a missing ``#!`` interpreter named
    too. The exec of the program itself failing is a :class:`ProgramError`."""
    if isinstance(error, StartError):
        return error
    text = error.strerror or str(error)
    failed_exec = text.startswith(f"cannot execute {executable}:") or error.filename == executable
    if error.errno == errno.ENOENT and failed_exec:
        interpreter = reachable.shebang_interpreter(executable)
        if interpreter and not os.path.exists(interpreter):
            text = f"{text} (its #! interpreter {interpreter} does not exist)"
    if executable not in text:
        text = f"{program!r} ({executable}): {text}"
    return (ProgramError if failed_exec else StartError)(error.errno, text)


def exec_error(errno_: int, program: str, executable: str) -> ProgramError:
    """The error of a program its shim could not execute (``errno_``), worded
    as a failed exec here is: the program, its path, a missing interpreter."""
    failure = OSError(errno_, f"cannot execute {executable}: {os.strerror(errno_)}")
    error = _start_error(failure, program, executable)
    assert isinstance(error, ProgramError)
    return error


def _start(
    step: StepProcess,
    executable: str,
    env: dict[str, str],
    out: int,
    err: int,
    mounts: list[tuple[str, str, bool]] | None,
    state: int,
) -> int:
    """Start the step (under its shim when ``state``, the attempt directory, is open)."""
    supervisor = shim.program() if state >= 0 else None
    if _fast_launcher():
        assert _SPAWN is not None
        argv = [os.fsencode(arg) for arg in step.argv]
        if supervisor is not None:  # the shim, given the directory as its fd 3
            argv = [os.fsencode(supervisor), b"3", os.fsencode(executable), *argv]
            executable = supervisor
        pid: int = _SPAWN.spawn(
            os.fsencode(executable),
            argv,
            [f"{key}={value}".encode("utf-8", "surrogateescape") for key, value in env.items()],
            os.fsencode(step.cwd),
            out,
            err,
            None
            if mounts is None
            else [(os.fsencode(src), os.fsencode(dst), ro) for src, dst, ro in mounts],
            state if supervisor is not None else -1,
        )
        return pid
    command = _argv(step, mounts)
    if supervisor is not None:
        program = command[0] if mounts is not None else executable
        resolved = _which(program, env.get("PATH", os.defpath)) or program
        command = [supervisor, str(state), resolved, *command]
    popen = subprocess.Popen(
        command,
        stdin=subprocess.DEVNULL,
        stdout=out,
        stderr=err,
        cwd=step.cwd,
        env=env,
        start_new_session=True,
        pass_fds=(state,) if supervisor is not None else (),
    )
    # The handle reaps the child itself; Popen must not try to as well.
    popen.returncode = 0
    return popen.pid


def _above_stdio(fd: int) -> int:
    """``fd`` moved to 3 or above (only when the engine runs with 0-2 closed)."""
    if fd > 2:
        return fd
    try:
        return fcntl.fcntl(fd, fcntl.F_DUPFD_CLOEXEC, 3)
    finally:
        os.close(fd)


@functools.cache
def _launcher() -> concurrent.futures.ThreadPoolExecutor:
    # Launching blocks its thread until the step execs (vfork), and making the
    # attempt's directories can wait on the disk; a few threads keep that off
    # the event loop.
    return concurrent.futures.ThreadPoolExecutor(
        max_workers=4, thread_name_prefix="clusterforge-launch"
    )


async def launch(step: StepProcess) -> StepHandle:
    """:func:`launch_sync` in a launcher thread, so the event loop keeps running.

    If the caller is cancelled while the launch is under way, the step that
    started anyway is terminated before the cancellation goes on: no process
    is ever left running untracked.
    """
    started = asyncio.get_running_loop().run_in_executor(_launcher(), launch_sync, step)
    try:
        return await asyncio.shield(started)
    except asyncio.CancelledError:
        with contextlib.suppress(Exception):
            proc = await started
            await terminate(proc)
            proc.close()
        raise


ATTEMPT_ENV = "CLUSTERFORGE_ATTEMPT"
"""Set in every step's environment to ``<workflow id>/<attempt>``: how a
restarted engine finds what a dead one left running, even where the pid was
never recorded, and never mistakes a stranger that reused the pid for it."""


def attempt_processes(marker: str) -> list[int]:
    """The pids of live processes whose environment carries ``marker`` (the step
    and whatever it started that kept its environment)."""
    needle = f"{ATTEMPT_ENV}={marker}".encode() + b"\0"
    found = []
    for entry in os.scandir("/proc"):
        if not entry.name.isdigit():
            continue
        try:
            with open(f"/proc/{entry.name}/environ", "rb") as handle:
                environ = handle.read()
        except OSError:  # gone meanwhile, or not ours to read
            continue
        if environ.startswith(needle) or b"\0" + needle in environ:
            found.append(int(entry.name))
    return found


def kill_attempt(marker: str) -> int:
    """SIGKILL the process groups of everything :func:`attempt_processes` finds
    (never the engine's own group); how many groups were signalled."""
    own = os.getpgrp()
    groups: set[int] = set()
    for pid in attempt_processes(marker):
        try:
            group = os.getpgid(pid)
        except ProcessLookupError:
            continue
        if group != own:
            groups.add(group)
    return sum(kill_group(group, signal.SIGKILL) for group in groups)


def kill_group(pid: int, sig: int = signal.SIGTERM) -> bool:
    """Signal a step's whole process group; False if it is already gone."""
    try:
        os.killpg(pid, sig)
    except ProcessLookupError:
        return False
    except PermissionError:
        return False
    return True


async def terminate(proc: StepHandle, grace: float = 5.0) -> None:
    """SIGTERM the step's group, then SIGKILL after ``grace`` seconds."""
    if proc.returncode is not None:
        return
    kill_group(proc.pid, signal.SIGTERM)
    try:
        await asyncio.wait_for(proc.wait(), grace)
    except TimeoutError:
        kill_group(proc.pid, signal.SIGKILL)
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(proc.wait(), grace)


def process_start_time(pid: int) -> str | None:
    """The kernel's start time of ``pid`` (to tell a live process from a reused pid)."""
    return shim.start_time(pid)
