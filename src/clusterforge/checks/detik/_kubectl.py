"""Ask the cluster, the way bats-detik does: one ``kubectl get`` per check.

bats-detik builds ``$DETIK_CLIENT_NAME get <type> -o
custom-columns=NAME:.metadata.name[,PROP:<column>] [--namespace=NS |
--all-namespaces]``, drops the header line and keeps the rows whose first
field matches the name pattern (``lib/detik.bash``: ``build_k8s_request``,
``build_k8s_client_options``, ``filter_by_resource_name``). This module runs
the same query as a real subprocess from an argv list — no shell, so a
pattern or namespace never meets one — and returns the rows.

Differences, on purpose:

* ``DETIK_CLIENT_NAME`` is split like a shell word list (``"kubectl
  --context=prod"`` works, as it does through bats-detik's ``eval``) but never
  evaluated;
* a client that exits non-zero is reported as an error with its stderr;
  bats-detik pipes its empty stdout on, so ``there are 0 pods named 'x'``
  passes against a cluster it cannot reach;
* the value column is the rest of the row with whitespace runs collapsed to
  one space (bats-detik: ``cut -d ' ' -f 2- | xargs``), without xargs' quote
  handling.
"""

from __future__ import annotations

import os
import re
import shlex
import subprocess
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from clusterforge.checks.detik._sentences import column_for
from clusterforge.errors import InvalidInput

__all__ = ["ClientError", "QueryResult", "Row", "Target", "query", "resolve_target"]

DEFAULT_TIMEOUT = 120.0


@dataclass(frozen=True)
class Target:
    """Where and with what the queries go."""

    client: tuple[str, ...]  # argv prefix, e.g. ("kubectl",)
    namespace: str | None = None
    all_namespaces: bool = False
    kubeconfig: Path | None = None
    env: Mapping[str, str] | None = None  # environment of the client process
    timeout: float = DEFAULT_TIMEOUT

    def scope(self) -> str:
        """Where the query looked, for messages."""
        if self.namespace:
            return f"in namespace '{self.namespace}'"
        if self.all_namespaces:
            return "in all namespaces"
        return "in the current namespace"


@dataclass(frozen=True)
class Row:
    name: str
    value: str | None  # None when no property column was asked for


@dataclass(frozen=True)
class QueryResult:
    argv: tuple[str, ...]
    rows: tuple[Row, ...]  # every row the client printed, before the name filter


class ClientError(Exception):
    """The Kubernetes client failed; ``fatal`` when retrying cannot help."""

    def __init__(self, message: str, *, argv: Sequence[str], fatal: bool = False) -> None:
        super().__init__(message)
        self.argv = tuple(argv)
        self.fatal = fatal


def _truthy(value: str | None) -> bool:
    # bats-detik compares with == 'true' under nocasematch.
    return (value or "").lower() == "true"


def resolve_target(
    *,
    kubeconfig: str | os.PathLike[str] | None = None,
    namespace: str | None = None,
    all_namespaces: bool = False,
    client: str | Sequence[str] | None = None,
    env: Mapping[str, str] | None = None,
    timeout: float = DEFAULT_TIMEOUT,
) -> Target:
    """Combine explicit arguments with DETIK's environment variables.

    Precedence: ``namespace`` argument, ``all_namespaces`` argument,
    ``DETIK_CLIENT_NAMESPACE``, ``DETIK_CLIENT_NAMESPACE_ALL=true``, then
    kubectl's own default (the kubeconfig context's namespace). The client
    is ``client``, else ``DETIK_CLIENT_NAME``, else ``kubectl``. Without a
    ``kubeconfig`` argument kubectl reads ``KUBECONFIG`` from ``env`` itself.
    """
    environ: Mapping[str, str] = os.environ if env is None else env
    if namespace and all_namespaces:
        raise InvalidInput(
            "choose one of a namespace (-n/--namespace) or all namespaces (-A/--all-namespaces)"
        )
    if not namespace and not all_namespaces:
        namespace = environ.get("DETIK_CLIENT_NAMESPACE") or None
        if not namespace:
            all_namespaces = _truthy(environ.get("DETIK_CLIENT_NAMESPACE_ALL"))

    if client is None:
        client = environ.get("DETIK_CLIENT_NAME") or "kubectl"
    if isinstance(client, str):
        try:
            argv = tuple(shlex.split(client))
        except ValueError as err:
            raise InvalidInput(
                f"DETIK_CLIENT_NAME={client!r} cannot be split into words ({err}); fix its quoting"
            ) from None
    else:
        argv = tuple(client)
    if not argv:
        raise InvalidInput("the Kubernetes client command is empty; set DETIK_CLIENT_NAME")

    config: Path | None = None
    if kubeconfig is not None:
        config = Path(kubeconfig)
        if not config.is_file():
            raise InvalidInput(
                f"kubeconfig {str(config)!r} does not exist (--kubeconfig); "
                "pass the path of the cluster's kubeconfig file"
            )
    return Target(argv, namespace, all_namespaces, config, environ, timeout)


