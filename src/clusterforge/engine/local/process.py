"""Run one step as a host subprocess, with a private working directory and /tmp.

On Argo each step is a pod with its own filesystem; two parallel steps that
write ``/tmp/out`` never see each other. Locally we keep that promise with a
Linux mount namespace: ``unshare --mount`` gives the step its own mount table,
in which a per-attempt directory is bind-mounted over ``/tmp``. When the step
ends, what it left in its ``/tmp`` is still in that directory, so output
parameters read from ``/tmp/...`` paths work as on Argo.

The step's own argv is passed as positional parameters to a fixed ``sh``
script (``"$@"``), never spliced into it, so a value such as
``fluent bit; rm -rf /`` stays data.

Where namespaces are unavailable (not root, no unshare), steps still run but
share the host's /tmp; :func:`isolation` reports that so the engine can say so
loudly instead of silently sharing.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import os
import shutil
import signal
import subprocess
from dataclasses import dataclass
from pathlib import Path

# $1 = private tmp dir, $2 = working dir, then the step's argv.
_WRAPPER = (
    'mount --bind "$1" /tmp || '
    '{ echo "clusterforge: cannot mount a private /tmp" >&2; exit 126; }; '
    'cd "$2" || exit 126; shift 2; exec "$@"'
)


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


@dataclass(frozen=True)
class StepProcess:
    """Everything needed to launch one attempt."""

    argv: list[str]
    env: dict[str, str]
    cwd: Path
    tmp_dir: Path
    stdout: Path
    stderr: Path


def _argv(step: StepProcess) -> list[str]:
    iso = isolation()
    if not iso.private_tmp:
        return step.argv
    unshare = _which("unshare", os.environ.get("PATH", os.defpath)) or "unshare"
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
        str(step.tmp_dir),
        str(step.cwd),
        *step.argv,
    ]


@functools.lru_cache(maxsize=4096)
def _which(program: str, path: str) -> str | None:
    return shutil.which(program, path=path)


class StepHandle:
    """A running step: its pid, and an awaitable exit that costs no thread.

    Waiting uses a pidfd registered with the event loop (Linux ≥ 5.3), so a
    thousand running steps need no watcher threads; elsewhere it falls back to
    waiting in a worker thread.
    """

    def __init__(self, popen: subprocess.Popen[bytes]) -> None:
        self.popen = popen
        self.pid = popen.pid

    @property
    def returncode(self) -> int | None:
        return self.popen.returncode

    async def wait(self) -> int:
        code = self.popen.poll()
        if code is not None:
            return code
        try:
            fd = os.pidfd_open(self.pid)
        except (AttributeError, OSError):
            return await asyncio.to_thread(self.popen.wait)
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
        return self.popen.wait()


async def launch(step: StepProcess) -> StepHandle:
    """Start the step in its own session (so the whole group can be signalled).

    Raises ``OSError`` when the command cannot be started (not found, not
    executable); the caller turns that into an Error node.
    """
    env = dict(step.env)
    if not isolation().private_tmp:
        env["TMPDIR"] = str(step.tmp_dir)
    if not step.argv:
        raise FileNotFoundError("the template has no command")
    program = step.argv[0]
    if "/" in program and not program.startswith("/"):
        program = str(step.cwd / program)
    if "/" in program:
        found = os.access(program, os.X_OK)
    else:
        found = _which(program, env.get("PATH", os.defpath)) is not None
    if not found:
        raise FileNotFoundError(f"executable file not found in $PATH: {step.argv[0]!r}")
    with step.stdout.open("wb") as out, step.stderr.open("wb") as err:
        popen = subprocess.Popen(
            _argv(step),
            stdin=subprocess.DEVNULL,
            stdout=out,
            stderr=err,
            cwd=step.cwd,
            env=env,
            start_new_session=True,
        )
    return StepHandle(popen)


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
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    # Field 22 (starttime), counted after the ")" that closes the command name.
    fields = stat.rsplit(")", 1)[-1].split()
    return fields[19] if len(fields) > 19 else None
