"""Running helm and kubectl: the pinned binaries, argv lists, readable failures.

Add-ons are installed by two external programs, and both must be the versions
the project pins (a different helm renders differently; a different kubectl
applies differently), so binaries come from :func:`clusterforge.tools.resolve`
— never from whatever happens to be on PATH. Every call is an argv list; no
shell ever sees a value, so a chart path, a namespace or a values file can hold
any character. One process feeds another through Python (``input=``), which
is the ``helm template … | kubectl apply -f -`` pipe without the shell.
"""

from __future__ import annotations

import functools
import subprocess
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from clusterforge.errors import OperationFailed

__all__ = ["Completed", "binary", "first_error_line", "kubectl", "run"]


@dataclass(frozen=True)
class Completed:
    """A finished process: its argv, exit code and decoded output."""

    argv: tuple[str, ...]
    returncode: int
    stdout: str
    stderr: str

    @property
    def ok(self) -> bool:
        return self.returncode == 0


@functools.cache
def binary(name: str) -> str:
    """The pinned ``name`` (``helm`` or ``kubectl``); :class:`ToolMissing` names the fix."""
    from clusterforge.tools import resolve

    return str(resolve(name))


def run(
    argv: Sequence[str],
    *,
    stdin: str | None = None,
    timeout: float = 300.0,
    env: Mapping[str, str] | None = None,
    on_timeout: str | None = None,
) -> Completed:
    """Run ``argv`` to completion; a missing program or a timeout is an OperationFailed.

    ``on_timeout`` replaces the default timeout message (which blames the cluster).
    """
    args = tuple(argv)
    try:
        proc = subprocess.run(
            args,
            input=stdin if stdin is not None else "",
            capture_output=True,
            text=True,
            timeout=timeout,
            env=dict(env) if env is not None else None,
            check=False,
        )
    except FileNotFoundError as err:
        raise OperationFailed(f"cannot run {args[0]}: {err.strerror}") from err
    except subprocess.TimeoutExpired as err:
        if on_timeout is not None:
            raise OperationFailed(on_timeout) from err
        raise OperationFailed(
            f"`{_show(args)}` did not finish within {timeout:g}s; "
            "check that the cluster answers (kubectl get nodes) and retry"
        ) from err
    return Completed(args, proc.returncode, proc.stdout, proc.stderr)


def kubectl(
    kubeconfig: Path, *args: str, stdin: str | None = None, timeout: float = 300.0
) -> Completed:
    """Run the pinned kubectl against ``kubeconfig``."""
    return run(
        [binary("kubectl"), f"--kubeconfig={kubeconfig}", *args], stdin=stdin, timeout=timeout
    )


def first_error_line(stderr: str) -> str:
    """The informative part of a tool's stderr: its lines minus helm/kubectl boilerplate."""
    lines = [
        line.strip()
        for line in stderr.splitlines()
        if line.strip() and not line.startswith("Use --debug flag")
    ]
    text = "; ".join(lines) or "no error output"
    return text.removeprefix("Error: ").removeprefix("error: ")


def _show(argv: Sequence[str]) -> str:
    return " ".join([Path(argv[0]).name, *argv[1:3], "…"] if len(argv) > 3 else argv)