def build_argv(target: Target, resource: str, prop: str | None) -> list[str]:
    """The client's argv for one query (``prop`` is a property or alias, or None)."""
    columns = "custom-columns=NAME:.metadata.name"
    if prop is not None:
        columns += f",PROP:{column_for(prop)}"
    argv = [*target.client, "get", resource, "-o", columns]
    if target.namespace:
        argv.append(f"--namespace={target.namespace}")
    elif target.all_namespaces:
        argv.append("--all-namespaces")
    if target.kubeconfig is not None:
        argv.append(f"--kubeconfig={target.kubeconfig}")
    return argv


def parse_table(stdout: str, *, with_value: bool) -> tuple[Row, ...]:
    """Rows of a custom-columns table, header dropped (``tail -n +2``)."""
    rows: list[Row] = []
    for line in stdout.splitlines()[1:]:
        fields = line.split(None, 1)
        if not fields:
            continue
        value = " ".join(fields[1].split()) if len(fields) > 1 else ""
        rows.append(Row(fields[0], value if with_value else None))
    return tuple(rows)


# klog's prefix (E1128 17:10:55.787814 21461 file.go:265] …): detail, not the summary.
_KLOG = re.compile(r"[IWEF]\d{4} \d\d:\d\d:\d\d")


def _last_error_line(stderr: str) -> str:
    """kubectl's own summary of a failure: its last line that is not a klog trace."""
    lines = [line.strip() for line in stderr.splitlines() if line.strip()]
    plain = [line for line in lines if not _KLOG.match(line)]
    return (plain or lines or [""])[-1]


def query(target: Target, resource: str, prop: str | None) -> QueryResult:
    """Run one query; raises :class:`ClientError` when the client fails."""
    argv = build_argv(target, resource, prop)
    env = dict(target.env) if target.env is not None else None
    try:
        done = subprocess.run(
            argv,
            capture_output=True,
            text=True,
            env=env,
            timeout=target.timeout,
            check=False,
        )
    except FileNotFoundError:
        raise ClientError(
            f"cannot run the Kubernetes client {argv[0]!r}: not found; install kubectl or "
            "set DETIK_CLIENT_NAME",
            argv=argv,
            fatal=True,
        ) from None
    except PermissionError:
        raise ClientError(
            f"cannot run the Kubernetes client {argv[0]!r}: not executable",
            argv=argv,
            fatal=True,
        ) from None
    except subprocess.TimeoutExpired:
        raise ClientError(
            f"{argv[0]} did not answer within {target.timeout:g}s", argv=argv
        ) from None
    if done.returncode != 0:
        detail = _last_error_line(done.stderr) or "no error output"
        raise ClientError(f"{argv[0]} failed (exit {done.returncode}): {detail}", argv=argv)
    return QueryResult(tuple(argv), parse_table(done.stdout, with_value=prop is not None))
